package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/insightslab/insights/store"
	"github.com/jackc/pgx/v5"
)

// errBadRange reports a negative offset or length.
var errBadRange = errors.New("pgstore: negative offset or length")

// GetRange implements store.RangeGetter: one SELECT of a substring of the
// key's value (n bytes from offset off, fewer when the value ends before
// off+n), so that the engine reads a day's active set, or its index
// without its event log, without moving its whole segment from the
// server. The server still reads the value's TOAST chunks up to the range
// (all of them when it stored the value compressed). The value returned
// belongs to the caller.
func (s *Store) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	if err := s.check(ctx, "get", key); err != nil {
		return nil, err
	}
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("%w: get %q [%d, +%d)", errBadRange, key, off, n)
	}
	// substring's positions are int4, from 1; a bytea holds at most 1 GiB,
	// so a range clipped below 2³¹ bytes keeps its bytes.
	from, count := min(off, math.MaxInt32-1)+1, min(n, math.MaxInt32-1)
	var v []byte
	err := s.pool.QueryRow(ctx, s.getRange[tableOf(key)], key, int32(from), int32(count)).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("pgstore: get %q: %w", key, store.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("pgstore: get %q [%d, +%d): %w", key, off, n, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

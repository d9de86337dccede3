package store

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// RangeGetter is the optional interface of a Store that reads part of a
// value without the rest (a file's pread): the engine reads a day's
// active set, or its index without its event log, from a segment. A
// Store without it is read whole.
type RangeGetter interface {
	// GetRange returns the n bytes of the value under key from offset off,
	// fewer when the value ends before off+n (none when it ends before
	// off), or an error wrapping ErrNotFound. off and n must not be
	// negative. The slice belongs to the caller.
	GetRange(ctx context.Context, key string, off, n int64) ([]byte, error)
}

// errBadRange reports a negative offset or length.
var errBadRange = errors.New("store: negative offset or length")

// GetRange implements RangeGetter: it opens the key's file and reads the
// range (ReadAt when the FS's file has it, else it reads and drops the
// bytes before off), which costs an open and a read of at most n bytes.
func (d *DirStore) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("%w: get %s [%d, +%d)", errBadRange, key, off, n)
	}
	return d.read(ctx, key, func(name string) ([]byte, error) { return readRange(d.fs, name, off, n) })
}

// readRange reads up to n bytes of the file name from offset off.
func readRange(fsys FS, name string, off, n int64) ([]byte, error) {
	f, size, err := openFile(fsys, name)
	if err != nil {
		return nil, err
	}
	defer f.Close() // read-only: closing cannot lose data
	n = max(0, min(n, size-off))
	b := make([]byte, n)
	var got int
	if ra, ok := f.(io.ReaderAt); ok {
		got, err = ra.ReadAt(b, off)
	} else if _, err = io.CopyN(io.Discard, f, off); err == nil {
		got, err = io.ReadFull(f, b)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) { // the file shrank since Stat
		err = nil
	}
	return b[:got], err
}

// GetRange implements RangeGetter.
func (m *Memory) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("%w: get %s [%d, +%d)", errBadRange, key, off, n)
	}
	return m.copyOf(ctx, key, func(v []byte) []byte {
		off = min(off, int64(len(v)))
		return v[off : off+min(n, int64(len(v))-off)]
	})
}

package storetest

import (
	"context"

	"github.com/insightslab/insights/store"
)

// CappedRange is the most bytes Capped returns a GetRange.
const CappedRange = 4 << 10

// Capped is a memory store that returns at most CappedRange bytes a
// GetRange when the value goes on, as a store may (a network store's
// partial response): for tests of readers that must continue a short read.
type Capped struct{ *store.Memory }

// GetRange returns at most CappedRange bytes of the value under key from off.
func (s Capped) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	return s.Memory.GetRange(ctx, key, off, min(n, CappedRange))
}

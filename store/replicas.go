package store

import (
	"context"
	"errors"
	"time"
)

// ErrExists is returned by Replicas.Create for a key that is stored, or
// that the store refuses to create again because it was deleted.
var ErrExists = errors.New("store: key exists")

// ErrLeaseHeld is returned by Replicas.TakeLease and Replicas.PutLeased
// when another holder holds the lease.
var ErrLeaseHeld = errors.New("store: lease held by another holder")

// Replicas is the optional interface of a Store that several engines
// write at once (insights.Options.Replica): every replica appends to one
// log, and one replica at a time, the lease holder, writes checkpoints.
// Its methods are safe for concurrent use, across processes too.
type Replicas interface {
	// Create stores value under key if no value is stored there and none
	// ever was: it fails with an error wrapping ErrExists if the key is
	// stored, or if it is at or below a key that Delete removed in the
	// same directory (the part of the key before its last slash). The
	// engine creates log records, whose keys only grow, so exactly one
	// replica creates each, and a sequence once taken is never taken
	// again. A Create that returns nil is durable; one that fails with
	// another error may or may not have stored the value.
	Create(ctx context.Context, key string, value []byte) error
	// TakeLease takes the store's one lease for holder, or renews it if
	// holder holds it, until ttl from now (by the store's clock): it
	// succeeds if the lease is free, expired or holder's. It returns a
	// number greater than every number it returned before and than
	// above, for the checkpoint the holder is about to write (its
	// generation). Held by another holder: an error wrapping
	// ErrLeaseHeld.
	TakeLease(ctx context.Context, holder string, ttl time.Duration, above uint64) (uint64, error)
	// PutLeased is Put, done only if holder holds the lease, which it
	// renews for ttl, atomically with the Put: an error wrapping
	// ErrLeaseHeld, and nothing stored, if another holder has taken it
	// (an expired lease that nobody took is still holder's).
	PutLeased(ctx context.Context, holder, key string, value []byte, ttl time.Duration) error
}

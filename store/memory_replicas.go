package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// memoryLease is the lease of a Memory (Replicas), guarded by its mu.
type memoryLease struct {
	holder  string
	expires time.Time
	gen     uint64
}

// dirOf returns the part of key before its last slash.
func dirOf(key string) string {
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		return key[:i]
	}
	return ""
}

// Create implements Replicas, for engines sharing one Memory in one
// process (tests, examples): any key, refused at or below the greatest
// key deleted in its directory.
func (m *Memory) Create(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.data[key]; ok || key <= m.deleted[dirOf(key)] {
		return fmt.Errorf("store: create %s: %w", key, ErrExists)
	}
	if m.data == nil {
		m.data = map[string][]byte{}
	}
	m.data[key] = append([]byte(nil), value...)
	return nil
}

// TakeLease implements Replicas, by the process's clock.
func (m *Memory) TakeLease(ctx context.Context, holder string, ttl time.Duration, above uint64) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if l := &m.lease; l.holder != holder && now.Before(l.expires) {
		return 0, fmt.Errorf("store: take lease for %q: %w", holder, ErrLeaseHeld)
	}
	m.lease.holder, m.lease.expires, m.lease.gen = holder, now.Add(ttl), max(m.lease.gen, above)+1
	return m.lease.gen, nil
}

// PutLeased implements Replicas.
func (m *Memory) PutLeased(ctx context.Context, holder, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lease.holder != holder {
		return fmt.Errorf("store: put %s holding the lease as %q: %w", key, holder, ErrLeaseHeld)
	}
	m.lease.expires = time.Now().Add(ttl)
	if m.data == nil {
		m.data = map[string][]byte{}
	}
	m.data[key] = append([]byte(nil), value...)
	return nil
}

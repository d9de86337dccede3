package pgstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/insightslab/insights/internal/replicatest"
	"github.com/insightslab/insights/internal/storetest"
	"github.com/insightslab/insights/pgstore"
	"github.com/insightslab/insights/store"
)

var _ store.Replicas = (*pgstore.Store)(nil)

// The suite of store.Replicas; and Create takes log keys only.
func TestReplicasConformance(t *testing.T) {
	pool := testPool(t)
	storetest.RunReplicas(t, func(t *testing.T) storetest.ReplicaStore { return pgstore.New(pool, newSchema(t, pool)) })
	s := pgstore.New(pool, newSchema(t, pool))
	if err := s.Create(context.Background(), "meta.json", nil); !errors.Is(err, store.ErrInvalidKey) {
		t.Fatalf("Create of a key outside the log = %v, want ErrInvalidKey", err)
	}
}

// Erase on three replicas on PostgreSQL (internal/replicatest.RunErase).
func TestEraseOnReplicasOnPostgres(t *testing.T) {
	pool := testPool(t)
	replicatest.RunErase(t, pgstore.New(pool, newSchema(t, pool)))
}

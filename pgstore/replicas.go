package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/insightslab/insights/store"
)

// The statements of store.Replicas (see the package doc, "Replicas").
type replicaStatements struct {
	create, deleteLog, takeLease, renewLease string
}

func newReplicaStatements(schema string) replicaStatements {
	log := pgx.Identifier{schema, "log"}.Sanitize()
	floor := pgx.Identifier{schema, "log_floor"}.Sanitize()
	lease := pgx.Identifier{schema, "lease"}.Sanitize()
	return replicaStatements{
		// FOR SHARE waits for a deletion in progress and reads the floor
		// it committed; a deletion waits for the Create that holds it.
		create: "WITH f AS (SELECT deleted FROM " + floor + " WHERE id FOR SHARE) " +
			"INSERT INTO " + log + " (key, value) SELECT $1, $2 FROM f WHERE $1 > f.deleted",
		deleteLog: "WITH f AS (UPDATE " + floor + " SET deleted = GREATEST(deleted, $1) WHERE id) " +
			"DELETE FROM " + log + " WHERE key = $1",
		takeLease: "UPDATE " + lease + " SET holder = $1, expires = now() + make_interval(secs => $2), " +
			"gen = GREATEST(gen, $3) + 1 WHERE id AND (holder = $1 OR expires < now()) RETURNING gen",
		renewLease: "UPDATE " + lease + " SET expires = now() + make_interval(secs => $2) WHERE id AND holder = $1",
	}
}

// replicaDDL creates the tables of store.Replicas, each with its one row.
func replicaDDL(schema string) string {
	floor := pgx.Identifier{schema, "log_floor"}.Sanitize()
	lease := pgx.Identifier{schema, "lease"}.Sanitize()
	return "CREATE TABLE IF NOT EXISTS " + floor + " (id boolean PRIMARY KEY DEFAULT true CHECK (id), " +
		"deleted text COLLATE \"C\" NOT NULL DEFAULT '');\n" +
		"INSERT INTO " + floor + " DEFAULT VALUES ON CONFLICT (id) DO NOTHING;\n" +
		"CREATE TABLE IF NOT EXISTS " + lease + " (id boolean PRIMARY KEY DEFAULT true CHECK (id), " +
		"holder text NOT NULL DEFAULT '', expires timestamptz NOT NULL DEFAULT '-infinity', gen bigint NOT NULL DEFAULT 0);\n" +
		"INSERT INTO " + lease + " DEFAULT VALUES ON CONFLICT (id) DO NOTHING;\n"
}

// Create implements store.Replicas for log records (keys wal/…), and
// refuses other keys with store.ErrInvalidKey: one INSERT without ON
// CONFLICT, of a key above every log key deleted so far (log_floor),
// committed on its own. A key stored, or at or below one deleted, fails
// with store.ErrExists.
func (s *Store) Create(ctx context.Context, key string, value []byte) error {
	if err := s.check(ctx, "create", key); err != nil {
		return err
	}
	if tableOf(key) != 0 {
		return fmt.Errorf("pgstore: create %q: %w: only log records (%s…) are created", key, store.ErrInvalidKey, tables[0].prefix)
	}
	if value == nil {
		value = []byte{}
	}
	tag, err := s.pool.Exec(ctx, s.rep.create, key, value)
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "23505": // unique_violation
		return fmt.Errorf("pgstore: create %q: %w", key, store.ErrExists)
	case err != nil:
		return fmt.Errorf("pgstore: create %q: %w", key, err)
	case tag.RowsAffected() == 0:
		return fmt.Errorf("pgstore: create %q: %w: a log record at or above it was deleted", key, store.ErrExists)
	}
	return nil
}

// TakeLease implements store.Replicas: one UPDATE of the lease row, by
// the server's clock.
func (s *Store) TakeLease(ctx context.Context, holder string, ttl time.Duration, above uint64) (uint64, error) {
	if err := s.check(ctx, "take lease", "lease"); err != nil {
		return 0, err
	}
	var gen int64
	err := s.pool.QueryRow(ctx, s.rep.takeLease, holder, ttl.Seconds(), int64(min(above, 1<<62))).Scan(&gen)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, fmt.Errorf("pgstore: take lease for %q: %w", holder, store.ErrLeaseHeld)
	case err != nil:
		return 0, fmt.Errorf("pgstore: take lease for %q: %w", holder, err)
	}
	return uint64(gen), nil
}

// PutLeased implements store.Replicas: the lease row's renewal and the
// key's upsert in one transaction, the row locked until it commits.
func (s *Store) PutLeased(ctx context.Context, holder, key string, value []byte, ttl time.Duration) error {
	if err := s.check(ctx, "put", key); err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, s.rep.renewLease, holder, ttl.Seconds())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrLeaseHeld
		}
		_, err = tx.Exec(ctx, s.put[tableOf(key)], key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: put %q holding the lease as %q: %w", key, holder, err)
	}
	return nil
}

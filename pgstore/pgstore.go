// Package pgstore is a store.Store on PostgreSQL, through pgx: the
// insights engine's log, segments, catalogs and manifest as rows of
// tables in a schema the host names. It is a module of its own, so that
// the insights library does not depend on the driver.
//
// # Tenants
//
// One schema is one tenant: a host that serves many tenants from one
// database calls Migrate and New once per tenant, each with the
// tenant's schema, and opens one engine per tenant on its Store. A Store
// reads and writes only the tables of its schema, so no call can reach
// another tenant's rows; dropping the schema (DROP SCHEMA … CASCADE)
// removes the tenant whole, and a database role can be granted one
// schema and no other. A schema per tenant costs a few catalog entries
// per tenant (five tables and their indexes): well suited to thousands
// of tenants, not to millions.
//
// # Schema
//
// Migrate creates, in the tenant's schema, one table per kind of key of
// the engine (store/FORMAT.md), each with the whole key as its primary
// key, in byte order:
//
//	log        keys wal/<seq>             one log record per group commit
//	segments   keys days/<date>/<gen>     sealed days
//	catalogs   keys catalog/<gen>         dictionaries, user counts, sketches
//	           and catalog/users/<gen>   user keys, per-user days (catalog v3)
//	meta       every other key            meta.json, MANIFEST
//	log_floor  (deleted)                  the greatest log key deleted (one row)
//	lease      (holder, expires, gen)     the replicas' checkpoint lease (one row)
//	migrations (version, applied)         the schema versions applied
//
// Version 1 had the first four and migrations; version 2 added
// log_floor and lease: Migrate adds them to a version 1 schema, which
// a host must do before it runs this version of the package on it (a
// Delete of a log record needs log_floor).
//
// The first four have the columns
//
//	key   text COLLATE "C" PRIMARY KEY  -- byte order, as store.Store sorts keys
//	value bytea NOT NULL
//
// # Migration
//
// Migrate is idempotent: it creates what is missing (CREATE SCHEMA IF
// NOT EXISTS, CREATE TABLE IF NOT EXISTS) in one transaction, under an
// advisory lock on the schema's name, so that replicas starting
// together may all run it; it records the version it applied in
// migrations. A host runs it before the first New on a schema, at each
// start or from its own migration step, with a role that may create
// the schema.
//
// # Costs
//
// Every call is one statement, one round trip to the server (plus, the
// first time a connection runs one of the store's statements, the round
// trip that prepares it: pgx caches prepared statements per
// connection). Get and Put move the whole value, GetRange
// (store.RangeGetter) the part asked for; List reads only keys,
// through the primary keys' indexes (a range key >= prefix AND key <
// the prefix's successor, never LIKE), in the tables whose keys can
// start with the prefix.
//
// # Concurrency
//
// A Store is safe for concurrent use by many goroutines: it holds no
// mutable state, and each call takes a connection from the pool. Each
// Put commits on its own (an upsert, atomic: a concurrent Get sees the
// old value or the new one); a Put that returned nil has been committed
// by PostgreSQL, and is as durable as the server's settings make a
// commit (synchronous_commit, fsync). So does a Create, and a Delete,
// which of a log record also raises log_floor (Replicas).
//
// # Caveats
//
// The pool belongs to the host, which closes it after the engines on it;
// a Store has no Close. Keys must be printable ASCII (bytes 0x20 to 0x7e),
// as store.Store says: anything else is refused with store.ErrInvalidKey.
// A Store does not implement store.Tearing: a Put is a transaction, and
// commits whole or not at all.
//
// # Followers
//
// Any number of engines opened with insights.Options.Follow may read a
// tenant that one engine, or several replicas (below), write, each on its own Store of the same
// schema (New): a follower writes nothing, and polls the manifest and
// the log (a SELECT of MANIFEST and a listing of log's keys, two round
// trips, per refresh). Each Put commits on its own, so a follower sees a
// log record whole or not at all.
//
// # Replicas
//
// A Store implements store.Replicas, so that several engines opened with
// insights.Options.Replica, in as many processes, each on its own Store
// of the schema, all write one tenant (SPEC §12; the protocol is in
// store/FORMAT.md, "Replicas"):
//
//   - Create is one INSERT of a log record without ON CONFLICT: the
//     primary key on wal/<seq> lets exactly one replica commit a
//     sequence, and the others get store.ErrExists (a unique violation)
//     and catch up. The INSERT also reads log_floor FOR SHARE and
//     inserts nothing at or below its key: Delete of a log record raises
//     log_floor in the same statement (its row locked until it commits),
//     so a sequence that a checkpoint covered and deleted is never taken
//     again by a replica that had not seen the checkpoint.
//   - TakeLease is one UPDATE of the lease row, WHERE it is free, expired
//     (by the server's clock, now()) or the caller's: it sets the holder
//     and the expiry and returns the next generation, GREATEST(gen, the
//     caller's) + 1, unique across replicas.
//   - PutLeased renews the lease (UPDATE … WHERE holder = the caller) and
//     upserts MANIFEST in one transaction: the manifest commits only
//     while its writer holds the lease.
//
// Each replica learns of the others' records by polling (RefreshInterval:
// a SELECT of MANIFEST and a listing of log's keys, two round trips),
// and when its Create of a sequence fails. Not built yet: LISTEN/NOTIFY to
// wake replicas sooner than the poll; reading only the log past the last
// sequence applied (a refresh lists all the log's keys: cheap while
// checkpoints keep the log short); Erase on replicas. A replica's Close
// releases the lease by renewing it to expire at once (TakeLease with a
// zero ttl).
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/insightslab/insights/store"
)

// ErrInvalidSchema is returned by Migrate, and by every call of a Store,
// for a schema name PostgreSQL cannot hold as it is: empty, longer than
// 63 bytes (which PostgreSQL would silently truncate, so that two
// tenants could share a schema) or holding a NUL byte.
var ErrInvalidSchema = errors.New("pgstore: invalid schema name")

// tables are the store's tables, each holding the keys that start with
// its prefix; the last holds every other key.
var tables = [...]struct{ name, prefix string }{
	{"log", "wal/"},
	{"segments", "days/"},
	{"catalogs", "catalog/"},
	{"meta", ""},
}

const metaTable = len(tables) - 1

// version is the schema version Migrate applies: 2 added log_floor and
// lease (Replicas).
const version = 2

// Store is a store.Store on the tables of one schema: see the package
// doc. Its methods are safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	err  error // an invalid schema or a nil pool: every call returns it
	// The statements, per table.
	get, put, del, list [len(tables)]string
	getRange            [len(tables)]string // GetRange's
	rep                 replicaStatements
}

// New returns the Store of schema on pool, which Migrate must have
// prepared. It does no I/O. The Store uses the pool without owning it:
// the host closes the pool once the engines on it are closed. An
// invalid schema name (ErrInvalidSchema) or a nil pool makes every call
// of the Store fail.
func New(pool *pgxpool.Pool, schema string) *Store {
	s := &Store{pool: pool, err: checkSchema(schema), rep: newReplicaStatements(schema)}
	if pool == nil {
		s.err = errors.New("pgstore: nil pool")
	}
	for i, t := range tables {
		name := pgx.Identifier{schema, t.name}.Sanitize()
		s.get[i] = "SELECT value FROM " + name + " WHERE key = $1"
		s.getRange[i] = "SELECT substring(value FROM $2::int4 FOR $3::int4) FROM " + name + " WHERE key = $1"
		s.put[i] = "INSERT INTO " + name + " (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
		s.del[i] = "DELETE FROM " + name + " WHERE key = $1"
		s.list[i] = "SELECT key FROM " + name + " WHERE key >= $1"
	}
	s.del[0] = s.rep.deleteLog // a log record deleted is never created again (Create)
	return s
}

// checkSchema returns nil if schema can name a tenant's schema, or an
// error wrapping ErrInvalidSchema that says why not.
func checkSchema(schema string) error {
	switch {
	case schema == "":
		return fmt.Errorf("%w: empty", ErrInvalidSchema)
	case len(schema) > 63:
		return fmt.Errorf("%w %q: longer than 63 bytes", ErrInvalidSchema, schema)
	case strings.IndexByte(schema, 0) >= 0:
		return fmt.Errorf("%w %q: holds a NUL byte", ErrInvalidSchema, schema)
	}
	return nil
}

// Migrate creates schema and the store's tables in it, where missing,
// in one transaction: see the package doc. Running it again, or from
// several processes at once, changes nothing more. It never drops or
// alters what is there.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	if err := checkSchema(schema); err != nil {
		return err
	}
	if pool == nil {
		return errors.New("pgstore: migrate: nil pool")
	}
	var ddl strings.Builder
	ddl.WriteString("CREATE SCHEMA IF NOT EXISTS " + pgx.Identifier{schema}.Sanitize() + ";\n")
	for _, t := range tables {
		ddl.WriteString("CREATE TABLE IF NOT EXISTS " + pgx.Identifier{schema, t.name}.Sanitize() +
			" (key text COLLATE \"C\" PRIMARY KEY, value bytea NOT NULL);\n")
	}
	ddl.WriteString(replicaDDL(schema))
	migrations := pgx.Identifier{schema, "migrations"}.Sanitize()
	ddl.WriteString("CREATE TABLE IF NOT EXISTS " + migrations +
		" (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now());\n")
	for v := 1; v <= version; v++ {
		ddl.WriteString(fmt.Sprintf("INSERT INTO %s (version) VALUES (%d) ON CONFLICT (version) DO NOTHING;\n", migrations, v))
	}

	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// Concurrent CREATE … IF NOT EXISTS of one name can fail on a
		// unique index of the system catalogs: one migration at a time.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('insights/pgstore'), hashtext($1))", schema); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, ddl.String())
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: migrate schema %q: %w", schema, err)
	}
	return nil
}

// tableOf returns the index of the table that holds key.
func tableOf(key string) int {
	for i, t := range tables[:metaTable] {
		if strings.HasPrefix(key, t.prefix) {
			return i
		}
	}
	return metaTable
}

// printable reports whether s holds only printable ASCII.
func printable(s string) bool {
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// check returns the error a call on key must return before any I/O, or nil.
func (s *Store) check(ctx context.Context, op, key string) error {
	if s.err != nil {
		return fmt.Errorf("%s %q: %w", op, key, s.err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: %s %q: %w", op, key, err)
	}
	if !printable(key) {
		return fmt.Errorf("pgstore: %s %q: %w: a byte outside printable ASCII", op, key, store.ErrInvalidKey)
	}
	return nil
}

// Get implements store.Store: one SELECT of the key's row. The value
// returned belongs to the caller.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.check(ctx, "get", key); err != nil {
		return nil, err
	}
	var v []byte
	err := s.pool.QueryRow(ctx, s.get[tableOf(key)], key).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("pgstore: get %q: %w", key, store.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("pgstore: get %q: %w", key, err)
	}
	return v, nil
}

// Put implements store.Store: one upsert of the key's row, committed on
// its own. Put does not keep value.
func (s *Store) Put(ctx context.Context, key string, value []byte) error {
	if err := s.check(ctx, "put", key); err != nil {
		return err
	}
	if value == nil {
		value = []byte{} // NULL is not an empty value
	}
	if _, err := s.pool.Exec(ctx, s.put[tableOf(key)], key, value); err != nil {
		return fmt.Errorf("pgstore: put %q: %w", key, err)
	}
	return nil
}

// Delete implements store.Store: one DELETE of the key's row.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.check(ctx, "delete", key); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, s.del[tableOf(key)], key); err != nil {
		return fmt.Errorf("pgstore: delete %q: %w", key, err)
	}
	return nil
}

// List implements store.Store: one SELECT of keys, over an index range
// of each table whose keys can start with prefix. A prefix outside
// printable ASCII matches no key.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	return s.ListFrom(ctx, prefix, "")
}

// ListFrom implements store.RangeLister: List, whose statement starts
// its index scan at from.
func (s *Store) ListFrom(ctx context.Context, prefix, from string) ([]string, error) {
	if err := s.check(ctx, "list", prefix); err != nil {
		if errors.Is(err, store.ErrInvalidKey) {
			return nil, nil
		}
		return nil, err
	}
	q, args := s.listQuery(prefix)
	if from > prefix {
		args[0] = from
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list %q from %q: %w", prefix, from, err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("pgstore: list %q from %q: %w", prefix, from, err)
	}
	return keys, nil
}

// listQuery returns the statement of List(prefix) and its arguments;
// prefix is printable ASCII.
func (s *Store) listQuery(prefix string) (string, []any) {
	// The last byte is below 0x7f: the successor is the prefix with it
	// incremented, and every key that starts with prefix sorts below it.
	var bound string
	args := []any{prefix}
	if prefix != "" {
		args = append(args, prefix[:len(prefix)-1]+string(rune(prefix[len(prefix)-1]+1)))
		bound = " AND key < $2"
	}
	var q strings.Builder
	for i, t := range tables {
		if i == metaTable && tableOf(prefix) != metaTable {
			continue // the prefix lies within a routed table's keys
		}
		if i != metaTable && !strings.HasPrefix(prefix, t.prefix) && !strings.HasPrefix(t.prefix, prefix) {
			continue
		}
		if q.Len() > 0 {
			q.WriteString(" UNION ALL ")
		}
		q.WriteString(s.list[i] + bound)
	}
	q.WriteString(" ORDER BY key")
	return q.String(), args
}

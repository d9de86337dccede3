package main

// The DuckDB comparator: an on-disk database (compressed, buffered in
// memory once read) with two tables of the same events, loaded through the
// Appender, queried with plain SQL.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/insightslab/insights"
)

// The tables: signins with user ids as the GUID strings they are,
// signins_int with the same rows and dense integer user ids.
const (
	tableGUID = "signins"
	tableInt  = "signins_int"
)

const tableColumns = `(
	ts TIMESTAMP, day DATE, kind VARCHAR, user_id %s, principal_id VARCHAR,
	sign_in_type VARCHAR, status VARCHAR, error_code INTEGER, reason VARCHAR,
	app_id VARCHAR, app_name VARCHAR, os VARCHAR, browser VARCHAR, country VARCHAR, language VARCHAR,
	identity_provider VARCHAR, client_app VARCHAR, mfa_method VARCHAR, mfa_result VARCHAR,
	auth_requirement VARCHAR, conditional_access VARCHAR, risk_level VARCHAR, request_id VARCHAR, ip VARCHAR,
	seq INTEGER, correlation_id VARCHAR, city VARCHAR, user_agent VARCHAR,
	auth_details STRUCT("time" TIMESTAMP, method VARCHAR, succeeded BOOLEAN, result_detail VARCHAR, requirement VARCHAR)[],
	mfa_policies VARCHAR[], ca_policies STRUCT(name VARCHAR, result VARCHAR)[])`

// tableWidth is the number of columns of tableColumns.
const tableWidth = 31

type duck struct {
	dir       string
	connector *duckdb.Connector
	db        *sql.DB
	loadConns []driver.Conn
	apps      []*duckdb.Appender
	row       []driver.Value
	loadTime  time.Duration
}

// openDuck creates a database file in a new directory under tmp.
func openDuck(ctx context.Context, tmp, memLimit string, threads int) (*duck, error) {
	dir, err := os.MkdirTemp(tmp, "bench-duckdb-")
	if err != nil {
		return nil, err
	}
	c, err := duckdb.NewConnector(filepath.Join(dir, "bench.duckdb"), nil)
	if err != nil {
		return nil, err
	}
	d := &duck{dir: dir, connector: c, db: sql.OpenDB(c), row: make([]driver.Value, tableWidth)}
	stmts := []string{
		fmt.Sprintf("SET memory_limit = '%s'", memLimit),
		fmt.Sprintf("SET threads = %d", threads),
		fmt.Sprintf("SET temp_directory = '%s'", filepath.Join(dir, "tmp")),
		"CREATE TABLE " + tableGUID + " " + fmt.Sprintf(tableColumns, "VARCHAR"),
		"CREATE TABLE " + tableInt + " " + fmt.Sprintf(tableColumns, "INTEGER"),
	}
	for _, s := range stmts {
		if _, err := d.db.ExecContext(ctx, s); err != nil {
			d.close()
			return nil, fmt.Errorf("duckdb: %s: %w", s, err)
		}
	}
	for _, t := range []string{tableGUID, tableInt} {
		conn, err := c.Connect(ctx)
		if err != nil {
			d.close()
			return nil, err
		}
		a, err := duckdb.NewAppenderFromConn(conn, "", t)
		if err != nil {
			d.close()
			return nil, err
		}
		d.loadConns = append(d.loadConns, conn)
		d.apps = append(d.apps, a)
	}
	return d, nil
}

// appendDay appends day d's events to both tables.
func (d *duck) appendDay(g *generator, day int, evs []ev) error {
	t0 := time.Now()
	dayTime := dataStart.AddDate(0, 0, day)
	r := d.row
	for i := range evs {
		e := &evs[i]
		uk, pk := g.key(e)
		r[0] = eventTime(day, e)
		r[1] = dayTime
		r[2] = kindNames[e.kind]
		r[4] = nullable(pk)
		r[5] = sitNames[e.sit]
		r[6] = statusNames[e.status]
		r[7] = e.code
		r[8] = reason(e)
		r[9] = g.appIDs[e.app]
		r[10] = appNames[e.app]
		r[11] = osNames[e.os]
		r[12] = browserNames[e.browser]
		r[13] = countryCodes[e.country]
		r[14] = languages[e.lang]
		r[15] = idpNames[e.idp]
		r[16] = clientNames[e.client]
		r[17] = mfaMethods[e.mfaM]
		r[18] = mfaResults[e.mfaR]
		r[19] = reqNames[e.req]
		r[20] = caNames[e.ca]
		r[21] = riskNames[e.risk]
		r[22] = g.requestID(day, i)
		r[23] = g.ipOf(day, i, e.user, e.country)
		r[24] = i // the order the engine applied the day's events in
		r[25] = g.correlationID(day, i, e)
		r[26] = nullable(g.cityOf(day, i, e.user, e.country))
		r[27] = nullable(userAgents[e.os][e.browser][e.client])
		r[28] = duckSteps(authDetails(r[0].(time.Time), e))
		r[29] = duckStrings(mfaPolicies(e))
		r[30] = duckPolicies(caPolicies(day, i, e))
		r[3] = nullable(uk)
		if err := d.apps[0].AppendRow(r...); err != nil {
			return fmt.Errorf("duckdb append: %w", err)
		}
		if e.user >= 0 {
			r[3] = e.user
		} else {
			r[3] = nil
		}
		if err := d.apps[1].AppendRow(r...); err != nil {
			return fmt.Errorf("duckdb append: %w", err)
		}
	}
	d.loadTime += time.Since(t0)
	return nil
}

// duckSteps, duckStrings and duckPolicies convert log-field lists for the
// Appender's LIST and STRUCT columns; no entries is NULL.
func duckSteps(ss []insights.AuthStep) driver.Value {
	if len(ss) == 0 {
		return nil
	}
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = map[string]any{"time": s.Time, "method": s.Method, "succeeded": s.Succeeded,
			"result_detail": s.ResultDetail, "requirement": s.Requirement}
	}
	return out
}

func duckStrings(ss []string) driver.Value {
	if len(ss) == 0 {
		return nil
	}
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func duckPolicies(ps []insights.PolicyResult) driver.Value {
	if len(ps) == 0 {
		return nil
	}
	out := make([]any, len(ps))
	for i, p := range ps {
		out[i] = map[string]any{"name": p.Name, "result": p.Result}
	}
	return out
}

func nullable(s string) driver.Value {
	if s == "" {
		return nil
	}
	return s
}

// finishLoad flushes the appenders and checkpoints the database.
func (d *duck) finishLoad(ctx context.Context) error {
	t0 := time.Now()
	for _, a := range d.apps {
		if err := a.Close(); err != nil {
			return fmt.Errorf("duckdb appender close: %w", err)
		}
	}
	d.apps = nil
	for _, c := range d.loadConns {
		c.Close()
	}
	d.loadConns = nil
	if _, err := d.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("duckdb checkpoint: %w", err)
	}
	d.loadTime += time.Since(t0)
	return nil
}

// fileBytes is the size of the database file.
func (d *duck) fileBytes() int64 {
	fi, err := os.Stat(filepath.Join(d.dir, "bench.duckdb"))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// query runs q and canonicalizes its rows: every column but the value
// columns (the last len(multi), or the last one) forms the key.
func (d *duck) query(ctx context.Context, q string, multi []string) (answer, error) {
	rows, err := d.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("duckdb: %w\n%s", err, q)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	nv := max(1, len(multi))
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	a := answer{}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var parts []string
		for _, v := range vals[:len(cols)-nv] {
			switch v := v.(type) {
			case time.Time:
				parts = append(parts, v.Format("2006-01-02"))
			case nil:
				parts = append(parts, "")
			default:
				parts = append(parts, fmt.Sprint(v))
			}
		}
		base := strings.Join(parts, "|")
		for i, v := range vals[len(cols)-nv:] {
			n, ok := v.(int64)
			if !ok {
				return nil, fmt.Errorf("duckdb: value column of type %T", v)
			}
			k := base
			if multi != nil {
				if k != "" {
					k += "|"
				}
				k += multi[i]
			}
			a.add(k, n)
		}
	}
	return a, rows.Err()
}

// parquetBytes writes from (a table or a parenthesized query) as zstd
// Parquet and returns the file's size.
func (d *duck) parquetBytes(ctx context.Context, from string) (int64, error) {
	p := filepath.Join(d.dir, "signins.parquet")
	if _, err := d.db.ExecContext(ctx, fmt.Sprintf("COPY %s TO '%s' (FORMAT parquet, COMPRESSION zstd)", from, p)); err != nil {
		return 0, fmt.Errorf("duckdb copy: %w", err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	os.Remove(p)
	return fi.Size(), nil
}

func (d *duck) close() {
	for _, a := range d.apps {
		a.Close()
	}
	for _, c := range d.loadConns {
		c.Close()
	}
	if d.db != nil {
		d.db.Close()
	}
	if d.connector != nil {
		d.connector.Close()
	}
	os.RemoveAll(d.dir)
}

// Package prometheus exports an insights.Engine to Prometheus: a
// prometheus.Collector that reports the engine's Stats, and a few
// aggregates computed from the engine when Prometheus scrapes:
//
//   - insights_active_users_today, and by application
//     (insights_active_users_today_by_app): Engine.Query's ActiveUsers for
//     the clock's date in the store's zone, grouped by Options.App, the
//     Options.TopApps largest applications and an "(other)" row for the
//     distinct union of the rest. A user active in two applications
//     counts in both, so the rows do not add up to the total.
//   - insights_failed_signins_last_hour by application: the failed
//     sign-ins of the hour up to the engine's clock (later than an hour
//     before it, not later than it), read from the sign-in
//     log (Engine.SignIns) newest first, the TopApps largest applications
//     and "(other)" for the rest (these add up).
//
// It lives in a module of its own, so that the insights module does not
// depend on client_golang. A host registers it next to its own metrics:
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(insightsprom.NewCollector(eng, nil))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// # Cost
//
// Describe costs nothing. Collect calls Engine.Stats (O(days) under the
// engine's read lock), one Query of one day's index (about a millisecond
// for a million users), and reads the failed sign-ins of the last hour
// from the sign-in log, newest first, in pages of up to
// insights.MaxPageSize: its cost grows with those sign-ins, and stops at
// Options.MaxScan of them (then insights_failed_signins_last_hour_truncated
// is 1 and the counts are lower bounds). Options.Timeout bounds the whole.
// Scrape every 15 seconds or more.
//
// # Concurrency
//
// A Collector is safe for concurrent use, as the engine is. An aggregate
// that fails (the engine closed, the timeout passed) is reported to the
// registry as an invalid metric with the error; the Stats still are.
package prometheus

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/insightslab/insights"
)

// Options configures NewCollector. A nil *Options, and every zero field,
// means the default.
type Options struct {
	// Namespace prefixes every metric name. Default "insights".
	Namespace string
	// App is the dimension whose values label the per-application
	// aggregates (label "app"): insights.DimAppID (the default),
	// DimAppName for display names, or DimResource.
	App insights.Dimension
	// TopApps is how many applications the per-application aggregates
	// name; the others count under "(other)", so the label's values stay
	// few whatever the events hold. Default 10.
	TopApps int
	// MaxScan is how many failed sign-ins of the last hour one collection
	// reads at most. Default 100,000.
	MaxScan int
	// Timeout bounds the aggregates' work in one collection. Default 10 s.
	Timeout time.Duration
}

// Collector is a prometheus.Collector of an engine's Stats and
// aggregates. Create it with NewCollector.
type Collector struct {
	e    *insights.Engine
	o    Options
	desc map[string]*prom.Desc // by metric name without the namespace
}

// stat is one metric taken from Stats.
type stat struct {
	name, help string
	kind       prom.ValueType
	value      func(s *insights.Stats) float64
}

// stats are the metrics taken from Stats, in the order Describe lists them.
var stats = []stat{
	{"events_added_total", "Events Add applied since Open (copies excluded).", prom.CounterValue,
		func(s *insights.Stats) float64 { return float64(s.Events) }},
	{"events_duplicate_total", "Events Add skipped since Open as copies of earlier ones (same request id).", prom.CounterValue,
		func(s *insights.Stats) float64 { return float64(s.Duplicates) }},
	{"users", "User keys the engine knows.", prom.GaugeValue,
		func(s *insights.Stats) float64 { return float64(s.Users) }},
	{"day_indexes", "Days with data (a day index each, in memory or in the store).", prom.GaugeValue,
		func(s *insights.Stats) float64 { return float64(s.Days) }},
	{"day_segments", "Days with a segment in the store.", prom.GaugeValue,
		func(s *insights.Stats) float64 { return float64(s.DaysStored) }},
	{"day_indexes_resident", "Sealed day indexes in memory.", prom.GaugeValue,
		func(s *insights.Stats) float64 { return float64(s.Memory.Days) }},
	{"memory_bytes", "Heap held by the sealed days in memory, about.", prom.GaugeValue,
		func(s *insights.Stats) float64 { return float64(s.Memory.Bytes) }},
	{"memory_limit_bytes", "Options.MemoryLimit.", prom.GaugeValue,
		func(s *insights.Stats) float64 { return float64(s.Memory.Limit) }},
	{"evictions_total", "Days dropped from memory since Open.", prom.CounterValue,
		func(s *insights.Stats) float64 { return float64(s.Memory.Evictions) }},
	{"recovered_log_events", "Events replayed from the write-ahead log at Open.", prom.GaugeValue,
		func(s *insights.Stats) float64 { return float64(s.Recovery.LogEvents) }},
	{"checkpoints_total", "Checkpoints committed since Open.", prom.CounterValue,
		func(s *insights.Stats) float64 { return float64(s.Checkpoints) }},
	{"checkpoint_failures_total", "Checkpoints failed since Open.", prom.CounterValue,
		func(s *insights.Stats) float64 { return float64(s.CheckpointFailures) }},
	{"checkpoint_age_seconds", "Time since the last checkpoint committed, or since Open if none.", prom.GaugeValue,
		func(s *insights.Stats) float64 { return s.CheckpointAge.Seconds() }},
	{"checkpoint_duration_seconds", "Duration of the last committed checkpoint.", prom.GaugeValue,
		func(s *insights.Stats) float64 { return s.CheckpointDuration.Seconds() }},
	{"wal_bytes", "Write-ahead log bytes not yet covered by a checkpoint.", prom.GaugeValue,
		func(s *insights.Stats) float64 { return float64(s.LogBytes) }},
	{"wal_records", "Write-ahead log records not yet covered by a checkpoint.", prom.GaugeValue,
		func(s *insights.Stats) float64 { return float64(s.LogRecords) }},
	{"ingest_lag_seconds", "How long the last group of Adds waited in the group commit until applied.", prom.GaugeValue,
		func(s *insights.Stats) float64 { return s.IngestLag.Seconds() }},
	{"queries_total", "Calls of Query and Users since Open.", prom.CounterValue,
		func(s *insights.Stats) float64 { return float64(s.Queries) }},
	{"query_seconds_total", "Summed duration of the queries.", prom.CounterValue,
		func(s *insights.Stats) float64 { return s.QueryTime.Seconds() }},
	{"slow_queries_total", "Queries slower than Options.SlowQuery.", prom.CounterValue,
		func(s *insights.Stats) float64 { return float64(s.SlowQueries) }},
	{"refreshed_timestamp_seconds", "On a follower or replica, when its last refresh succeeded (Unix seconds); 0 on others.", prom.GaugeValue,
		func(s *insights.Stats) float64 { return unixSeconds(s.Refreshed) }},
	{"refresh_failures_total", "On a follower or replica, background refreshes failed since Open.", prom.CounterValue,
		func(s *insights.Stats) float64 { return float64(s.RefreshFailures) }},
}

// unixSeconds returns t in Unix seconds, 0 for the zero time.
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// The aggregates' metric names, without the namespace.
const (
	activeToday      = "active_users_today"
	activeTodayByApp = "active_users_today_by_app"
	failedLastHour   = "failed_signins_last_hour"
	failedTruncated  = "failed_signins_last_hour_truncated"
)

// NewCollector returns a Collector of e. A negative field of opts, or an
// App other than those it lists, means the default, as zero does.
func NewCollector(e *insights.Engine, opts *Options) *Collector {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Namespace = cmp.Or(o.Namespace, "insights")
	switch o.App {
	case insights.DimAppName, insights.DimResource:
	default:
		o.App = insights.DimAppID
	}
	if o.TopApps <= 0 {
		o.TopApps = 10
	}
	if o.MaxScan <= 0 {
		o.MaxScan = 100_000
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	c := &Collector{e: e, o: o, desc: map[string]*prom.Desc{}}
	add := func(name, help string, labels ...string) {
		c.desc[name] = prom.NewDesc(prom.BuildFQName(o.Namespace, "", name), help, labels, nil)
	}
	for _, s := range stats {
		add(s.name, s.help)
	}
	add(activeToday, "Users active today (the clock's date in the store's zone).")
	add(activeTodayByApp, fmt.Sprintf("Users active today by application (%s), the %d largest and (other).", o.App, o.TopApps), "app")
	add(failedLastHour, fmt.Sprintf("Failed sign-ins in the hour up to the engine's clock by application (%s), the %d largest and (other).", o.App, o.TopApps), "app")
	add(failedTruncated, "1 if the failed sign-ins of the last hour passed the collector's MaxScan: their counts are lower bounds.")
	return c
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prom.Desc) {
	for _, d := range c.desc {
		ch <- d
	}
}

// Collect implements prometheus.Collector: Stats, then the aggregates
// (see the package doc for their cost).
func (c *Collector) Collect(ch chan<- prom.Metric) {
	s := c.e.Stats()
	for _, st := range stats {
		c.send(ch, st.name, st.kind, st.value(&s))
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Timeout)
	defer cancel()
	c.collectActive(ctx, ch)
	c.collectFailed(ctx, ch)
}

// send sends one metric of the named Desc.
func (c *Collector) send(ch chan<- prom.Metric, name string, kind prom.ValueType, v float64, labels ...string) {
	m, err := prom.NewConstMetric(c.desc[name], kind, v, labels...)
	if err != nil {
		m = prom.NewInvalidMetric(c.desc[name], err)
	}
	ch <- m
}

// collectActive sends the active users of today, in all and by app.
func (c *Collector) collectActive(ctx context.Context, ch chan<- prom.Metric) {
	today := insights.DateOf(c.e.Now(), c.e.Zone())
	q := insights.Query{Metric: insights.ActiveUsers, From: today, To: today.AddDays(1)}
	res, err := c.e.Query(ctx, q)
	if err != nil {
		ch <- prom.NewInvalidMetric(c.desc[activeToday], err)
	} else {
		c.send(ch, activeToday, prom.GaugeValue, sum(res.Rows))
	}
	q.GroupBy, q.Top, q.Other = []insights.Dimension{c.o.App}, c.o.TopApps, true
	if res, err = c.e.Query(ctx, q); err != nil {
		ch <- prom.NewInvalidMetric(c.desc[activeTodayByApp], err)
		return
	}
	for _, r := range res.Rows {
		c.send(ch, activeTodayByApp, prom.GaugeValue, r.Value, label(r.Groups[0]))
	}
}

// collectFailed sends the failed sign-ins of the hour up to the clock, by
// app: read from the sign-in log, newest first, until an entry is older
// than the hour or MaxScan entries were read.
func (c *Collector) collectFailed(ctx context.Context, ch chan<- prom.Metric) {
	now := c.e.Now()
	since := now.Add(-time.Hour)
	q := insights.LogQuery{
		From:   insights.DateOf(since, c.e.Zone()),
		To:     insights.DateOf(now, c.e.Zone()).AddDays(1),
		Filter: insights.Eq(insights.DimStatus, insights.StatusFailure.String()),
		Limit:  insights.MaxPageSize,
	}
	counts := map[string]float64{}
	scanned, truncated := 0, false
	for {
		page, err := c.e.SignIns(ctx, q)
		if err != nil {
			ch <- prom.NewInvalidMetric(c.desc[failedLastHour], err)
			return
		}
		done := page.Next == ""
		for _, en := range page.Entries {
			if !en.Time.After(since) {
				done = true
				break
			}
			if scanned++; scanned > c.o.MaxScan {
				done, truncated = true, true
				break
			}
			if !en.Time.After(now) {
				counts[appOf(&en, c.o.App)]++
			}
		}
		if done {
			break
		}
		q.Cursor = page.Next
	}
	for app, v := range top(counts, c.o.TopApps) {
		c.send(ch, failedLastHour, prom.GaugeValue, v, label(app))
	}
	t := 0.0
	if truncated {
		t = 1
	}
	c.send(ch, failedTruncated, prom.GaugeValue, t)
}

// appOf returns en's value of dimension d, one of those Options.App
// allows.
func appOf(en *insights.LogEntry, d insights.Dimension) string {
	switch d {
	case insights.DimAppName:
		return en.AppName
	case insights.DimResource:
		return en.Resource
	}
	return en.AppID
}

// top keeps the n largest of counts (ties by name) and sums the rest
// under insights.OtherGroup.
func top(counts map[string]float64, n int) map[string]float64 {
	if len(counts) <= n {
		return counts
	}
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), strings.Compare(a, b)) })
	out := map[string]float64{}
	for i, k := range names {
		if i < n {
			out[k] = counts[k]
		} else {
			out[insights.OtherGroup] += counts[k]
		}
	}
	return out
}

// sum returns the sum of the rows' values.
func sum(rows []insights.Row) float64 {
	v := 0.0
	for _, r := range rows {
		v += r.Value
	}
	return v
}

// label returns v as a valid label value: Prometheus wants UTF-8, and
// dimension values are what the events held.
func label(v string) string { return strings.ToValidUTF8(v, "\uFFFD") }

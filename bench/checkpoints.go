package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// checkpointSpans is a slog.Handler, for Options.Logger, that keeps when
// each checkpoint the engine logged ran (its record's time and
// duration: "insights: checkpoint" and "insights: checkpoint failed"),
// so that the history phase can tell the Adds that overlapped one. It
// drops every other record. Safe for concurrent use.
type checkpointSpans struct {
	mu    sync.Mutex
	spans []span
}

// span is a checkpoint's run, from its start to its log record.
type span struct{ from, to time.Time }

func (c *checkpointSpans) Enabled(context.Context, slog.Level) bool { return true }

func (c *checkpointSpans) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "insights: checkpoint" && r.Message != "insights: checkpoint failed" {
		return nil
	}
	var d time.Duration
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "duration" {
			d = a.Value.Duration()
			return false
		}
		return true
	})
	c.mu.Lock()
	c.spans = append(c.spans, span{r.Time.Add(-d), r.Time})
	c.mu.Unlock()
	return nil
}

func (c *checkpointSpans) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *checkpointSpans) WithGroup(string) slog.Handler      { return c }

// split returns the latencies lat of the Adds started at starts that
// overlapped a checkpoint, and those of the others. Cost: O(Adds ×
// checkpoints).
func (c *checkpointSpans) split(lat []time.Duration, starts []time.Time) (during, outside []time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, d := range lat {
		from, to := starts[i], starts[i].Add(d)
		over := false
		for _, s := range c.spans {
			if s.from.Before(to) && from.Before(s.to) {
				over = true
				break
			}
		}
		if over {
			during = append(during, d)
		} else {
			outside = append(outside, d)
		}
	}
	return during, outside
}

// count returns how many checkpoints were logged.
func (c *checkpointSpans) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.spans)
}

package importers

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/insightslab/insights"
)

// ReadSnapshot reads a registration snapshot: CSV (RFC 4180, UTF-8, an
// optional byte-order mark) with a header naming the columns userKey and
// methods, in any order and case, other columns ignored; methods are
// separated by ';' ("Password;Microsoft Authenticator;FIDO2 security
// key"). A user may appear on several rows and their methods are merged,
// so one row per user and method reads the same as one row per user. A
// row without a user key, with a key over insights.MaxKeyLength, or with a
// method over insights.MaxValueLength is skipped. Users come out in the
// order first seen, each with its methods in the order first seen, without
// duplicates (possibly none); Engine.ImportRegistrations records them.
//
// Of opts only MaxSkips is used. Report.Imported counts users. Cost: one
// pass, memory for the result. ctx is checked every 1,000 rows.
func ReadSnapshot(ctx context.Context, r io.Reader, opts *Options) ([]insights.RegisteredMethods, Report, error) {
	s := newSink(ctx, opts, "", nil)
	t, err := newCSVTable(r)
	if t == nil || err != nil {
		return nil, s.rep, err
	}
	if !t.has("userkey") || !t.has("methods") {
		return nil, s.rep, fmt.Errorf("%w: line 1: the header must name userKey and methods", ErrMalformed)
	}
	var out []insights.RegisteredMethods
	index := map[string]int{}
	err = t.each(s, func(line int, row []string) error {
		if s.rep.Read%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		user := t.get(row, "userkey")
		switch {
		case user == "":
			s.skip(line, "no userKey")
			return nil
		case len(user) > insights.MaxKeyLength:
			s.skip(line, fmt.Sprintf("userKey: %d bytes, over the limit of %d", len(user), insights.MaxKeyLength))
			return nil
		}
		var methods []string
		for m := range strings.SplitSeq(t.get(row, "methods"), ";") {
			m = strings.TrimSpace(m)
			if len(m) > insights.MaxValueLength {
				s.skip(line, fmt.Sprintf("methods: %d bytes, over the limit of %d", len(m), insights.MaxValueLength))
				return nil
			}
			if m != "" {
				methods = append(methods, m)
			}
		}
		s.rep.Read++
		i, ok := index[user]
		if !ok {
			i = len(out)
			index[user] = i
			out = append(out, insights.RegisteredMethods{UserKey: user, Methods: []string{}})
		}
		for _, m := range methods {
			if !slices.Contains(out[i].Methods, m) {
				out[i].Methods = append(out[i].Methods, m)
			}
		}
		return nil
	})
	s.rep.Imported = len(out)
	return out, s.rep, err
}

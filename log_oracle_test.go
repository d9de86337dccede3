package insights_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/insightslab/insights"
)

// TestLogOracle lists the event log of the oracle's generated data through
// filters on indexed dimensions and log fields, in pages, and compares
// every entry and its order with a brute-force pass over the raw events.
func TestLogOracle(t *testing.T) {
	t.Parallel()
	const app, city, user = insights.DimAppID, insights.DimCity, insights.DimUser
	filters := []orF{
		{},
		fEq(insights.DimKind, "signIn"),
		fCIDR("10.1.0.0/16"),
		fAnd(fEq(city, "Lyon"), fEq(app, "crm")),
		fOr(fNot(fCIDR("2001:db8::/32")), fEq(insights.DimStatus, "failure")),
		fAnd(fEq(user, "user-0042@example.test"), fNot(fEq(insights.DimKind, "mfa"))),
		fIn(user, "user-0007@example.test", "user-0100@example.test", "nobody"),
		fAnd(fPre(user, "user-01"), fEq(insights.DimIP, "10.2.0.1")),
		fNot(fEq(city, "")),
		fIn(insights.DimRequestID, "req-1-5", "req-2-7", "req-3-9", "req-1-2000", "req-2-3000", "req-3-4000", "nope"),
		fAnd(fOr(fPre(insights.DimRequestID, "req-1-10"), fPre(insights.DimRequestID, "req-2-10"), fPre(insights.DimRequestID, "req-3-10")),
			fEq(insights.DimKind, "signIn")),
		fOr(fEq(insights.DimRequestID, ""), fEq(city, "Oslo")),
	}
	ranges := []struct{ from, to insights.Date }{{}, {orD(2024, 11, 2), orD(2024, 11, 9)}}
	for _, seed := range oracleSeeds() {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			t.Parallel()
			fed := orFedSeed(t, seed)
			eng, o := fed.eng, fed.o
			for fi, f := range filters {
				for _, r := range ranges {
					want := o.listing(f, "", r.from, r.to)
					got := orEntries(t, eng, insights.LogQuery{Filter: f.api(), From: r.from, To: r.to, Limit: 97 + fi})
					if !slices.Equal(got, want) {
						i := 0
						for i < min(len(got), len(want)) && got[i] == want[i] {
							i++
						}
						t.Errorf("filter %s, %v..%v: %d entries, want %d; first difference at %d", f.api(), r.from, r.to, len(got), len(want), i)
					}
					if len(want) == 0 && fi > 0 && r.from.IsZero() {
						t.Errorf("filter %s matches nothing: the case tests little", f.api())
					}
				}
			}
			for si, search := range orSearches {
				for fi, f := range []orF{{}, fAnd(fEq(insights.DimKind, "signIn"), fNot(fEq(insights.DimStatus, "success")))} {
					for _, r := range ranges {
						want := o.listing(f, search, r.from, r.to)
						got := orEntries(t, eng, insights.LogQuery{Filter: f.api(), UserSearch: search, From: r.from, To: r.to, Limit: 89 + si})
						if !slices.Equal(got, want) {
							t.Errorf("search %q, filter %s, %v..%v: %d entries, want %d", search, f.api(), r.from, r.to, len(got), len(want))
						}
						if len(want) == 0 && fi == 0 && r.from.IsZero() && !strings.HasPrefix(search, "nobody") {
							t.Errorf("search %q matches nothing: the case tests little", search)
						}
					}
				}
			}
		})
	}
}

// orEntries lists q as listing does.
func orEntries(t *testing.T, eng *insights.Engine, q insights.LogQuery) []string {
	var got []string
	it := eng.Entries(context.Background(), q)
	for it.Next() {
		en := it.Entry()
		got = append(got, fmt.Sprintf("%d %s %s %s", en.Time.UnixNano(), en.Kind, en.UserKey, en.RequestID))
	}
	if it.Err() != nil {
		t.Fatalf("%+v: %v", q, it.Err())
	}
	return got
}

// orSearches are TestLogOracle's user searches (orDisplayNames names the
// users): keys in another case, names by a non-ASCII letter in either
// case, the Kelvin sign and the long s, which fold to K and S, the sharp
// s, which simple folding does not expand, a name starting as a key does,
// and bytes that are not UTF-8.
var orSearches = []string{"USER-004", "User-01", "élo", "ÉLISE Å", "åsa", "\u212aelvin", "ſtra", "STRASS", "straß",
	"user-9", "user-0999@EXAMPLE", "nobody", "nobody\xff"}

// orDisplayNames gives the events of the oracle's users display names,
// from the users' numbers: some in upper case on some of their events
// (a rename), some none.
func orDisplayNames(evs []insights.Event) {
	names := []string{"Élodie Durand", "élise Ångström", "ÅSA Berg", "Kelvin Smith", "", "Straße Weg", "STRASSE Ost", "user-9 Impostor"}
	for i := range evs {
		e := &evs[i]
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(e.UserKey, "user-"), "@example.test"))
		if err != nil || names[n%len(names)] == "" {
			continue
		}
		e.UserDisplayName = fmt.Sprintf("%s %d", names[n%len(names)], n)
		if n%5 == 0 && len(e.RequestID)%2 == 1 {
			e.UserDisplayName = strings.ToUpper(e.UserDisplayName)
		}
	}
}

// orSearched is the brute-force LogQuery.UserSearch: as many leading runes
// of s as search has, equal to it under strings.EqualFold.
func orSearched(s, search string) bool {
	rs, n := []rune(s), utf8.RuneCountInString(search)
	return len(rs) >= n && strings.EqualFold(string(rs[:n]), search)
}

// listing returns the records matching f and search ("": any) on days
// [from, to) (zero: no bound), newest first, ties in reverse order of
// application.
func (o *orOracle) listing(f orF, search string, from, to insights.Date) []string {
	var idx []int
	for i := range o.recs {
		r := &o.recs[i]
		if (!from.IsZero() && r.day < orIdx(from)) || (!to.IsZero() && r.day >= orIdx(to)) || !f.match(r) {
			continue
		}
		if search != "" && !orSearched(r.name, search) && (r.user < 0 || !orSearched(o.keys[r.user], search)) {
			continue
		}
		idx = append(idx, i)
	}
	slices.SortFunc(idx, func(a, b int) int {
		return cmp.Or(o.recs[b].t.Compare(o.recs[a].t), cmp.Compare(b, a))
	})
	out := make([]string, len(idx))
	for k, i := range idx {
		r := &o.recs[i]
		key := ""
		if r.user >= 0 {
			key = o.keys[r.user]
		}
		out[k] = fmt.Sprintf("%d %s %s %s", r.t.UnixNano(), r.dim(insights.DimKind), key, r.reqID)
	}
	return out
}

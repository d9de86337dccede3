package insights

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"iter"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/insightslab/insights/internal/logrecord"
	"github.com/insightslab/insights/internal/risk"
)

// The event log (SPEC §7): every applied event is kept, immutable, with its
// log fields, and listed newest first through filters on any dimension.

// MaxPageSize is the largest LogQuery.Limit.
const MaxPageSize = 1000

// LogQuery selects entries of the event log. Entries come newest first:
// by time, then by the order in which they were applied, descending.
type LogQuery struct {
	// From and To bound the entries' days, half-open [From, To). A zero
	// From means the first day with data; a zero To means the day after
	// the last day with data (which may be the day after the clock's).
	From, To Date
	// Filter may name any dimension, log fields (DimIP, DimUser, ...) included.
	Filter Filter
	// UserSearch, when not "", keeps the entries whose user key or user
	// display name starts with it, case ignored: the sign-in log's user
	// search. Case is ignored as strings.EqualFold ignores it, rune by
	// rune (Unicode simple case folding): "é" matches "É", "k" matches "K"
	// and the Kelvin sign, "ſ" matches "s"; "ss" does not match "ß", which
	// only full folding expands. Bytes that are not UTF-8 read as U+FFFD.
	// Entries match on their own display name: a user renamed is found
	// under either name, each on the entries that carry it.
	UserSearch string
	// ComputedRisk, when not nil, keeps the entries whose computed risk
	// (LogEntry.ComputedRisk, RiskNone for none) is one of its levels.
	ComputedRisk []string
	// Limit is the page size for one call, 1 to MaxPageSize; 0 means 100.
	Limit int
	// Cursor resumes a listing just after the last entry of an earlier
	// page (LogPage.Next); "" starts at the newest entry. A cursor stays
	// valid while events keep arriving: entries listed before it are not
	// repeated and entries after it are not skipped.
	Cursor string
}

// LogEntry is one event as the engine applied it: derived values filled
// in (Status, Reason, SignInType, MFAMethod, MFAResult, AuthRequirement,
// PrimaryMethod, Country upper-cased, Time in the store's zone), with the
// families derived from OS and browser. Erased users' entries are removed.
type LogEntry struct {
	// ID identifies the entry for good: "<date>/<sequence in the day>".
	ID string `json:"id"`
	Event
	OSFamily      string `json:"osFamily,omitempty"`
	BrowserFamily string `json:"browserFamily,omitempty"`
	// ComputedRisk is the event's computed risk (SPEC §9): the highest
	// level of the risk detections it is evidence of, "" for none (and
	// with detection disabled). The host's imported risk is RiskLevel.
	ComputedRisk string `json:"computedRisk,omitempty"`
}

// LogPage is one page of a listing.
type LogPage struct {
	Entries []LogEntry `json:"entries"`
	// Next is the cursor of the following page, "" when the listing is done.
	Next string `json:"next,omitempty"`
}

// Log returns one page of the event log, every kind of event: the entries
// matching q, newest first. Invalid queries and cursors return an error
// wrapping ErrInvalidQuery. Cost: per day of the range, from the newest,
// the filter's postings (built on a day's first listing: one pass over its
// log per dimension or log field named) and a sort of the matching
// entries, until the page is full; then decoding the page's records. A
// UserSearch adds a pass over the user keys of the catalog per call, and
// per day a pass over the day's distinct display names.
func (e *Engine) Log(ctx context.Context, q LogQuery) (*LogPage, error) {
	return e.page(ctx, q)
}

// SignIns returns one page of the sign-in log (SPEC §7): Log restricted to
// sign-ins.
func (e *Engine) SignIns(ctx context.Context, q LogQuery) (*LogPage, error) {
	q.Filter = And(Eq(DimKind, KindSignIn.String()), q.Filter)
	return e.page(ctx, q)
}

// MethodActivity returns one page of the registration and reset details
// list (SPEC §8): Log restricted to registration and reset events, imported
// snapshots excluded. Search users with Prefix(DimUser, ...), filter on
// DimMethod, DimAction, DimStatus, DimReason.
func (e *Engine) MethodActivity(ctx context.Context, q LogQuery) (*LogPage, error) {
	q.Filter = And(Or(registration, reset), q.Filter)
	return e.page(ctx, q)
}

// UserSignIns returns userKey's sign-ins on the days [from, to), newest
// first, in one call: SignIns filtered on the user with the largest page
// (MaxPageSize entries; Next is set when the user has more, as a token
// refreshed every few minutes may). Cost: per day, a lookup in the day's
// entries by user and the decompression of the blocks holding them.
func (e *Engine) UserSignIns(ctx context.Context, userKey string, from, to Date) (*LogPage, error) {
	return e.SignIns(ctx, LogQuery{From: from, To: to, Filter: Eq(DimUser, userKey), Limit: MaxPageSize})
}

// DisplayNames returns the display names of keys: each user's name as
// the newest of its log entries that carries one on its last day of
// activity (UserInfo.LastActive) reports it. A key has none in the map
// when that day has no such entry (the host sends no names, the day
// passed retention) or the key is unknown or erased. Cost: per key, the
// user's entries of that day (the day's entries by user, built on first
// use) and the decoding of their records; a day not in memory is read
// from the store. Meant for a page of users, not for every user.
func (e *Engine) DisplayNames(ctx context.Context, keys []string) (map[string]string, error) {
	return fresh(ctx, e, func() (map[string]string, error) { return e.displayNames(ctx, keys) })
}

// displayNames is DisplayNames under the read lock.
func (e *Engine) displayNames(ctx context.Context, keys []string) (map[string]string, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	if err := e.loadUsers(ctx); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		uid, ok := e.keys[k]
		if !ok {
			continue
		}
		name, err := e.displayName(ctx, uid)
		if err != nil {
			return nil, err
		}
		if name != "" {
			out[k] = name
		}
	}
	return out, nil
}

// displayName returns uid's display name as DisplayNames says, "" for
// none. The read lock is held.
func (e *Engine) displayName(ctx context.Context, uid uint32) (string, error) {
	if e.days[e.last[uid]] == nil { // no activity: NoDay has no day
		return "", nil
	}
	d, err := e.sealedDay(ctx, e.last[uid], 1<<secCounts|1<<secUsers) // the log's length, and its entries by user
	if err != nil {
		return "", err
	}
	l, err := d.events()
	if err != nil {
		return "", err
	}
	c, newest, name := l.cursor(), int64(math.MinInt64), ""
	for _, i := range d.entriesOfUser(l, uid) {
		rec, err := c.record(int(i))
		if err != nil {
			return "", err
		}
		if n := recordText(rec, logrecord.DisplayName); n != "" && l.times[i] >= newest {
			name, newest = n, l.times[i]
		}
	}
	return name, nil
}

// logCursor is a position in the newest-first order: the entry seq of day
// n, at Unix time t (ns).
type logCursor struct {
	t   int64
	n   int32
	seq uint32
}

// before reports whether entry (t, seq) of day n comes after c in the
// listing: it is older, or as old and applied earlier.
func (c logCursor) before(t int64, n int32, seq uint32) bool {
	return cmp.Or(cmp.Compare(t, c.t), cmp.Compare(n, c.n), cmp.Compare(seq, c.seq)) < 0
}

func (c logCursor) String() string {
	b := binary.BigEndian.AppendUint64(nil, uint64(c.t))
	b = binary.BigEndian.AppendUint32(b, uint32(c.n))
	b = binary.BigEndian.AppendUint32(b, c.seq)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseCursor(s string) (logCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return logCursor{}, fmt.Errorf("%w: cursor %q: not one this engine returned", ErrInvalidQuery, s)
	}
	return logCursor{t: int64(binary.BigEndian.Uint64(b)), n: int32(binary.BigEndian.Uint32(b[8:])), seq: binary.BigEndian.Uint32(b[12:])}, nil
}

// validate checks q and fills its defaults.
func (q *LogQuery) validate() (*logCursor, error) {
	if err := validateLimit(&q.Limit); err != nil {
		return nil, err
	}
	for _, d := range []Date{q.From, q.To} {
		if !d.IsZero() && d != NewDate(d.Year, d.Month, d.Day) {
			return nil, fmt.Errorf("%w: %v is not a calendar date", ErrInvalidQuery, d)
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return nil, fmt.Errorf("%w: from %s is not before to %s", ErrInvalidQuery, q.From, q.To)
	}
	if err := q.Filter.validate(); err != nil {
		return nil, err
	}
	if err := validateLevels(q.ComputedRisk); err != nil {
		return nil, err
	}
	if q.Cursor == "" {
		return nil, nil
	}
	c, err := parseCursor(q.Cursor)
	return &c, err
}

// validateLimit checks a page size, 0 meaning 100.
func validateLimit(limit *int) error {
	switch {
	case *limit == 0:
		*limit = 100
	case *limit < 0 || *limit > MaxPageSize:
		return fmt.Errorf("%w: limit %d: from 1 to %d", ErrInvalidQuery, *limit, MaxPageSize)
	}
	return nil
}

// page computes one page of q, on a follower again after a refresh if it
// met a file its writer deleted.
func (e *Engine) page(ctx context.Context, q LogQuery) (*LogPage, error) {
	return fresh(ctx, e, func() (*LogPage, error) { return e.pageOnce(ctx, q) })
}

// pageOnce computes one page of q under the read lock.
func (e *Engine) pageOnce(ctx context.Context, q LogQuery) (*LogPage, error) {
	cur, err := q.validate()
	if err != nil {
		return nil, err
	}
	levels, err := e.riskLevels(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	if err := e.loadUsers(ctx); err != nil {
		return nil, err
	}
	var search *userSearch
	if q.UserSearch != "" {
		search = e.searchUsers(q.UserSearch)
	}
	from, to := e.logRange(q)
	if cur != nil {
		to = min(to, cur.n+1)
	}
	page := &LogPage{Entries: []LogEntry{}}
	for n := to - 1; n >= from; n-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if e.days[n] == nil {
			continue
		}
		d, err := e.sealedDay(ctx, n, lazySections)
		if err != nil {
			return nil, err
		}
		l, err := d.events()
		if err != nil {
			return nil, err
		}
		var after *logCursor
		if cur != nil && cur.n == n {
			after = cur
		}
		entries, err := e.listed(d, l, n, q.Filter, search, after)
		if err != nil {
			return nil, err
		}
		c := l.cursor()
		for i := range entries {
			level := levels[riskRef(n, i)]
			if q.ComputedRisk != nil && !slices.Contains(q.ComputedRisk, level.String()) {
				continue
			}
			if len(page.Entries) == q.Limit {
				page.Next = page.Entries[q.Limit-1].Cursor()
				return page, nil
			}
			le, err := e.entry(d, l, c, n, i)
			if err != nil {
				return nil, err
			}
			if level > risk.LevelNone {
				le.ComputedRisk = level.String()
			}
			page.Entries = append(page.Entries, le)
		}
	}
	return page, nil
}

// logRange returns the days [from, to) a listing reads: q's, bounded by
// the days with data.
func (e *Engine) logRange(q LogQuery) (from, to int32) {
	from, to = int32(math.MaxInt32), int32(math.MinInt32)
	for n := range e.days {
		from, to = min(from, n), max(to, n+1)
	}
	if !q.From.IsZero() {
		from = max(from, q.From.num())
	}
	if !q.To.IsZero() {
		to = min(to, q.To.num())
	}
	return from, to
}

// listed yields the entries of day n (d, with log l) matching f and the
// search s (nil: none), newest first, after the cursor when one is given,
// without erased users' entries. A selective filter's few entries are
// sorted; otherwise the day's cached order is walked from the cursor's
// place (binary search), so a page costs what it reads, not the whole day.
func (e *Engine) listed(d *day, l *eventLog, n int32, f Filter, s *userSearch, after *logCursor) (iter.Seq[uint32], error) {
	match, err := e.matchEntries(d, l, f)
	if err != nil {
		return nil, err
	}
	if s != nil {
		found, err := s.entries(d, l)
		switch {
		case err != nil:
			return nil, err
		case match == nil:
			match = found
		default:
			match = roaring.And(match, found)
		}
	}
	return func(yield func(uint32) bool) {
		var order []uint32
		if match != nil && match.GetCardinality() < uint64(l.len()/16) {
			order = match.ToArray()
			slices.SortFunc(order, func(a, b uint32) int {
				return cmp.Or(cmp.Compare(l.times[b], l.times[a]), cmp.Compare(b, a))
			})
			match = nil
		} else {
			order = d.newestFirst(l)
		}
		start := 0
		if after != nil {
			start = sort.Search(len(order), func(k int) bool { return after.before(l.times[order[k]], n, order[k]) })
		}
		for _, i := range order[start:] {
			if l.users[i] != erasedUser && (match == nil || match.Contains(i)) && !yield(i) {
				return
			}
		}
	}, nil
}

// matchEntries returns the entries of day d that f matches, nil for all.
// Index-only subtrees are planned on the day's combinations (plan.go) and
// mapped to their entries; log-field leaves read the log's own postings.
func (e *Engine) matchEntries(d *day, l *eventLog, f Filter) (*roaring.Bitmap, error) {
	if f.IsAll() {
		return nil, nil
	}
	if !f.NamesLogField() {
		return d.entriesOfCombos(l, d.ix.Match(e.compile(f))), nil
	}
	all := func() *roaring.Bitmap {
		s := roaring.New()
		s.AddRange(0, uint64(l.len()))
		return s
	}
	switch f.op {
	case OpAnd:
		return e.matchAll(d, l, f.args)
	case OpOr:
		sets := make([]*roaring.Bitmap, 0, len(f.args))
		for _, a := range f.args {
			m, err := e.matchEntries(d, l, a)
			if m == nil || err != nil {
				return nil, err
			}
			sets = append(sets, m)
		}
		return roaring.FastOr(sets...), nil
	case OpNot:
		m, err := e.matchEntries(d, l, f.args[0])
		out := all()
		if m != nil {
			out.AndNot(m)
		} else {
			out.Clear()
		}
		return out, err
	}
	if f.dim == DimUser {
		return e.matchUser(d, l, f), nil
	}
	return d.matchField(l, f)
}

// matchAll returns the entries every filter of args matches, nil for all.
// Arguments naming log fields go first: they are usually selective (a
// user, an address), and the index-only ones are then tested on the
// combinations of the few entries left instead of mapped to every entry
// of the day.
func (e *Engine) matchAll(d *day, l *eventLog, args []Filter) (*roaring.Bitmap, error) {
	args = slices.Clone(args)
	slices.SortStableFunc(args, func(a, b Filter) int { return cmp.Compare(b2i(b.NamesLogField()), b2i(a.NamesLogField())) })
	var out *roaring.Bitmap
	for _, a := range args {
		if out != nil && !a.NamesLogField() && out.GetCardinality() < uint64(l.len()/8) {
			combos := d.ix.Match(e.compile(a))
			keep := roaring.New()
			it := out.Iterator()
			for it.HasNext() {
				if i := it.Next(); combos.Contains(l.combos[i]) {
					keep.Add(i)
				}
			}
			out = keep
			continue
		}
		m, err := e.matchEntries(d, l, a)
		switch {
		case err != nil:
			return nil, err
		case m == nil:
		case out == nil:
			out = m.Clone()
		default:
			out.And(m)
		}
	}
	return out, nil
}

// matchUser returns the entries whose user key satisfies the leaf f.
func (e *Engine) matchUser(d *day, l *eventLog, f Filter) *roaring.Bitmap {
	out := roaring.New()
	if f.op == OpPrefix {
		for i, u := range l.users {
			if u < erasedUser && strings.HasPrefix(e.userKeys[u], f.values[0]) {
				out.Add(uint32(i))
			}
		}
		return out
	}
	for _, k := range f.values {
		if uid, ok := e.keys[k]; ok {
			out.AddMany(d.entriesOfUser(l, uid))
		}
	}
	return out
}

// userSearch is a LogQuery.UserSearch at work: its text, and the users of
// the catalog whose key it matches.
type userSearch struct {
	text  string
	users *roaring.Bitmap
}

// searchUsers returns the search for text: one pass over the catalog.
// The read lock is held.
func (e *Engine) searchUsers(text string) *userSearch {
	s := &userSearch{text: text, users: roaring.New()}
	for uid, k := range e.userKeys { // erased users' keys are ""
		if hasPrefixFold(k, text) {
			s.users.Add(uint32(uid))
		}
	}
	return s
}

// entries returns the entries of day d whose user key or display name s
// matches: the matching users' entries, by user when they are few, and
// the postings of the matching values of the day's display-name index.
func (s *userSearch) entries(d *day, l *eventLog) (*roaring.Bitmap, error) {
	out := roaring.New()
	if n := s.users.GetCardinality(); n > 0 && n < uint64(l.len()/16) {
		it := s.users.Iterator()
		for it.HasNext() {
			out.AddMany(d.entriesOfUser(l, it.Next()))
		}
	} else if n > 0 {
		for i, u := range l.users {
			if u < erasedUser && s.users.Contains(u) {
				out.Add(uint32(i))
			}
		}
	}
	names, err := d.field(l, logrecord.DisplayName)
	if err != nil {
		return nil, err
	}
	for k, v := range names.values {
		if hasPrefixFold(v, s.text) {
			out.Or(names.post[k])
		}
	}
	return out, nil
}

// hasPrefixFold reports whether s starts with prefix, case ignored as
// LogQuery.UserSearch says: rune by rune, the runes equal under Unicode
// simple case folding.
func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		r, n := utf8.DecodeRuneInString(s)
		p, m := utf8.DecodeRuneInString(prefix)
		if n == 0 || r != p && foldRune(r) != foldRune(p) {
			return false
		}
		s, prefix = s[n:], prefix[m:]
	}
	return true
}

// foldRune returns the smallest rune of r's simple case folding orbit
// (unicode.SimpleFold): the same for runes strings.EqualFold takes as equal.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return r
	}
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// entry returns entry i of day n as a LogEntry, its record read through c.
func (e *Engine) entry(d *day, l *eventLog, c *recordCursor, n int32, i uint32) (LogEntry, error) {
	var le LogEntry
	le.ID = entryID(n, i)
	ev := &le.Event
	ev.Time = time.Unix(0, l.times[i]).In(e.loc)
	if u := l.users[i]; u < erasedUser {
		ev.UserKey = e.userKeys[u]
	}
	k := l.combos[i]
	val := func(dim Dimension) string { return e.dims[dim-1].values[d.ix.Cols[dim-1].At(k)] }
	ev.Kind, _ = ParseKind(val(DimKind))
	ev.SignInType, _ = ParseSignInType(val(DimSignInType))
	ev.Status, _ = ParseStatus(val(DimStatus))
	ev.ErrorCode, _ = strconv.Atoi(val(DimErrorCode))
	ev.Reason = val(DimReason)
	ev.AppID, ev.AppName, ev.Resource = val(DimAppID), val(DimAppName), val(DimResource)
	ev.OS, ev.Browser, ev.Country, ev.Language = val(DimOS), val(DimBrowser), val(DimCountry), val(DimLanguage)
	ev.IdentityProvider, ev.AuthFlow, ev.ClientApp = val(DimIdentityProvider), val(DimAuthFlow), val(DimClientApp)
	ev.MFAMethod, ev.MFAResult, ev.AuthRequirement = val(DimMFAMethod), val(DimMFAResult), val(DimAuthRequirement)
	ev.PrimaryMethod, ev.ConditionalAccess = val(DimPrimaryMethod), val(DimConditionalAccess)
	ev.RiskLevel, ev.RiskState, ev.CrossTenant, ev.Method = val(DimRiskLevel), val(DimRiskState), val(DimCrossTenant), val(DimMethod)
	ev.Action = val(DimAction)
	le.OSFamily, le.BrowserFamily = val(DimOSFamily), val(DimBrowserFamily)
	rec, err := c.record(int(i))
	if err != nil {
		return le, err
	}
	return le, decodeRecord(d.logKey, rec, ev, e.loc)
}

// LogIterator streams every entry of a listing, newest first, a page at
// a time: memory stays at one page whatever the number of entries. Each
// page is read under the engine's read lock, released between pages, so
// writers are not held up; entries applied meanwhile are not listed if
// they are newer than the position reached. Not safe for concurrent use.
type LogIterator struct {
	ctx   context.Context
	e     *Engine
	q     LogQuery
	page  []LogEntry
	i     int
	done  bool
	err   error
	entry LogEntry
}

// Entries returns an iterator over every entry of the log matching q,
// from q.Cursor on; q.Limit is the size of the pages it reads.
func (e *Engine) Entries(ctx context.Context, q LogQuery) *LogIterator {
	return &LogIterator{ctx: ctx, e: e, q: q}
}

// Next advances to the next entry, reporting whether there is one.
func (it *LogIterator) Next() bool {
	for it.i >= len(it.page) {
		if it.done || it.err != nil {
			return false
		}
		p, err := it.e.page(it.ctx, it.q)
		if err != nil {
			it.err = err
			return false
		}
		it.page, it.i, it.q.Cursor, it.done = p.Entries, 0, p.Next, p.Next == ""
	}
	it.entry = it.page[it.i]
	it.i++
	return true
}

// Entry returns the current entry.
func (it *LogIterator) Entry() LogEntry { return it.entry }

// Err returns the error that stopped the iteration, nil at a normal end.
func (it *LogIterator) Err() error { return it.err }

// Cursor returns the cursor that resumes a listing just after this entry,
// as LogPage.Next does after a page's last one; "" for an entry this
// engine did not return.
func (le LogEntry) Cursor() string {
	n, seq, ok := parseEntryID(le.ID)
	if !ok {
		return ""
	}
	return logCursor{t: le.Time.UnixNano(), n: n, seq: seq}.String()
}

// entryID is the ID of entry seq of day n: "<date>/<seq>".
func entryID(n int32, seq uint32) string {
	return dateOfNum(n).String() + "/" + strconv.FormatUint(uint64(seq), 10)
}

// parseEntryID returns the day and sequence of an entry ID.
func parseEntryID(id string) (n int32, seq uint32, ok bool) {
	date, sq, ok := strings.Cut(id, "/")
	d, err := ParseDate(date)
	s, err2 := strconv.ParseUint(sq, 10, 32)
	if !ok || err != nil || err2 != nil {
		return 0, 0, false
	}
	return d.num(), uint32(s), true
}

package insights

// The event log (SPEC §7): every applied event is kept, immutable, with its
// log fields, and listed newest first through filters on any dimension.

// MaxPageSize is the largest LogQuery.Limit.
const MaxPageSize = 1000

// LogQuery selects entries of the event log. Entries come newest first:
// by time, then by the order in which they were applied, descending.
type LogQuery struct {
	// From and To bound the entries' days, half-open [From, To). A zero
	// From means the first day kept; a zero To means the day after the
	// clock's date.
	From, To Date
	// Filter may name any dimension, log fields (DimIP, DimUser, ...) included.
	Filter Filter
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
}

// LogPage is one page of a listing.
type LogPage struct {
	Entries []LogEntry `json:"entries"`
	// Next is the cursor of the following page, "" when the listing is done.
	Next string `json:"next,omitempty"`
}

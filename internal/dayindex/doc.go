// Package dayindex is the engine's index of one day: the distinct
// combinations of dimension codes its events carry, each with its event
// count and its users, and the day's active users; and the evaluation of
// a predicate on those combinations (the planner's per-day half).
//
// An open day is a Builder, mutable: Add records an event's combination
// and user. Seal turns it into an Index, immutable: its combinations
// sorted by the columns the caller names (so each code of those is one or
// a few runs of combinations), a column of codes per dimension
// (segment.Column), the event counts, and the users of all combinations
// in one flat array with offsets. Thaw turns an Index back into a
// Builder, for a late event; Restrict builds one of some of the day's
// events only. A Day is an Index with the sets derived from it on first
// use and kept: the postings from each code to its combinations, the
// combinations with more than one event, each code's active users, and
// the combinations of the predicates a caller keeps. A Pred, a tree of
// And, Or and Not over column-code leaves, is evaluated on a Day's
// postings, cheapest conjunct first.
//
// # Design
//
// The package is one layer: the combinations of a day and the sets
// computed from them. It knows columns by number only: which dimension a
// column is, the dictionaries that give codes their values, the Filter a
// Pred is compiled from, and the columns a day sorts by are the engine's.
// Also the engine's: the event log (whose entries name a combination by
// its number in the day: Seal's renumbering is returned for it), the
// request ids, a segment's lazily decoded sections (the engine fills an
// Index's fields as segment.Index holds them, by copying slice headers),
// and everything that spans days (ranges, blocks, aggregates, sketches).
// Nothing here decodes bytes: the segment package does.
//
// # Concurrency
//
// A Builder is not safe for concurrent use: its owner's lock guards it.
// An Index and a Day are immutable once their sections are filled; a
// Day's methods are then safe for concurrent use, concurrent first uses
// of a derived set each building it and one being kept. A Pred is
// immutable. The sets that Day methods return as shared must not be
// modified; those returned as new are the caller's.
//
// # Caveats
//
// A Day must not be copied (its derived sets hold atomics): make a new
// Day of the same Index, whose derived sets start afresh. Columns are
// numbered as in a segment (NumCols of them); codes and users are not
// bounded here, only by what the engine's dictionaries hold.
package dayindex

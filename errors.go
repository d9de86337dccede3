package insights

import (
	"errors"

	"github.com/insightslab/insights/internal/frame"
)

// The sentinel errors. Every error the package returns wraps one of them
// (or a context error) and names the offending field, index or file.
var (
	// ErrInvalidEvent: an event of a batch given to Add failed validation.
	ErrInvalidEvent = errors.New("insights: invalid event")
	// ErrInvalidQuery: a Query, Filter or Options value is malformed.
	ErrInvalidQuery = errors.New("insights: invalid query")
	// ErrCorrupt: stored data failed a checksum, version or shape check.
	// (It is the frame decoder's sentinel, internal/frame, so that the
	// storage layers below the root wrap this same value.)
	ErrCorrupt = frame.ErrCorrupt
	// ErrClosed: the Engine was closed.
	ErrClosed = errors.New("insights: engine closed")
	// ErrReadOnly: a write (Add, Flush, Erase) on an Engine opened with
	// Options.ReadOnly or Options.Follow.
	ErrReadOnly = errors.New("insights: engine opened read-only")
)

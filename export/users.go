package export

import (
	"io"

	"github.com/insightslab/insights"
)

// UserSource streams the users behind a result's rows, like sql.Rows.
// *insights.UserCursor (from Engine.Users) implements it.
type UserSource interface {
	Next() bool
	User() insights.UserRow
	Err() error
}

// UsersCSV writes the users of src as CSV: the header
//
//	start,end,series,offset,<group-by dimension names...>,userKey
//
// then one line per user in the source's order. groupBy names the group
// columns: pass the GroupBy of the Query given to Engine.Users. Series,
// group values and user keys are neutralized (see the package doc). Cost:
// one pass, memory independent of the number of users.
func UsersCSV(w io.Writer, src UserSource, groupBy []insights.Dimension, opts *CSVOptions) error {
	names := make([]string, len(groupBy))
	for i, d := range groupBy {
		names[i] = d.String()
	}
	c, err := newCSV(w, opts, bucketHeader(names, "userKey"))
	if err != nil {
		return err
	}
	for src.Next() {
		u := src.User()
		c.bucketCells(u.Start, u.End, u.Series, u.Offset, u.Groups, len(groupBy))
		c.text(u.UserKey)
		if err := c.flushRecord(); err != nil {
			return err
		}
	}
	if err := src.Err(); err != nil {
		return err
	}
	return c.close()
}

// userJSON is the JSON form of a UserRow, named like a Row's.
type userJSON struct {
	Start   insights.Date `json:"start"`
	End     insights.Date `json:"end"`
	Series  string        `json:"series,omitempty"`
	Offset  int           `json:"offset,omitempty"`
	Groups  []string      `json:"groups,omitempty"`
	UserKey string        `json:"userKey"`
}

// UsersJSON writes the users of src as JSON lines, or a JSON array with
// opts.Array: {"start","end","series","offset","groups","userKey"}, named
// like insights.Row's JSON, empty series, offset and groups left out.
// Cost: one pass, memory independent of the number of users.
func UsersJSON(w io.Writer, src UserSource, opts *JSONOptions) error {
	return writeJSONList(w, src, func() userJSON {
		u := src.User()
		return userJSON{u.Start, u.End, u.Series, u.Offset, u.Groups, u.UserKey}
	}, opts)
}

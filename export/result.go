package export

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/insightslab/insights"
)

// ResultCSV writes res as CSV: a header, then one line per row in the
// result's order. The header is
//
//	start,end,series,offset,<group-by dimension names...>,value,partial,incomplete
//
// with one column per group value, named by res.Query.GroupNames (the
// policy columns of the policy metrics, then the group-by dimensions as
// filters name them: appId, os, ...). Dates are YYYY-MM-DD; offset is 0 except for
// retention; value is the shortest decimal form of the float; partial and
// incomplete are true or false. Series names and group values are
// neutralized (see the package doc). Cost: one pass over the rows.
func ResultCSV(w io.Writer, res *insights.Result, opts *CSVOptions) error {
	if res == nil {
		return fmt.Errorf("%w: export: nil result", insights.ErrInvalidQuery)
	}
	groups := res.Query.GroupNames()
	c, err := newCSV(w, opts, bucketHeader(groups, "value", "partial", "incomplete"))
	if err != nil {
		return err
	}
	for _, r := range res.Rows {
		c.bucketCells(r.Start, r.End, r.Series, r.Offset, r.Groups, len(groups))
		c.raw(strconv.FormatFloat(r.Value, 'f', -1, 64))
		c.raw(strconv.FormatBool(r.Partial))
		c.raw(strconv.FormatBool(r.Incomplete))
		if err := c.flushRecord(); err != nil {
			return err
		}
	}
	return c.close()
}

// ResultJSON writes res as one JSON object followed by a newline: the
// Result's own JSON form, metadata included, with <, > and & unescaped.
func ResultJSON(w io.Writer, res *insights.Result) error {
	if res == nil {
		return fmt.Errorf("%w: export: nil result", insights.ErrInvalidQuery)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(res)
}

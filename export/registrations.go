package export

import (
	"io"
	"strconv"

	"github.com/insightslab/insights"
)

// registrationHeader is the header of RegistrationsCSV.
var registrationHeader = []string{"userKey", "displayName", "methods",
	"mfaRegistered", "mfaEnabled", "mfaCapable",
	"ssprRegistered", "ssprEnabled", "ssprCapable",
	"passwordlessRegistered", "passwordlessEnabled", "passwordlessCapable"}

// RegistrationsCSV writes rows of the registration details list
// (Engine.RegistrationDetails) as CSV: the header
//
//	userKey,displayName,methods,mfaRegistered,mfaEnabled,mfaCapable,ssprRegistered,ssprEnabled,ssprCapable,passwordlessRegistered,passwordlessEnabled,passwordlessCapable
//
// then one line per row in the slice's order. displayName is the user's
// name in names (Engine.DisplayNames of the rows' keys), empty when names
// has none (nil names: every cell empty). methods is one cell of compact
// JSON (a JSON array of the method names, as the log's lists are), the
// flags are true or false. User keys, names and methods are neutralized
// (see the package doc). Cost: one pass over rows.
func RegistrationsCSV(w io.Writer, rows []insights.RegistrationDetail, names map[string]string, opts *CSVOptions) error {
	c, err := newCSV(w, opts, registrationHeader)
	if err != nil {
		return err
	}
	for _, r := range rows {
		c.text(r.UserKey)
		c.text(names[r.UserKey])
		methods, err := jsonCell(r.Methods)
		if err != nil {
			return err
		}
		c.text(methods)
		for _, m := range []insights.MethodCapability{r.MFA, r.SSPR, r.Passwordless} {
			c.raw(strconv.FormatBool(m.Registered))
			c.raw(strconv.FormatBool(m.Enabled))
			c.raw(strconv.FormatBool(m.Capable))
		}
		if err := c.flushRecord(); err != nil {
			return err
		}
	}
	return c.close()
}

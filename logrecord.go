package insights

import (
	"net/netip"
	"slices"
	"time"

	"github.com/insightslab/insights/internal/logrecord"
)

// A log record holds the fields of one event that the index does not; its
// layout is internal/logrecord's. This file turns an Event into a record
// and back, and bounds decoding by the engine's limits on an event.

// recordLimits are the bounds a log record is decoded within.
var recordLimits = logrecord.Limits{Field: MaxLogFieldLength, Value: MaxValueLength, Steps: MaxAuthSteps, Policies: MaxPolicies}

// recText maps the log-field dimensions to their record position (DimUser
// is a column, not in the record).
var recText = map[Dimension]int{
	DimPrincipal: logrecord.Principal, DimRequestID: logrecord.RequestID, DimCorrelationID: logrecord.CorrelationID,
	DimIP: logrecord.IP, DimCity: logrecord.City, DimState: logrecord.State,
}

// stackSteps is how many steps and CA policies a record is encoded
// through without allocating for them.
const stackSteps = 4

// appendRecord appends the log record of a validated event to dst.
// Cost: allocates only to grow dst.
func appendRecord(dst []byte, ev *Event) []byte {
	ip := ev.IP
	if a, err := netip.ParseAddr(ip); err == nil {
		var buf [48]byte // any address without a zone fits: no allocation
		if canon := a.AppendTo(buf[:0]); string(canon) != ip {
			ip = string(canon) // one spelling per address, so Eq matches it
		}
	}
	var steps [stackSteps]logrecord.Step
	var cas [stackSteps]logrecord.Policy
	r := logrecord.Record[logrecord.Step, logrecord.Policy]{
		Text: [logrecord.NumText]string{ev.PrincipalID, ev.RequestID, ev.CorrelationID, ev.SessionID, ev.DeviceID,
			ip, ev.City, ev.State, ev.UserAgent, ev.UserDisplayName},
		Steps: steps[:0], MFAPolicies: ev.MFAPolicies, CAPolicies: cas[:0],
		Latitude: ev.Latitude, Longitude: ev.Longitude,
	}
	for _, s := range ev.AuthDetails {
		var t int64
		if !s.Time.IsZero() {
			t = s.Time.UnixNano()
		}
		r.Steps = append(r.Steps, logrecord.Step{Time: t, Method: s.Method, Succeeded: s.Succeeded,
			ResultDetail: s.ResultDetail, Requirement: s.Requirement})
	}
	for _, p := range ev.CAPolicies {
		r.CAPolicies = append(r.CAPolicies, logrecord.Policy{Name: p.Name, Result: p.Result})
	}
	return logrecord.Append(dst, &r)
}

// recordsRoom bounds the room encodeRecords makes after the first record
// of a batch, so that an unusually long one cannot make it reserve far
// more than the batch needs; past it the buffer grows by doubling.
const recordsRoom = 4 << 20

// encodeRecords sets the log record of each event of norm, validated
// from the event of events at the same index. The records are substrings
// of one string: a batch costs one buffer, sized after its first record
// (grown by doubling if the others are longer), and one copy, where a
// record each cost its buffer's growth and a copy. They
// keep that string alive together: nothing holds one longer than its
// batch (the day's log and the log frame copy them).
func encodeRecords(norm []normEvent, events []Event) {
	ends := make([]int, len(events))
	var b []byte
	for i := range events {
		b = appendRecord(b, &events[i])
		ends[i] = len(b)
		if i == 0 { // a batch's records are alike: room for as many, and a quarter, up to recordsRoom
			b = slices.Grow(b, min((len(events)-1)*len(b)*5/4, recordsRoom))
		}
	}
	all, start := string(b), 0
	for i, end := range ends {
		norm[i].rec, start = all[start:end], end
	}
}

// recordText returns string i (logrecord.Principal, ...) of a record
// without decoding the rest.
func recordText(rec []byte, i int) string {
	return logrecord.Text(rec, i, MaxLogFieldLength)
}

// decodeRecord fills ev's log fields from rec, in loc. Errors wrap
// ErrCorrupt and name key.
func decodeRecord(key string, rec []byte, ev *Event, loc *time.Location) error {
	r, err := logrecord.Decode(key, rec, recordLimits, func(s logrecord.Step) AuthStep {
		a := AuthStep{Method: s.Method, Succeeded: s.Succeeded, ResultDetail: s.ResultDetail, Requirement: s.Requirement}
		if s.Time != 0 {
			a.Time = time.Unix(0, s.Time).In(loc)
		}
		return a
	}, func(p logrecord.Policy) PolicyResult { return PolicyResult{Name: p.Name, Result: p.Result} })
	t := &r.Text
	ev.PrincipalID, ev.RequestID, ev.CorrelationID, ev.SessionID, ev.DeviceID = t[0], t[1], t[2], t[3], t[4]
	ev.IP, ev.City, ev.State, ev.UserAgent, ev.UserDisplayName = t[5], t[6], t[7], t[8], t[9]
	if r.Steps != nil {
		ev.AuthDetails = r.Steps
	}
	if r.MFAPolicies != nil {
		ev.MFAPolicies = r.MFAPolicies
	}
	if r.CAPolicies != nil {
		ev.CAPolicies = r.CAPolicies
	}
	if r.Latitude != 0 || r.Longitude != 0 {
		ev.Latitude, ev.Longitude = r.Latitude, r.Longitude
	}
	return err
}

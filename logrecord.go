package insights

import (
	"encoding/binary"
	"math"
	"net/netip"
	"time"
)

// A log record holds the fields of one event that the index does not:
//
//	principal id | request id | correlation id | session id | device id |
//	IP | city | state | user agent | display name (strings)
//	steps (uvarint), each: time (varint Unix ns, 0 for none) | method | succeeded (1 byte) |
//	    result detail | requirement
//	MFA policies (uvarint), each a string
//	CA policies (uvarint), each: name | result
//	[latitude | longitude]  (8 bytes each, IEEE 754 bits, little endian)
//
// The coordinates are written only when one is not 0, so a record without
// them is byte for byte what it was before they existed, and a record
// written then decodes as one without coordinates.
// Strings are length-prefixed (format.go). The indexed values, the time
// and the user live in the day's columns (eventlog.go).

// logText are the record's leading strings, in order.
const (
	recPrincipal = iota
	recRequestID
	recCorrelationID
	recSessionID
	recDeviceID
	recIP
	recCity
	recState
	recUserAgent
	recDisplayName
	numRecText
)

// recText maps the log-field dimensions to their record position (DimUser
// is a column, not in the record).
var recText = map[Dimension]int{
	DimPrincipal: recPrincipal, DimRequestID: recRequestID, DimCorrelationID: recCorrelationID,
	DimIP: recIP, DimCity: recCity, DimState: recState,
}

// encodeRecord returns the log record of a validated event.
func encodeRecord(ev *Event) string {
	ip := ev.IP
	if a, err := netip.ParseAddr(ip); err == nil {
		ip = a.String() // one spelling per address, so Eq matches it
	}
	text := [numRecText]string{ev.PrincipalID, ev.RequestID, ev.CorrelationID, ev.SessionID, ev.DeviceID,
		ip, ev.City, ev.State, ev.UserAgent, ev.UserDisplayName}
	b := make([]byte, 0, 64)
	for _, s := range text {
		b = appendString(b, s)
	}
	b = appendUvarint(b, uint64(len(ev.AuthDetails)))
	for _, s := range ev.AuthDetails {
		var t int64
		if !s.Time.IsZero() {
			t = s.Time.UnixNano()
		}
		b = appendVarint(b, t)
		b = appendString(b, s.Method)
		b = append(b, boolByte(s.Succeeded))
		b = appendString(b, s.ResultDetail)
		b = appendString(b, s.Requirement)
	}
	b = appendUvarint(b, uint64(len(ev.MFAPolicies)))
	for _, p := range ev.MFAPolicies {
		b = appendString(b, p)
	}
	b = appendUvarint(b, uint64(len(ev.CAPolicies)))
	for _, p := range ev.CAPolicies {
		b = appendString(b, p.Name)
		b = appendString(b, p.Result)
	}
	if ev.Latitude != 0 || ev.Longitude != 0 {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(ev.Latitude))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(ev.Longitude))
	}
	return string(b)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// recordText returns string i of a record without decoding the rest.
func recordText(rec []byte, i int) string {
	r := reader{b: rec}
	for range i {
		r.bytes(r.count(MaxLogFieldLength, 1))
	}
	return r.string(MaxLogFieldLength)
}

// decodeRecord fills ev's log fields from rec, in loc. Errors wrap
// ErrCorrupt and name key.
func decodeRecord(key string, rec []byte, ev *Event, loc *time.Location) error {
	r := reader{key: key, b: rec}
	var text [numRecText]string
	for i := range text {
		text[i] = r.string(MaxLogFieldLength)
	}
	ev.PrincipalID, ev.RequestID, ev.CorrelationID, ev.SessionID, ev.DeviceID = text[0], text[1], text[2], text[3], text[4]
	ev.IP, ev.City, ev.State, ev.UserAgent, ev.UserDisplayName = text[5], text[6], text[7], text[8], text[9]
	if n := r.count(MaxAuthSteps, 5); n > 0 {
		ev.AuthDetails = make([]AuthStep, n)
		for i := range ev.AuthDetails {
			s := &ev.AuthDetails[i]
			if t := r.varint(); t != 0 {
				s.Time = time.Unix(0, t).In(loc)
			}
			s.Method = r.string(MaxValueLength)
			s.Succeeded = r.flag()
			s.ResultDetail = r.string(MaxLogFieldLength)
			s.Requirement = r.string(MaxValueLength)
		}
	}
	if n := r.count(MaxPolicies, 1); n > 0 {
		ev.MFAPolicies = make([]string, n)
		for i := range ev.MFAPolicies {
			ev.MFAPolicies[i] = r.string(MaxLogFieldLength)
		}
	}
	if n := r.count(MaxPolicies, 2); n > 0 {
		ev.CAPolicies = make([]PolicyResult, n)
		for i := range ev.CAPolicies {
			ev.CAPolicies[i] = PolicyResult{Name: r.string(MaxLogFieldLength), Result: r.string(MaxValueLength)}
		}
	}
	if r.err == nil && r.off < len(r.b) {
		ev.Latitude, ev.Longitude = r.coordinate(90), r.coordinate(180)
	}
	return r.end()
}

// coordinate reads a latitude or longitude within [-limit, limit].
func (r *reader) coordinate(limit float64) float64 {
	b := r.bytes(8)
	if b == nil {
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(b))
	if !(v >= -limit && v <= limit) {
		r.fail("coordinate %v is outside [-%v, %v]", v, limit, limit)
		return 0
	}
	return v
}

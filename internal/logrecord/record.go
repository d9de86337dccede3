package logrecord

import (
	"encoding/binary"
	"math"

	"github.com/insightslab/insights/internal/frame"
)

// The positions of the record's leading strings, in order.
const (
	Principal = iota
	RequestID
	CorrelationID
	SessionID
	DeviceID
	IP
	City
	State
	UserAgent
	DisplayName
	NumText
)

// Record is a log record's fields, its steps of type S and CA policies of
// type P: Step and Policy to encode, the caller's own types when decoded
// (Decode converts each as it reads it, so a record decodes into the
// caller's slices with no copy between).
type Record[S, P any] struct {
	Text                [NumText]string // by position (Principal, RequestID, ...)
	Steps               []S
	MFAPolicies         []string
	CAPolicies          []P
	Latitude, Longitude float64 // degrees; both 0 for none
}

// Step is one step of an authentication.
type Step struct {
	Time         int64 // Unix ns, 0 for none
	Method       string
	Succeeded    bool
	ResultDetail string
	Requirement  string
}

// Policy is a Conditional Access policy and its result.
type Policy struct{ Name, Result string }

// Limits bound what Decode accepts (the engine's limits on an event).
type Limits struct {
	Field    int // bytes of a text field, a result detail, a policy's name
	Value    int // bytes of a step's method and requirement, a policy's result
	Steps    int // steps of a record
	Policies int // MFA policies, and CA policies, of a record
}

// Append appends the record r to b and returns it. It does not keep r.
func Append(b []byte, r *Record[Step, Policy]) []byte {
	for _, s := range r.Text {
		b = frame.AppendString(b, s)
	}
	b = frame.AppendUvarint(b, uint64(len(r.Steps)))
	for i := range r.Steps {
		s := &r.Steps[i]
		b = frame.AppendVarint(b, s.Time)
		b = frame.AppendString(b, s.Method)
		b = frame.AppendFlag(b, s.Succeeded)
		b = frame.AppendString(b, s.ResultDetail)
		b = frame.AppendString(b, s.Requirement)
	}
	b = frame.AppendUvarint(b, uint64(len(r.MFAPolicies)))
	for _, p := range r.MFAPolicies {
		b = frame.AppendString(b, p)
	}
	b = frame.AppendUvarint(b, uint64(len(r.CAPolicies)))
	for _, p := range r.CAPolicies {
		b = frame.AppendString(b, p.Name)
		b = frame.AppendString(b, p.Result)
	}
	if r.Latitude != 0 || r.Longitude != 0 {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.Latitude))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.Longitude))
	}
	return b
}

// Text returns string i (a position: Principal, ..., DisplayName) of rec,
// of at most limit bytes, without decoding the rest; "" if rec is damaged.
func Text(rec []byte, i, limit int) string {
	r := frame.Reader{Body: rec}
	for range i {
		r.Bytes(r.Count(limit, 1))
	}
	return r.String(limit)
}

// Decode decodes rec, the record stored under key, within lim, each step
// and CA policy through step and policy (which it does not keep). The
// strings are copies; the slices of a record without steps or policies
// are nil.
func Decode[S, P any](key string, rec []byte, lim Limits, step func(Step) S, policy func(Policy) P) (Record[S, P], error) {
	var r Record[S, P]
	d := frame.Reader{Key: key, Body: rec}
	for i := range r.Text {
		r.Text[i] = d.String(lim.Field)
	}
	if n := d.Count(lim.Steps, 5); n > 0 {
		r.Steps = make([]S, n)
		for i := range r.Steps {
			var s Step
			s.Time = d.Varint()
			s.Method = d.String(lim.Value)
			s.Succeeded = d.Flag()
			s.ResultDetail = d.String(lim.Field)
			s.Requirement = d.String(lim.Value)
			r.Steps[i] = step(s)
		}
	}
	if n := d.Count(lim.Policies, 1); n > 0 {
		r.MFAPolicies = make([]string, n)
		for i := range r.MFAPolicies {
			r.MFAPolicies[i] = d.String(lim.Field)
		}
	}
	if n := d.Count(lim.Policies, 2); n > 0 {
		r.CAPolicies = make([]P, n)
		for i := range r.CAPolicies {
			p := Policy{Name: d.String(lim.Field), Result: d.String(lim.Value)}
			r.CAPolicies[i] = policy(p)
		}
	}
	if d.Err == nil && d.Off < len(d.Body) {
		r.Latitude, r.Longitude = coordinate(&d, 90), coordinate(&d, 180)
	}
	return r, d.End()
}

// Place returns the IP address field of rec, a sub-slice of it, and its
// coordinates, skipping the rest: what a record places its event at. A
// damaged record gives 0, 0 (and the IP field if it was read before the
// damage).
func Place(rec []byte, lim Limits) (ip []byte, lat, lon float64) {
	r := frame.Reader{Body: rec}
	for i := range NumText {
		b := r.Bytes(r.Count(lim.Field, 1))
		if i == IP {
			ip = b
		}
	}
	for range r.Count(lim.Steps, 5) {
		r.Varint()
		r.Bytes(r.Count(lim.Value, 1))
		r.Flag()
		r.Bytes(r.Count(lim.Field, 1))
		r.Bytes(r.Count(lim.Value, 1))
	}
	for range r.Count(lim.Policies, 1) {
		r.Bytes(r.Count(lim.Field, 1))
	}
	for range r.Count(lim.Policies, 2) {
		r.Bytes(r.Count(lim.Field, 1))
		r.Bytes(r.Count(lim.Value, 1))
	}
	if r.Err != nil || len(r.Body)-r.Off != 16 {
		return ip, 0, 0
	}
	lat = math.Float64frombits(binary.LittleEndian.Uint64(r.Body[r.Off:]))
	lon = math.Float64frombits(binary.LittleEndian.Uint64(r.Body[r.Off+8:]))
	return ip, lat, lon
}

// coordinate reads a latitude or longitude within [-limit, limit].
func coordinate(r *frame.Reader, limit float64) float64 {
	b := r.Bytes(8)
	if b == nil {
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(b))
	if !(v >= -limit && v <= limit) {
		r.Fail("coordinate %v is outside [-%v, %v]", v, limit, limit)
		return 0
	}
	return v
}

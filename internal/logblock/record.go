package logblock

import "encoding/binary"

// The fields of a record (store/FORMAT.md, "Event log record"), as the
// column block splits them: numText leading strings; steps, each a time
// (varint), a method, a succeeded byte, a result detail and a requirement;
// MFA policy names; CA policies, each a name and a result; and, only when
// either is not 0, the latitude and longitude, 8 bytes each. An erased
// event's record is empty.
const numText = 10

// The columns of a column block, in order.
const (
	colFlags           = 0                 // per record: flagFields, flagCoords (1 byte)
	colText            = 1                 // numText string columns, one per leading string
	colSteps           = colText + numText // per record its step count (uvarint)
	colStepTime        = colSteps + 1      // the step time unit (uvarint), then per step its time's difference from the previous step's (varint, in the unit; the first from 0)
	colStepMethod      = colSteps + 2      // strings
	colStepOK          = colSteps + 3      // 1 byte per step
	colStepDetail      = colSteps + 4      // strings
	colStepRequirement = colSteps + 5      // strings
	colMFA             = colSteps + 6      // per record its MFA policy count (uvarint)
	colMFAName         = colSteps + 7      // strings
	colCA              = colSteps + 8      // per record its CA policy count (uvarint)
	colCAName          = colSteps + 9      // strings
	colCAResult        = colSteps + 10     // strings
	colLatitude        = colSteps + 11     // 8 bytes per record with coordinates
	colLongitude       = colSteps + 12     // 8 bytes per record with coordinates
	numColumns         = colLongitude + 1
)

// Record flags.
const (
	flagFields = 1 << iota // the record is not empty
	flagCoords             // it ends with a latitude and a longitude
)

// isString reports whether column c holds strings (a string column).
func isString(c int) bool {
	switch {
	case c >= colText && c < colText+numText:
		return true
	case c == colStepMethod, c == colStepDetail, c == colStepRequirement, c == colMFAName, c == colCAName, c == colCAResult:
		return true
	}
	return false
}

// split is a block's records cut into columns: strings per string
// column, bytes of the others. Its slices are reused from block to block
// (reset).
type split struct {
	strs      [numColumns][][]byte
	raw       [numColumns][]byte
	stepTimes []int64
}

// reset empties s, keeping its buffers.
func (s *split) reset() {
	for c := range s.strs {
		s.strs[c], s.raw[c] = s.strs[c][:0], s.raw[c][:0]
	}
	s.stepTimes = s.stepTimes[:0]
}

// add cuts rec into s's columns, reporting false if rec is not a record
// of the layout above written as the engine writes it (the caller then
// keeps the block's records as rows).
func (s *split) add(rec []byte) bool {
	if len(rec) == 0 {
		s.raw[colFlags] = append(s.raw[colFlags], 0)
		return true
	}
	p := src{b: rec}
	for c := colText; c < colText+numText; c++ {
		s.strs[c] = append(s.strs[c], p.take(p.uvarint()))
	}
	n := p.uvarint()
	s.raw[colSteps] = binary.AppendUvarint(s.raw[colSteps], n)
	for i := uint64(0); i < n && p.err == nil; i++ {
		s.stepTimes = append(s.stepTimes, p.varint())
		s.strs[colStepMethod] = append(s.strs[colStepMethod], p.take(p.uvarint()))
		s.raw[colStepOK] = append(s.raw[colStepOK], p.byte())
		s.strs[colStepDetail] = append(s.strs[colStepDetail], p.take(p.uvarint()))
		s.strs[colStepRequirement] = append(s.strs[colStepRequirement], p.take(p.uvarint()))
	}
	n = p.uvarint()
	s.raw[colMFA] = binary.AppendUvarint(s.raw[colMFA], n)
	for i := uint64(0); i < n && p.err == nil; i++ {
		s.strs[colMFAName] = append(s.strs[colMFAName], p.take(p.uvarint()))
	}
	n = p.uvarint()
	s.raw[colCA] = binary.AppendUvarint(s.raw[colCA], n)
	for i := uint64(0); i < n && p.err == nil; i++ {
		s.strs[colCAName] = append(s.strs[colCAName], p.take(p.uvarint()))
		s.strs[colCAResult] = append(s.strs[colCAResult], p.take(p.uvarint()))
	}
	flags := byte(flagFields)
	if p.err == nil && p.left() == 16 {
		flags |= flagCoords
		s.raw[colLatitude] = append(s.raw[colLatitude], p.take(8)...)
		s.raw[colLongitude] = append(s.raw[colLongitude], p.take(8)...)
	}
	s.raw[colFlags] = append(s.raw[colFlags], flags)
	return p.err == nil && p.left() == 0
}

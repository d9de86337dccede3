package insights

import (
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
)

// The detections and risky-users lists: their cursors and the checks of
// their queries.

// riskLevelRank orders levels: none < low < medium < high.
func riskLevelRank(l string) int {
	return slices.Index([]string{RiskNone, RiskLow, RiskMedium, RiskHigh}, l)
}

// riskCursor is a position in a detections or risky-users listing: the
// last item's level (risky users), time and id (detection id or user key).
type riskCursor struct {
	level int
	t     int64
	id    string
}

func (c riskCursor) String() string {
	b := binary.BigEndian.AppendUint32(nil, uint32(c.level))
	b = binary.BigEndian.AppendUint64(b, uint64(c.t))
	return base64.RawURLEncoding.EncodeToString(append(b, c.id...))
}

func parseRiskCursor(s string) (*riskCursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 12 || len(b) > 12+MaxKeyLength {
		return nil, fmt.Errorf("%w: cursor %q: not one this engine returned", ErrInvalidQuery, s)
	}
	return &riskCursor{level: int(int32(binary.BigEndian.Uint32(b))), t: int64(binary.BigEndian.Uint64(b[4:])), id: string(b[12:])}, nil
}

// after reports whether a detection at t with id comes after c, newest first.
func (c *riskCursor) after(t int64, id string) bool {
	return cmp.Or(cmp.Compare(t, c.t), cmp.Compare(id, c.id)) < 0
}

// userAfter reports whether u comes after c: lower level, then older, then greater key.
func (c *riskCursor) userAfter(u RiskyUser) bool {
	return cmp.Or(cmp.Compare(c.level, riskLevelRank(u.Level)), cmp.Compare(c.t, u.Updated.UnixNano()), cmp.Compare(u.UserKey, c.id)) > 0
}

// validate checks q and fills its defaults.
func (q *DetectionQuery) validate() (*riskCursor, error) {
	if err := validateLimit(&q.Limit); err != nil {
		return nil, err
	}
	if _, err := (&LogQuery{From: q.From, To: q.To}).validate(); err != nil {
		return nil, err
	}
	for _, t := range q.Types {
		if !slices.Contains(DetectionTypes(), t) {
			return nil, fmt.Errorf("%w: detection type %q: not one of %v", ErrInvalidQuery, t, DetectionTypes())
		}
	}
	if err := validateLevels(q.Levels); err != nil {
		return nil, err
	}
	return parseRiskCursor(q.Cursor)
}

// validate checks q and fills its defaults.
func (q *RiskyUserQuery) validate() (*riskCursor, error) {
	if err := validateLimit(&q.Limit); err != nil {
		return nil, err
	}
	if err := validateLevels(q.Levels); err != nil {
		return nil, err
	}
	states := []string{RiskStateAtRisk, RiskStateRemediated, RiskStateDismissed, RiskStateConfirmedCompromised}
	for _, s := range q.States {
		if !slices.Contains(states, s) {
			return nil, fmt.Errorf("%w: risk state %q: not one of %v", ErrInvalidQuery, s, states)
		}
	}
	return parseRiskCursor(q.Cursor)
}

func validateLevels(levels []string) error {
	for _, l := range levels {
		if riskLevelRank(l) < 0 {
			return fmt.Errorf("%w: risk level %q: not one of none, low, medium, high", ErrInvalidQuery, l)
		}
	}
	return nil
}

package risk

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
)

// Type names a rule; the values are SPEC §9's names.
type Type string

// The rules.
const (
	PasswordSpray  Type = "passwordSpray"
	BruteForce     Type = "bruteForce"
	MFAFatigue     Type = "mfaFatigue"
	Unfamiliar     Type = "unfamiliarSignInProperties"
	AtypicalTravel Type = "atypicalTravel"
	AnonymizedIP   Type = "anonymizedIP"
	MaliciousIP    Type = "maliciousIP"
	SignUpFlood    Type = "signUpFlood"
	FailureSpike   Type = "failureSpike"
)

// Level is a detection's risk level, ordered: a higher level is riskier.
type Level uint8

// The levels.
const (
	LevelNone Level = iota
	LevelLow
	LevelMedium
	LevelHigh
)

var levelNames = [...]string{"none", "low", "medium", "high"}

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "none"
}

// Detection is one firing of a rule.
type Detection struct {
	// ID is a hash of the type, the key and the event that opened it:
	// the same set of events gives the same id.
	ID    string
	Type  Type
	Level Level
	// Time is the time of the event that made the rule fire (Unix ns):
	// Opener.
	Time   int64
	Opener Ref
	// Start and End are the first and last evidence times (Unix ns).
	Start, End int64
	User       string // "" for detections of no one user
	Source     string // source prefix, address or app id
	Rule       string // the rule with its thresholds, in words
	// Evidence lists the events that fired it, in canonical order.
	Evidence []Ref
	// Remediated is the time of the user's first remedy after End, the
	// last evidence (a successful sign-in that performed MFA, a password
	// reset): the success that raised a detection to high is its evidence,
	// the attacker's, and remedies nothing. 0 for none, and for
	// detections of no user.
	Remediated int64
}

// detectionID derives a detection's id from its type, key and opening
// evidence.
func detectionID(t Type, key string, first Ref) string {
	h := sha256.New()
	h.Write([]byte(t))
	h.Write([]byte{0})
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(first)))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// clone returns a copy of d that shares nothing with it.
func (d *Detection) clone() *Detection {
	c := *d
	c.Evidence = slices.Clone(d.Evidence)
	return &c
}

// stored returns the version of d the detector keeps: a copy that shares
// d's evidence array up to its length, capped there. A rule's episode
// only appends to its evidence, past what any version stored before saw,
// so a stored version never changes; copying the evidence instead made a
// burst of n events in one episode cost n²/2 references (1,000 failures
// after 4,000 allocated 41 MB; 100,000 in ten minutes would allocate
// some 40 GB).
func (d *Detection) stored() *Detection {
	c := *d
	c.Evidence = slices.Clip(d.Evidence)
	return &c
}

// Equal reports whether d and o are the same detection in every field.
func (d *Detection) Equal(o *Detection) bool {
	return d.ID == o.ID && d.Type == o.Type && d.Level == o.Level && d.Time == o.Time && d.Opener == o.Opener && d.Start == o.Start &&
		d.End == o.End && d.User == o.User && d.Source == o.Source && d.Rule == o.Rule && slices.Equal(d.Evidence, o.Evidence) &&
		d.Remediated == o.Remediated
}

// EvidenceLevels returns, for every event that is evidence of one of
// dets, the highest level of those detections: a sign-in's computed risk.
func EvidenceLevels(dets []Detection) map[Ref]Level {
	m := map[Ref]Level{}
	for i := range dets {
		for _, r := range dets[i].Evidence {
			m[r] = max(m[r], dets[i].Level)
		}
	}
	return m
}

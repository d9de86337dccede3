package risk

import (
	"slices"
	"testing"
)

// TestUserNumbers: users numbered by the caller (Observation.UserNumber)
// in an order of its own, on two events in three, get the detections the
// keys alone get.
func TestUserNumbers(t *testing.T) {
	obs := traffic(7, 150, 10)
	want := oracle(listOptions, obs)
	var users []string
	for i := range obs {
		if u := obs[i].User; u != "" && !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	for i := range obs {
		if u := obs[i].User; u != "" && i%3 != 0 {
			obs[i].UserNumber = uint32(len(users) - slices.Index(users, u))
		}
	}
	sameDetections(t, "numbered", Detect(listOptions, slices.Clone(obs)), want)
}

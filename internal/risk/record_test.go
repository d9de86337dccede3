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

// TestValueCodes: country, OS and browser values coded by the caller
// (Observation.ValueCodes), each property in an order of its own from 1,
// on two events in three, get the detections the values alone get.
func TestValueCodes(t *testing.T) {
	obs := traffic(8, 150, 10)
	want := oracle(listOptions, obs)
	var codes [3][]string
	for i := range obs {
		o := &obs[i]
		for p, v := range []string{o.Country, o.OSFamily, o.BrowserFamily} {
			if i%3 == 0 {
				continue
			}
			j := slices.Index(codes[p], v)
			if j < 0 {
				j = len(codes[p])
				codes[p] = append(codes[p], v)
			}
			o.ValueCodes[p] = uint32(j + 1)
		}
	}
	sameDetections(t, "coded", Detect(listOptions, slices.Clone(obs)), want)
}

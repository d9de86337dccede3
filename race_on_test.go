//go:build race

package insights_test

// raceEnabled reports a test binary built with the race detector.
const raceEnabled = true

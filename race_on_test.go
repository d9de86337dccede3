//go:build race

package insights

// RaceEnabled reports a test binary built with the race detector: the
// heaviest oracle tests then run their first seed only and
// TestFaultInFlush three of its five fault points, which the README's
// second command runs whole without it; TestEquivalenceOfStoresAndReopening,
// TestSegmentDamageIsCorrupt, TestPowerLoss and TestCrash do fewer cases,
// run whole by `go test .` alone. Exported for the external tests
// (package insights_test).
const RaceEnabled = true

//go:build race

package insights

// RaceEnabled reports a test binary built with the race detector: the
// heaviest oracle tests then run their first seed only, and a few heavy
// tests fewer cases, and the README's test command runs them whole
// without it. Exported for the external tests (package insights_test).
const RaceEnabled = true

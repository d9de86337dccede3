package importers

import "testing"

// SetMaxLineBytes lowers the longest line or record held in memory for
// the test t, so that a test of the limit needs no 16 MB input.
func SetMaxLineBytes(t testing.TB, n int) {
	old := maxLineBytes
	maxLineBytes = n
	t.Cleanup(func() { maxLineBytes = old })
}

package insights

// AwaitCheckpoint waits for the background checkpoint under way in e, if
// any: for tests that look at the store's files between Adds.
func AwaitCheckpoint(e *Engine) {
	e.walMu.Lock()
	running, done := e.ckRunning, e.ckDone
	e.walMu.Unlock()
	if running {
		<-done
	}
}

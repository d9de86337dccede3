package insights

// A batch is applied in its order, one event after the other: that order
// decides which copy of a request id is first, which values of a capped
// dictionary get codes and which count as OtherGroup, which of two
// registrations at one time wins, and the order of the risk feed. What
// consecutive events of a batch share is looked up once, not per event:
// their day's state, their user, and in each dimension the value's code.
// A batch's events mostly share their day, and in most dimensions their
// value (kind, status, the empty value of the dimensions an event does
// not set), so most of them cost a string comparison where they cost a
// map lookup (TestBatchAppliesAsOneByOne).

// batchCache is what apply keeps of the events before the current one in
// its batch: the day and state of the last, its values and their codes,
// and the last user key and id. The zero value is ready: the empty value
// is code 0 in every dictionary (newDict, decodeCatalog). It lives for
// one batch, under the write lock: while it is held a day's state stays
// the day's and a value's code does not change.
type batchCache struct {
	ds    *dayState // of day; nil before the first event
	day   int32
	vals  [numIndexed]string
	codes combo  // vals' codes
	key   string // the last user key coded, "" for none
	uid   uint32 // its id
}

// applyAll applies evs in order and returns how many were new (not
// copies skipped by request id). The write lock is held. Cost: per event,
// a string comparison per dimension and a dictionary lookup per value
// that differs from the event before's, then apply's index, log and user
// updates.
func (e *Engine) applyAll(evs []normEvent) (added int) {
	var bc batchCache
	for i := range evs {
		if e.apply(&evs[i], &bc) {
			added++
		}
	}
	return added
}

// combo returns the codes of vals in dims, adding new values as dict.code
// does; dims must be those of the batch's earlier events.
func (bc *batchCache) combo(dims *[numIndexed]*dict, vals *[numIndexed]string) combo {
	for k := range vals {
		if v := vals[k]; v != bc.vals[k] {
			bc.vals[k], bc.codes[k] = v, dims[k].code(v)
		}
	}
	return bc.codes
}

// user returns the dense id of key (not empty), assigning the next one if
// new (Engine.userID).
func (bc *batchCache) user(e *Engine, key string) uint32 {
	if key != bc.key {
		bc.key, bc.uid = key, e.userID(key)
	}
	return bc.uid
}

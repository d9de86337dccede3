package risk

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// TestUserPartsReused: the bruteForce and mfaFatigue parts of a state
// reset for a new user serve that user's failures, and hold nothing of
// the user before, though they were not idle: a read settles v's brute
// force and MFA-fatigue burst, with their follow-ups, a late event of v
// drops that copy (replay), w's first event takes it as its state, and
// w's failures take its parts; w's detections name w alone (the
// oracle's).
func TestUserPartsReused(t *testing.T) {
	var es events
	burst := func(user string, from time.Duration) {
		for i := range 10 {
			es.add(failure(user, at(from+time.Duration(i)*time.Second)))
			es.add(Observation{Time: at(from + time.Duration(i)*time.Second), Kind: KindMFA, User: user, MFA: MFADenied})
		}
		es.add(success(user, at(from+time.Minute)))
		es.add(Observation{Time: at(from + time.Minute), Kind: KindMFA, User: user, MFA: MFAApproved})
	}
	opt := Options{}
	d := New(opt)
	add := func(from int) {
		for i := from; i < len(es); i++ {
			if err := d.Add(&es[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	burst("v", 0)
	add(0)
	d.Detections() // v's copy (cur), with its two parts
	n := len(es)
	es.add(failure("v", at(500*time.Millisecond))) // late: v's copy is dropped, its parts in it
	add(n)
	n = len(es)
	burst("w", 2*time.Minute)
	add(n)
	if kept := len(d.userRules.parts.items); kept != 2 {
		t.Fatalf("parts kept after w's first event: %d, want the two of v's dropped copy", kept)
	}
	got := d.Detections()
	if left := len(d.userRules.parts.items); left != 0 {
		t.Fatalf("parts left after w's failures: %d, want none", left)
	}
	sameDetections(t, "reused parts", got, oracle(opt, es))
	if c := countByType(got); c["bruteForce/high"] != 2 || c["mfaFatigue/high"] != 2 {
		t.Fatalf("detections: %v, want two of each", c)
	}
}

// TestNewBufferHasRoom: a key's buffer made anew has room for more than
// one event, so that its second event does not leave an array behind.
func TestNewBufferHasRoom(t *testing.T) {
	d := New(Options{})
	o := success("v", at(0))
	if err := d.Add(&o); err != nil {
		t.Fatal(err)
	}
	ks := d.tables[ruleUser].slots.at(d.userKeys.ids["v"])
	if len(ks.buf) != 1 || cap(ks.buf) < 2 {
		t.Fatalf("v's buffer: %d events, room %d, want 1 and at least 2", len(ks.buf), cap(ks.buf))
	}
}

// TestGrownBuffersReused: a source whose buffer grows each morning to 200
// events (200 users signing in within an hour) and empties by the
// evening makes its buffer of the arrays the days before left: once the
// pools hold an array of each room its growth goes through (a growth
// swaps its array for one of the next room), a day allocates nothing.
func TestGrownBuffersReused(t *testing.T) {
	d := New(Options{})
	users := make([]string, 200)
	for u := range users {
		users[u] = fmt.Sprint("u", u)
	}
	day := 0
	addDay := func() {
		for u, user := range users {
			o := success(user, at(time.Duration(day)*24*time.Hour+time.Duration(u)*15*time.Second))
			o.Ref, o.UserNumber = Ref(day*200+u+1), uint32(u+1)
			if err := d.Add(&o); err != nil {
				t.Fatal(err)
			}
		}
		// An evening sign-in from elsewhere: the day's events pass the
		// cut, and the source's buffer empties.
		o := success(users[0], at(time.Duration(day)*24*time.Hour+12*time.Hour))
		o.Ref, o.UserNumber, o.IP = Ref(1e6+day), 1, netip.MustParseAddr("192.0.2.1")
		if err := d.Add(&o); err != nil {
			t.Fatal(err)
		}
		day++
	}
	for range 10 { // a day fills a class more: 256 events take 8
		addDay()
	}
	if a := testing.AllocsPerRun(3, addDay); a != 0 {
		t.Fatalf("%v allocations a day in the steady state, want none", a)
	}
}

// TestGrowthKeepsNoArray: a buffer that grows while the pools have no
// array of the next room leaves its outgrown arrays to the collector:
// the pools gain arrays only from emptied buffers, so that a detector
// whose keys' buffers never empty keeps no array idle.
func TestGrowthKeepsNoArray(t *testing.T) {
	d := New(Options{})
	for i := range 40 {
		o := success("v", at(time.Duration(i)*time.Second))
		o.Ref = Ref(i + 1)
		if err := d.Add(&o); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(d.tables[ruleUser].slots.at(d.userKeys.ids["v"]).buf); n != 40 {
		t.Fatalf("v's buffer holds %d events, want 40", n)
	}
	for i := range d.tables {
		for c, p := range d.tables[i].bufs {
			if len(p.items) > 0 {
				t.Fatalf("table %d keeps %d arrays of class %d", i, len(p.items), c)
			}
		}
	}
}

// TestPoolsKeepNoArrayOverKeptBuffer: a full array of keptBuffer events
// grown by append (to 1,536 events, 96 KiB) is left to the collector when
// its buffer empties, as the pools' doc says; one of keptBuffer is kept.
func TestPoolsKeepNoArrayOverKeptBuffer(t *testing.T) {
	var p bufPools
	p.put(append(make([]rec, 0, keptBuffer), make([]rec, keptBuffer+1)...))
	for c := range p {
		if len(p[c].items) > 0 {
			t.Fatalf("an array of %d events kept in class %d", keptBuffer*3/2, c)
		}
	}
	p.put(make([]rec, 0, keptBuffer))
	if len(p[bufClasses-1].items) != 1 {
		t.Fatalf("an array of keptBuffer events not kept in the last class")
	}
}

package risk

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// sameDetections fails t with the first difference between got and want.
func sameDetections(t *testing.T, what string, got, want []Detection) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Fatalf("%s: missing %+v (%d got, %d want)", what, want[i], len(got), len(want))
		case i >= len(want):
			t.Fatalf("%s: extra %+v (%d got, %d want)", what, got[i], len(got), len(want))
		case !got[i].Equal(&want[i]):
			t.Fatalf("%s: detection %d:\n got %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}

func countByType(ds []Detection) map[string]int {
	m := map[string]int{}
	for _, d := range ds {
		m[fmt.Sprintf("%s/%s", d.Type, d.Level)]++
	}
	return m
}

func TestDetectEqualsOracle(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			obs := traffic(seed, 150, 36)
			want := oracle(listOptions, obs)
			got := Detect(listOptions, slices.Clone(obs))
			sameDetections(t, "Detect", got, want)
			// Every injected attack fired.
			c := countByType(want)
			for _, k := range []string{"passwordSpray/medium", "passwordSpray/high", "bruteForce/high", "mfaFatigue/high",
				"atypicalTravel/medium", "unfamiliarSignInProperties/low", "maliciousIP/high", "anonymizedIP/medium",
				"failureSpike/low", "signUpFlood/medium"} {
				if c[k] == 0 {
					t.Errorf("no %s detection; got %v", k, c)
				}
			}
			// Risky users at the end of each of the last days.
			end := trafficStart.Add(36 * 24 * time.Hour).UnixNano()
			for k := range int64(5) {
				asOf := end - k*int64(24*time.Hour) - 1
				d := inOrder(t, listOptions, obs)
				gotU, wantU := d.RiskyUsers(asOf, int64(30*24*time.Hour), nil), oracleUsers(want, obs, asOf, int64(30*24*time.Hour))
				if fmt.Sprint(gotU) != fmt.Sprint(wantU) {
					t.Fatalf("risky users as of %d:\n got %v\nwant %v", k, gotU, wantU)
				}
				if k == 0 && len(wantU) < 5 {
					t.Fatalf("only %d risky users: %v", len(wantU), wantU)
				}
			}
			if c["passwordSpray/high"] != 3 {
				t.Errorf("spray followed by 3 successes: %d high detections", c["passwordSpray/high"])
			}
		})
	}
}

// TestLateEventsEqualRescan feeds the events in an arrival order where
// each is late by up to 90 minutes (within the late horizon): the
// detections equal those of the sorted set, at the end and, for the
// events arrived so far, whenever the arrival catches up.
func TestLateEventsEqualRescan(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			obs := traffic(seed, 120, 34)
			rng := rand.New(rand.NewPCG(seed, 7))
			type arrival struct {
				at int64
				o  Observation
			}
			arr := make([]arrival, len(obs))
			for i, o := range obs {
				delay := int64(0)
				if rng.IntN(4) == 0 {
					delay = rng.Int64N(int64(90 * time.Minute))
				}
				arr[i] = arrival{o.Time + delay, o}
			}
			slices.SortFunc(arr, func(a, b arrival) int { return cmp.Compare(a.at, b.at) })
			d := New(listOptions)
			for i, a := range arr {
				if err := d.Add(&a.o); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				if i%5000 == 0 { // a prefix: the set arrived so far
					var seen []Observation
					for _, b := range arr[:i+1] {
						seen = append(seen, b.o)
					}
					sameDetections(t, fmt.Sprintf("after %d events", i+1), d.Detections(), oracle(listOptions, seen))
				}
			}
			sameDetections(t, "incremental", d.Detections(), Detect(listOptions, obs))
		})
	}
}

// TestCompactOftenEqualsOracle: compacting (folding buffers, forgetting
// idle state, emptying idle parts of a user's state) between any two
// events, late ones included, changes no detection. The late horizon is
// shorter than the windows and follow-ups, so that a state still matters
// after its buffer empties.
func TestCompactOftenEqualsOracle(t *testing.T) {
	opt := listOptions
	opt.LateHorizon = 15 * time.Minute
	for seed := range uint64(2) {
		obs := traffic(seed, 100, 34)
		rng := rand.New(rand.NewPCG(seed, 9))
		arr := slices.Clone(obs)
		slices.SortFunc(arr, func(a, b Observation) int {
			return cmp.Compare(a.Time+int64(a.Ref%4)*int64(4*time.Minute), b.Time+int64(b.Ref%4)*int64(4*time.Minute))
		})
		d := New(opt)
		for i := range arr {
			if err := d.Add(&arr[i]); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			if rng.IntN(10) == 0 {
				d.Compact()
			}
		}
		sameDetections(t, fmt.Sprint("seed ", seed), d.Detections(), oracle(opt, obs))
	}
}

// TestCompactKeepsAwaitingEpisodes: a user's brute-force and MFA-fatigue
// episodes still await their follow-up when a compaction comes after the
// user's buffer emptied (a late horizon shorter than the follow-up).
func TestCompactKeepsAwaitingEpisodes(t *testing.T) {
	var es events
	for i := range 10 {
		es.add(failure("v", at(time.Duration(i)*time.Second)))
		es.add(Observation{Time: at(time.Duration(i) * time.Second), Kind: KindMFA, User: "v", MFA: MFADenied})
	}
	es.add(success("w", at(40*time.Minute))) // moves the cut past v's events
	es.add(success("v", at(50*time.Minute)))
	es.add(Observation{Time: at(50 * time.Minute), Kind: KindMFA, User: "v", MFA: MFAApproved})
	opt := Options{LateHorizon: 15 * time.Minute}
	d := New(opt)
	for i := range es {
		if err := d.Add(&es[i]); err != nil {
			t.Fatal(err)
		}
		d.Compact()
	}
	got := d.Detections()
	sameDetections(t, "compacted", got, oracle(opt, es))
	if c := countByType(got); c["bruteForce/high"] != 1 || c["mfaFatigue/high"] != 1 {
		t.Fatalf("follow-ups lost: %v", c)
	}
}

// TestCompactKeepsAWindowsLatestEvents: a compaction while a user's
// window holds failures both older than a window before the cut and
// newer keeps the user's state: two more failures make ten within ten
// minutes with the newer ones.
func TestCompactKeepsAWindowsLatestEvents(t *testing.T) {
	var es events
	es.add(failure("v", at(0)))
	for i := range 8 {
		es.add(failure("v", at(9*time.Minute+time.Duration(i)*time.Second)))
	}
	es.add(success("w", at(11*time.Minute+30*time.Second))) // the cut moves to 10m30s
	opt := Options{LateHorizon: time.Minute}
	d := New(opt)
	for i := range es {
		if err := d.Add(&es[i]); err != nil {
			t.Fatal(err)
		}
	}
	d.Compact()
	es.add(failure("v", at(10*time.Minute+40*time.Second)))
	es.add(failure("v", at(10*time.Minute+50*time.Second)))
	for i := len(es) - 2; i < len(es); i++ {
		if err := d.Add(&es[i]); err != nil {
			t.Fatal(err)
		}
	}
	got := d.Detections()
	sameDetections(t, "compacted", got, oracle(opt, es))
	if c := countByType(got); c["bruteForce/medium"] != 1 {
		t.Fatalf("no brute force: %v", c)
	}
}

// TestLateEventOfNewKeys: a late event of keys whose every event is
// still buffered replays from their empty state (a user's failures, a
// source's sign-ins), not from what the buffer folded.
func TestLateEventOfNewKeys(t *testing.T) {
	var es events
	for i := range 7 {
		o := failure("v", at(time.Duration(2*i+2)*time.Second))
		o.IP = netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
		o.User = fmt.Sprint("s", i)
		es.add(o)
		es.add(failure("v", at(time.Duration(2*i+2)*time.Second)))
	}
	es.add(failure("v", at(time.Second))) // arrives last
	d := New(Options{})
	for i := range es {
		if err := d.Add(&es[i]); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.Detections(); len(got) != 0 {
		t.Fatalf("8 failures of v, 7 users from the source: %+v", got)
	}
}

func TestTooLate(t *testing.T) {
	d := New(Options{})
	base := trafficStart.UnixNano()
	o := Observation{Time: base, Ref: 1, Kind: KindSignIn, User: "a", Status: StatusSuccess}
	if err := d.Add(&o); err != nil {
		t.Fatal(err)
	}
	o = Observation{Time: base + int64(3*time.Hour), Ref: 2, Kind: KindSignIn, User: "a", Status: StatusSuccess}
	if err := d.Add(&o); err != nil {
		t.Fatal(err)
	}
	o = Observation{Time: base + int64(59*time.Minute), Ref: 3, Kind: KindSignIn, User: "b", Status: StatusFailure, FirstFactorFailure: true}
	if err := d.Add(&o); !errors.Is(err, ErrTooLate) {
		t.Fatalf("an event 2h01 behind: %v, want ErrTooLate", err)
	}
	o.Time = base + int64(61*time.Minute)
	if err := d.Add(&o); err != nil {
		t.Fatalf("an event 1h59 behind: %v", err)
	}
}

// TestCompactForgets checks that idle keys are dropped and that state
// stays bounded over a long run of ordinary traffic.
func TestCompactForgets(t *testing.T) {
	d := New(Options{})
	base := trafficStart.UnixNano()
	for i := range 2000 {
		o := Observation{Time: base + int64(i)*int64(time.Minute), Ref: Ref(i + 1), Kind: KindSignIn,
			User: fmt.Sprintf("u%d", i), Status: StatusFailure, FirstFactorFailure: true, App: "a"}
		if err := d.Add(&o); err != nil {
			t.Fatal(err)
		}
	}
	d.Compact()
	// Users seen once, over a day ago, are forgotten by the brute-force
	// rule; the app keeps its spike state.
	if n := d.Keys(); n > 200 {
		t.Fatalf("%d keys kept after compaction", n)
	}
}

// TestLateDetectionBeforeAKeptRemedy: a remedy is kept through a
// compaction while it is within the late horizon, so a brute force that
// arrives late, before it in time, is remediated by it. The remedy comes
// past the follow-up window (1 h after the last failure): within it, it
// would be the brute force's own evidence, which remedies nothing.
func TestLateDetectionBeforeAKeptRemedy(t *testing.T) {
	base := trafficStart.UnixNano()
	remedy := base + int64(100*time.Minute)
	var es events
	es.add(Observation{Time: remedy, Kind: KindSignIn, User: "v", Status: StatusSuccess, MFA: MFAApproved, Remedy: true})
	for i := range 10 {
		es.add(failure("v", base+int64(30*time.Minute)+int64(i)*int64(time.Second)))
	}
	d := New(Options{})
	for i := range es {
		if i == 1 {
			d.Compact()
		}
		if err := d.Add(&es[i]); err != nil {
			t.Fatal(err)
		}
	}
	got := d.Detections()
	sameDetections(t, "late", got, oracle(Options{}, es))
	if len(got) != 1 || got[0].Remediated != remedy || got[0].Level != LevelMedium {
		t.Fatalf("not a medium brute force remediated by the later remedy: %+v", got)
	}
}

// TestCloneKeepsTheOpenEpisodeAwaiting: a state copied in the middle of an
// episode (as a replay copies a key's lag) goes on as the original would:
// the open episode is the one a follow-up raises. The copy is made in the
// memory of a spare state that folded every event (as advance and replay
// reuse dropped states): nothing of it shows through.
func TestCloneKeepsTheOpenEpisodeAwaiting(t *testing.T) {
	d := New(Options{})
	run := func(newState func(key) state, k key, es events, copyAt int) []Detection {
		s, spare := newState(k), newState(k)
		for i := range es {
			r := d.record(&es[i])
			spare.fold(&r, emitFunc(func(*Detection) {}))
		}
		var got []Detection
		emit := func(d *Detection) {
			for i := range got {
				if got[i].ID == d.ID {
					got[i] = *d.clone()
					return
				}
			}
			got = append(got, *d.clone())
		}
		for i := range es {
			if i == copyAt {
				s = s.copyTo(spare)
			}
			r := d.record(&es[i])
			s.fold(&r, emitFunc(emit))
		}
		return got
	}
	var brute events
	for i := range 11 {
		brute.add(failure("v", at(time.Duration(i)*time.Second)))
	}
	brute.add(success("v", at(time.Minute)))
	got := run(bruteRule(Options{}.WithDefaults()).newState, key{s: "v"}, brute, 10)
	if len(got) != 1 || got[0].Level != LevelHigh || len(got[0].Evidence) != 12 {
		t.Fatalf("brute force copied after its opening: %+v", got)
	}
	var spray events
	for i := range 21 {
		o := failure(fmt.Sprint("s", i), at(time.Duration(i)*time.Second))
		o.IP = netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
		spray.add(o)
	}
	spray.add(fromSpray(success("s20", at(time.Hour))))
	sprayRule := sprayRuleOf(Options{}.WithDefaults())
	sprayRule.names = &d.userKeys
	got = run(sprayRule.newState, key{p: netip.MustParsePrefix("203.0.113.0/24")}, spray, 20)
	if len(got) != 2 || got[1].Level != LevelHigh || got[1].User != "s20" || len(got[1].Evidence) != 2 {
		t.Fatalf("spray copied after its opening: %+v", got)
	}
}

// emitFunc is a sink calling a function.
type emitFunc func(*Detection)

func (f emitFunc) emit(d *Detection) { f(d) }

// TestEvidenceRemediesNothing: the MFA success that follows a brute force
// raises it to high and is its evidence: it does not remediate it; a
// later one does, in any order of arrival.
func TestEvidenceRemediesNothing(t *testing.T) {
	base := trafficStart.UnixNano()
	success := func(at time.Duration) Observation {
		return Observation{Time: base + int64(at), Kind: KindSignIn, User: "v", Status: StatusSuccess, MFA: MFAApproved, Remedy: true}
	}
	var es events
	for i := range 10 {
		es.add(failure("v", base+int64(i)*int64(time.Second)))
	}
	es.add(success(20 * time.Minute))
	for _, order := range []string{"in order", "reversed"} {
		d := New(Options{})
		for i := range es {
			o := es[i]
			if order == "reversed" {
				o = es[len(es)-1-i]
			}
			if err := d.Add(&o); err != nil {
				t.Fatal(err)
			}
		}
		got := d.Detections()
		sameDetections(t, order, got, oracle(Options{}, es))
		if len(got) != 1 || got[0].Level != LevelHigh || got[0].Remediated != 0 {
			t.Fatalf("%s: want one high brute force, not remediated: %+v", order, got)
		}
	}
	es.add(success(90 * time.Minute))
	d := New(Options{})
	for i := range es {
		if err := d.Add(&es[i]); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.Detections(); len(got) != 1 || got[0].Remediated != base+int64(90*time.Minute) {
		t.Fatalf("want remediated by the later success: %+v", got)
	}
}

// TestManyUsersKeepTheirStates: 300 users, more than fit a page of key
// states (slotPage), each failing ten times, their failures interleaved:
// each has a brute force of their own, of their ten failures.
func TestManyUsersKeepTheirStates(t *testing.T) {
	var es events
	for i := range 10 {
		for u := range 300 {
			es.add(failure(fmt.Sprint("u", u), at(time.Duration(i*300+u)*100*time.Millisecond)))
		}
	}
	users := map[string]bool{}
	for _, d := range Detect(Options{}, slices.Clone(es)) {
		if d.Type != BruteForce { // the source's spray, the app's spike
			continue
		}
		if len(d.Evidence) != 10 || users[d.User] {
			t.Fatalf("not one brute force of ten failures a user: %+v", d)
		}
		users[d.User] = true
	}
	if len(users) != 300 {
		t.Fatalf("%d users with a brute force, want 300", len(users))
	}
}

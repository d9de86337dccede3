package logblock

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkWriterBlock measures a checkpoint's encoding of one block of
// RecordsPerBlock random records (records: GUIDs, addresses, repeated
// values, steps): cut into columns, checked, compressed. It reports the
// records' bytes per second.
//
//	go test -run '^$' -bench 'BenchmarkWriterBlock|BenchmarkAppendStrings' -count 6 ./internal/logblock/
func BenchmarkWriterBlock(b *testing.B) {
	enc, _ := codec(b)
	recs, offs := records(rand.New(rand.NewPCG(1, 2)), RecordsPerBlock)
	w, dst := NewWriter(enc), []byte(nil)
	b.SetBytes(int64(len(recs)))
	b.ReportAllocs()
	for b.Loop() {
		dst = w.Block(dst[:0], recs, offs)
	}
}

// BenchmarkAppendStrings measures the string columns alone: a column of
// RecordsPerBlock GUIDs (packed), IPv4 addresses (packed), repeated
// names (a dictionary), and user agents mostly distinct (plain).
func BenchmarkAppendStrings(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	cols := map[string]func() string{
		"GUID": func() string { return randomGUID(rng) },
		"IPv4": func() string { return randomIPv4(rng) },
		"dict": func() string { return []string{"Password", "SMS", "Mobile app notification", "FIDO2"}[rng.IntN(4)] },
		"plain": func() string {
			return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/%d.0.%d", rng.IntN(200), rng.IntN(10000))
		},
	}
	for _, name := range []string{"GUID", "IPv4", "dict", "plain"} {
		vals := make([][]byte, RecordsPerBlock)
		for i := range vals {
			vals[i] = []byte(cols[name]())
		}
		b.Run(name, func(b *testing.B) {
			var w stringsWriter
			var dst []byte
			b.ReportAllocs()
			for b.Loop() {
				dst = w.appendStrings(dst[:0], vals)
			}
		})
	}
}

func randomGUID(rng *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint64()&(1<<48-1))
}

func randomIPv4(rng *rand.Rand) string {
	return fmt.Sprintf("%d.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256))
}

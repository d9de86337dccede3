package insights

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/logblock"
	"github.com/insightslab/insights/internal/logrecord"
	"github.com/insightslab/insights/internal/segment"
	"github.com/klauspost/compress/zstd"
)

// Users column markers of log entries without a (remaining) user.
const (
	noUser     = segment.NoUser     // a principal sign-in
	erasedUser = segment.ErasedUser // the user was erased: the entry is hidden, its record empty
)

// eventLog is one day's event log, in the order events were applied:
// entry i happened at times[i] (Unix ns), by users[i], with the indexed
// values of combination combos[i] of the same day's index, and its log
// record at offs[i]:offs[i+1] of the records laid end to end: held plain
// in chunks of logChunk records (a builder's log and a day sealed from
// it), or compressed in blocks of perBlock records (a day read from its
// segment), which a recordCursor decompresses one at a time.
//
// A builder only appends; the sealed day shares its slices capped at their
// length (view), so later appends never touch what a query reads.
//
// Offsets are positions modulo 2^32 (as segment.Log's): a day's records
// may pass 4 GiB (28 million records of 150 bytes), and offs then wraps.
// Only differences of offsets within one chunk or block are taken, exact
// in uint32 arithmetic because a chunk's or block's records take less than
// 4 GiB (a chunk holds logChunk records, each shorter than the 4 MiB a
// segment takes; segment.DecodeLog checks a block's): never compare two
// offsets, nor take one as a position in the day's records.
type eventLog struct {
	times    []int64
	users    []uint32
	combos   []uint32
	offs     []uint32 // len = entries + 1; modulo 2^32
	chunks   [][]byte // plain: the records of entries k*logChunk on in chunks[k], laid end to end
	blocks   [][]byte
	perBlock int             // records of each block but the last
	format   logblock.Format // of the blocks
	dec      *zstd.Decoder   // decompresses blocks
	key      string          // the segment the blocks came from, for errors
}

// recordCursor reads a log's records, keeping the last decompressed block.
// Records it returns are valid until its next call. Not safe for
// concurrent use; a log may have many cursors.
type recordCursor struct {
	l     *eventLog
	block int
	data  []byte
	rd    logblock.Reader
}

func (l *eventLog) cursor() *recordCursor { return &recordCursor{l: l, block: -1} }

// record returns record i. Errors wrap ErrCorrupt and name the segment.
func (c *recordCursor) record(i int) ([]byte, error) {
	l := c.l
	if l.blocks == nil {
		return l.plainRecord(i), nil
	}
	k := i / l.perBlock
	base := l.offs[k*l.perBlock]
	if k != c.block {
		end := l.offs[min((k+1)*l.perBlock, l.len())]
		data, err := c.rd.Decode(l.dec, l.format, l.blocks[k], c.data, min((k+1)*l.perBlock, l.len())-k*l.perBlock, int(end-base))
		if err != nil {
			c.block = -1
			return nil, fmt.Errorf("%w: %s: event log block %d: %v", ErrCorrupt, l.key, k, err)
		}
		c.block, c.data = k, data
	}
	return c.data[l.offs[i]-base : l.offs[i+1]-base], nil
}

// plain returns l with its records decompressed, in chunks.
func (l *eventLog) plain() (eventLog, error) {
	if l.blocks == nil {
		return *l, nil
	}
	out := eventLog{times: l.times, users: l.users, combos: l.combos, offs: l.offs}
	c := l.cursor()
	for i := range l.len() {
		rec, err := c.record(i)
		if err != nil {
			return eventLog{}, err
		}
		out.chunks = appendChunked(out.chunks, i, rec)
	}
	return out.view(), nil
}

func newEventLog() eventLog { return eventLog{offs: []uint32{0}} }

func (l *eventLog) len() int { return len(l.times) }

// logChunk is how many records a chunk of a plain log holds (the last
// may hold fewer): as many as a segment's block (segment.EncodeLog
// compresses each chunk as a block), so that a day's log grows by a chunk
// at a time instead of copying all of its records into twice the room:
// tens of megabytes under the write lock, for a day of a hundred
// thousand users.
const logChunk = logblock.RecordsPerBlock

// appendChunked appends rec, the record of entry n of a plain log whose
// entries before n have theirs in chunks, and returns chunks. A chunk
// starts with the room of the chunk before it and 1/32 more (or of a
// preallocated first chunk: newDayBuilderLike): records of a day are
// alike but vary in length, and a chunk that outgrew its room near its
// end would be copied into a quarter more, held by the day for no
// record (MemoryLimit counts it: chunkRoom).
func appendChunked[S ~string | ~[]byte](chunks [][]byte, n int, rec S) [][]byte {
	k := n / logChunk
	if k == len(chunks) {
		room := len(rec)
		if k > 0 {
			prev := len(chunks[k-1])
			room = max(room, prev+prev/32)
		}
		chunks = append(chunks, make([]byte, 0, room))
	}
	chunks[k] = append(chunks[k], rec...)
	return chunks
}

// plainRecord returns record i of a plain log.
func (l *eventLog) plainRecord(i int) []byte {
	k := i / logChunk
	base := l.offs[k*logChunk]
	return l.chunks[k][l.offs[i]-base : l.offs[i+1]-base]
}

// recordBytes returns the bytes of a plain log's records.
func (l *eventLog) recordBytes() int {
	n := 0
	for _, c := range l.chunks {
		n += len(c)
	}
	return n
}

// chunkRoom returns the bytes a plain log's chunks hold: their capacity,
// the records' bytes and the room after them (what memBytes counts).
func (l *eventLog) chunkRoom() int {
	n := 0
	for _, c := range l.chunks {
		n += cap(c)
	}
	return n
}

// add appends an entry. Cost: O(1) amortized; a chunk of records, or the
// entries' columns, grow by copying (at most a chunk of records).
func (l *eventLog) add(t int64, uid, c uint32, rec string) {
	addEntry(l, t, uid, c, rec)
}

// addEntry is add, for a record held in a string or in bytes.
func addEntry[S ~string | ~[]byte](l *eventLog, t int64, uid, c uint32, rec S) {
	l.chunks = appendChunked(l.chunks, l.len(), rec)
	l.times = append(l.times, t)
	l.users = append(l.users, uid)
	l.combos = append(l.combos, c)
	l.offs = append(l.offs, l.offs[len(l.offs)-1]+uint32(len(rec)))
}

// view returns l with every slice capped at its length and chunks' headers
// of its own, so that appends to l or to the view (a builder thawed from
// a day sharing its log) never write what the other reads. Cost: a copy
// of the chunks' headers.
func (l *eventLog) view() eventLog {
	v := *l
	v.times, v.users, v.combos, v.offs = slices.Clip(l.times), slices.Clip(l.users), slices.Clip(l.combos), slices.Clip(l.offs)
	v.chunks = slices.Clone(l.chunks)
	if n := len(v.chunks); n > 0 {
		v.chunks[n-1] = slices.Clip(v.chunks[n-1])
	}
	return v
}

// erase returns a copy of l, which must be plain, in which uid's entries
// are hidden and their records emptied, reporting whether any was.
func (l *eventLog) erase(uid uint32) (eventLog, bool) {
	if !slices.Contains(l.users, uid) {
		return *l, false
	}
	out := newEventLog()
	for i := range l.len() {
		u, rec := l.users[i], l.plainRecord(i)
		if u == uid {
			u, rec = erasedUser, nil
		}
		addEntry(&out, l.times[i], u, l.combos[i], rec)
	}
	return out, true
}

// logIndex holds what a sealed day derives from its log on first use:
// the newest-first order, entries by combination and by user, and per
// log field its distinct values with their entries. Safe for concurrent use.
type logIndex struct {
	orderOnce sync.Once
	order     []uint32 // entries, newest first (time, then application order, descending)
	comboOnce sync.Once
	byCombo   csr
	userOnce  sync.Once
	byUser    csr
	fields    [logrecord.NumText]atomic.Pointer[fieldIndex]
	idsOnce   [logrecord.NumText]sync.Once
	ids       [logrecord.NumText]idIndex
	idsErr    [logrecord.NumText]error
}

// idIndex finds the entries of an identifier (request or correlation id),
// nearly one per entry: 64-bit hashes of the values, ascending, with their
// entries; 12 bytes an entry instead of a string and a set per value.
// Matches are confirmed against the record, so a collision costs a read.
type idIndex struct {
	hashes  []uint64
	entries []uint32
}

// idFields are the log fields indexed by hash (idIndex) rather than by
// value (fieldIndex).
var idFields = map[Dimension]bool{DimRequestID: true, DimCorrelationID: true}

func hashText(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// idsOf returns the hash index of log-record string i (shared).
func (d *day) idsOf(l *eventLog, i int) (*idIndex, error) {
	x := &d.logIdx
	x.idsOnce[i].Do(func() {
		type pair struct {
			h uint64
			e uint32
		}
		pairs := make([]pair, l.len())
		c := l.cursor()
		for e := range l.len() {
			rec, err := c.record(e)
			if err != nil {
				x.idsErr[i] = err
				return
			}
			pairs[e] = pair{hashText(recordText(rec, i)), uint32(e)}
		}
		slices.SortFunc(pairs, func(a, b pair) int { return cmp.Compare(a.h, b.h) })
		ix := idIndex{hashes: make([]uint64, len(pairs)), entries: make([]uint32, len(pairs))}
		for k, p := range pairs {
			ix.hashes[k], ix.entries[k] = p.h, p.e
		}
		x.ids[i] = ix
		d.grew(12 * len(pairs))
	})
	return &x.ids[i], x.idsErr[i]
}

// matchIDs returns the entries whose identifier field dim is one of the
// values of the leaf f (Eq, In), or starts with its prefix (Prefix: a
// pass over the records, the index cannot help).
func (d *day) matchIDs(l *eventLog, f Filter) (*roaring.Bitmap, error) {
	i := recText[f.dim]
	out := roaring.New()
	c := l.cursor()
	if f.op == OpPrefix {
		for e := range l.len() {
			rec, err := c.record(e)
			if err != nil {
				return nil, err
			}
			if strings.HasPrefix(recordText(rec, i), f.values[0]) {
				out.Add(uint32(e))
			}
		}
		return out, nil
	}
	ix, err := d.idsOf(l, i)
	if err != nil {
		return nil, err
	}
	for _, v := range f.values {
		h := hashText(v)
		for k, _ := slices.BinarySearch(ix.hashes, h); k < len(ix.hashes) && ix.hashes[k] == h; k++ {
			e := ix.entries[k]
			rec, err := c.record(int(e))
			if err != nil {
				return nil, err
			}
			if recordText(rec, i) == v {
				out.Add(e)
			}
		}
	}
	return out, nil
}

// csr lists entries grouped by a key: the entries of key k are
// ids[start[k]:start[k+1]], ascending.
type csr struct {
	start []uint32
	ids   []uint32
}

// newCSR groups entries 0..len(keys)-1 by key, keys below n.
func newCSR(keys []uint32, n int) csr {
	c := csr{start: make([]uint32, n+2), ids: make([]uint32, len(keys))}
	for _, k := range keys {
		c.start[k+2]++
	}
	for k := 2; k < len(c.start); k++ {
		c.start[k] += c.start[k-1]
	}
	for i, k := range keys {
		c.ids[c.start[k+1]] = uint32(i)
		c.start[k+1]++
	}
	return c
}

func (c csr) of(k uint32) []uint32 {
	if int(k)+1 >= len(c.start) {
		return nil
	}
	return c.ids[c.start[k]:c.start[k+1]]
}

// fieldIndex is a log field's distinct values, ascending, with the entries
// of each. For the IP field, addrs holds the parsed addresses, ascending in
// address order, with their entries in addrPost: a CIDR prefix is one
// range of them.
type fieldIndex struct {
	values   []string
	post     []*roaring.Bitmap
	addrs    []netip.Addr
	addrPost []*roaring.Bitmap
}

// newestFirst returns the day's entries newest first (shared).
func (d *day) newestFirst(l *eventLog) []uint32 {
	x := &d.logIdx
	x.orderOnce.Do(func() {
		x.order = make([]uint32, l.len())
		for i := range x.order {
			x.order[i] = uint32(i)
		}
		slices.SortFunc(x.order, func(a, b uint32) int {
			return cmp.Or(cmp.Compare(l.times[b], l.times[a]), cmp.Compare(b, a))
		})
		d.grew(4 * len(x.order))
	})
	return x.order
}

// entriesOfCombos returns the entries whose combination is in combos.
func (d *day) entriesOfCombos(l *eventLog, combos *roaring.Bitmap) *roaring.Bitmap {
	out := roaring.New()
	if n := combos.GetCardinality(); n == 0 {
		return out
	} else if n > uint64(d.ix.NumCombos())/8 { // dense: one pass over the entries
		for i, c := range l.combos {
			if combos.Contains(c) {
				out.Add(uint32(i))
			}
		}
		return out
	}
	x := &d.logIdx
	x.comboOnce.Do(func() {
		x.byCombo = newCSR(l.combos, d.ix.NumCombos())
		d.grew(x.byCombo.bytes())
	})
	var ids []uint32
	it := combos.Iterator()
	for it.HasNext() {
		ids = append(ids, x.byCombo.of(it.Next())...)
	}
	slices.Sort(ids)
	out.AddMany(ids)
	return out
}

// entriesOfUser returns the entries of user uid, ascending (shared).
func (d *day) entriesOfUser(l *eventLog, uid uint32) []uint32 {
	x := &d.logIdx
	x.userOnce.Do(func() {
		keys := make([]uint32, l.len())
		hi := uint32(0)
		for i, u := range l.users {
			if u < erasedUser {
				keys[i] = u + 1
				hi = max(hi, u+1)
			}
		}
		x.byUser = newCSR(keys, int(hi)+1)
		d.grew(x.byUser.bytes())
	})
	return x.byUser.of(uid + 1)
}

// field returns the index of log-record string i (shared).
func (d *day) field(l *eventLog, i int) (*fieldIndex, error) {
	if p := d.logIdx.fields[i].Load(); p != nil {
		return p, nil
	}
	lists := map[string][]uint32{}
	c := l.cursor()
	for e := range l.len() { // erased entries have empty records: every value ""
		rec, err := c.record(e)
		if err != nil {
			return nil, err
		}
		v := recordText(rec, i)
		lists[v] = append(lists[v], uint32(e))
	}
	f := &fieldIndex{values: make([]string, 0, len(lists))}
	for v := range lists {
		f.values = append(f.values, v)
	}
	slices.Sort(f.values)
	f.post = make([]*roaring.Bitmap, len(f.values))
	type addrPost struct {
		a    netip.Addr
		post *roaring.Bitmap
	}
	var byAddr []addrPost
	for k, v := range f.values {
		f.post[k] = roaring.BitmapOf(lists[v]...)
		if a, err := netip.ParseAddr(v); i == logrecord.IP && err == nil {
			byAddr = append(byAddr, addrPost{a, f.post[k]})
		}
	}
	slices.SortFunc(byAddr, func(x, y addrPost) int { return x.a.Compare(y.a) })
	for _, p := range byAddr {
		f.addrs, f.addrPost = append(f.addrs, p.a), append(f.addrPost, p.post)
	}
	if d.logIdx.fields[i].CompareAndSwap(nil, f) {
		size := 16*len(f.values) + 24*len(f.addrs)
		for k, v := range f.values {
			size += len(v) + int(f.post[k].GetSizeInBytes())
		}
		d.grew(size)
	}
	return d.logIdx.fields[i].Load(), nil
}

// lastAddr returns the last address of prefix p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for bit := p.Bits(); bit < len(b)*8; bit++ {
		b[bit/8] |= 0x80 >> (bit % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// matchField returns the entries whose log field dim satisfies the leaf f.
func (d *day) matchField(l *eventLog, f Filter) (*roaring.Bitmap, error) {
	if idFields[f.dim] {
		return d.matchIDs(l, f)
	}
	fi, err := d.field(l, recText[f.dim])
	if err != nil {
		return nil, err
	}
	var sets []*roaring.Bitmap
	add := func(v string) {
		if k, ok := slices.BinarySearch(fi.values, v); ok {
			sets = append(sets, fi.post[k])
		}
	}
	switch f.op {
	case OpEq, OpIn:
		for _, v := range f.values {
			if f.dim == DimIP {
				v = canonicalIP(v)
			}
			add(v)
		}
	case OpPrefix:
		k, _ := slices.BinarySearch(fi.values, f.values[0])
		for ; k < len(fi.values) && strings.HasPrefix(fi.values[k], f.values[0]); k++ {
			sets = append(sets, fi.post[k])
		}
	case OpCIDR: // one range of the addresses, in address order
		p, _ := netip.ParsePrefix(f.values[0]) // validated
		lo, hi := p.Masked().Addr(), lastAddr(p)
		k, _ := slices.BinarySearchFunc(fi.addrs, lo, netip.Addr.Compare)
		for ; k < len(fi.addrs) && fi.addrs[k].Compare(hi) <= 0; k++ {
			if p.Contains(fi.addrs[k]) {
				sets = append(sets, fi.addrPost[k])
			}
		}
	}
	return roaring.FastOr(sets...), nil
}

// canonicalIP returns v's address spelled as stored, or v if not an address.
func canonicalIP(v string) string {
	if a, err := netip.ParseAddr(v); err == nil {
		return a.String()
	}
	return v
}

package insights

import (
	"fmt"
	"time"
)

// Date is a calendar date in the store's zone. The zero value is "no date".
// Dates compare with Before and Equal-by-value (==).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date y-m-d, normalized as time.Date does (March 0 is
// the last day of February).
func NewDate(y int, m time.Month, d int) Date {
	t := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	return Date{t.Year(), t.Month(), t.Day()}
}

// DateOf returns the date of the instant t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// ParseDate parses "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%w: date %q is not YYYY-MM-DD", ErrInvalidQuery, s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// String returns "2006-01-02", or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	if d.Year < 0 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 99 {
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
	}
	y, m := d.Year, int(d.Month)
	return string([]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-', byte('0' + d.Day/10), byte('0' + d.Day%10)})
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool { return d.num() < o.num() }

// AddDays returns the date n days after d (before, if n < 0).
func (d Date) AddDays(n int) Date { return dateOfNum(d.num() + int32(n)) }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return time.Weekday((d.num()%7 + 11) % 7) }

// Start returns the first instant that has date d in loc. In zones whose
// clocks jump at midnight it is not a 00:00 that does not exist; a day is
// 23 or 25 hours long at DST changes: Start of the next date minus Start.
func (d Date) Start(loc *time.Location) time.Time {
	// The date of an instant never decreases as time passes, so search
	// the 52 hours around UTC midnight for the first second with date d.
	n := d.num()
	lo := time.Unix(int64(n)*86400-26*3600, 0)
	hi := time.Unix(int64(n)*86400+26*3600, 0)
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
		if dayOf(mid, loc) >= n {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi.In(loc)
}

// MarshalText implements encoding.TextMarshaler ("2006-01-02").
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; "" is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	*d = v
	return err
}

// num is the number of days since 1970-01-01.
func (d Date) num() int32 {
	return int32(floorDiv(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix(), 86400))
}

func dateOfNum(n int32) Date {
	t := time.Unix(int64(n)*86400, 0).UTC()
	return Date{t.Year(), t.Month(), t.Day()}
}

// dayOf returns the day number of the date of t in loc.
func dayOf(t time.Time, loc *time.Location) int32 { return DateOf(t, loc).num() }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Granularity is the size of a Result's buckets.
type Granularity uint8

// The granularities of SPEC §3. The zero value is Day.
const (
	Day   Granularity = iota // one calendar date
	Week                     // seven days from Query.WeekStart (Monday by default)
	Month                    // a calendar month
	Total                    // the whole range as one bucket
)

var granularityNames = []string{"day", "week", "month", "total"}

func (g Granularity) String() string {
	if int(g) < len(granularityNames) {
		return granularityNames[g]
	}
	return fmt.Sprintf("invalid(%d)", g)
}

// ParseGranularity returns the Granularity whose String is s.
func ParseGranularity(s string) (Granularity, error) {
	for i, n := range granularityNames {
		if n == s {
			return Granularity(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown granularity %q", ErrInvalidQuery, s)
}

// MarshalText implements encoding.TextMarshaler.
func (g Granularity) MarshalText() ([]byte, error) {
	if int(g) >= len(granularityNames) {
		return nil, fmt.Errorf("%w: granularity %d is outside its set", ErrInvalidQuery, g)
	}
	return []byte(g.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (g *Granularity) UnmarshalText(b []byte) error {
	v, err := ParseGranularity(string(b))
	*g = v
	return err
}

// bucket is one time bucket of a query, clipped to the range: days
// [from, to). full is the unclipped bucket; partial when they differ.
type bucket struct {
	from, to         int32
	fullFrom, fullTo int32
}

func (b bucket) partial() bool { return b.from != b.fullFrom || b.to != b.fullTo }

// bucketBounds returns the unclipped bucket of granularity g (not Total)
// that contains day n. weekStart is an ISO weekday, 1 (Monday) to 7.
func bucketBounds(n int32, g Granularity, weekStart int) (int32, int32) {
	switch g {
	case Week:
		iso := int32((n%7+10)%7) + 1 // 1970-01-01 was a Thursday (ISO 4)
		back := (iso - int32(weekStart) + 7) % 7
		return n - back, n - back + 7
	case Month:
		d := dateOfNum(n)
		first := Date{d.Year, d.Month, 1}
		return first.num(), NewDate(d.Year, d.Month+1, 1).num()
	}
	return n, n + 1
}

// buckets splits [from, to) into buckets of granularity g.
func buckets(from, to int32, g Granularity, weekStart int) []bucket {
	if g == Total {
		return []bucket{{from, to, from, to}}
	}
	var bs []bucket
	for n := from; n < to; {
		f, t := bucketBounds(n, g, weekStart)
		bs = append(bs, bucket{n, min(t, to), f, t})
		n = t
	}
	return bs
}

// previous returns the bucket before b, full-sized (for lifecycle).
func (b bucket) previous(g Granularity, weekStart int) bucket {
	if g == Total {
		n := b.to - b.from
		return bucket{b.from - n, b.from, b.from - n, b.from}
	}
	f, t := bucketBounds(b.fullFrom-1, g, weekStart)
	return bucket{f, t, f, t}
}

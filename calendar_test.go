package insights

import (
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	d := func(y int, m time.Month, day int) int32 { return NewDate(y, m, day).num() }
	tests := []struct {
		name      string
		from, to  int32
		g         Granularity
		weekStart int
		want      []bucket
	}{
		{"days are one date each", d(2024, 2, 28), d(2024, 3, 1), Day, 1,
			[]bucket{{d(2024, 2, 28), d(2024, 2, 29), d(2024, 2, 28), d(2024, 2, 29)}, {d(2024, 2, 29), d(2024, 3, 1), d(2024, 2, 29), d(2024, 3, 1)}}},
		{"ISO weeks start on Monday and cut partial ends", d(2024, 3, 6), d(2024, 3, 19), Week, 1,
			[]bucket{{d(2024, 3, 6), d(2024, 3, 11), d(2024, 3, 4), d(2024, 3, 11)}, {d(2024, 3, 11), d(2024, 3, 18), d(2024, 3, 11), d(2024, 3, 18)}, {d(2024, 3, 18), d(2024, 3, 19), d(2024, 3, 18), d(2024, 3, 25)}}},
		{"weeks may start on Sunday", d(2024, 3, 10), d(2024, 3, 17), Week, 7,
			[]bucket{{d(2024, 3, 10), d(2024, 3, 17), d(2024, 3, 10), d(2024, 3, 17)}}},
		{"months include leap day", d(2024, 2, 15), d(2024, 4, 1), Month, 1,
			[]bucket{{d(2024, 2, 15), d(2024, 3, 1), d(2024, 2, 1), d(2024, 3, 1)}, {d(2024, 3, 1), d(2024, 4, 1), d(2024, 3, 1), d(2024, 4, 1)}}},
		{"total is the range", d(2024, 12, 30), d(2025, 1, 2), Total, 1,
			[]bucket{{d(2024, 12, 30), d(2025, 1, 2), d(2024, 12, 30), d(2025, 1, 2)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := buckets(tt.from, tt.to, tt.g, tt.weekStart)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d buckets %v, want %v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("bucket %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestPreviousBucket(t *testing.T) {
	d := func(y int, m time.Month, day int) int32 { return NewDate(y, m, day).num() }
	march := bucket{d(2024, 3, 10), d(2024, 4, 1), d(2024, 3, 1), d(2024, 4, 1)}
	if p := march.previous(Month, 1); p.from != d(2024, 2, 1) || p.to != d(2024, 3, 1) {
		t.Errorf("previous of a partial March = %v, want all of February", p)
	}
	tot := bucket{d(2024, 3, 1), d(2024, 3, 8), d(2024, 3, 1), d(2024, 3, 8)}
	if p := tot.previous(Total, 1); p.from != d(2024, 2, 23) || p.to != d(2024, 3, 1) {
		t.Errorf("previous of a 7-day total = %v, want the 7 days before", p)
	}
}

func TestDateArithmetic(t *testing.T) {
	if got := NewDate(2024, 2, 28).AddDays(1); got != (Date{2024, 2, 29}) {
		t.Errorf("2024-02-28 + 1 = %v", got)
	}
	if got := NewDate(2023, 2, 28).AddDays(1); got != (Date{2023, 3, 1}) {
		t.Errorf("2023-02-28 + 1 = %v", got)
	}
	if got := NewDate(1969, 12, 31).num(); got != -1 {
		t.Errorf("1969-12-31 is day %d, want -1", got)
	}
	for _, tc := range []struct {
		d    Date
		want time.Weekday
	}{{NewDate(1970, 1, 1), time.Thursday}, {NewDate(2024, 2, 29), time.Thursday}, {NewDate(1969, 12, 28), time.Sunday}} {
		if got := tc.d.Weekday(); got != tc.want {
			t.Errorf("%v.Weekday() = %v, want %v", tc.d, got, tc.want)
		}
	}
	if _, err := ParseDate("2024-02-30"); err == nil {
		t.Error("ParseDate accepted 2024-02-30")
	}
}

// Dates print as time.DateOnly does, whatever their width.
func TestDateString(t *testing.T) {
	for _, d := range []Date{{Year: 2025, Month: 3, Day: 9}, {Year: 1, Month: 1, Day: 1}, {Year: 9999, Month: 12, Day: 31},
		{Year: 912, Month: 10, Day: 20}, {Year: 2024, Month: 2, Day: 29}} {
		want := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		if got := d.String(); got != want {
			t.Errorf("%#v prints %q, want %q", d, got, want)
		}
	}
	if s := (Date{}).String(); s != "" {
		t.Errorf("the zero Date prints %q", s)
	}
	if s := (Date{Year: 12345, Month: 1, Day: 2}).String(); s != "12345-01-02" {
		t.Errorf("a five-digit year prints %q", s)
	}
}

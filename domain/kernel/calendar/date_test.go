package calendar

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// day parses a YYYY-MM-DD literal of a test table.
func day(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatalf("test literal: %v", err)
	}
	return d
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in string
		ok bool
	}{
		{"2026-04-01", true},
		{"2024-02-29", true},
		{"2000-02-29", true},
		{"0001-01-01", true},
		{"9999-12-31", true},
		{"2023-02-29", false},
		{"2100-02-29", false},
		{"2026-04-31", false},
		{"2026-13-01", false},
		{"2026-00-10", false},
		{"2026-01-00", false},
		{"0000-01-01", false},
		{"2026-1-01", false},
		{"2026/01/01", false},
		{" 2026-01-01", false},
		{"2026-01-01T00:00:00Z", false},
		{"+026-01-01", false},
		{"2026-0a-01", false},
		{"２０２６-01-01", false},
		{"", false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			d, err := ParseDate(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ParseDate(%q) error = %v, want ok = %v", tc.in, err, tc.ok)
			}
			if !tc.ok {
				if !errors.Is(err, ErrInvalidDate) {
					t.Fatalf("ParseDate(%q) error = %v, want ErrInvalidDate", tc.in, err)
				}
				return
			}
			if d.String() != tc.in {
				t.Fatalf("ParseDate(%q).String() = %q", tc.in, d.String())
			}
		})
	}
}

func TestNewDateRejectsWhatDoesNotExist(t *testing.T) {
	t.Parallel()
	cases := []struct {
		y int
		m time.Month
		d int
	}{{2026, 2, 30}, {2026, 0, 1}, {2026, 13, 1}, {0, 1, 1}, {10000, 1, 1}, {2026, 6, 31}, {2026, 1, -1}}
	for _, tc := range cases {
		if d, err := NewDate(tc.y, tc.m, tc.d); !errors.Is(err, ErrInvalidDate) || !d.IsZero() {
			t.Errorf("NewDate(%d, %d, %d) = %v, %v; want the zero Date and ErrInvalidDate", tc.y, tc.m, tc.d, d, err)
		}
	}
}

func TestDateArithmeticAgreesWithTime(t *testing.T) {
	t.Parallel()
	// Every day of 1600–2400 (leap centuries both ways) against the time package.
	start := time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)
	d := day(t, "1600-01-01")
	for tt := start; tt.Year() <= 2400; tt = tt.AddDate(0, 0, 1) {
		if d.Year() != tt.Year() || d.Month() != tt.Month() || d.Day() != tt.Day() || d.Weekday() != tt.Weekday() {
			t.Fatalf("%v (%v) disagrees with time: %v (%v)", d, d.Weekday(), tt.Format(time.DateOnly), tt.Weekday())
		}
		next := d.AddDays(1)
		if !next.After(d) || !d.Before(next) || next.Compare(d) != 1 || d.Compare(d) != 0 || next.AddDays(-1) != d {
			t.Fatalf("ordering broken at %v", d)
		}
		d = next
	}
}

func TestAddDays(t *testing.T) {
	t.Parallel()
	cases := []struct {
		from string
		n    int
		want string
	}{
		{"2026-01-31", 1, "2026-02-01"},
		{"2024-02-28", 1, "2024-02-29"},
		{"2025-02-28", 1, "2025-03-01"},
		{"2026-12-31", 1, "2027-01-01"},
		{"2026-03-01", -1, "2026-02-28"},
		{"2026-04-01", 365, "2027-04-01"},
		{"2026-04-01", 0, "2026-04-01"},
		{"1970-01-01", -719162, "0001-01-01"},
		{"9999-12-30", 1, "9999-12-31"},
	}
	for _, tc := range cases {
		if got := day(t, tc.from).AddDays(tc.n); got.String() != tc.want {
			t.Errorf("%s.AddDays(%d) = %v, want %s", tc.from, tc.n, got, tc.want)
		}
	}
	for _, n := range []int{1, 1 << 62, -(1 << 62), int(^uint(0) >> 1), -int(^uint(0)>>1) - 1} {
		if got := day(t, "9999-12-31").AddDays(n); n > 0 && !got.IsZero() {
			t.Errorf("9999-12-31.AddDays(%d) = %v, want the zero Date", n, got)
		}
		if got := day(t, "0001-01-01").AddDays(-n); n > 0 && !got.IsZero() {
			t.Errorf("0001-01-01.AddDays(%d) = %v, want the zero Date", -n, got)
		}
	}
	if got := (Date{}).AddDays(1); !got.IsZero() {
		t.Errorf("zero.AddDays(1) = %v, want the zero Date", got)
	}
}

func TestDateOfReasonsInTokyo(t *testing.T) {
	t.Parallel()
	cases := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 1, 1, 14, 59, 59, 999999999, time.UTC), "2026-01-01"},
		{time.Date(2026, 1, 1, 15, 0, 0, 0, time.UTC), "2026-01-02"},
		{time.Date(2025, 12, 31, 23, 0, 0, 0, time.FixedZone("PST", -8*3600)), "2026-01-01"},
		{time.Date(2026, 4, 1, 0, 0, 0, 0, time.FixedZone("JST", 9*3600)), "2026-04-01"},
	}
	for _, tc := range cases {
		if got := DateOf(tc.at); got.String() != tc.want {
			t.Errorf("DateOf(%v) = %v, want %s", tc.at, got, tc.want)
		}
	}
	if got := DateOf(time.Time{}); !got.IsZero() {
		t.Errorf("DateOf(zero time) = %v, want the zero Date", got)
	}
	if got := DateOf(time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)); !got.IsZero() {
		t.Errorf("DateOf(year −5) = %v, want the zero Date", got)
	}
}

func TestDateText(t *testing.T) {
	t.Parallel()
	type record struct {
		Hired Date `json:"hired"`
	}
	out, err := json.Marshal(record{Hired: day(t, "2026-04-01")})
	if err != nil || string(out) != `{"hired":"2026-04-01"}` {
		t.Fatalf("json.Marshal = %s, %v", out, err)
	}
	var back record
	if err := json.Unmarshal(out, &back); err != nil || back.Hired != day(t, "2026-04-01") {
		t.Fatalf("json.Unmarshal = %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"hired":"2026-02-30"}`), &back); !errors.Is(err, ErrInvalidDate) {
		t.Fatalf("json.Unmarshal of 2026-02-30: %v, want ErrInvalidDate", err)
	}
	if _, err := json.Marshal(record{}); !errors.Is(err, ErrInvalidDate) {
		t.Fatalf("json.Marshal of the zero Date: %v, want ErrInvalidDate", err)
	}
}

func FuzzParseDate(f *testing.F) {
	for _, seed := range []string{
		"2026-04-01", "2024-02-29", "2023-02-29", "0000-01-01", "0001-01-01", "9999-12-31", "2026-1-1",
		"2026-01-01T00:00:00Z", "+026-01-01", "-026-01-01", "2026-00-00", "", "２０２６-01-01", "2026-12-32",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		// The time package's strict layout accepts the same strings, year 0 aside.
		tt, terr := time.Parse(time.DateOnly, s)
		if wantOK := terr == nil && tt.Year() >= 1; wantOK != (err == nil) {
			t.Fatalf("ParseDate(%q) error = %v, time.Parse = %v, %v", s, err, tt, terr)
		}
		if err != nil {
			if !d.IsZero() || !errors.Is(err, ErrInvalidDate) {
				t.Fatalf("ParseDate(%q) = %v, %v; want the zero Date and ErrInvalidDate", s, d, err)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDate(%q).String() = %q", s, d.String())
		}
		if d.Year() != tt.Year() || d.Month() != tt.Month() || d.Day() != tt.Day() || d.Weekday() != tt.Weekday() {
			t.Fatalf("ParseDate(%q) = %v (%v), time says %v", s, d, d.Weekday(), tt)
		}
		if again, err := ParseDate(d.String()); err != nil || again != d {
			t.Fatalf("round trip of %q: %v, %v", s, again, err)
		}
		if next := d.AddDays(1); !next.IsZero() && next.AddDays(-1) != d {
			t.Fatalf("%v.AddDays(1).AddDays(-1) = %v", d, next.AddDays(-1))
		}
	})
}

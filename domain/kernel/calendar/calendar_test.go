package calendar

import (
	"errors"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/kernel"
)

// jst parses "2006-01-02 15:04" (optionally with seconds) as a time in Asia/Tokyo.
func jst(t testing.TB, s string) time.Time {
	t.Helper()
	layout := "2006-01-02 15:04"
	if len(s) > len(layout) {
		layout = time.DateTime
	}
	at, err := time.ParseInLocation(layout, s, kernel.Tokyo)
	if err != nil {
		t.Fatalf("test literal: %v", err)
	}
	return at
}

// summer2026 is a Calendar with a summer closure (8/11 is 山の日, closed anyway).
func summer2026(t testing.TB) Calendar {
	t.Helper()
	c, err := New(day(t, "2026-08-12"), day(t, "2026-08-13"), day(t, "2026-08-14"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIsBusinessDay(t *testing.T) {
	t.Parallel()
	c := summer2026(t)
	cases := []struct {
		date string
		want bool
	}{
		{"2026-04-28", true},  // Tuesday
		{"2026-04-29", false}, // 昭和の日
		{"2026-05-01", true},  // Friday between the holidays
		{"2026-05-02", false}, // Saturday
		{"2026-05-03", false}, // Sunday, 憲法記念日
		{"2026-05-06", false}, // 振替休日
		{"2026-05-07", true},
		{"2026-08-12", false}, // summer closure
		{"2026-08-17", true},
		{"2026-12-28", true},
		{"2026-12-29", false}, // year end
		{"2026-12-31", false},
		{"2027-01-01", false},
		{"2027-01-03", false}, // new year, a Sunday anyway
		{"2028-01-03", false}, // new year on a Monday
		{"2028-01-04", true},
		{"2026-09-22", false}, // 国民の休日
		{"2100-01-04", false}, // outside the supported years
		{"1969-12-01", false},
	}
	for _, tc := range cases {
		t.Run(tc.date, func(t *testing.T) {
			t.Parallel()
			if got := c.IsBusinessDay(day(t, tc.date)); got != tc.want {
				t.Errorf("IsBusinessDay(%s) = %v, want %v", tc.date, got, tc.want)
			}
		})
	}
	if !(Calendar{}).IsBusinessDay(day(t, "2026-08-12")) {
		t.Error("the zero Calendar has no summer closure")
	}
	if c.IsBusinessDay(Date{}) {
		t.Error("the zero Date is a business day")
	}
}

func TestBusinessDayArithmetic(t *testing.T) {
	t.Parallel()
	c := summer2026(t)
	cases := []struct {
		name string
		op   func(Date) (Date, error)
		from string
		want string
	}{
		{"on or after a business day", c.BusinessDayOnOrAfter, "2026-04-28", "2026-04-28"},
		{"on or after Golden Week", c.BusinessDayOnOrAfter, "2026-05-02", "2026-05-07"},
		{"on or after the year end", c.BusinessDayOnOrAfter, "2026-12-29", "2027-01-04"},
		{"after a business day", c.BusinessDayAfter, "2026-04-28", "2026-04-30"},
		{"after Friday before Golden Week", c.BusinessDayAfter, "2026-05-01", "2026-05-07"},
		{"after the last day before the year end", c.BusinessDayAfter, "2026-12-28", "2027-01-04"},
		{"after the summer closure", c.BusinessDayAfter, "2026-08-10", "2026-08-17"},
		{"0 days on a business day", days(c, 0), "2026-04-28", "2026-04-28"},
		{"0 days on a holiday", days(c, 0), "2026-05-04", "2026-05-07"},
		{"1 day across 昭和の日", days(c, 1), "2026-04-28", "2026-04-30"},
		{"2 days", days(c, 2), "2026-04-28", "2026-05-01"},
		{"3 days across Golden Week", days(c, 3), "2026-04-28", "2026-05-07"},
		{"1 day from a Saturday", days(c, 1), "2026-05-02", "2026-05-07"},
		{"1 day from a holiday", days(c, 1), "2026-04-29", "2026-04-30"},
		{"1 day across the year end", days(c, 1), "2026-12-28", "2027-01-04"},
		{"5 days into January", days(c, 5), "2026-12-28", "2027-01-08"},
		{"6 days across 成人の日", days(c, 6), "2026-12-28", "2027-01-12"},
		{"1 day across the new year", days(c, 1), "2025-12-26", "2026-01-05"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, err := tc.op(day(t, tc.from)); err != nil || got.String() != tc.want {
				t.Errorf("from %s: %v, %v; want %s", tc.from, got, err, tc.want)
			}
		})
	}
}

// days curries AddBusinessDays for the table above.
func days(c Calendar, n int) func(Date) (Date, error) {
	return func(d Date) (Date, error) { return c.AddBusinessDays(d, n) }
}

func TestBusinessHours(t *testing.T) {
	t.Parallel()
	var c Calendar
	cases := []struct {
		at   string
		want bool
	}{
		{"2026-04-27 09:00", true}, // Monday, the opening is inside
		{"2026-04-27 08:59:59", false},
		{"2026-04-27 16:59:59", true},
		{"2026-04-27 17:00", false}, // the closing is outside
		{"2026-04-25 10:00", false}, // Saturday
		{"2026-04-29 10:00", false}, // 昭和の日
		{"2026-12-29 10:00", false}, // year end
	}
	for _, tc := range cases {
		if got := c.IsBusinessHours(jst(t, tc.at)); got != tc.want {
			t.Errorf("IsBusinessHours(%s JST) = %v, want %v", tc.at, got, tc.want)
		}
	}
	// 2026-04-27 00:30 UTC is 09:30 JST: the instant counts, not the location it is written in.
	if !c.IsBusinessHours(time.Date(2026, 4, 27, 0, 30, 0, 0, time.UTC)) {
		t.Error("IsBusinessHours(00:30 UTC = 09:30 JST Monday) = false")
	}
}

func TestAddBusinessHours(t *testing.T) {
	t.Parallel()
	c := summer2026(t)
	cases := []struct {
		name string
		from string
		add  time.Duration
		want string
	}{
		{"incident Friday 16:30", "2026-04-24 16:30", time.Hour, "2026-04-27 09:30"},
		{"ends exactly at closing", "2026-04-24 16:00", time.Hour, "2026-04-24 17:00"},
		{"before opening", "2026-04-27 08:00", time.Hour, "2026-04-27 10:00"},
		{"after closing", "2026-04-27 18:00", time.Hour, "2026-04-28 10:00"},
		{"at closing", "2026-04-27 17:00", time.Hour, "2026-04-28 10:00"},
		{"at opening", "2026-04-27 09:00", time.Hour, "2026-04-27 10:00"},
		{"a full day", "2026-04-27 09:00", 8 * time.Hour, "2026-04-27 17:00"},
		{"a full day and an hour", "2026-04-27 09:00", 9 * time.Hour, "2026-04-28 10:00"},
		{"a week", "2026-04-20 09:00", 40 * time.Hour, "2026-04-24 17:00"},
		{"over a weekend", "2026-04-25 12:00", time.Hour, "2026-04-27 10:00"},
		{"Sunday night", "2026-04-26 23:59", 30 * time.Minute, "2026-04-27 09:30"},
		{"over 昭和の日", "2026-04-28 16:30", time.Hour, "2026-04-30 09:30"},
		{"over Golden Week", "2026-05-01 16:30", time.Hour, "2026-05-07 09:30"},
		{"over the summer closure", "2026-08-10 16:30", time.Hour, "2026-08-17 09:30"},
		{"over the year end", "2026-12-28 16:30", time.Hour, "2027-01-04 09:30"},
		{"nothing to add on a weekend", "2026-04-25 12:00", 0, "2026-04-25 12:00"},
		{"a nanosecond at closing", "2026-04-27 17:00", time.Nanosecond, "2026-04-28 09:00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.AddBusinessHours(jst(t, tc.from), tc.add)
			want := jst(t, tc.want)
			if tc.add == time.Nanosecond {
				want = want.Add(time.Nanosecond)
			}
			if err != nil || !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("AddBusinessHours(%s JST, %v) = %v, %v; want %v in UTC", tc.from, tc.add, got, err, want.UTC())
			}
		})
	}
}

// TestAddBusinessHoursAgreesWithCounting checks AddBusinessHours against its definition, the first instant by
// which d of business time has passed, counted a minute at a time around Golden Week and a summer closure.
func TestAddBusinessHoursAgreesWithCounting(t *testing.T) {
	t.Parallel()
	c := summer2026(t)
	for _, window := range [][2]string{{"2026-04-23 00:00", "2026-05-09 00:00"}, {"2026-08-06 00:00", "2026-08-19 00:00"}} {
		for from := jst(t, window[0]); from.Before(jst(t, window[1])); from = from.Add(97 * time.Minute) {
			for _, d := range []time.Duration{time.Minute, time.Hour, 8 * time.Hour, 9*time.Hour + 30*time.Minute} {
				want := from
				for left := d; left > 0; want = want.Add(time.Minute) {
					if c.IsBusinessHours(want) {
						left -= time.Minute
					}
				}
				if got, err := c.AddBusinessHours(from, d); err != nil || !got.Equal(want) {
					t.Fatalf("AddBusinessHours(%v, %v) = %v, %v; counting gives %v", from, d, got, err, want)
				}
			}
		}
	}
}

func TestNextOpening(t *testing.T) {
	t.Parallel()
	var c Calendar
	cases := []struct{ at, want string }{
		{"2026-04-27 08:00", "2026-04-27 09:00"},
		{"2026-04-27 09:00", "2026-04-27 09:00"},
		{"2026-04-27 09:00:01", "2026-04-28 09:00"},
		{"2026-04-24 17:30", "2026-04-27 09:00"},
		{"2026-05-01 10:00", "2026-05-07 09:00"},
		{"2026-12-28 12:00", "2027-01-04 09:00"},
	}
	for _, tc := range cases {
		got, err := c.NextOpening(jst(t, tc.at))
		if want := jst(t, tc.want); err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("NextOpening(%s JST) = %v, %v; want %v in UTC", tc.at, got, err, want.UTC())
		}
	}
}

func TestCalendarErrors(t *testing.T) {
	t.Parallel()
	var c Calendar
	if _, err := New(day(t, "2026-08-12"), Date{}); !errors.Is(err, ErrInvalidDate) {
		t.Errorf("New with the zero Date: %v, want ErrInvalidDate", err)
	}
	if _, err := c.AddBusinessDays(day(t, "2026-04-28"), -1); !errors.Is(err, ErrNegative) {
		t.Errorf("AddBusinessDays(-1): %v, want ErrNegative", err)
	}
	if _, err := c.AddBusinessHours(jst(t, "2026-04-28 10:00"), -time.Minute); !errors.Is(err, ErrNegative) {
		t.Errorf("AddBusinessHours(-1m): %v, want ErrNegative", err)
	}
	outOfRange := []struct {
		name string
		call func() error
	}{
		{"on or after the last days", func() error { _, err := c.BusinessDayOnOrAfter(day(t, "2099-12-29")); return err }},
		{"after the last business day", func() error { _, err := c.BusinessDayAfter(day(t, "2099-12-28")); return err }},
		{"before the first year", func() error { _, err := c.AddBusinessDays(day(t, "1969-12-31"), 1); return err }},
		{"the zero Date", func() error { _, err := c.AddBusinessDays(Date{}, 0); return err }},
		{"days past the last year", func() error { _, err := c.AddBusinessDays(day(t, "2099-01-05"), 1000); return err }},
		{"hours in 2100", func() error { _, err := c.AddBusinessHours(jst(t, "2100-01-04 10:00"), time.Hour); return err }},
		{"hours past the last year", func() error {
			_, err := c.AddBusinessHours(jst(t, "2099-12-28 16:30"), time.Hour)
			return err
		}},
		{"opening past the last year", func() error { _, err := c.NextOpening(jst(t, "2099-12-28 10:00")); return err }},
	}
	for _, tc := range outOfRange {
		if err := tc.call(); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("%s: %v, want ErrOutOfRange", tc.name, err)
		}
	}
	if c.IsBusinessHours(jst(t, "2100-01-04 10:00")) {
		t.Error("IsBusinessHours in 2100 = true")
	}
}

func BenchmarkIsBusinessDay(b *testing.B) {
	c := summer2026(b)
	first := day(b, "2026-01-01")
	open := 0
	for i := 0; b.Loop(); i++ {
		if c.IsBusinessDay(first.AddDays(i % 365)) {
			open++
		}
	}
	if open == 0 {
		b.Fatal("no business day in 2026")
	}
}

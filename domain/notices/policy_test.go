package notices_test

import (
	"slices"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/notices"
	"github.com/roumu/roumu/ports"
)

// jst returns the instant of a wall-clock time in Asia/Tokyo.
func jst(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, kernel.Tokyo)
}

func TestIncidentDeadline(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		knownAt time.Time
		want    time.Time
	}{
		{"Friday 16:30: one hour, past closing", jst(2025, 6, 13, 16, 30), jst(2025, 6, 13, 17, 30)},
		{"Friday 16:59", jst(2025, 6, 13, 16, 59), jst(2025, 6, 13, 17, 59)},
		{"Friday 17:00: closed, Monday opening", jst(2025, 6, 13, 17, 0), jst(2025, 6, 16, 9, 0)},
		{"Monday 08:59: that day's opening", jst(2025, 6, 16, 8, 59), jst(2025, 6, 16, 9, 0)},
		{"Monday 09:00: one hour", jst(2025, 6, 16, 9, 0), jst(2025, 6, 16, 10, 0)},
		{"Monday 00:00", jst(2025, 6, 16, 0, 0), jst(2025, 6, 16, 9, 0)},
		{"Saturday", jst(2025, 6, 14, 10, 0), jst(2025, 6, 16, 9, 0)},
		{"Sunday night", jst(2025, 6, 15, 23, 59), jst(2025, 6, 16, 9, 0)},
		{"Saturday before 海の日 Monday", jst(2025, 7, 19, 10, 0), jst(2025, 7, 22, 9, 0)},
		{"holiday eve 16:30 (before 秋分の日 9/23)", jst(2025, 9, 22, 16, 30), jst(2025, 9, 22, 17, 30)},
		{"holiday eve 17:30 (before 秋分の日 9/23)", jst(2025, 9, 22, 17, 30), jst(2025, 9, 24, 9, 0)},
		{"on the holiday", jst(2025, 9, 23, 11, 0), jst(2025, 9, 24, 9, 0)},
		{"12/28 17:30 on a Monday: after the year-end closure", jst(2026, 12, 28, 17, 30), jst(2027, 1, 4, 9, 0)},
		{"12/28 16:30 on a Monday: still a business day", jst(2026, 12, 28, 16, 30), jst(2026, 12, 28, 17, 30)},
		{"12/28 17:30 on a Sunday", jst(2025, 12, 28, 17, 30), jst(2026, 1, 5, 9, 0)},
		{"1/3 in the closure", jst(2027, 1, 3, 12, 0), jst(2027, 1, 4, 9, 0)},
		{"a UTC input is read in Tokyo", time.Date(2025, 6, 13, 7, 30, 0, 0, time.UTC), jst(2025, 6, 13, 17, 30)},
	}
	for _, tc := range cases {
		got, err := notices.DefaultPolicy.IncidentDeadline(tc.knownAt)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%s: deadline = %v, %v; want %v", tc.name, got.In(kernel.Tokyo), err, tc.want)
		}
		if got.Location() != time.UTC {
			t.Errorf("%s: deadline in %v, want UTC", tc.name, got.Location())
		}
	}
	if _, err := notices.DefaultPolicy.IncidentDeadline(jst(2200, 1, 1, 12, 0)); err == nil {
		t.Error("a year the calendar does not cover: no error")
	}
}

func fieldCodes(errs []ports.FieldError) []string {
	var out []string
	for _, e := range errs {
		if e.MessageEN == "" || e.MessageJA == "" {
			panic("field error without both messages: " + e.Code)
		}
		out = append(out, e.Field+":"+e.Code)
	}
	return out
}

func TestMaintenanceRules(t *testing.T) {
	t.Parallel()
	announced := jst(2025, 4, 10, 14, 0)
	start := jst(2025, 5, 10, 14, 0) // exactly one calendar month later
	cases := []struct {
		name          string
		starts, ends  time.Time
		want          []string
		announcedAt   time.Time
		earliestStart time.Time
	}{
		{name: "exactly one month ahead, 6 hours", starts: start, ends: start.Add(6 * time.Hour)},
		{name: "29 days ahead", starts: announced.AddDate(0, 0, 29), ends: announced.AddDate(0, 0, 29).Add(time.Hour),
			want: []string{"starts_at:notice_too_short"}},
		{name: "one minute short of a month", starts: start.Add(-time.Minute), ends: start.Add(time.Hour),
			want: []string{"starts_at:notice_too_short"}},
		{name: "6h01m", starts: start, ends: start.Add(6*time.Hour + time.Minute), want: []string{"ends_at:too_long"}},
		{name: "ends at its start", starts: start, ends: start, want: []string{"ends_at:before_start"}},
		{name: "missing times", want: []string{"starts_at:required", "ends_at:required"}},
		{name: "too soon and too long", starts: announced.Add(time.Hour), ends: announced.Add(8 * time.Hour),
			want: []string{"starts_at:notice_too_short", "ends_at:too_long"}},
		{name: "1/31 counts to 3/3 (AddDate overflows), not 2/28", announcedAt: jst(2025, 1, 31, 10, 0),
			starts: jst(2025, 3, 2, 10, 0), ends: jst(2025, 3, 2, 12, 0), want: []string{"starts_at:notice_too_short"},
			earliestStart: jst(2025, 3, 3, 10, 0)},
		{name: "in February a month is 28 days", announcedAt: jst(2025, 2, 1, 10, 0),
			starts: jst(2025, 3, 1, 10, 0), ends: jst(2025, 3, 1, 12, 0), earliestStart: jst(2025, 3, 1, 10, 0)},
	}
	for _, tc := range cases {
		at := announced
		if !tc.announcedAt.IsZero() {
			at = tc.announcedAt
		}
		got := fieldCodes(notices.DefaultPolicy.CheckMaintenance(at, tc.starts, tc.ends))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		if !tc.earliestStart.IsZero() {
			if e := notices.DefaultPolicy.EarliestMaintenanceStart(at); !e.Equal(tc.earliestStart) {
				t.Errorf("%s: earliest start %v, want %v", tc.name, e.In(kernel.Tokyo), tc.earliestStart)
			}
		}
	}
}

func TestMaintenanceYearAndWarnings(t *testing.T) {
	t.Parallel()
	from, until := notices.MaintenanceYear(time.Date(2025, 12, 31, 15, 30, 0, 0, time.UTC)) // 2026-01-01 00:30 JST
	if !from.Equal(jst(2026, 1, 1, 0, 0)) || !until.Equal(jst(2027, 1, 1, 0, 0)) {
		t.Errorf("year of 2026-01-01 00:30 JST = [%v, %v)", from, until)
	}
	for others, wantWarn := range []bool{false, false, false, false, true, true} {
		w := notices.DefaultPolicy.YearlyWarnings(others)
		if (len(w) > 0) != wantWarn {
			t.Errorf("with %d other windows: warnings %v, want warn=%v", others, w, wantWarn)
		}
		for _, x := range w {
			if x.Code != "maintenance_per_year" || x.MessageEN == "" || x.MessageJA == "" {
				t.Errorf("warning %+v", x)
			}
		}
	}
}

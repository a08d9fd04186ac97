package calendar

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The published list covers these years (testdata/holidays_jp.yml).
const oracleFrom, oracleTo = 1970, 2050

// oracleNames maps the published list's names, where they differ from the law's, to ours: it appends the
// substituted holiday's name to 振替休日, calls a 国民の休日 just 休日, annotates 2019's 体育の日 with its
// 2020 name, and lists the two days of 2019 deemed national holidays as 休日（祝日扱い）.
var oracleNames = map[string]string{
	"休日":           CitizensHoliday,
	"体育の日（スポーツの日）": "体育の日",
}

// oracleDeemed names the days that the published list calls 休日（祝日扱い） as their act does.
var oracleDeemed = map[string]string{
	"2019-05-01": "天皇の即位の日",
	"2019-10-22": "即位礼正殿の儀",
}

// loadOracle reads testdata/holidays_jp.yml: the holiday_jp project's list (MIT licence, beside it), a copy of
// ../shared/data/holidays_jp.yml kept in the repository so that the oracle runs on every clean clone.
func loadOracle(t *testing.T) map[Date]string {
	t.Helper()
	path := filepath.Join("testdata", "holidays_jp.yml")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("holiday list: %v", err)
	}
	defer f.Close()
	oracle := map[Date]string{}
	scanner := bufio.NewScanner(f)
	for line := 1; scanner.Scan(); line++ {
		text := strings.TrimSpace(scanner.Text())
		if text == "" || text == "---" || strings.HasPrefix(text, "#") {
			continue
		}
		date, name, found := strings.Cut(text, ": ")
		d, err := ParseDate(date)
		if !found || err != nil || name == "" {
			t.Fatalf("%s:%d: not `YYYY-MM-DD: 名前`: %q", path, line, text)
		}
		if _, dup := oracle[d]; dup {
			t.Fatalf("%s:%d: %v listed twice", path, line, d)
		}
		oracle[d] = name
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	// A truncated file would pass the "no other holiday" direction vacuously for the missing years.
	for y := oracleFrom; y <= oracleTo; y++ {
		if _, ok := oracle[mustDate(y, time.January, 1)]; !ok {
			t.Fatalf("%s has no 元日 for %d: incomplete", path, y)
		}
	}
	return oracle
}

// expectedName translates the published list's name for d to ours, checking the list's own conventions.
func expectedName(t *testing.T, oracle map[Date]string, d Date, name string) string {
	t.Helper()
	if substituted, ok := strings.CutSuffix(name, " 振替休日"); ok {
		// The list names one of the holidays just before, not always the one that fell on the Sunday
		// (2008-05-06 names こどもの日, 2020-05-06 憲法記念日): accept any of them.
		named := false
		for before := d.AddDays(-1); oracle[before] != "" && !named; before = before.AddDays(-1) {
			named = oracle[before] == substituted
		}
		if !named {
			t.Errorf("oracle %v: %q, but no holiday of that name just before", d, name)
		}
		return SubstituteHoliday
	}
	if name == "休日（祝日扱い）" {
		return oracleDeemed[d.String()]
	}
	if ours, ok := oracleNames[name]; ok {
		return ours
	}
	return name
}

// TestHolidaysMatchThePublishedList checks both directions for every day of 1970–2050: each listed day is a
// holiday of the same name, and no other day is a holiday.
func TestHolidaysMatchThePublishedList(t *testing.T) {
	t.Parallel()
	oracle := loadOracle(t)
	for y := oracleFrom; y <= oracleTo; y++ {
		t.Run(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006"), func(t *testing.T) {
			t.Parallel()
			want := map[Date]string{}
			for d := mustDate(y, time.January, 1); d.Year() == y; d = d.AddDays(1) {
				if name, listed := oracle[d]; listed {
					want[d] = expectedName(t, oracle, d, name)
				}
				got, ok := Holiday(d)
				if w, listed := want[d]; ok != listed || got != w {
					t.Errorf("Holiday(%v) = %q, %v; published %q (ours: %q)", d, got, ok, oracle[d], w)
				}
			}
			entries, err := Holidays(y)
			if err != nil {
				t.Fatalf("Holidays(%d): %v", y, err)
			}
			if len(entries) != len(want) {
				t.Errorf("Holidays(%d) has %d entries, published %d", y, len(entries), len(want))
			}
			for _, e := range entries {
				if want[e.Date] != e.Name {
					t.Errorf("Holidays(%d) has %v %q, published %q", y, e.Date, e.Name, oracle[e.Date])
				}
			}
		})
	}
}

func TestHolidayRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		date, want string // want "" for not a holiday
		why        string
	}{
		{"1973-02-12", "", "建国記念の日 on a Sunday before 振替休日 existed"},
		{"1973-04-30", SubstituteHoliday, "the first 振替休日"},
		{"1986-05-04", "", "a Sunday between two holidays was no 国民の休日"},
		{"1987-05-04", SubstituteHoliday, "振替休日 takes precedence over 国民の休日"},
		{"1988-05-04", CitizensHoliday, "the first 国民の休日"},
		{"1991-05-04", CitizensHoliday, "a Saturday can be a 国民の休日"},
		{"2002-05-06", SubstituteHoliday, "before 2007 only the Monday"},
		{"2008-05-06", SubstituteHoliday, "from 2007 the next day that is no holiday (5/4 Sunday)"},
		{"2009-05-06", SubstituteHoliday, "5/3 Sunday, 5/4 and 5/5 holidays"},
		{"2018-12-24", SubstituteHoliday, "the last 12/23 天皇誕生日"},
		{"2019-12-23", "", "no 天皇誕生日 in 2019"},
		{"2019-02-23", "", "no 天皇誕生日 in 2019"},
		{"2020-02-24", SubstituteHoliday, "the first 2/23 天皇誕生日 on a Sunday"},
		{"2019-04-30", CitizensHoliday, "between 昭和の日 and the deemed accession day"},
		{"2019-05-01", "天皇の即位の日", "deemed a national holiday"},
		{"2019-05-02", CitizensHoliday, "between the accession day and 憲法記念日"},
		{"2019-05-06", SubstituteHoliday, "こどもの日 on a Sunday"},
		{"2019-10-14", "体育の日", "renamed only from 2020"},
		{"2019-10-22", "即位礼正殿の儀", "deemed a national holiday"},
		{"2020-07-20", "", "海の日 moved for the Olympics"},
		{"2020-07-23", "海の日", "moved"},
		{"2020-07-24", "スポーツの日", "moved"},
		{"2020-08-10", "山の日", "moved"},
		{"2020-08-11", "", "山の日 moved"},
		{"2020-10-12", "", "スポーツの日 moved"},
		{"2021-07-22", "海の日", "moved"},
		{"2021-07-23", "スポーツの日", "moved"},
		{"2021-08-08", "山の日", "moved to a Sunday"},
		{"2021-08-09", SubstituteHoliday, "a moved holiday is still a national holiday"},
		{"2021-10-11", "", "スポーツの日 moved"},
		{"2022-10-10", "スポーツの日", "back to the second Monday"},
		{"1999-01-15", "成人の日", "fixed day"},
		{"2000-01-10", "成人の日", "second Monday"},
		{"2026-05-06", SubstituteHoliday, "Golden Week 2026: 5/3 Sunday"},
		{"2026-09-22", CitizensHoliday, "between 敬老の日 and 秋分の日"},
		{"2026-03-20", "春分の日", "equinox"},
		{"2050-03-20", "春分の日", "equinox"},
		{"2092-03-19", "春分の日", "the equinox formula keeps moving the day"},
	}
	for _, tc := range cases {
		t.Run(tc.date, func(t *testing.T) {
			t.Parallel()
			got, ok := Holiday(day(t, tc.date))
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("Holiday(%s) = %q, %v; want %q (%s)", tc.date, got, ok, tc.want, tc.why)
			}
		})
	}
}

func TestNextCitizensHolidayIs2026_09_22(t *testing.T) {
	t.Parallel()
	// The last ones before: 2019-04-30 and 2019-05-02, around the accession day.
	for d := day(t, "2019-05-03"); d.Year() <= MaxYear; d = d.AddDays(1) {
		if name, _ := Holiday(d); name == CitizensHoliday {
			if d.String() != "2026-09-22" {
				t.Fatalf("the first 国民の休日 after 2019-05-02 is %v, want 2026-09-22", d)
			}
			return
		}
	}
	t.Fatal("no 国民の休日 after 2019-05-02")
}

// TestEveryYearIsWellFormed guards the years past the published list, up to MaxYear: every year has its fixed
// holidays once, equinoxes in their possible days, entries in order, and a 振替休日 only after a Sunday holiday.
func TestEveryYearIsWellFormed(t *testing.T) {
	t.Parallel()
	for y := MinYear; y <= MaxYear; y++ {
		entries, err := Holidays(y)
		if err != nil {
			t.Fatalf("Holidays(%d): %v", y, err)
		}
		names := map[string]int{}
		for i, e := range entries {
			names[e.Name]++
			if e.Date.Year() != y || (i > 0 && !entries[i-1].Date.Before(e.Date)) {
				t.Errorf("Holidays(%d): %v out of order", y, e.Date)
			}
			switch e.Name {
			case "春分の日":
				if e.Date.Month() != time.March || e.Date.Day() < 19 || e.Date.Day() > 22 {
					t.Errorf("春分の日 on %v", e.Date)
				}
			case "秋分の日":
				if e.Date.Month() != time.September || e.Date.Day() < 21 || e.Date.Day() > 24 {
					t.Errorf("秋分の日 on %v", e.Date)
				}
			case SubstituteHoliday:
				sunday := e.Date.AddDays(-1)
				for sunday.Weekday() != time.Sunday {
					if _, ok := Holiday(sunday); !ok {
						t.Errorf("振替休日 %v follows no Sunday holiday", e.Date)
						break
					}
					sunday = sunday.AddDays(-1)
				}
			}
		}
		for _, name := range []string{"元日", "成人の日", "建国記念の日", "春分の日", "憲法記念日", "こどもの日", "秋分の日", "文化の日", "勤労感謝の日"} {
			if names[name] != 1 {
				t.Errorf("%d has %q %d times", y, name, names[name])
			}
		}
	}
}

func TestOutsideTheSupportedYears(t *testing.T) {
	t.Parallel()
	for _, y := range []int{MinYear - 1, MaxYear + 1, 0} {
		if entries, err := Holidays(y); !errors.Is(err, ErrOutOfRange) || entries != nil {
			t.Errorf("Holidays(%d) = %v, %v; want ErrOutOfRange", y, entries, err)
		}
	}
	for _, s := range []string{"1969-01-01", "2100-01-01", "1959-04-10"} {
		if name, ok := Holiday(day(t, s)); ok {
			t.Errorf("Holiday(%s) = %q, want no holiday outside the supported years", s, name)
		}
	}
	if name, ok := Holiday(Date{}); ok {
		t.Errorf("Holiday(zero) = %q", name)
	}
}

// TestHolidaysReturnsACopy: the table is shared by every caller, so a caller's edit must not reach it.
func TestHolidaysReturnsACopy(t *testing.T) {
	t.Parallel()
	entries, _ := Holidays(2026)
	entries[0].Name = "changed"
	if again, _ := Holidays(2026); again[0].Name != "元日" {
		t.Fatalf("Holidays(2026)[0] = %q after a caller's edit", again[0].Name)
	}
}

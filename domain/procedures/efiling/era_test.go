package efiling

import (
	"errors"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/kernel/calendar"
	"github.com/roumu/roumu/ports"
)

func date(t testing.TB, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestToEraAtEveryBoundary(t *testing.T) {
	t.Parallel()
	cases := []struct{ date, text, code, yymmdd string }{
		{"2026-04-01", "令和8年4月1日", "9", "080401"},
		{"2019-05-01", "令和元年5月1日", "9", "010501"},
		{"2019-04-30", "平成31年4月30日", "7", "310430"},
		{"1989-01-08", "平成元年1月8日", "7", "010108"},
		{"1989-01-07", "昭和64年1月7日", "5", "640107"},
		{"1926-12-25", "昭和元年12月25日", "5", "011225"},
		{"1926-12-24", "大正15年12月24日", "3", "151224"},
		{"1912-07-30", "大正元年7月30日", "3", "010730"},
		{"1912-07-29", "明治45年7月29日", "1", "450729"},
		{"1868-01-25", "明治元年1月25日", "1", "010125"},
		{"2118-12-31", "令和100年12月31日", "9", "001231"},
	}
	for _, tc := range cases {
		e, err := ToEra(date(t, tc.date))
		if err != nil {
			t.Fatalf("%s: %v", tc.date, err)
		}
		if e.String() != tc.text || e.Era.Code != tc.code || e.YYMMDD() != tc.yymmdd {
			t.Errorf("%s = %s code %s %s, want %s code %s %s", tc.date, e, e.Era.Code, e.YYMMDD(), tc.text, tc.code, tc.yymmdd)
		}
	}
	if _, err := ToEra(date(t, "1868-01-24")); !errors.Is(err, ErrBeforeEras) {
		t.Errorf("1868-01-24: err = %v, want ErrBeforeEras", err)
	}
	if _, err := ToEra(calendar.Date{}); err == nil {
		t.Error("the zero date has an era")
	}
}

// Every day from 1900 to 2100 belongs to exactly the era whose start is the latest not after it, and the era
// year grows by one each 1 January within an era.
func TestToEraIsContinuous(t *testing.T) {
	t.Parallel()
	d := date(t, "1900-01-01")
	prev, _ := ToEra(d)
	for d.Year() < 2100 {
		d = d.AddDays(1)
		e, err := ToEra(d)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case e.Era != prev.Era:
			if e.Year != 1 {
				t.Fatalf("%s starts %s at year %d", d, e.Era.Name, e.Year)
			}
		case d.Month() == time.January && d.Day() == 1:
			if e.Year != prev.Year+1 {
				t.Fatalf("%s: year %d after %d", d, e.Year, prev.Year)
			}
		case e.Year != prev.Year:
			t.Fatalf("%s: year changed mid-year", d)
		}
		prev = e
	}
}

func TestFormDateOf(t *testing.T) {
	t.Parallel()
	got, err := FormDateOf(date(t, "2019-05-01"))
	if err != nil || got != (ports.FormDate{ISO: "2019-05-01", Era: "令和元年5月1日"}) {
		t.Errorf("FormDateOf = %+v, %v", got, err)
	}
	if got, err := FormDateOf(calendar.Date{}); err != nil || got != (ports.FormDate{}) {
		t.Errorf("FormDateOf(zero) = %+v, %v; want blank", got, err)
	}
}

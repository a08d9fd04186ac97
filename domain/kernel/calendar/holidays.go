package calendar

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// ErrOutOfRange is returned for a date outside the supported years MinYear–MaxYear (or the zero Date), for
// which the calendar cannot promise the holidays.
var ErrOutOfRange = errors.New("calendar: date outside the supported years")

// Entry is one holiday: its date and its Japanese name, such as "元日", "振替休日" or "国民の休日".
type Entry struct {
	Date Date
	Name string
}

// Holiday returns the Japanese name of the holiday on d and true, or "" and false when d is not a holiday.
// Holidays are national holidays (国民の祝日), 振替休日, 国民の休日 and one-off days off by special acts. Outside
// MinYear–MaxYear it reports no holiday; use Holidays or a Calendar method to get ErrOutOfRange instead.
func Holiday(d Date) (name string, ok bool) {
	if !supported(d) {
		return "", false
	}
	for _, e := range holidayTable()[d.Year()-MinYear] {
		if e.Date == d {
			return e.Name, true
		}
	}
	return "", false
}

// Holidays returns the holidays of a year in date order, or ErrOutOfRange outside MinYear–MaxYear. The
// caller owns the returned slice.
func Holidays(year int) ([]Entry, error) {
	if year < MinYear || year > MaxYear {
		return nil, fmt.Errorf("%w: %d (supported %d–%d)", ErrOutOfRange, year, MinYear, MaxYear)
	}
	return slices.Clone(holidayTable()[year-MinYear]), nil
}

func supported(d Date) bool { return d.Year() >= MinYear && d.Year() <= MaxYear }

// holidayTable holds every supported year's holidays, computed once: the rules are pure, and a lookup must be
// cheap because business-day arithmetic asks for one date after another.
var holidayTable = sync.OnceValue(func() [][]Entry {
	table := make([][]Entry, 0, MaxYear-MinYear+1)
	for y := MinYear; y <= MaxYear; y++ {
		table = append(table, computeYear(y))
	}
	return table
})

// computeYear applies the law to one year. No rule reaches across a year boundary (no holiday falls between
// 12/24 and 12/31), so a year is computed on its own.
func computeYear(y int) []Entry {
	national := nationalHolidays(y)
	holidays := maps.Clone(national)
	for d := range national {
		if sub, ok := substitute(d, national); ok {
			holidays[sub] = SubstituteHoliday
		}
	}
	// A day between two national holidays; the check that it is not a holiday already gives 振替休日 priority.
	for d := range national {
		between := d.AddDays(1)
		if _, ok := national[d.AddDays(2)]; !ok {
			continue
		}
		era, inForce := lawAt(citizensEras, between)
		if _, taken := holidays[between]; !inForce || taken || (era.notSunday && between.Weekday() == time.Sunday) {
			continue
		}
		holidays[between] = CitizensHoliday
	}
	for _, ex := range exceptions {
		if ex.y == y && ex.kind == special {
			holidays[mustDate(ex.y, ex.m, ex.d)] = ex.name
		}
	}
	entries := make([]Entry, 0, len(holidays))
	for d, name := range holidays {
		entries = append(entries, Entry{Date: d, Name: name})
	}
	slices.SortFunc(entries, func(a, b Entry) int { return a.Date.Compare(b.Date) })
	return entries
}

// nationalHolidays returns the 国民の祝日 of year y, and the one-off days the special acts treat as such:
// the days the 振替休日 and 国民の休日 rules look at.
func nationalHolidays(y int) map[Date]string {
	movedAway := map[string]bool{}
	national := map[Date]string{}
	for _, ex := range exceptions {
		if ex.y == y && ex.kind != special {
			national[mustDate(ex.y, ex.m, ex.d)] = ex.name
		}
		if ex.y == y && ex.kind == moved {
			movedAway[ex.name] = true
		}
	}
	for _, def := range definitions {
		if y < def.from || (def.to != 0 && y > def.to) || movedAway[def.name] {
			continue
		}
		national[def.date(y)] = def.name
	}
	return national
}

// substitute returns the 振替休日 for the national holiday d, if d is a Sunday under a version of the rule.
func substitute(d Date, national map[Date]string) (Date, bool) {
	era, inForce := lawAt(substituteEras, d)
	if !inForce || d.Weekday() != time.Sunday {
		return Date{}, false
	}
	next := d.AddDays(1)
	for era.nearestFree {
		if _, ok := national[next]; !ok {
			return next, true
		}
		next = next.AddDays(1)
	}
	_, isHoliday := national[next]
	return next, !isHoliday
}

// date returns the day of the definition in year y.
func (def definition) date(y int) Date {
	switch def.how {
	case nthMonday:
		first := mustDate(y, def.month, 1)
		toMonday := (int(time.Monday) - int(first.Weekday()) + 7) % 7
		return first.AddDays(toMonday + 7*(def.n-1))
	case vernalEquinox, autumnalEquinox:
		return equinox(y, def.how, def.month)
	}
	return mustDate(y, def.month, def.n)
}

// equinox returns the equinox day of year y by the formula of its era (see equinoxEra).
func equinox(y int, how howDated, month time.Month) Date {
	i := slices.IndexFunc(equinoxEras, func(e equinoxEra) bool { return e.from <= y && y <= e.to })
	if i < 0 {
		panic(fmt.Sprintf("calendar: no equinox formula for %d", y)) // supported years are all covered; a test checks it
	}
	era := equinoxEras[i]
	base := era.vernal
	if how == autumnalEquinox {
		base = era.autumnal
	}
	// The leap-day term truncates towards zero (int() of the formula as published); it differs from ⌊⌋ only
	// before leapBase, where truncation gives the announced days of the 1970s. The whole is never negative.
	day := (base+equinoxYearLength*(y-1980))/1_000_000 - (y-era.leapBase)/4
	return mustDate(y, month, day)
}

// dated is a version of a rule, in force from a date.
type dated interface{ since() Date }

func (e substituteEra) since() Date { return e.from }
func (e citizensEra) since() Date   { return e.from }

// lawAt returns the version of a rule in force on d (the versions are in date order), and false before the
// first.
func lawAt[E dated](versions []E, d Date) (E, bool) {
	var found E
	ok := false
	for _, v := range versions {
		if !d.Before(v.since()) {
			found, ok = v, true
		}
	}
	return found, ok
}

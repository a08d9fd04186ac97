package calendar

import (
	"errors"
	"fmt"
	"time"

	"github.com/roumu/roumu/domain/kernel"
)

// ErrInvalidDate is returned for a date that does not exist or is not written YYYY-MM-DD.
var ErrInvalidDate = errors.New("calendar: invalid date")

// The years a Date can hold: those that YYYY-MM-DD can write.
const (
	minDateYear = 1
	maxDateYear = 9999
)

// Date is a civil date (year, month, day) without a time of day or a time zone, such as a hire date or a
// deadline. Dates are comparable with ==. The zero Date is not a valid date (see IsZero): it stands for "no
// date", and every Calendar method rejects it.
type Date struct {
	year  int32
	month uint8
	day   uint8
}

// NewDate returns the date y-m-d, or ErrInvalidDate when it does not exist in the proleptic Gregorian
// calendar or the year is outside 1–9999. Unlike time.Date it never normalises (2月30日 is an error, not 3月2日),
// because a date that does not exist is a data error in HR records.
func NewDate(y int, m time.Month, d int) (Date, error) {
	if y < minDateYear || y > maxDateYear || m < time.January || m > time.December || d < 1 || d > daysIn(y, m) {
		return Date{}, fmt.Errorf("%w: %04d-%02d-%02d", ErrInvalidDate, y, int(m), d)
	}
	return Date{year: int32(y), month: uint8(m), day: uint8(d)}, nil
}

// ParseDate parses exactly "YYYY-MM-DD" (four-digit year, two-digit month and day, no spaces or time) into a
// Date. The format is strict so that every accepted string formats back to itself.
func ParseDate(s string) (Date, error) {
	if len(s) != len("2006-01-02") || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("%w: %q is not YYYY-MM-DD", ErrInvalidDate, s)
	}
	y, okY := atoi(s[0:4])
	m, okM := atoi(s[5:7])
	d, okD := atoi(s[8:10])
	if !okY || !okM || !okD {
		return Date{}, fmt.Errorf("%w: %q is not YYYY-MM-DD", ErrInvalidDate, s)
	}
	return NewDate(y, time.Month(m), d)
}

// DateOf returns the civil date of the instant t in Asia/Tokyo, where Roumu's business rules reason, whatever
// t's own location. It returns the zero Date for the zero time ("no instant" becomes "no date") and when the
// date is outside years 1–9999.
func DateOf(t time.Time) Date {
	if t.IsZero() {
		return Date{}
	}
	y, m, d := t.In(kernel.Tokyo).Date()
	date, err := NewDate(y, m, d)
	if err != nil {
		return Date{}
	}
	return date
}

// Year returns the year.
func (d Date) Year() int { return int(d.year) }

// Month returns the month.
func (d Date) Month() time.Month { return time.Month(d.month) }

// Day returns the day of the month.
func (d Date) Day() int { return int(d.day) }

// IsZero reports whether d is the zero Date, which is not a valid date.
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as YYYY-MM-DD (the zero Date as 0000-00-00).
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.year, d.month, d.day)
}

// MarshalText formats d as YYYY-MM-DD, so that a Date travels as that string in JSON and forms.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return nil, fmt.Errorf("%w: the zero Date", ErrInvalidDate)
	}
	return []byte(d.String()), nil
}

// UnmarshalText parses YYYY-MM-DD as ParseDate does.
func (d *Date) UnmarshalText(text []byte) error {
	parsed, err := ParseDate(string(text))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// AddDays returns the date n days after d (before it when n is negative). It returns the zero Date when d is
// the zero Date or the result is outside years 1–9999, rather than a date that cannot be written.
func (d Date) AddDays(n int) Date {
	if d.IsZero() {
		return Date{}
	}
	days := d.days()
	// Compare against the bounds before adding, so that no n can overflow.
	if n > maxDays-days || n < minDays-days {
		return Date{}
	}
	return fromDays(days + n)
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	// 1970-01-01, day 0, was a Thursday.
	return time.Weekday(((d.days() % 7) + 7 + int(time.Thursday)) % 7)
}

// Compare returns -1 when d is before o, 0 when they are the same date and +1 when d is after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.year != o.year:
		return cmp3(int(d.year), int(o.year))
	case d.month != o.month:
		return cmp3(int(d.month), int(o.month))
	default:
		return cmp3(int(d.day), int(o.day))
	}
}

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// at returns the instant of the given hour of d in Asia/Tokyo.
func (d Date) at(hour int) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, kernel.Tokyo)
}

func cmp3(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// atoi parses a string of ASCII digits only (no sign, no spaces), which strconv.Atoi would not guarantee.
func atoi(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if isLeap(y) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// The day numbers of the first and the last Date.
var (
	minDays = Date{year: minDateYear, month: 1, day: 1}.days()
	maxDays = Date{year: maxDateYear, month: 12, day: 31}.days()
)

// days returns the number of days from 1970-01-01 to d. It is Howard Hinnant's days_from_civil: arithmetic
// rather than time.Date, because the calendar asks for weekdays in its inner loops. Years are ≥ 1, so every
// division here is of non-negative numbers.
func (d Date) days() int {
	y, m := int(d.year), int(d.month)
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400                           // [0, 399]
	doy := (153*((m+9)%12)+2)/5 + int(d.day) - 1 // [0, 365], counted from 1 March
	doe := yoe*365 + yoe/4 - yoe/100 + doy       // [0, 146096]
	return era*146097 + doe - 719468
}

// fromDays is the inverse of days (Hinnant's civil_from_days) for day numbers of years 1–9999.
func fromDays(n int) Date {
	z := n + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if month > 12 {
		month -= 12
	}
	y := yoe + era*400
	if month <= 2 {
		y++
	}
	return Date{year: int32(y), month: uint8(month), day: uint8(day)}
}

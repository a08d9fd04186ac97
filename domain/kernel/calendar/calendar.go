package calendar

import (
	"errors"
	"fmt"
	"time"
)

// ErrNegative is returned when asked to add a negative number of business days or a negative duration.
var ErrNegative = errors.New("calendar: negative amount")

// The provider's business hours on a business day, in Asia/Tokyo: [09:00, 17:00).
const (
	openHour  = 9
	closeHour = 17
)

// The year-end and new-year closure (年末年始), 12/29–1/3, when the provider and the offices are closed.
const (
	yearEndFrom  = 29 // December
	newYearUntil = 3  // January
)

// Calendar is the provider's business calendar: business days are Monday to Friday except national holidays
// (see Holiday), the year-end closure 12/29–1/3 and the extra closure days given to New; business hours are
// 09:00–17:00 Asia/Tokyo on business days. Instants may be in any location; the Calendar reasons in
// Asia/Tokyo and returns instants in UTC, as they are stored.
//
// The zero Calendar is ready to use and has no extra closure days. A Calendar is immutable and safe for
// concurrent use.
type Calendar struct {
	closures map[Date]struct{}
}

// New returns a Calendar closed, besides weekends, holidays and the year end, on the given days, such as the
// summer closure configured for each year. It rejects the zero Date.
func New(closures ...Date) (Calendar, error) {
	set := make(map[Date]struct{}, len(closures))
	for i, d := range closures {
		if d.IsZero() {
			return Calendar{}, fmt.Errorf("%w: closure day %d is the zero Date", ErrInvalidDate, i)
		}
		set[d] = struct{}{}
	}
	return Calendar{closures: set}, nil
}

// IsBusinessDay reports whether d is a business day. It reports false outside MinYear–MaxYear, where the
// holidays are not known: no business promise should rest on such a day.
func (c Calendar) IsBusinessDay(d Date) bool {
	if !supported(d) {
		return false
	}
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	if (d.Month() == time.December && d.Day() >= yearEndFrom) || (d.Month() == time.January && d.Day() <= newYearUntil) {
		return false
	}
	if _, closed := c.closures[d]; closed {
		return false
	}
	_, holiday := Holiday(d)
	return !holiday
}

// BusinessDayOnOrAfter returns d when it is a business day, else the next business day: the rule that moves a
// deadline falling on a closed day.
func (c Calendar) BusinessDayOnOrAfter(d Date) (Date, error) {
	for day := d; supported(day); day = day.AddDays(1) {
		if c.IsBusinessDay(day) {
			return day, nil
		}
	}
	return Date{}, fmt.Errorf("%w: no business day on or after %v before %d", ErrOutOfRange, d, MaxYear+1)
}

// BusinessDayAfter returns the first business day strictly after d.
func (c Calendar) BusinessDayAfter(d Date) (Date, error) {
	if !supported(d) {
		return Date{}, fmt.Errorf("%w: %v", ErrOutOfRange, d)
	}
	return c.BusinessDayOnOrAfter(d.AddDays(1))
}

// AddBusinessDays returns the n-th business day after d (for n = 1 the first business day strictly after d,
// whether d is a business day or not); for n = 0 it returns BusinessDayOnOrAfter(d). A negative n is
// ErrNegative.
func (c Calendar) AddBusinessDays(d Date, n int) (Date, error) {
	if n < 0 {
		return Date{}, fmt.Errorf("%w: %d business days", ErrNegative, n)
	}
	if n == 0 {
		return c.BusinessDayOnOrAfter(d)
	}
	day := d
	for range n {
		var err error
		if day, err = c.BusinessDayAfter(day); err != nil {
			return Date{}, err
		}
	}
	return day, nil
}

// IsBusinessHours reports whether t falls within business hours: on a business day in Asia/Tokyo, at or after
// 09:00 and before 17:00.
func (c Calendar) IsBusinessHours(t time.Time) bool {
	d := DateOf(t)
	return c.IsBusinessDay(d) && !t.Before(d.at(openHour)) && t.Before(d.at(closeHour))
}

// NextOpening returns the next start of business hours (09:00 on a business day) at or after t, in UTC. During
// business hours that is the next business day's opening, not t.
func (c Calendar) NextOpening(t time.Time) (time.Time, error) {
	d, err := c.BusinessDayOnOrAfter(DateOf(t))
	if err == nil && d.at(openHour).Before(t) {
		d, err = c.BusinessDayAfter(d)
	}
	if err != nil {
		return time.Time{}, err
	}
	return d.at(openHour).UTC(), nil
}

// AddBusinessHours returns, in UTC, the earliest instant by which the duration d of business hours has
// passed since t, counting only time within business hours: Friday 16:30 JST plus one hour is the next
// business day at 09:30, Friday 16:00 plus one hour is Friday 17:00. With d = 0 it returns t. A negative d is
// ErrNegative.
func (c Calendar) AddBusinessHours(t time.Time, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("%w: %v of business hours", ErrNegative, d)
	}
	if !supported(DateOf(t)) {
		return time.Time{}, fmt.Errorf("%w: %v", ErrOutOfRange, t)
	}
	if d == 0 {
		return t.UTC(), nil
	}
	day, err := c.BusinessDayOnOrAfter(DateOf(t))
	for ; err == nil; day, err = c.BusinessDayAfter(day) {
		start, closing := day.at(openHour), day.at(closeHour)
		if t.After(start) {
			start = t
		}
		if left := closing.Sub(start); left > 0 {
			if d <= left {
				return start.Add(d).UTC(), nil
			}
			d -= left
		}
	}
	return time.Time{}, err
}

package efiling

import (
	"errors"
	"fmt"
	"time"

	"github.com/roumu/roumu/domain/kernel/calendar"
	"github.com/roumu/roumu/ports"
)

// ErrBeforeEras is returned for a date before 明治 (1868), which no form can write.
var ErrBeforeEras = errors.New("efiling: date before the Meiji era")

// Era is a Japanese era with the code that forms use for it.
type Era struct {
	Name  string // 令和
	Code  string // 9
	start calendar.Date
}

// eras, newest first. Each era begins on the day of its start (令和 on 2019-05-01, the 平成 day before it).
var eras = []Era{
	{Name: "令和", Code: "9", start: mustDate(2019, time.May, 1)},
	{Name: "平成", Code: "7", start: mustDate(1989, time.January, 8)},
	{Name: "昭和", Code: "5", start: mustDate(1926, time.December, 25)},
	{Name: "大正", Code: "3", start: mustDate(1912, time.July, 30)},
	// 明治 counts from 1868-01-25 (明治元年1月1日 in the old calendar), so years written in 明治 start on 1 January.
	{Name: "明治", Code: "1", start: mustDate(1868, time.January, 25)},
}

func mustDate(y int, m time.Month, d int) calendar.Date {
	date, err := calendar.NewDate(y, m, d)
	if err != nil {
		panic(err)
	}
	return date
}

// EraDate is a date written in a Japanese era.
type EraDate struct {
	Era   Era
	Year  int // year of the era, 1 for 元年
	Month int
	Day   int
}

// ToEra writes d in the era it falls in.
func ToEra(d calendar.Date) (EraDate, error) {
	if d.IsZero() {
		return EraDate{}, fmt.Errorf("efiling: no date")
	}
	for _, e := range eras {
		if !d.Before(e.start) {
			return EraDate{Era: e, Year: d.Year() - e.start.Year() + 1, Month: int(d.Month()), Day: d.Day()}, nil
		}
	}
	return EraDate{}, fmt.Errorf("%w: %s", ErrBeforeEras, d)
}

// String writes the date as on a paper form: 令和8年4月1日, 令和元年5月1日.
func (e EraDate) String() string {
	year := "元"
	if e.Year > 1 {
		year = fmt.Sprint(e.Year)
	}
	return fmt.Sprintf("%s%s年%d月%d日", e.Era.Name, year, e.Month, e.Day)
}

// YYMMDD writes the date as the CSV layout does after the era code: 080401.
func (e EraDate) YYMMDD() string { return fmt.Sprintf("%02d%02d%02d", e.Year%100, e.Month, e.Day) }

// FormDateOf returns d as a form date, or the blank FormDate for the zero Date.
func FormDateOf(d calendar.Date) (ports.FormDate, error) {
	if d.IsZero() {
		return ports.FormDate{}, nil
	}
	e, err := ToEra(d)
	if err != nil {
		return ports.FormDate{}, err
	}
	return ports.FormDate{ISO: d.String(), Era: e.String()}, nil
}

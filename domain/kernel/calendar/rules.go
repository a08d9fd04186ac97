package calendar

import "time"

// This file is the holiday law as data. A change of the law (a new holiday, a moved one, a one-off day off)
// is an edit of these tables; holidays.go only applies them.

// The years for which the rules are verified and the equinox formula holds.
const (
	MinYear = 1970
	MaxYear = 2099
)

// The names of the holidays that the law derives from the others.
const (
	SubstituteHoliday = "振替休日"  // 振替休日: a national holiday fell on a Sunday (law art. 3(2))
	CitizensHoliday   = "国民の休日" // 国民の休日: a day between two national holidays (law art. 3(3))
)

// howDated says how a definition finds its day in a year.
type howDated int

const (
	fixedDay        howDated = iota // on month/day
	nthMonday                       // on the nth Monday of month (ハッピーマンデー制度, from 2000)
	vernalEquinox                   // on 春分日, in March
	autumnalEquinox                 // on 秋分日, in September
)

// definition is one national holiday (国民の祝日) of article 2 of the law as in force from one year to another.
type definition struct {
	name     string
	from, to int // the years it is held, inclusive; to == 0 while in force
	how      howDated
	month    time.Month
	n        int // the day of the month for fixedDay, which Monday for nthMonday
}

// definitions is article 2 of the holiday law with its amendments since 1948. A renamed or moved holiday ends
// one row and starts another, so every year reads as the law stood then.
var definitions = []definition{
	{name: "元日", from: 1949, how: fixedDay, month: time.January, n: 1},
	{name: "成人の日", from: 1949, to: 1999, how: fixedDay, month: time.January, n: 15},
	{name: "成人の日", from: 2000, how: nthMonday, month: time.January, n: 2},
	{name: "建国記念の日", from: 1967, how: fixedDay, month: time.February, n: 11},
	{name: "天皇誕生日", from: 2020, how: fixedDay, month: time.February, n: 23},
	{name: "春分の日", from: 1949, how: vernalEquinox, month: time.March},
	{name: "天皇誕生日", from: 1949, to: 1988, how: fixedDay, month: time.April, n: 29},
	{name: "みどりの日", from: 1989, to: 2006, how: fixedDay, month: time.April, n: 29},
	{name: "昭和の日", from: 2007, how: fixedDay, month: time.April, n: 29},
	{name: "憲法記念日", from: 1949, how: fixedDay, month: time.May, n: 3},
	{name: "みどりの日", from: 2007, how: fixedDay, month: time.May, n: 4},
	{name: "こどもの日", from: 1949, how: fixedDay, month: time.May, n: 5},
	{name: "海の日", from: 1996, to: 2002, how: fixedDay, month: time.July, n: 20},
	{name: "海の日", from: 2003, how: nthMonday, month: time.July, n: 3},
	{name: "山の日", from: 2016, how: fixedDay, month: time.August, n: 11},
	{name: "敬老の日", from: 1966, to: 2002, how: fixedDay, month: time.September, n: 15},
	{name: "敬老の日", from: 2003, how: nthMonday, month: time.September, n: 3},
	{name: "秋分の日", from: 1948, how: autumnalEquinox, month: time.September},
	{name: "体育の日", from: 1966, to: 1999, how: fixedDay, month: time.October, n: 10},
	{name: "体育の日", from: 2000, to: 2019, how: nthMonday, month: time.October, n: 2},
	{name: "スポーツの日", from: 2020, how: nthMonday, month: time.October, n: 2},
	{name: "文化の日", from: 1948, how: fixedDay, month: time.November, n: 3},
	{name: "勤労感謝の日", from: 1948, how: fixedDay, month: time.November, n: 23},
	{name: "天皇誕生日", from: 1989, to: 2018, how: fixedDay, month: time.December, n: 23},
}

// equinoxEra holds the constants of the usual approximation of the equinox days for a range of years:
// day = ⌊base + 0.242194·(Y−1980)⌋ − (Y−leapBase)/4, the division truncating towards zero. The law names the
// days (春分日, 秋分日); the Cabinet Office announces them each February for the next year from the National
// Astronomical Observatory's ephemeris, and the formula gives every day published for 1970–2050. Constants
// are in millionths of a day so that the arithmetic is exact.
type equinoxEra struct {
	from, to         int
	vernal, autumnal int // base, in millionths of a day
	leapBase         int
}

// equinoxEras: the first row is the constants fitted to 1900–1979 (they give the published days of the
// 1970s, which the 1980 constants do not), the second those for 1980–2099 from DOMAIN.md.
var equinoxEras = []equinoxEra{
	{from: 1900, to: 1979, vernal: 20_835_700, autumnal: 23_258_800, leapBase: 1983},
	{from: 1980, to: 2099, vernal: 20_843_100, autumnal: 23_248_800, leapBase: 1980},
}

// equinoxYearLength is 0.242194 days (the tropical year beyond 365 days), in millionths.
const equinoxYearLength = 242_194

// exceptionKind says what a one-off act did to a date.
type exceptionKind int

const (
	// moved: a special act held a national holiday of that name on this date instead of its usual day that
	// year (the Olympic moves of 2020 and 2021). The holiday stays a 国民の祝日, so 振替休日 applies to it.
	moved exceptionKind = iota
	// deemed: a one-off 休日 that its act deems a 国民の祝日 for the 振替休日 and 国民の休日 rules
	// (平成30年法律第99号 for the accession in 2019; the days around 2019-05-01 follow as 国民の休日).
	deemed
	// special: a one-off 休日 by its own act, not deemed a 国民の祝日 (Imperial ceremonies of 1959–1993).
	special
)

// exception is a one-off change made by a special act.
type exception struct {
	y    int
	m    time.Month
	d    int
	name string
	kind exceptionKind
}

// exceptions are the special acts since 1948. 2019-04-30 and 2019-05-02 are not listed: they are 国民の休日 by
// the law's own rule once 2019-05-01 is deemed a national holiday, which is how the Cabinet Office lists them.
var exceptions = []exception{
	{y: 1959, m: time.April, d: 10, name: "結婚の儀", kind: special},
	{y: 1989, m: time.February, d: 24, name: "大喪の礼", kind: special},
	{y: 1990, m: time.November, d: 12, name: "即位礼正殿の儀", kind: special},
	{y: 1993, m: time.June, d: 9, name: "結婚の儀", kind: special},
	{y: 2019, m: time.May, d: 1, name: "天皇の即位の日", kind: deemed},
	{y: 2019, m: time.October, d: 22, name: "即位礼正殿の儀", kind: deemed},
	{y: 2020, m: time.July, d: 23, name: "海の日", kind: moved},
	{y: 2020, m: time.July, d: 24, name: "スポーツの日", kind: moved},
	{y: 2020, m: time.August, d: 10, name: "山の日", kind: moved},
	{y: 2021, m: time.July, d: 22, name: "海の日", kind: moved},
	{y: 2021, m: time.July, d: 23, name: "スポーツの日", kind: moved},
	{y: 2021, m: time.August, d: 8, name: "山の日", kind: moved},
}

// substituteEra is a version of article 3(2), the 振替休日, by the date of the Sunday holiday.
type substituteEra struct {
	from Date
	// nearestFree: the substitute is the nearest following day that is not a national holiday (from 2007);
	// otherwise only the Monday, and only if the Monday is not a national holiday itself.
	nearestFree bool
}

// substituteEras: introduced by the amendment in force from 1973-04-12, extended by the 2005 amendment in
// force from 2007-01-01.
var substituteEras = []substituteEra{
	{from: mustDate(1973, time.April, 12)},
	{from: mustDate(2007, time.January, 1), nearestFree: true},
}

// citizensEra is a version of article 3(3), the 国民の休日: a day whose previous and next days are both
// national holidays, and which is not a national holiday itself, is a 休日.
type citizensEra struct {
	from Date
	// notSunday: Sundays (and 振替休日) are excluded, as the text did until 2006.
	notSunday bool
}

// citizensEras: introduced by the amendment in force from 1985-12-27, reworded from 2007-01-01.
var citizensEras = []citizensEra{
	{from: mustDate(1985, time.December, 27), notSunday: true},
	{from: mustDate(2007, time.January, 1)},
}

// mustDate builds a Date of the tables above; a bad literal is a programming error caught by any test.
func mustDate(y int, m time.Month, d int) Date {
	date, err := NewDate(y, m, d)
	if err != nil {
		panic(err)
	}
	return date
}

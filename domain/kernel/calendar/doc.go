// Package calendar is the Japanese business calendar of the shared kernel: a civil Date without a time zone,
// the national holidays computed from the rules of the holiday law (国民の祝日に関する法律) and the special
// acts, and the provider's Calendar of business days and business hours (Monday–Friday 09:00–17:00 in
// Asia/Tokyo, closed on national holidays, over the year end 12/29–1/3 and on configured closure days).
//
// The holidays are computed, not looked up, so the calendar keeps working past any published list. The law is
// kept as data (rules.go): a table of holiday definitions with the years they are in force, a table of one-off
// exceptions, and the dates from which the 振替休日 and 国民の休日 rules apply. A change of the law is an edit
// of those tables.
//
// The rules are verified against the Cabinet Office's published list for 1970–2050 and rely on the equinox
// formula, which is valid up to 2099; so the supported years are MinYear to MaxYear. Outside them Holiday
// reports no holiday, Holidays and every Calendar method that returns a date or an instant return
// ErrOutOfRange, and the Calendar's predicates report false. Standard library only.
package calendar

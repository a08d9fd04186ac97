package procedures

import (
	"fmt"
	"time"

	"github.com/roumu/roumu/domain/kernel/calendar"
	"github.com/roumu/roumu/ports"
)

// deadlineRule is how a procedure's legal deadline follows from its fact date: either a number of days
// counted from the day after the fact (DOMAIN.md: a hire on the 1st is due by the 6th), or a day of the fact's
// month or of a later one (the 10th of the next month). Legal deadlines falling on a day the offices are
// closed move to the next open day (interpretation).
type deadlineRule struct {
	days        int // within days after the fact; 0 for a day-of-month rule
	monthOffset int // day-of-month rule: months after the fact's month
	day         int // day-of-month rule: the day
	JA, EN      string
}

func withinDays(n int) deadlineRule {
	return deadlineRule{days: n,
		JA: fmt.Sprintf("事実発生日の翌日から起算して%d日以内", n),
		EN: fmt.Sprintf("within %d days counted from the day after the fact", n)}
}

// promptly is a 速やかに deadline; the target of n days is an interpretation, so that such procedures are
// on the dashboard too.
func promptly(n int) deadlineRule {
	r := withinDays(n)
	r.JA = fmt.Sprintf("速やかに（目安: 事実発生日の翌日から%d日以内）", n)
	r.EN = fmt.Sprintf("promptly (target: within %d days after the fact)", n)
	return r
}

func dayOfMonth(monthOffset, day int) deadlineRule {
	r := deadlineRule{monthOffset: monthOffset, day: day}
	switch monthOffset {
	case 0:
		r.JA, r.EN = fmt.Sprintf("事実発生月の%d日まで", day), fmt.Sprintf("by the %s of the month of the fact", ordinal(day))
	case 1:
		r.JA, r.EN = fmt.Sprintf("事実発生日の属する月の翌月%d日まで", day), fmt.Sprintf("by the %s of the month after the fact", ordinal(day))
	default:
		r.JA, r.EN = fmt.Sprintf("事実発生月の%dか月後の%d日まで", monthOffset, day), fmt.Sprintf("by the %s of the %d-th month after the fact", ordinal(day), monthOffset)
	}
	return r
}

func ordinal(n int) string {
	switch {
	case n%100 >= 11 && n%100 <= 13:
		return fmt.Sprintf("%dth", n)
	case n%10 == 1:
		return fmt.Sprintf("%dst", n)
	case n%10 == 2:
		return fmt.Sprintf("%dnd", n)
	case n%10 == 3:
		return fmt.Sprintf("%drd", n)
	}
	return fmt.Sprintf("%dth", n)
}

// legal returns the legal deadline of a fact on day fact.
func (r deadlineRule) legal(fact calendar.Date) (calendar.Date, error) {
	if r.days > 0 {
		return fact.AddDays(r.days), nil
	}
	month := int(fact.Month()) - 1 + r.monthOffset
	return calendar.NewDate(fact.Year()+month/12, time.Month(month%12+1), r.day)
}

// deadline computes the legal deadline of a fact and the due date on cal: the legal deadline, or the next
// business day when it falls on a weekend, a holiday, the year end (12/29–1/3) or a closure day.
func (r deadlineRule) deadline(cal calendar.Calendar, fact calendar.Date) (ports.ProcedureDeadline, error) {
	legal, err := r.legal(fact)
	if err != nil {
		return ports.ProcedureDeadline{}, err
	}
	due, err := cal.BusinessDayOnOrAfter(legal)
	if err != nil {
		return ports.ProcedureDeadline{}, err
	}
	return ports.ProcedureDeadline{LegalDate: legal.String(), DueDate: due.String(), Moved: due != legal,
		RuleJA: r.JA, RuleEN: r.EN}, nil
}

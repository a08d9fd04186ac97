package notices

import (
	"fmt"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/kernel/calendar"
	"github.com/roumu/roumu/ports"
)

// Policy holds the numbers the service specification promises for notices, in one place.
//
// Incident posting deadline. The specification reads "within 1 hour when the incident is known during
// business hours (Mon–Fri 09:00–17:00 on business days), else by the next business day's opening". The
// condition is on when the incident became known, and the promise for that case is one hour of clock time:
// an incident known at 16:30 on a business day is due at 17:30 the same day, not at 09:30 on the next business
// day (which "one business hour" would give) nor at the next opening. It is the stricter reading, and the one
// a customer would take from the wording. Known outside business hours (evenings, weekends, holidays, the
// year-end closure 12/29–1/3), the deadline is the next business day's 09:00.
//
// Maintenance. A window must be announced at least MaintenanceNoticeMonths calendar months ahead, counted in
// Asia/Tokyo with time.AddDate semantics: announced 4/10 14:00, the earliest start is 5/10 14:00; a day
// missing from the target month overflows into the next (announced 1/31, earliest 3/3, or 3/2 in a leap
// year), so the notice is never shorter than a calendar month. A window lasts at most MaintenanceMaxDuration.
// More than MaintenancePerYear windows starting in one calendar year (Asia/Tokyo) are allowed but warned
// about, since the specification says "about four a year".
type Policy struct {
	Calendar                calendar.Calendar
	IncidentPostWithin      time.Duration // when known during business hours
	ResolvedShownFor        time.Duration // how long the login page keeps showing a resolved incident
	MaintenanceNoticeMonths int
	MaintenanceMaxDuration  time.Duration
	MaintenancePerYear      int
}

// DefaultPolicy is the policy of the service specification, on the calendar without extra closure days.
var DefaultPolicy = Policy{
	IncidentPostWithin:      time.Hour,
	ResolvedShownFor:        7 * 24 * time.Hour,
	MaintenanceNoticeMonths: 1,
	MaintenanceMaxDuration:  6 * time.Hour,
	MaintenancePerYear:      4,
}

// IncidentDeadline returns, in UTC, the instant by which an incident known at knownAt must be posted.
func (p Policy) IncidentDeadline(knownAt time.Time) (time.Time, error) {
	if p.Calendar.IsBusinessHours(knownAt) {
		return knownAt.Add(p.IncidentPostWithin).UTC(), nil
	}
	return p.Calendar.NextOpening(knownAt)
}

// EarliestMaintenanceStart returns the earliest start of a window announced at announcedAt.
func (p Policy) EarliestMaintenanceStart(announcedAt time.Time) time.Time {
	return announcedAt.In(kernel.Tokyo).AddDate(0, p.MaintenanceNoticeMonths, 0).UTC()
}

// CheckMaintenance returns one field error per broken rule for a window [startsAt, endsAt) announced at
// announcedAt.
func (p Policy) CheckMaintenance(announcedAt, startsAt, endsAt time.Time) []ports.FieldError {
	var errs []ports.FieldError
	if startsAt.IsZero() {
		errs = append(errs, required("starts_at"))
	} else if earliest := p.EarliestMaintenanceStart(announcedAt); startsAt.Before(earliest) {
		at := earliest.In(kernel.Tokyo).Format("2006-01-02 15:04")
		errs = append(errs, ports.FieldError{Field: "starts_at", Code: "notice_too_short",
			MessageEN: fmt.Sprintf("must be announced at least %d month(s) ahead: start at %s JST or later", p.MaintenanceNoticeMonths, at),
			MessageJA: fmt.Sprintf("%dか月以上前に告知する必要があります。開始は %s（日本時間）以降にしてください", p.MaintenanceNoticeMonths, at)})
	}
	switch {
	case endsAt.IsZero():
		errs = append(errs, required("ends_at"))
	case startsAt.IsZero():
	case !endsAt.After(startsAt):
		errs = append(errs, ports.FieldError{Field: "ends_at", Code: "before_start",
			MessageEN: "must be after the start", MessageJA: "開始日時より後にしてください"})
	case endsAt.Sub(startsAt) > p.MaintenanceMaxDuration:
		errs = append(errs, ports.FieldError{Field: "ends_at", Code: "too_long",
			MessageEN: fmt.Sprintf("a maintenance window lasts at most %v", p.MaintenanceMaxDuration),
			MessageJA: fmt.Sprintf("メンテナンス時間は最長%.0f時間です", p.MaintenanceMaxDuration.Hours())})
	}
	return errs
}

// MaintenanceYear returns the calendar year (Asia/Tokyo) in which a window starting at startsAt counts, as
// the instants [from, until).
func MaintenanceYear(startsAt time.Time) (from, until time.Time) {
	y := startsAt.In(kernel.Tokyo).Year()
	from = time.Date(y, time.January, 1, 0, 0, 0, 0, kernel.Tokyo)
	return from.UTC(), from.AddDate(1, 0, 0).UTC()
}

// YearlyWarnings warns when a new window would exceed the promised number in its year, given how many other
// windows (not cancelled) start in that year.
func (p Policy) YearlyWarnings(others int) []ports.Warning {
	if others < p.MaintenancePerYear {
		return nil
	}
	return []ports.Warning{{Code: "maintenance_per_year",
		MessageEN: fmt.Sprintf("This is maintenance window %d this year; the service specification promises about %d a year.", others+1, p.MaintenancePerYear),
		MessageJA: fmt.Sprintf("今年%d回目の計画メンテナンスです。サービス仕様では年%d回程度としています。", others+1, p.MaintenancePerYear)}}
}

// maintenanceAt returns the window in force at now among the notices (the one ending last, when windows
// overlap) and how long until the service is back: until the end of that window or of the last window that
// follows on without a gap. Cancelled windows do not count.
func maintenanceAt(notices []ports.NoticeRecord, now time.Time) (ports.NoticeRecord, time.Duration, bool) {
	var windows []ports.NoticeRecord
	for _, n := range notices {
		if n.Kind == ports.NoticeMaintenance && n.CancelledAt.IsZero() {
			windows = append(windows, n)
		}
	}
	var current ports.NoticeRecord
	found := false
	for _, w := range windows {
		if !w.StartsAt.After(now) && now.Before(w.EndsAt) && (!found || w.EndsAt.After(current.EndsAt)) {
			current, found = w, true
		}
	}
	if !found {
		return ports.NoticeRecord{}, 0, false
	}
	end := current.EndsAt
	for extended := true; extended; {
		extended = false
		for _, w := range windows {
			if !w.StartsAt.After(end) && w.EndsAt.After(end) {
				end, extended = w.EndsAt, true
			}
		}
	}
	// Retry-After counts whole seconds: round up, so that a client never comes back before the end.
	wait := (end.Sub(now) + time.Second - 1).Truncate(time.Second)
	return current, max(time.Second, wait), true
}

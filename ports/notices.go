package ports

import (
	"context"
	"time"
)

// Notice kinds: an incident (障害) posted after the fact, or planned maintenance (計画メンテナンス) announced ahead.
const (
	NoticeIncident    = "incident"
	NoticeMaintenance = "maintenance"
)

// Notice severities. Incidents are minor, major or critical; maintenance is info.
const (
	SeverityInfo     = "info"
	SeverityMinor    = "minor"
	SeverityMajor    = "major"
	SeverityCritical = "critical"
)

// NoticeText is what a notice says, in Japanese and English. The English texts may be empty: readers then
// fall back to the Japanese ones.
type NoticeText struct {
	TitleJA string
	TitleEN string
	BodyJA  string
	BodyEN  string
}

// NoticeRecord is a notice as stored. The notices module fills every field; VisibleFrom and VisibleUntil are
// its decision of when the login page shows the notice, kept on the record so that a store can select the
// current notices with one indexed query.
type NoticeRecord struct {
	ID       string
	Kind     string // NoticeIncident or NoticeMaintenance
	Severity string
	NoticeText
	// Incidents: when the provider learnt of it, the promised posting deadline computed from KnownAt, and
	// when it was resolved (zero while open).
	KnownAt    time.Time
	DeadlineAt time.Time
	ResolvedAt time.Time
	// Maintenance: the window [StartsAt, EndsAt), and when it was called off (zero unless cancelled).
	StartsAt    time.Time
	EndsAt      time.Time
	CancelledAt time.Time
	PostedAt    time.Time // when it was published
	PostedBy    string    // operator account ID
	// The login page shows the notice at instants in [VisibleFrom, VisibleUntil); a zero VisibleUntil
	// means until further notice (an open incident).
	VisibleFrom  time.Time
	VisibleUntil time.Time
	UpdatedAt    time.Time
}

// NoticeFilter selects notices for ListNotices; zero fields do not filter. StartsFrom and StartsBefore bound
// StartsAt, so they select maintenance windows only: a notice without a start is never within a bound.
type NoticeFilter struct {
	Kind         string
	StartsFrom   time.Time
	StartsBefore time.Time
	Limit        int // 0 = no limit
}

// NoticeStore keeps the provider's notices. Notices belong to no tenant: every tenant sees the same ones.
type NoticeStore interface {
	// CreateNotice stores a new notice; ErrConflict when the ID is taken.
	CreateNotice(ctx context.Context, n NoticeRecord) error
	// UpdateNotice applies fn to the current record atomically (no lost update) and stores the result; an
	// error from fn changes nothing and is returned. ErrNotFound for an unknown ID.
	UpdateNotice(ctx context.Context, id string, fn func(*NoticeRecord) error) (NoticeRecord, error)
	// ListCurrentNotices returns the notices visible at the instant at (VisibleFrom <= at and, unless
	// VisibleUntil is zero, at < VisibleUntil), by VisibleFrom, newest first, then by ID.
	ListCurrentNotices(ctx context.Context, at time.Time) ([]NoticeRecord, error)
	// ListNotices returns the notices that f selects, by PostedAt, newest first, then by ID.
	ListNotices(ctx context.Context, f NoticeFilter) ([]NoticeRecord, error)
}

// Notice is a notice as shown. The operator-only fields (PostedBy, Overdue) are empty in Current.
type Notice struct {
	ID       string
	Kind     string
	Severity string
	NoticeText
	KnownAt     time.Time
	DeadlineAt  time.Time // incidents: the promised posting deadline
	PostedAt    time.Time
	ResolvedAt  time.Time
	StartsAt    time.Time
	EndsAt      time.Time
	CancelledAt time.Time
	PostedBy    string
	// Overdue flags an incident posted after its deadline, for operators.
	Overdue bool
}

// PostIncidentCommand publishes an incident. KnownAt is when the provider learnt of it (not in the future);
// the posting deadline is computed from it.
type PostIncidentCommand struct {
	Severity string
	NoticeText
	KnownAt time.Time
}

// ScheduleMaintenanceCommand announces a maintenance window [StartsAt, EndsAt).
type ScheduleMaintenanceCommand struct {
	NoticeText
	StartsAt time.Time
	EndsAt   time.Time
}

// Warning is advice that does not stop an operation, with a stable code and messages in both languages.
type Warning struct {
	Code      string
	MessageEN string
	MessageJA string
}

// Maintenance tells whether the service is inside a maintenance window.
type Maintenance struct {
	Active bool
	Notice Notice // the window in force, when Active
	// RetryAfter is how long until the service is back: the end of the window, or of the last window that
	// follows on without a gap. Whole seconds, at least one, when Active.
	RetryAfter time.Duration
}

// Notices is the driving port of the notices module: incident and maintenance notices on the login pages,
// and the maintenance switch of the HTTP adapter. Posting and listing need a fully logged-in operator.
type Notices interface {
	// PostIncident publishes an incident now. The result carries its posting deadline and whether the
	// posting was overdue.
	PostIncident(ctx context.Context, p Principal, cmd PostIncidentCommand) (Notice, error)
	// ResolveIncident marks an incident resolved; the login page keeps showing it for a few days.
	ResolveIncident(ctx context.Context, p Principal, id string) (Notice, error)
	// IncidentDeadline returns the posting deadline for an incident known at knownAt, so that the console
	// can show it before anything is posted.
	IncidentDeadline(knownAt time.Time) (time.Time, error)
	// ScheduleMaintenance announces a window, refusing one announced less than a month ahead or longer than
	// the maximum; warnings (such as more windows in a year than promised) do not stop it.
	ScheduleMaintenance(ctx context.Context, p Principal, cmd ScheduleMaintenanceCommand) (Notice, []Warning, error)
	// CancelMaintenance calls a window off; the login page shows it as cancelled until its planned end.
	CancelMaintenance(ctx context.Context, p Principal, id string) (Notice, error)
	// Current returns the notices for the login pages, for anyone (no authentication).
	Current(ctx context.Context) ([]Notice, error)
	// List returns every notice, newest first, for operators.
	List(ctx context.Context, p Principal) ([]Notice, error)
	// InMaintenance tells whether now is inside a maintenance window that was not cancelled.
	InMaintenance(ctx context.Context, now time.Time) (Maintenance, error)
}

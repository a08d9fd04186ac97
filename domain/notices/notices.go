// Package notices is the notices module: incident and planned-maintenance notices on the login pages, with the
// posting deadline the service specification promises for incidents, the notice and length rules for
// maintenance (see Policy), and the maintenance switch that the HTTP adapter asks before answering 503 with
// Retry-After. It implements ports.Notices and reaches the world only through driven ports.
//
// When the login page shows a notice is decided here and kept on the record (VisibleFrom, VisibleUntil): an
// incident from its posting until ResolvedShownFor after its resolution, a maintenance window from its
// announcement until its planned end, cancelled or not (a cancelled one is shown as cancelled).
package notices

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/kernel/calendar"
	"github.com/roumu/roumu/ports"
)

// Deps are the driven ports the module needs. Calendar is the provider's business calendar (its zero value
// has no extra closure days).
type Deps struct {
	Notices  ports.NoticeStore
	Tx       ports.Transactor
	Audit    ports.AuditLog
	Clock    ports.Clock
	Calendar calendar.Calendar
}

// Service implements ports.Notices.
type Service struct {
	Deps
	policy Policy
}

var _ ports.Notices = (*Service)(nil)

// New builds the notices service with DefaultPolicy on deps.Calendar.
func New(deps Deps) (*Service, error) {
	if deps.Notices == nil || deps.Tx == nil || deps.Audit == nil || deps.Clock == nil {
		return nil, errors.New("notices: Notices, Tx, Audit and Clock are required")
	}
	policy := DefaultPolicy
	policy.Calendar = deps.Calendar
	return &Service{Deps: deps, policy: policy}, nil
}

// Text limits, in characters.
const (
	titleMaxLen = 200
	bodyMaxLen  = 4000
)

// PostIncident implements ports.Notices.
func (s *Service) PostIncident(ctx context.Context, p ports.Principal, cmd ports.PostIncidentCommand) (ports.Notice, error) {
	if err := s.requireOperator(ctx, p, "notice.incident.post"); err != nil {
		return ports.Notice{}, err
	}
	now := s.Clock.Now()
	n, fields := newNotice(ports.NoticeIncident, cmd.NoticeText)
	switch cmd.Severity {
	case ports.SeverityMinor, ports.SeverityMajor, ports.SeverityCritical:
		n.Severity = cmd.Severity
	default:
		fields = append(fields, ports.FieldError{Field: "severity", Code: "invalid_choice",
			MessageEN: "must be minor, major or critical", MessageJA: "minor、major、critical のいずれかを指定してください"})
	}
	switch {
	case cmd.KnownAt.IsZero():
		fields = append(fields, required("known_at"))
	case cmd.KnownAt.After(now):
		fields = append(fields, ports.FieldError{Field: "known_at", Code: "in_future",
			MessageEN: "must not be in the future", MessageJA: "未来の日時は指定できません"})
	default:
		deadline, err := s.policy.IncidentDeadline(cmd.KnownAt)
		if err != nil {
			fields = append(fields, outOfRange("known_at"))
		}
		n.KnownAt, n.DeadlineAt = cmd.KnownAt.UTC(), deadline
	}
	if len(fields) > 0 {
		return ports.Notice{}, invalid(fields)
	}
	n.PostedAt, n.PostedBy, n.VisibleFrom, n.UpdatedAt = now, p.AccountID, now, now
	view := operatorView(n)
	detail := map[string]string{"severity": n.Severity, "known_at": stamp(n.KnownAt), "deadline": stamp(n.DeadlineAt)}
	if view.Overdue {
		detail["overdue"] = "true"
	}
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Notices.CreateNotice(ctx, n); err != nil {
			return err
		}
		return s.record(ctx, event(p, "notice.incident.post", n.ID, detail))
	})
	if err != nil {
		return ports.Notice{}, err
	}
	return view, nil
}

// ResolveIncident implements ports.Notices.
func (s *Service) ResolveIncident(ctx context.Context, p ports.Principal, id string) (ports.Notice, error) {
	if err := s.requireOperator(ctx, p, "notice.incident.resolve"); err != nil {
		return ports.Notice{}, err
	}
	return s.update(ctx, p, id, "notice.incident.resolve", func(n *ports.NoticeRecord, now time.Time) error {
		if n.Kind != ports.NoticeIncident {
			return notFound()
		}
		if !n.ResolvedAt.IsZero() {
			return ports.NewError(ports.ErrConflict, "already_resolved",
				"This incident is already resolved.", "この障害は既に復旧済みです。")
		}
		n.ResolvedAt, n.VisibleUntil = now, now.Add(s.policy.ResolvedShownFor)
		return nil
	})
}

// IncidentDeadline implements ports.Notices.
func (s *Service) IncidentDeadline(knownAt time.Time) (time.Time, error) {
	deadline, err := s.policy.IncidentDeadline(knownAt)
	if err != nil {
		return time.Time{}, invalid([]ports.FieldError{outOfRange("known_at")})
	}
	return deadline, nil
}

// ScheduleMaintenance implements ports.Notices.
func (s *Service) ScheduleMaintenance(ctx context.Context, p ports.Principal, cmd ports.ScheduleMaintenanceCommand) (ports.Notice, []ports.Warning, error) {
	if err := s.requireOperator(ctx, p, "notice.maintenance.schedule"); err != nil {
		return ports.Notice{}, nil, err
	}
	now := s.Clock.Now()
	n, fields := newNotice(ports.NoticeMaintenance, cmd.NoticeText)
	fields = append(fields, s.policy.CheckMaintenance(now, cmd.StartsAt, cmd.EndsAt)...)
	if len(fields) > 0 {
		return ports.Notice{}, nil, invalid(fields)
	}
	n.Severity = ports.SeverityInfo
	n.StartsAt, n.EndsAt = cmd.StartsAt.UTC(), cmd.EndsAt.UTC()
	n.PostedAt, n.PostedBy, n.VisibleFrom, n.VisibleUntil, n.UpdatedAt = now, p.AccountID, now, n.EndsAt, now
	var warnings []ports.Warning
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		from, until := MaintenanceYear(n.StartsAt)
		same, err := s.Notices.ListNotices(ctx, ports.NoticeFilter{Kind: ports.NoticeMaintenance, StartsFrom: from, StartsBefore: until})
		if err != nil {
			return err
		}
		others := 0
		for _, o := range same {
			if o.CancelledAt.IsZero() {
				others++
			}
		}
		warnings = s.policy.YearlyWarnings(others)
		if err := s.Notices.CreateNotice(ctx, n); err != nil {
			return err
		}
		detail := map[string]string{"starts_at": stamp(n.StartsAt), "ends_at": stamp(n.EndsAt)}
		for _, w := range warnings {
			detail["warning"] = w.Code
		}
		return s.record(ctx, event(p, "notice.maintenance.schedule", n.ID, detail))
	})
	if err != nil {
		return ports.Notice{}, nil, err
	}
	return operatorView(n), warnings, nil
}

// CancelMaintenance implements ports.Notices. Cancelling a window in progress ends the maintenance at once.
func (s *Service) CancelMaintenance(ctx context.Context, p ports.Principal, id string) (ports.Notice, error) {
	if err := s.requireOperator(ctx, p, "notice.maintenance.cancel"); err != nil {
		return ports.Notice{}, err
	}
	return s.update(ctx, p, id, "notice.maintenance.cancel", func(n *ports.NoticeRecord, now time.Time) error {
		if n.Kind != ports.NoticeMaintenance {
			return notFound()
		}
		if !n.CancelledAt.IsZero() || !now.Before(n.EndsAt) {
			return ports.NewError(ports.ErrConflict, "maintenance_over",
				"This maintenance is already cancelled or over.", "このメンテナンスは既に中止または終了しています。")
		}
		n.CancelledAt = now
		return nil
	})
}

// update changes a notice with change, atomically with its audit entry.
func (s *Service) update(ctx context.Context, p ports.Principal, id, action string, change func(n *ports.NoticeRecord, now time.Time) error) (ports.Notice, error) {
	now := s.Clock.Now()
	var out ports.NoticeRecord
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.Notices.UpdateNotice(ctx, id, func(n *ports.NoticeRecord) error {
			if err := change(n, now); err != nil {
				return err
			}
			n.UpdatedAt = now
			return nil
		})
		if errors.Is(err, ports.ErrNotFound) {
			return notFound()
		}
		if err != nil {
			return err
		}
		return s.record(ctx, event(p, action, id, nil))
	})
	if err != nil {
		return ports.Notice{}, err
	}
	return operatorView(out), nil
}

// Current implements ports.Notices.
func (s *Service) Current(ctx context.Context) ([]ports.Notice, error) {
	recs, err := s.Notices.ListCurrentNotices(ctx, s.Clock.Now())
	return views(recs, publicView), err
}

// List implements ports.Notices.
func (s *Service) List(ctx context.Context, p ports.Principal) ([]ports.Notice, error) {
	if err := s.requireOperator(ctx, p, "notice.list"); err != nil {
		return nil, err
	}
	recs, err := s.Notices.ListNotices(ctx, ports.NoticeFilter{})
	return views(recs, operatorView), err
}

// InMaintenance implements ports.Notices. Every window in force at now is visible at now (a window is shown
// from its announcement to its end), so the current notices are all it needs to read.
func (s *Service) InMaintenance(ctx context.Context, now time.Time) (ports.Maintenance, error) {
	recs, err := s.Notices.ListCurrentNotices(ctx, now)
	if err != nil {
		return ports.Maintenance{}, err
	}
	w, retry, ok := maintenanceAt(recs, now)
	if !ok {
		return ports.Maintenance{}, nil
	}
	return ports.Maintenance{Active: true, Notice: publicView(w), RetryAfter: retry}, nil
}

// requireOperator lets through only a fully logged-in provider operator; anyone else is refused, audited.
func (s *Service) requireOperator(ctx context.Context, p ports.Principal, action string) error {
	if p.IsOperator() {
		return nil
	}
	e := event(p, action, "", nil)
	e.Outcome = ports.OutcomeDenied
	if err := s.record(ctx, e); err != nil {
		return err
	}
	return ports.NewError(ports.ErrForbidden, "forbidden",
		"Only provider operators may do this.", "この操作は運営事業者のオペレーターのみ行えます。")
}

// record appends an audit event. The audit log is part of the control, so a failure to record fails the
// operation that wanted it recorded.
func (s *Service) record(ctx context.Context, e ports.AuditEvent) error {
	e.At = s.Clock.Now()
	if e.Outcome == "" {
		e.Outcome = ports.OutcomeSuccess
	}
	if err := s.Audit.Record(ctx, e); err != nil {
		return fmt.Errorf("notices: audit: %w", err)
	}
	return nil
}

// event starts an audit event for an action of p on the notice id ("" for none).
func event(p ports.Principal, action, id string, detail map[string]string) ports.AuditEvent {
	e := ports.AuditEvent{TenantID: p.TenantID, ActorID: p.AccountID, ActorKind: p.Kind, Action: action,
		IP: p.Source.IP, UserAgent: p.Source.UserAgent, Detail: detail}
	if id != "" {
		e.Target = "notice:" + id
	}
	return e
}

// newNotice starts a notice of kind with its texts checked: Japanese title and body required, English
// optional (readers fall back to Japanese).
func newNotice(kind string, text ports.NoticeText) (ports.NoticeRecord, []ports.FieldError) {
	n := ports.NoticeRecord{ID: kernel.NewID(), Kind: kind}
	var fields []ports.FieldError
	check := func(field, value string, maxLen int, multiline, needed bool) string {
		value = strings.TrimSpace(strings.ReplaceAll(value, "\r\n", "\n"))
		if err, ok := checkText(field, value, maxLen, multiline, needed); !ok {
			fields = append(fields, err)
		}
		return value
	}
	n.TitleJA = check("title_ja", text.TitleJA, titleMaxLen, false, true)
	n.TitleEN = check("title_en", text.TitleEN, titleMaxLen, false, false)
	n.BodyJA = check("body_ja", text.BodyJA, bodyMaxLen, true, true)
	n.BodyEN = check("body_en", text.BodyEN, bodyMaxLen, true, false)
	return n, fields
}

// checkText checks one text: its length, and no control characters but newlines and tabs in a body.
func checkText(field, value string, maxLen int, multiline, needed bool) (ports.FieldError, bool) {
	n := utf8.RuneCountInString(value)
	if needed && n == 0 {
		return required(field), false
	}
	if n > maxLen {
		return ports.FieldError{Field: field, Code: "length",
			MessageEN: fmt.Sprintf("must be at most %d characters", maxLen),
			MessageJA: fmt.Sprintf("%d文字以内で入力してください", maxLen)}, false
	}
	for _, r := range value {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) || r == utf8.RuneError {
			return ports.FieldError{Field: field, Code: "control_character",
				MessageEN: "must not contain control characters", MessageJA: "制御文字は使用できません"}, false
		}
	}
	return ports.FieldError{}, true
}

// publicView is a notice as the login page shows it: without who posted it or whether it was late.
func publicView(n ports.NoticeRecord) ports.Notice {
	return ports.Notice{ID: n.ID, Kind: n.Kind, Severity: n.Severity, NoticeText: n.NoticeText, KnownAt: n.KnownAt, DeadlineAt: n.DeadlineAt, PostedAt: n.PostedAt,
		ResolvedAt: n.ResolvedAt, StartsAt: n.StartsAt, EndsAt: n.EndsAt, CancelledAt: n.CancelledAt}
}

// views converts records with view; never nil, so that no notices encode as an empty list.
func views(recs []ports.NoticeRecord, view func(ports.NoticeRecord) ports.Notice) []ports.Notice {
	out := make([]ports.Notice, 0, len(recs))
	for _, r := range recs {
		out = append(out, view(r))
	}
	return out
}

// operatorView is a notice for operators, with the overdue flag of a late incident posting.
func operatorView(n ports.NoticeRecord) ports.Notice {
	v := publicView(n)
	v.PostedBy = n.PostedBy
	v.Overdue = n.Kind == ports.NoticeIncident && n.PostedAt.After(n.DeadlineAt)
	return v
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func required(field string) ports.FieldError {
	return ports.FieldError{Field: field, Code: "required", MessageEN: "is required", MessageJA: "必須項目です"}
}

func outOfRange(field string) ports.FieldError {
	return ports.FieldError{Field: field, Code: "out_of_range",
		MessageEN: "is outside the years the business calendar covers", MessageJA: "営業日カレンダーの対象外の日時です"}
}

func invalid(fields []ports.FieldError) error {
	return ports.Invalid("validation_failed", "Some fields are invalid.", "入力内容に誤りがあります。", fields...)
}

func notFound() error {
	return ports.NewError(ports.ErrNotFound, "not_found", "The notice was not found.", "お知らせが見つかりません。")
}

package notices_test

import (
	"errors"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/memory"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/notices"
	"github.com/roumu/roumu/ports"
)

type env struct {
	svc   *notices.Service
	clock *kernel.FakeClock
	mem   *memory.Store
}

func newEnv(t *testing.T, now time.Time) env {
	t.Helper()
	mem := memory.New()
	clock := kernel.NewFakeClock(now)
	svc, err := notices.New(notices.Deps{Notices: mem, Tx: mem, Audit: audit.New(mem, clock), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return env{svc: svc, clock: clock, mem: mem}
}

var operator = ports.Principal{AccountID: "op-1", Kind: ports.KindOperator, Login: "ops", Stage: ports.StageFull,
	Source: ports.Source{IP: "192.0.2.1"}}

func errCode(err error) string {
	if e, ok := ports.AsError(err); ok {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return "untyped: " + err.Error()
}

func auditActions(t *testing.T, e env) []string {
	t.Helper()
	recs, err := e.mem.ListAudit(t.Context(), ports.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Event.Action+":"+r.Event.Outcome)
	}
	return out
}

func incident(knownAt time.Time) ports.PostIncidentCommand {
	return ports.PostIncidentCommand{Severity: ports.SeverityMajor, KnownAt: knownAt, NoticeText: ports.NoticeText{
		TitleJA: "ログインできない障害", TitleEN: "Login outage",
		BodyJA: "一部のお客様がログインできません。\n調査中です。", BodyEN: "Some customers cannot log in."}}
}

func maintenance(starts time.Time, d time.Duration) ports.ScheduleMaintenanceCommand {
	return ports.ScheduleMaintenanceCommand{StartsAt: starts, EndsAt: starts.Add(d),
		NoticeText: ports.NoticeText{TitleJA: "計画メンテナンス", BodyJA: "この時間はご利用いただけません。"}}
}

func TestOnlyFullOperatorsPostAndList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, jst(2025, 6, 13, 16, 40))
	for _, p := range []ports.Principal{
		{},
		{AccountID: "m-1", TenantID: "t-1", Kind: ports.KindMember, Stage: ports.StageFull, Roles: []string{ports.RoleAdmin}},
		{AccountID: "op-1", Kind: ports.KindOperator, Stage: ports.StageMFA},
	} {
		if _, err := e.svc.PostIncident(t.Context(), p, incident(jst(2025, 6, 13, 16, 30))); !errors.Is(err, ports.ErrForbidden) {
			t.Errorf("PostIncident by %+v: %v, want forbidden", p, err)
		}
		if _, _, err := e.svc.ScheduleMaintenance(t.Context(), p, maintenance(jst(2025, 8, 1, 1, 0), time.Hour)); !errors.Is(err, ports.ErrForbidden) {
			t.Errorf("ScheduleMaintenance by %+v: %v, want forbidden", p, err)
		}
		if _, err := e.svc.List(t.Context(), p); !errors.Is(err, ports.ErrForbidden) {
			t.Errorf("List by %+v: %v, want forbidden", p, err)
		}
	}
	got := auditActions(t, e)
	if len(got) != 9 || got[0] != "notice.incident.post:denied" {
		t.Errorf("audit = %v, want 9 denied entries", got)
	}
	if cur, err := e.svc.Current(t.Context()); err != nil || len(cur) != 0 {
		t.Errorf("Current = %v, %v; want nothing posted", cur, err)
	}
}

func TestIncidentPostingDeadlineAndOverdue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, jst(2025, 6, 13, 17, 20))
	onTime, err := e.svc.PostIncident(t.Context(), operator, incident(jst(2025, 6, 13, 16, 30)))
	if err != nil {
		t.Fatal(err)
	}
	if !onTime.DeadlineAt.Equal(jst(2025, 6, 13, 17, 30)) || onTime.Overdue || onTime.PostedBy != "op-1" {
		t.Errorf("posted at 17:20, known 16:30: %+v", onTime)
	}
	e.clock.Set(jst(2025, 6, 13, 17, 31))
	late, err := e.svc.PostIncident(t.Context(), operator, incident(jst(2025, 6, 13, 16, 30)))
	if err != nil {
		t.Fatal(err)
	}
	if !late.Overdue {
		t.Errorf("posted at 17:31 for a 17:30 deadline: not flagged overdue")
	}
	list, err := e.svc.List(t.Context(), operator)
	if err != nil || len(list) != 2 || list[0].ID != late.ID || !list[0].Overdue || list[1].Overdue {
		t.Errorf("List = %+v, %v; want the late one first, flagged", list, err)
	}
	cur, err := e.svc.Current(t.Context())
	if err != nil || len(cur) != 2 {
		t.Fatalf("Current = %v, %v", cur, err)
	}
	for _, n := range cur {
		if n.PostedBy != "" || n.Overdue {
			t.Errorf("the login page sees operator fields: %+v", n)
		}
	}
	recs, _ := e.mem.ListAudit(t.Context(), ports.AuditFilter{Action: "notice.incident.post"})
	if len(recs) != 2 || recs[1].Event.Detail["overdue"] != "true" || recs[0].Event.Detail["overdue"] != "" ||
		recs[1].Event.Target != "notice:"+late.ID || recs[1].Event.ActorID != "op-1" {
		t.Errorf("audit = %+v", recs)
	}
	if d, err := e.svc.IncidentDeadline(jst(2025, 6, 14, 10, 0)); err != nil || !d.Equal(jst(2025, 6, 16, 9, 0)) {
		t.Errorf("IncidentDeadline(Saturday) = %v, %v", d, err)
	}
}

func TestIncidentValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, jst(2025, 6, 13, 12, 0))
	cmd := incident(jst(2025, 6, 13, 12, 1)) // in the future
	cmd.Severity = "catastrophic"
	cmd.TitleJA = "  "
	cmd.TitleEN = "bad\x1btitle"
	cmd.BodyEN = "line one\nline two\ttabbed" // newlines and tabs are fine in a body
	_, err := e.svc.PostIncident(t.Context(), operator, cmd)
	pe, ok := ports.AsError(err)
	if !ok || !errors.Is(err, ports.ErrInvalid) {
		t.Fatalf("err = %v, want invalid", err)
	}
	got := fieldCodes(pe.Fields)
	want := []string{"title_ja:required", "title_en:control_character", "severity:invalid_choice", "known_at:in_future"}
	if len(got) != len(want) {
		t.Fatalf("fields = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("fields = %v, want %v", got, want)
		}
	}
	if list, _ := e.svc.List(t.Context(), operator); len(list) != 0 {
		t.Errorf("an invalid incident was stored: %v", list)
	}
}

func TestResolvedIncidentStaysOnTheLoginPageForAWeek(t *testing.T) {
	t.Parallel()
	e := newEnv(t, jst(2025, 6, 13, 10, 0))
	n, err := e.svc.PostIncident(t.Context(), operator, incident(jst(2025, 6, 13, 9, 40)))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Hour)
	resolved, err := e.svc.ResolveIncident(t.Context(), operator, n.ID)
	if err != nil || !resolved.ResolvedAt.Equal(jst(2025, 6, 13, 13, 0)) {
		t.Fatalf("ResolveIncident = %+v, %v", resolved, err)
	}
	if _, err := e.svc.ResolveIncident(t.Context(), operator, n.ID); errCode(err) != "already_resolved" {
		t.Errorf("second resolve: %v, want already_resolved", err)
	}
	if _, err := e.svc.ResolveIncident(t.Context(), operator, "nosuch"); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("unknown notice: %v, want not found", err)
	}
	e.clock.Advance(7*24*time.Hour - time.Second)
	if cur, _ := e.svc.Current(t.Context()); len(cur) != 1 {
		t.Errorf("a second before a week after resolution: %d notices, want 1", len(cur))
	}
	e.clock.Advance(time.Second)
	if cur, _ := e.svc.Current(t.Context()); len(cur) != 0 {
		t.Errorf("a week after resolution: %d notices, want 0", len(cur))
	}
}

func TestScheduleMaintenanceNoticeAndLength(t *testing.T) {
	t.Parallel()
	e := newEnv(t, jst(2025, 4, 10, 14, 0))
	_, _, err := e.svc.ScheduleMaintenance(t.Context(), operator, maintenance(jst(2025, 5, 9, 14, 0), time.Hour))
	if pe, ok := ports.AsError(err); !ok || len(pe.Fields) != 1 || pe.Fields[0].Code != "notice_too_short" {
		t.Errorf("29 days ahead: %v, want notice_too_short", err)
	}
	_, _, err = e.svc.ScheduleMaintenance(t.Context(), operator, maintenance(jst(2025, 5, 10, 14, 0), 6*time.Hour+time.Minute))
	if pe, ok := ports.AsError(err); !ok || len(pe.Fields) != 1 || pe.Fields[0].Code != "too_long" {
		t.Errorf("6h01m: %v, want too_long", err)
	}
	n, warnings, err := e.svc.ScheduleMaintenance(t.Context(), operator, maintenance(jst(2025, 5, 10, 14, 0), 6*time.Hour))
	if err != nil || len(warnings) != 0 || n.Kind != ports.NoticeMaintenance || n.Severity != ports.SeverityInfo {
		t.Fatalf("exactly one month ahead, 6 hours: %+v, %v, %v", n, warnings, err)
	}
	if cur, _ := e.svc.Current(t.Context()); len(cur) != 1 || cur[0].ID != n.ID {
		t.Errorf("announced maintenance is not on the login page: %v", cur)
	}
	if got := auditActions(t, e); len(got) != 1 || got[0] != "notice.maintenance.schedule:success" {
		t.Errorf("audit = %v, want only the accepted schedule", got)
	}
}

func TestFifthMaintenanceInAYearWarns(t *testing.T) {
	t.Parallel()
	e := newEnv(t, jst(2025, 1, 6, 10, 0))
	schedule := func(starts time.Time) (ports.Notice, []ports.Warning) {
		t.Helper()
		n, w, err := e.svc.ScheduleMaintenance(t.Context(), operator, maintenance(starts, 2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return n, w
	}
	for month := time.March; month <= time.June; month++ {
		if _, w := schedule(jst(2025, month, 15, 1, 0)); len(w) != 0 {
			t.Errorf("window in %v: warnings %v", month, w)
		}
	}
	fifth, w := schedule(jst(2025, 9, 15, 1, 0))
	if len(w) != 1 || w[0].Code != "maintenance_per_year" {
		t.Errorf("fifth window: warnings %v, want maintenance_per_year", w)
	}
	if _, w := schedule(jst(2026, 1, 10, 1, 0)); len(w) != 0 {
		t.Errorf("first window of the next year: warnings %v", w)
	}
	// A cancelled window does not count: after cancelling the fifth, a new one is the fifth again.
	if _, err := e.svc.CancelMaintenance(t.Context(), operator, fifth.ID); err != nil {
		t.Fatal(err)
	}
	if _, w := schedule(jst(2025, 10, 15, 1, 0)); len(w) != 1 {
		t.Errorf("fifth window after a cancellation: warnings %v, want one", w)
	}
	recs, _ := e.mem.ListAudit(t.Context(), ports.AuditFilter{Action: "notice.maintenance.schedule"})
	if len(recs) != 7 || recs[4].Event.Detail["warning"] != "maintenance_per_year" || recs[3].Event.Detail["warning"] != "" {
		t.Errorf("audit of the warning: %+v", recs)
	}
}

func TestInMaintenance(t *testing.T) {
	t.Parallel()
	e := newEnv(t, jst(2025, 1, 6, 10, 0))
	first, _, err := e.svc.ScheduleMaintenance(t.Context(), operator, maintenance(jst(2025, 3, 1, 1, 0), 2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// A second window that follows on without a gap: clients are told to come back after both.
	if _, _, err := e.svc.ScheduleMaintenance(t.Context(), operator, maintenance(jst(2025, 3, 1, 3, 0), time.Hour)); err != nil {
		t.Fatal(err)
	}
	other, _, err := e.svc.ScheduleMaintenance(t.Context(), operator, maintenance(jst(2025, 4, 1, 1, 0), time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		now    time.Time
		active bool
		retry  time.Duration
	}{
		{"before", jst(2025, 3, 1, 0, 59).Add(59 * time.Second), false, 0},
		{"at the start", jst(2025, 3, 1, 1, 0), true, 3 * time.Hour},
		{"inside the second", jst(2025, 3, 1, 3, 30), true, 30 * time.Minute},
		{"rounds up to whole seconds", jst(2025, 3, 1, 4, 0).Add(-1500 * time.Millisecond), true, 2 * time.Second},
		{"a nanosecond before the end", jst(2025, 3, 1, 4, 0).Add(-1), true, time.Second},
		{"at the end", jst(2025, 3, 1, 4, 0), false, 0},
	}
	for _, tc := range cases {
		m, err := e.svc.InMaintenance(t.Context(), tc.now)
		if err != nil || m.Active != tc.active || m.RetryAfter != tc.retry {
			t.Errorf("%s: %+v, %v; want active=%v retry=%v", tc.name, m, err, tc.active, tc.retry)
		}
	}
	if m, _ := e.svc.InMaintenance(t.Context(), jst(2025, 3, 1, 1, 30)); m.Notice.ID != first.ID || m.Notice.PostedBy != "" {
		t.Errorf("notice in force = %+v, want the first window, public view", m.Notice)
	}
	// Cancelling a window in progress ends the maintenance at once; the login page shows it as cancelled.
	e.clock.Set(jst(2025, 4, 1, 1, 10))
	if m, _ := e.svc.InMaintenance(t.Context(), e.clock.Now()); !m.Active {
		t.Fatal("not in the April window")
	}
	cancelled, err := e.svc.CancelMaintenance(t.Context(), operator, other.ID)
	if err != nil || cancelled.CancelledAt.IsZero() {
		t.Fatalf("CancelMaintenance = %+v, %v", cancelled, err)
	}
	if m, _ := e.svc.InMaintenance(t.Context(), e.clock.Now()); m.Active {
		t.Errorf("still in maintenance after cancelling: %+v", m)
	}
	if cur, _ := e.svc.Current(t.Context()); len(cur) != 1 || cur[0].CancelledAt.IsZero() {
		t.Errorf("Current = %+v, want the cancelled window, marked", cur)
	}
	if _, err := e.svc.CancelMaintenance(t.Context(), operator, other.ID); errCode(err) != "maintenance_over" {
		t.Errorf("cancelling twice: %v, want maintenance_over", err)
	}
	if _, err := e.svc.CancelMaintenance(t.Context(), operator, first.ID); errCode(err) != "maintenance_over" {
		t.Errorf("cancelling a past window: %v, want maintenance_over", err)
	}
}

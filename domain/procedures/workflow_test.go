package procedures_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/procedures"
	"github.com/roumu/roumu/ports"
)

// hired returns the health and pension acquisition procedure of a new hire.
func (e *env) hired(t *testing.T, number string) ports.Procedure {
	t.Helper()
	emp := e.hire(t, e.admin, number)
	e.consume(t)
	return byType(t, e.procs(t, e.admin, emp.ID), ports.ProcedureHealthPensionAcquisition)
}

// withFiler rewires the module with an electronic filing office and returns it.
func (e *env) withFiler(t *testing.T) *fakeFiler {
	t.Helper()
	filer := newFakeFiler()
	deps := e.deps
	deps.Filer = filer
	svc, err := procedures.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return filer
}

// TestWorkflowEndToEnd: prepared and submitted by hr, refused to the same person, approved by an admin,
// filed electronically (arrival number), completed when the office finishes; every step in the history
// (who, when, comment) and in the audit log.
func TestWorkflowEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	filer := e.withFiler(t)
	p := e.hired(t, "E1")

	edited, err := e.svc.UpdateProcedure(ctx, e.hr, p.ID, ports.ProcedureEdit{Fields: map[string]string{"monthly_pay.cash": "320000"}, IfVersion: p.Version})
	if err != nil || edited.Fields["monthly_pay.cash"] != "320000" {
		t.Fatalf("edit a draft: %v %v", err, edited.Fields)
	}
	e.clock.Advance(time.Hour)
	e.act(t, e.hr, p.ID, ports.ActionSubmit, "確認お願いします")
	if _, err := e.svc.Act(ctx, e.hr, p.ID, ports.ProcedureAction{Action: ports.ActionApprove}); code(err) != "approver_role_required" {
		t.Errorf("hr approving = %v, want approver_role_required", err)
	}
	e.clock.Advance(time.Hour)
	approved := e.act(t, e.admin, p.ID, ports.ActionApprove, "OK")
	if approved.PreparedBy != e.hr.AccountID || approved.ApprovedBy != e.admin.AccountID {
		t.Errorf("prepared by %s, approved by %s", approved.PreparedBy, approved.ApprovedBy)
	}
	if _, err := e.svc.UpdateProcedure(ctx, e.admin, p.ID, ports.ProcedureEdit{Fields: map[string]string{"position": "x"}}); code(err) != "not_editable" || !errors.Is(err, ports.ErrConflict) {
		t.Errorf("edit an approved procedure = %v", err)
	}
	filed := e.act(t, e.hr, p.ID, ports.ActionFile, "")
	if filed.Status != ports.ProcedureFiled || filed.ArrivalNumber == "" || len(filer.filed) != 1 || filer.filed[0].Fields["monthly_pay.cash"] != "320000" {
		t.Fatalf("filed: %s %q, the office got %d", filed.Status, filed.ArrivalNumber, len(filer.filed))
	}
	if n, err := e.svc.PollFilings(ctx); n != 0 || err != nil {
		t.Errorf("PollFilings while under review = %d, %v", n, err)
	}
	filer.answer(filed.ArrivalNumber, ports.FilingProgress{Done: true, Accepted: true})
	if n, err := e.svc.PollFilings(ctx); n != 1 || err != nil {
		t.Errorf("PollFilings after 手続終了 = %d, %v", n, err)
	}
	done, err := e.svc.GetProcedure(ctx, e.admin, p.ID)
	if err != nil || done.Status != ports.ProcedureCompleted {
		t.Fatalf("after polling: %v %s", err, done.Status)
	}

	var steps []string
	for _, h := range done.History {
		steps = append(steps, h.From+">"+h.To)
		if h.By == "" || h.At.IsZero() {
			t.Errorf("history without who or when: %+v", h)
		}
	}
	if want := []string{">draft", "draft>pending_approval", "pending_approval>approved", "approved>filed", "filed>completed"}; !slices.Equal(steps, want) {
		t.Errorf("history %v, want %v", steps, want)
	}
	if h := done.History[1]; h.By != e.hr.AccountID || h.Comment != "確認お願いします" || !h.At.Equal(start.Add(time.Hour)) {
		t.Errorf("submission recorded as %+v", h)
	}
	if h := done.History[4]; h.By != procedures.FilingActor {
		t.Errorf("completion recorded as %+v", h)
	}
	var actions []string
	for _, r := range e.audits(t, "procedure.") {
		if strings.HasSuffix(r.Event.Target, p.ID) {
			actions = append(actions, r.Event.Action+":"+r.Event.Outcome)
		}
	}
	want := []string{"procedure.create:success", "procedure.update:success", "procedure.submit:success", "procedure.approve:denied",
		"procedure.approve:success", "procedure.file:success", "procedure.complete:success"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit trail %v, want %v", actions, want)
	}
}

// TestFourEyes: nobody approves what they prepared (submitted or edited), whatever their role; another
// admin may.
func TestFourEyes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.hired(t, "E1")
	e.act(t, e.admin, p.ID, ports.ActionSubmit, "")
	_, err := e.svc.Act(ctx, e.admin, p.ID, ports.ProcedureAction{Action: ports.ActionApprove})
	if code(err) != "four_eyes" || !errors.Is(err, ports.ErrForbidden) {
		t.Fatalf("approving one's own submission = %v", err)
	}
	if e, ok := ports.AsError(err); !ok || e.MessageJA == "" || e.MessageEN == "" {
		t.Errorf("the refusal says why in both languages: %+v", e)
	}
	// Returned to the preparer, edited by admin2, resubmitted by the first admin: admin2 edited it, so only a
	// third approver may approve.
	e.act(t, e.admin2, p.ID, ports.ActionReturn, "報酬月額を確認してください")
	if _, err := e.svc.UpdateProcedure(ctx, e.admin2, p.ID, ports.ProcedureEdit{Fields: map[string]string{"monthly_pay.cash": "310000"}}); err != nil {
		t.Fatal(err)
	}
	e.act(t, e.admin, p.ID, ports.ActionSubmit, "直しました")
	for _, who := range []ports.Principal{e.admin, e.admin2} {
		if _, err := e.svc.Act(ctx, who, p.ID, ports.ProcedureAction{Action: ports.ActionApprove}); code(err) != "four_eyes" {
			t.Errorf("a preparer approving = %v", err)
		}
	}
	third := member("t1", ports.RoleAdmin, ports.RoleHR)
	if got := e.act(t, third, p.ID, ports.ActionApprove, ""); got.Status != ports.ProcedureApproved || got.ApprovedBy != third.AccountID {
		t.Errorf("approved: %+v", got)
	}
	if denied := e.audits(t, "procedure.approve"); len(denied) != 4 || denied[0].Event.Outcome != ports.OutcomeDenied || denied[0].Event.Detail["reason"] != "four_eyes" {
		t.Errorf("approval audits: %+v", denied)
	}
}

// TestIllegalTransitions: every action from a status that does not allow it is a conflict (409) with a
// message in both languages, and changes nothing.
func TestIllegalTransitions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// One procedure in each status.
	at := map[string]ports.Procedure{}
	path := []struct{ action, status string }{
		{ports.ActionSubmit, ports.ProcedurePendingApproval}, {ports.ActionApprove, ports.ProcedureApproved},
		{ports.ActionFile, ports.ProcedureFiled}, {ports.ActionComplete, ports.ProcedureCompleted},
	}
	for i, status := range []string{ports.ProcedureDraft, ports.ProcedurePendingApproval, ports.ProcedureApproved, ports.ProcedureFiled, ports.ProcedureCompleted} {
		p := e.hired(t, "E"+string(rune('0'+i)))
		for _, step := range path[:i] {
			who := e.hr
			if step.action == ports.ActionApprove {
				who = e.admin
			}
			p = e.act(t, who, p.ID, step.action, "")
		}
		at[status] = p
	}
	at[ports.ProcedureReturned] = e.act(t, e.admin, e.act(t, e.hr, e.hired(t, "R1").ID, ports.ActionSubmit, "").ID, ports.ActionReturn, "差戻し")
	at[ports.ProcedureCancelled] = e.act(t, e.hr, e.hired(t, "C1").ID, ports.ActionCancel, "不要")

	allowed := map[string][]string{
		ports.ActionSubmit:   {ports.ProcedureDraft, ports.ProcedureReturned},
		ports.ActionApprove:  {ports.ProcedurePendingApproval},
		ports.ActionReturn:   {ports.ProcedurePendingApproval, ports.ProcedureApproved, ports.ProcedureFiled},
		ports.ActionFile:     {ports.ProcedureApproved},
		ports.ActionComplete: {ports.ProcedureFiled},
		ports.ActionCancel:   {ports.ProcedureDraft, ports.ProcedureReturned, ports.ProcedurePendingApproval, ports.ProcedureApproved},
	}
	for action, from := range allowed {
		for status, p := range at {
			if slices.Contains(from, status) {
				continue
			}
			_, err := e.svc.Act(ctx, e.admin2, p.ID, ports.ProcedureAction{Action: action, Comment: "理由"})
			be, _ := ports.AsError(err)
			if !errors.Is(err, ports.ErrConflict) || be.Code != "illegal_transition" || be.MessageJA == "" || be.MessageEN == "" {
				t.Errorf("%s from %s = %v, want illegal_transition", action, status, err)
			}
			if got, _ := e.svc.GetProcedure(ctx, e.admin, p.ID); got.Version != p.Version || got.Status != status {
				t.Errorf("a refused %s changed the procedure: %s v%d", action, got.Status, got.Version)
			}
		}
	}
	for _, status := range []string{ports.ProcedurePendingApproval, ports.ProcedureFiled, ports.ProcedureCompleted, ports.ProcedureCancelled} {
		if _, err := e.svc.UpdateProcedure(ctx, e.admin, at[status].ID, ports.ProcedureEdit{FactDate: "2026-04-02"}); code(err) != "not_editable" {
			t.Errorf("editing a %s procedure = %v", status, err)
		}
	}
	// Return and cancel say why; an unknown action or a stale version is refused before anything happens.
	for _, c := range []struct {
		a    ports.ProcedureAction
		want string
	}{
		{ports.ProcedureAction{Action: ports.ActionCancel}, "validation_failed"},
		{ports.ProcedureAction{Action: "publish"}, "validation_failed"},
		{ports.ProcedureAction{Action: ports.ActionSubmit, IfVersion: 99}, "stale_version"},
	} {
		if _, err := e.svc.Act(ctx, e.hr, at[ports.ProcedureDraft].ID, c.a); code(err) != c.want {
			t.Errorf("%+v = %v, want %s", c.a, err, c.want)
		}
	}
}

// TestSubmitNeedsRequiredFields: a draft missing what its filing needs cannot be submitted; every missing
// field is named.
func TestSubmitNeedsRequiredFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.hired(t, "E1")
	if _, err := e.svc.UpdateProcedure(ctx, e.hr, p.ID, ports.ProcedureEdit{Fields: map[string]string{"birth_date": "", "monthly_pay.cash": ""}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Act(ctx, e.hr, p.ID, ports.ProcedureAction{Action: ports.ActionSubmit})
	be, _ := ports.AsError(err)
	if !errors.Is(err, ports.ErrInvalid) || be.Code != "incomplete_procedure" || len(be.Fields) != 2 {
		t.Fatalf("submitting an incomplete draft = %v", err)
	}
	if _, err := e.svc.UpdateProcedure(ctx, e.hr, p.ID, ports.ProcedureEdit{Fields: map[string]string{"my_number": "123456789018"}}); code(err) != "validation_failed" {
		t.Errorf("setting an unknown field (My Number) = %v", err)
	}
	// Moving the fact date recomputes the deadline.
	moved, err := e.svc.UpdateProcedure(ctx, e.hr, p.ID, ports.ProcedureEdit{FactDate: "2026-04-28"})
	if err != nil || moved.DueDate != "2026-05-07" || moved.Deadline.LegalDate != "2026-05-03" || !moved.Deadline.Moved {
		t.Errorf("fact date moved: %v %+v", err, moved.Deadline)
	}
}

// TestRacingApprovals: twenty admins approve one procedure at once; exactly one wins, the others get the
// 409 of a procedure already approved, and the history has one approval.
func TestRacingApprovals(t *testing.T) {
	t.Parallel()
	raceApprovals(t, newEnv(t))
}

// raceApprovals submits a new hire's procedure and lets twenty admins approve it at once.
func raceApprovals(t *testing.T, e *env) {
	t.Helper()
	p := e.hired(t, "R1")
	e.act(t, e.hr, p.ID, ports.ActionSubmit, "")
	const n = 20
	var won, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := e.svc.Act(ctx, member("t1", ports.RoleAdmin), p.ID, ports.ProcedureAction{Action: ports.ActionApprove})
			switch {
			case err == nil:
				won.Add(1)
			case code(err) == "illegal_transition":
				conflicts.Add(1)
			default:
				t.Errorf("approver %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || conflicts.Load() != n-1 {
		t.Errorf("%d approvals won, %d refused; want 1 and %d", won.Load(), conflicts.Load(), n-1)
	}
	got, _ := e.svc.GetProcedure(ctx, e.admin, p.ID)
	approvals := slices.DeleteFunc(slices.Clone(got.History), func(h ports.ProcedureTransition) bool { return h.To != ports.ProcedureApproved })
	if len(approvals) != 1 || approvals[0].By != got.ApprovedBy {
		t.Errorf("approvals in the history: %+v", approvals)
	}
}

// TestCorrectionRequested: an office's 補正 returns the procedure to its preparers with the office's
// message; fixed and approved again, it is filed again under the same arrival number.
func TestCorrectionRequested(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	filer := e.withFiler(t)
	p := e.hired(t, "E1")
	e.act(t, e.hr, p.ID, ports.ActionSubmit, "")
	e.act(t, e.admin, p.ID, ports.ActionApprove, "")
	filed := e.act(t, e.hr, p.ID, ports.ActionFile, "")
	filer.answer(filed.ArrivalNumber, ports.FilingProgress{Done: true, Message: "生年月日に誤りがあります"})
	if n, err := e.svc.PollFilings(ctx); n != 1 || err != nil {
		t.Fatalf("PollFilings = %d, %v", n, err)
	}
	got, _ := e.svc.GetProcedure(ctx, e.admin, p.ID)
	last := got.History[len(got.History)-1]
	if got.Status != ports.ProcedureReturned || !strings.Contains(last.Comment, "生年月日に誤りがあります") || last.By != procedures.FilingActor {
		t.Errorf("after 補正: %s %+v", got.Status, last)
	}
	if _, err := e.svc.UpdateProcedure(ctx, e.hr, p.ID, ports.ProcedureEdit{Fields: map[string]string{"birth_date": "1990-05-16"}}); err != nil {
		t.Fatal(err)
	}
	e.act(t, e.hr, p.ID, ports.ActionSubmit, "")
	e.act(t, e.admin, p.ID, ports.ActionApprove, "")
	if again := e.act(t, e.hr, p.ID, ports.ActionFile, ""); again.ArrivalNumber != filed.ArrivalNumber {
		t.Errorf("filed again under %s, first %s", again.ArrivalNumber, filed.ArrivalNumber)
	}
}

// TestAccessAndTenancy: employees and strangers see nothing; another tenant's admin finds nothing and
// changes nothing.
func TestAccessAndTenancy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.hired(t, "E1")
	employee := member("t1", ports.RoleEmployee)
	if _, err := e.svc.GetProcedure(ctx, employee, p.ID); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("an employee reading a procedure = %v", err)
	}
	if _, err := e.svc.Dashboard(ctx, employee); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("an employee's dashboard = %v", err)
	}
	if _, err := e.svc.GetProcedure(ctx, e.other, p.ID); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("another tenant reading = %v", err)
	}
	if _, err := e.svc.Act(ctx, e.other, p.ID, ports.ProcedureAction{Action: ports.ActionCancel, Comment: "x"}); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("another tenant cancelling = %v", err)
	}
	if _, err := e.svc.UpdateProcedure(ctx, e.other, p.ID, ports.ProcedureEdit{FactDate: "2026-04-02"}); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("another tenant editing = %v", err)
	}
	if got := e.procs(t, e.other, ""); len(got) != 0 {
		t.Errorf("another tenant lists %d procedures", len(got))
	}
	if _, err := e.svc.CreateProcedure(ctx, e.other, ports.ProcedureInput{Type: ports.ProcedureBonusPaymentReport,
		EmployeeID: p.EmployeeID, FactDate: "2026-04-10"}); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("another tenant creating for our employee = %v", err)
	}
}

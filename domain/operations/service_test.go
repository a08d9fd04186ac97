package operations_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/memory"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/operations"
	"github.com/roumu/roumu/ports"
)

type env struct {
	svc      *operations.Service
	clock    *kernel.FakeClock
	mem      *memory.Store
	runs     atomic.Int32 // how many times the suspend handler ran
	fail     atomic.Bool  // makes the suspend handler fail after writing
	tenantID string
}

// newEnv wires the service with a real handler for tenant suspension that writes through the memory store,
// so that the tests see the handler's writes committed or rolled back with the work record.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{mem: memory.New(), clock: kernel.NewFakeClock(time.Date(2025, 6, 2, 1, 0, 0, 0, time.UTC)), tenantID: kernel.NewID()}
	if err := e.mem.CreateTenant(t.Context(), ports.TenantRecord{ID: e.tenantID, Code: "acme", Name: "Acme",
		Status: ports.TenantActive, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	suspend := ports.OperationHandler{
		Check: func(ctx context.Context, params map[string]string) error {
			if _, err := e.mem.TenantByID(ctx, params["tenant_id"]); err != nil {
				return ports.Invalid("validation_failed", "No such tenant.", "企業が見つかりません。",
					ports.FieldError{Field: "params.tenant_id", Code: "not_found", MessageEN: "no such tenant", MessageJA: "企業が見つかりません"})
			}
			return nil
		},
		Execute: func(ctx context.Context, req ports.OperationRequest) (string, error) {
			e.runs.Add(1)
			if _, err := e.mem.UpdateTenant(ctx, req.Params["tenant_id"], func(t *ports.TenantRecord) error {
				t.Status = ports.TenantSuspended
				return nil
			}); err != nil {
				return "", err
			}
			if e.fail.Load() {
				return "", errors.New("the mail to the tenant could not be sent")
			}
			return "tenant suspended", nil
		},
	}
	svc, err := operations.New(operations.Deps{Requests: e.mem, Tx: e.mem, Audit: audit.New(e.mem, e.clock),
		Clock: e.clock, Handlers: map[string]ports.OperationHandler{ports.OpTenantSuspend: suspend},
		OnServer: map[string]func(context.Context, map[string]string) error{ports.OpRestore: operations.CheckRestore}})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

func op(id string) ports.Principal {
	return ports.Principal{AccountID: id, Kind: ports.KindOperator, Login: "login-" + id, Stage: ports.StageFull,
		Source: ports.Source{IP: "192.0.2.7"}}
}

func (e *env) request(t *testing.T, by ports.Principal) ports.OperationRequest {
	t.Helper()
	r, err := e.svc.Request(t.Context(), by, ports.RequestOperationCommand{Kind: ports.OpTenantSuspend,
		Params: map[string]string{"tenant_id": e.tenantID}, Reason: "利用料金の未払いが3か月続いているため"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) tenantStatus(t *testing.T) string {
	t.Helper()
	ten, err := e.mem.TenantByID(t.Context(), e.tenantID)
	if err != nil {
		t.Fatal(err)
	}
	return ten.Status
}

func (e *env) audit(t *testing.T) []string {
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

func errCode(err error) string {
	if e, ok := ports.AsError(err); ok {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return "untyped: " + err.Error()
}

func TestSelfApprovalRefusedThenAnotherOperatorApproves(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := op("alice"), op("bob")
	r := e.request(t, alice)
	if r.Status != ports.OperationPending || !r.ExpiresAt.Equal(e.clock.Now().Add(24*time.Hour)) {
		t.Errorf("new request: %+v", r)
	}
	_, err := e.svc.Approve(t.Context(), alice, r.ID, "")
	pe, ok := ports.AsError(err)
	if !ok || !errors.Is(err, ports.ErrForbidden) || pe.Code != "self_approval" || pe.MessageJA == "" || pe.MessageEN == "" {
		t.Fatalf("self-approval: %v, want forbidden self_approval with JA and EN messages", err)
	}
	if got, _ := e.svc.Get(t.Context(), alice, r.ID); got.Status != ports.OperationPending || got.DecidedBy != "" {
		t.Errorf("after a refused self-approval: %+v", got)
	}
	if e.runs.Load() != 0 || e.tenantStatus(t) != ports.TenantActive {
		t.Fatal("the action ran on a self-approval")
	}

	e.clock.Advance(time.Hour)
	done, err := e.svc.Approve(t.Context(), bob, r.ID, "請求記録を確認しました")
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != ports.OperationExecuted || done.Result != "tenant suspended" || e.runs.Load() != 1 ||
		e.tenantStatus(t) != ports.TenantSuspended {
		t.Fatalf("approved by another operator: %+v (runs %d)", done, e.runs.Load())
	}
	// The work record holds the request, the approval and the execution together.
	if done.RequestedBy != "alice" || done.RequestedByLogin != "login-alice" || done.Reason == "" ||
		done.DecidedBy != "bob" || done.DecisionComment != "請求記録を確認しました" || done.DecidedAt.IsZero() ||
		done.ExecutedBy != "bob" || done.StartedAt.IsZero() || done.FinishedAt.IsZero() || done.Error != "" {
		t.Errorf("work record: %+v", done)
	}
	want := []string{"operation.request:success", "operation.approve:denied", "operation.approve:success", "operation.execute:success"}
	if got := e.audit(t); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audit = %v, want %v", got, want)
	}
	recs, _ := e.mem.ListAudit(t.Context(), ports.AuditFilter{Action: "operation.execute"})
	if d := recs[0].Event.Detail; d["kind"] != ports.OpTenantSuspend || d["params_sha256"] != operations.ParamsDigest(done.Params) ||
		recs[0].Event.TenantID != e.tenantID || recs[0].Event.Target != "operation:"+r.ID {
		t.Errorf("execute audit entry: %+v", recs[0].Event)
	}
	if _, err := e.svc.Approve(t.Context(), op("carol"), r.ID, ""); errCode(err) != "not_pending" {
		t.Errorf("approving an executed request: %v, want not_pending", err)
	}
	if _, err := e.svc.Execute(t.Context(), op("carol"), r.ID); errCode(err) != "not_approved" {
		t.Errorf("executing twice: %v, want not_approved", err)
	}
}

func TestOnlyFullOperators(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.request(t, op("alice"))
	admin := ports.Principal{AccountID: "m-1", TenantID: e.tenantID, Kind: ports.KindMember, Stage: ports.StageFull, Roles: []string{ports.RoleAdmin}}
	halfLoggedIn := op("bob")
	halfLoggedIn.Stage = ports.StageMFA
	for _, p := range []ports.Principal{{}, admin, halfLoggedIn} {
		if _, err := e.svc.Approve(t.Context(), p, r.ID, ""); !errors.Is(err, ports.ErrForbidden) {
			t.Errorf("Approve by %+v: %v", p, err)
		}
		if _, err := e.svc.Request(t.Context(), p, ports.RequestOperationCommand{Kind: ports.OpTenantSuspend,
			Params: map[string]string{"tenant_id": e.tenantID}, Reason: "x"}); !errors.Is(err, ports.ErrForbidden) {
			t.Errorf("Request by %+v: %v", p, err)
		}
		if _, err := e.svc.List(t.Context(), p, ports.OperationFilter{}); !errors.Is(err, ports.ErrForbidden) {
			t.Errorf("List by %+v: %v", p, err)
		}
	}
	if e.runs.Load() != 0 {
		t.Error("the action ran")
	}
}

func TestRequestValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := op("alice")
	cases := []struct {
		name string
		cmd  ports.RequestOperationCommand
		want string
	}{
		{"unknown kind", ports.RequestOperationCommand{Kind: "tenant.explode", Reason: "r"}, "kind:unknown_operation"},
		{"kind without a handler", ports.RequestOperationCommand{Kind: ports.OpKeyRotation, Reason: "r"}, "kind:unknown_operation"},
		{"no reason", ports.RequestOperationCommand{Kind: ports.OpTenantSuspend, Params: map[string]string{"tenant_id": e.tenantID}}, "reason:required"},
		{"bad key", ports.RequestOperationCommand{Kind: ports.OpTenantSuspend, Params: map[string]string{"Tenant ID": "x"}, Reason: "r"}, "params:invalid_key"},
		{"control character", ports.RequestOperationCommand{Kind: ports.OpTenantSuspend, Params: map[string]string{"tenant_id": "a\x00b"}, Reason: "r"}, "params.tenant_id:control_character"},
		{"the handler's check", ports.RequestOperationCommand{Kind: ports.OpTenantSuspend, Params: map[string]string{"tenant_id": "nosuch"}, Reason: "r"}, "params.tenant_id:not_found"},
	}
	for _, tc := range cases {
		_, err := e.svc.Request(t.Context(), alice, tc.cmd)
		pe, ok := ports.AsError(err)
		if !ok || !errors.Is(err, ports.ErrInvalid) || len(pe.Fields) != 1 || pe.Fields[0].Field+":"+pe.Fields[0].Code != tc.want {
			t.Errorf("%s: %v (%+v), want %s", tc.name, err, pe, tc.want)
		}
	}
	if list, _ := e.svc.List(t.Context(), alice, ports.OperationFilter{}); len(list) != 0 {
		t.Errorf("invalid requests were stored: %v", list)
	}
}

func TestRequestsExpireAfter24Hours(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := op("alice"), op("bob")
	early := e.request(t, alice)
	e.clock.Advance(time.Minute)
	late := e.request(t, alice)
	e.clock.Advance(24*time.Hour - time.Minute - time.Nanosecond) // a nanosecond before the first expires
	if got, _ := e.svc.Get(t.Context(), bob, early.ID); got.Status != ports.OperationPending {
		t.Errorf("a nanosecond before expiry: %s", got.Status)
	}
	e.clock.Advance(time.Nanosecond)
	if got, _ := e.svc.Get(t.Context(), bob, early.ID); got.Status != ports.OperationExpired {
		t.Errorf("at expiry, before any sweep: %s, want expired", got.Status)
	}
	if _, err := e.svc.Approve(t.Context(), bob, early.ID, ""); errCode(err) != "operation_expired" || !errors.Is(err, ports.ErrConflict) {
		t.Errorf("approving an expired request: %v, want operation_expired", err)
	}
	stored, _ := e.mem.OperationRequest(t.Context(), early.ID)
	if stored.Status != ports.OperationExpired || !stored.DecidedAt.Equal(e.clock.Now()) || stored.DecidedBy != "" {
		t.Errorf("stored after the refused approval: %+v, want expired", stored)
	}
	if e.runs.Load() != 0 {
		t.Error("an expired request ran")
	}
	if n, err := e.svc.ExpireDue(t.Context()); err != nil || n != 0 {
		t.Errorf("ExpireDue with the second not yet due = %d, %v", n, err)
	}
	e.clock.Advance(time.Minute)
	if n, err := e.svc.ExpireDue(t.Context()); err != nil || n != 1 {
		t.Errorf("ExpireDue = %d, %v; want 1", n, err)
	}
	if stored, _ := e.mem.OperationRequest(t.Context(), late.ID); stored.Status != ports.OperationExpired {
		t.Errorf("swept request: %s", stored.Status)
	}
	want := []string{"operation.request:success", "operation.request:success", "operation.expire:success", "operation.expire:success"}
	if got := e.audit(t); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audit = %v, want %v", got, want)
	}
}

func TestConcurrentApprovalsAndExecutionsRunTheActionOnce(t *testing.T) {
	t.Parallel()
	for round := range 10 {
		e := newEnv(t)
		r := e.request(t, op("requester"))
		var approved, executed atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 20 {
			wg.Go(func() {
				<-start
				p := op(fmt.Sprintf("op-%d", i))
				var got ports.OperationRequest
				var err error
				if i%2 == 0 {
					got, err = e.svc.Approve(t.Context(), p, r.ID, "")
					if err == nil {
						approved.Add(1)
					}
				} else {
					got, err = e.svc.Execute(t.Context(), p, r.ID)
				}
				switch code := errCode(err); {
				case err == nil && got.Status == ports.OperationExecuted && got.ExecutedBy == p.AccountID:
					executed.Add(1)
				case err == nil, code == "not_pending", code == "not_approved":
				default:
					t.Errorf("round %d, operator %d: %v", round, i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if approved.Load() != 1 || executed.Load() != 1 || e.runs.Load() != 1 {
			t.Fatalf("round %d: %d approvals, %d executions reported, the action ran %d times; want 1, 1, 1",
				round, approved.Load(), executed.Load(), e.runs.Load())
		}
		if got, _ := e.mem.OperationRequest(t.Context(), r.ID); got.Status != ports.OperationExecuted {
			t.Errorf("round %d: final status %s", round, got.Status)
		}
	}
}

func TestFailedExecutionRollsBackAndIsRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.request(t, op("alice"))
	e.fail.Store(true)
	got, err := e.svc.Approve(t.Context(), op("bob"), r.ID, "")
	if err != nil {
		t.Fatalf("a failed execution is not an error of Approve: %v", err)
	}
	if got.Status != ports.OperationFailed || got.Error != "the mail to the tenant could not be sent" || got.FinishedAt.IsZero() {
		t.Errorf("work record: %+v", got)
	}
	if e.tenantStatus(t) != ports.TenantActive {
		t.Error("the failed action's write was kept")
	}
	if _, err := e.svc.Execute(t.Context(), op("bob"), r.ID); errCode(err) != "not_approved" {
		t.Errorf("re-running a failed request: %v, want not_approved (make a new request)", err)
	}
	want := []string{"operation.request:success", "operation.approve:success", "operation.execute:failure"}
	if got := e.audit(t); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audit = %v, want %v", got, want)
	}
}

func TestRejection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := op("alice"), op("bob")
	withdrawn := e.request(t, alice)
	if got, err := e.svc.Reject(t.Context(), alice, withdrawn.ID, "取り下げます"); err != nil || got.Status != ports.OperationRejected || got.DecidedBy != "alice" {
		t.Errorf("the requester withdraws: %+v, %v", got, err)
	}
	refused := e.request(t, alice)
	if got, err := e.svc.Reject(t.Context(), bob, refused.ID, "根拠が不十分"); err != nil || got.Status != ports.OperationRejected {
		t.Errorf("another operator rejects: %+v, %v", got, err)
	}
	if _, err := e.svc.Approve(t.Context(), bob, refused.ID, ""); errCode(err) != "not_pending" {
		t.Errorf("approving a rejected request: %v, want not_pending", err)
	}
	if _, err := e.svc.Reject(t.Context(), bob, "nosuch", ""); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("unknown request: %v", err)
	}
	if _, err := e.svc.Reject(t.Context(), bob, refused.ID, "bad\x07comment"); !errors.Is(err, ports.ErrInvalid) {
		t.Errorf("comment with a control character: %v", err)
	}
	list, err := e.svc.List(t.Context(), bob, ports.OperationFilter{Status: ports.OperationRejected})
	if err != nil || len(list) != 2 || e.runs.Load() != 0 {
		t.Errorf("List rejected = %v, %v (runs %d)", list, err, e.runs.Load())
	}
}

package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	web "github.com/roumu/roumu/adapters/http"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// keyed sends a JSON POST with a bearer token and an Idempotency-Key.
func (a *app) keyed(path, token, key, body string) response {
	a.t.Helper()
	return a.withHeaders(http.MethodPost, path, token, body, "Idempotency-Key", key)
}

// wantReplay fails unless res repeats first byte for byte (status, body, Content-Type, Location, ETag) and
// says it is a replay.
func wantReplay(t *testing.T, res, first response) {
	t.Helper()
	if res.status != first.status || !bytes.Equal(res.body, first.body) {
		t.Fatalf("replay %d %s, want %d %s", res.status, res, first.status, first)
	}
	for _, h := range []string{"Content-Type", "Location", "ETag"} {
		if res.header.Get(h) != first.header.Get(h) {
			t.Errorf("replayed %s %q, first %q", h, res.header.Get(h), first.header.Get(h))
		}
	}
	if res.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a replay without Idempotent-Replayed: true: %v", res.header)
	}
}

// wantFirst fails unless res ran (was not replayed) with the given status.
func wantFirst(t *testing.T, res response, status int) {
	t.Helper()
	if res.status != status || res.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("status %d (Idempotent-Replayed %q), want %d run afresh: %s", res.status,
			res.header.Get("Idempotent-Replayed"), status, res)
	}
}

func (a *app) employeeCount(token string) int {
	a.t.Helper()
	return len(a.listEmployees(token, "limit=100").Items)
}

// TestIdempotentEmployeeCreation: POST /employees sent again with its key answers the first answer, with the
// same employee, and creates one employee; the key with another body, a bad key and no key behave as the
// contract says.
func TestIdempotentEmployeeCreation(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	body := jsonBody(t, newEmployeeBody("E001", nil))

	first := a.keyed("/api/v1/employees", admin, "hire-E001", body)
	wantFirst(t, first, http.StatusCreated)
	var created employee
	wantJSON(t, first, http.StatusCreated, &created)
	// Within the day the answer is kept, from a new session of the same account.
	a.env.Clock.Advance(23 * time.Hour)
	admin = a.login("acme", "admin", testenv.NewPassword, "full").Token
	wantReplay(t, a.keyed("/api/v1/employees", admin, "hire-E001", body), first)
	if n := a.employeeCount(admin); n != 1 {
		t.Fatalf("%d employees after a replay, want 1", n)
	}

	wantProblem(t, a.keyed("/api/v1/employees", admin, "hire-E001", jsonBody(t, newEmployeeBody("E002", nil))),
		http.StatusUnprocessableEntity, "idempotency_key_reused")
	wantProblem(t, a.keyed("/api/v1/departments", admin, "hire-E001", body),
		http.StatusUnprocessableEntity, "idempotency_key_reused")
	wantProblem(t, a.keyed("/api/v1/employees?as_of=2026-04-01", admin, "hire-E001", body),
		http.StatusUnprocessableEntity, "idempotency_key_reused")

	// A refusal is an answer too: the same invalid request replays its problem document.
	invalid := jsonBody(t, newEmployeeBody("E003", map[string]any{"birth_date": "1990-02-30"}))
	refused := a.keyed("/api/v1/employees", admin, "bad-date", invalid)
	wantProblem(t, refused, http.StatusUnprocessableEntity, "validation_failed")
	wantReplay(t, a.keyed("/api/v1/employees", admin, "bad-date", invalid), refused)

	// Malformed keys are refused before anything runs.
	for _, key := range []string{"", strings.Repeat("k", 256), "hire E004", "採用-E004", "hire\tE004"} {
		wantProblem(t, a.keyed("/api/v1/employees", admin, key, jsonBody(t, newEmployeeBody("E004", nil))),
			http.StatusBadRequest, "idempotency_key_invalid")
	}
	twice := a.send(http.MethodPost, "/api/v1/employees", strings.NewReader(jsonBody(t, newEmployeeBody("E004", nil))),
		http.Header{"Authorization": {"Bearer " + admin}, "Content-Type": {"application/json"}, "Idempotency-Key": {"a", "b"}})
	wantProblem(t, twice, http.StatusBadRequest, "idempotency_key_invalid")
	wantFirst(t, a.keyed("/api/v1/employees", admin, strings.Repeat("~", 255), jsonBody(t, newEmployeeBody("E004", nil))),
		http.StatusCreated)
	if n := a.employeeCount(admin); n != 2 {
		t.Fatalf("%d employees, want 2", n)
	}

	// Without a key nothing changes: the same request twice runs twice.
	plain := jsonBody(t, newEmployeeBody("E005", nil))
	wantFirst(t, a.api(http.MethodPost, "/api/v1/employees", admin, plain), http.StatusCreated)
	wantProblem(t, a.api(http.MethodPost, "/api/v1/employees", admin, plain), http.StatusConflict, "employee_number_taken")

	// A route whose answer shows a secret once ignores the key: each token is new.
	tokens := jsonBody(t, map[string]any{"name": "連携", "scopes": []string{ports.ScopeEmployeesRead}, "expires_in_days": 30})
	one, two := a.keyed("/api/v1/api-tokens", admin, "token", tokens), a.keyed("/api/v1/api-tokens", admin, "token", tokens)
	wantFirst(t, one, http.StatusCreated)
	wantFirst(t, two, http.StatusCreated)
	if bytes.Equal(one.body, two.body) {
		t.Fatal("POST /api-tokens replayed a token")
	}
}

// TestIdempotencyKeysBelongToTheirPrincipal: the same key and body from another tenant, another account or
// an API token of the same admin runs afresh and never sees the first caller's answer.
func TestIdempotencyKeysBelongToTheirPrincipal(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, acme := a.tenant("acme")
	_, beta := a.tenant("beta")
	hr := a.activate("acme", a.createAccount(acme, "sato", "佐藤 一郎", "hr")).Token
	token := a.createToken(acme, ports.ScopeEmployeesWrite, ports.ScopeEmployeesRead).Token

	const key = "shared-key"
	first := a.keyed("/api/v1/employees", acme, key, jsonBody(t, newEmployeeBody("E001", nil)))
	wantFirst(t, first, http.StatusCreated)
	others := []struct{ name, token, number string }{
		{"another tenant", beta, "E001"}, {"another account", hr, "E002"}, {"the admin's API token", token, "E003"},
	}
	for _, o := range others {
		res := a.keyed("/api/v1/employees", o.token, key, jsonBody(t, newEmployeeBody(o.number, nil)))
		wantFirst(t, res, http.StatusCreated)
		if bytes.Equal(res.body, first.body) || res.header.Get("Location") == first.header.Get("Location") {
			t.Fatalf("%s got acme's admin's answer", o.name)
		}
	}
	// Each principal's own answer is replayed to it alone.
	wantReplay(t, a.keyed("/api/v1/employees", acme, key, jsonBody(t, newEmployeeBody("E001", nil))), first)
	if n := a.employeeCount(acme); n != 3 {
		t.Fatalf("acme has %d employees, want 3", n)
	}
	if n := a.employeeCount(beta); n != 1 {
		t.Fatalf("beta has %d employees, want 1", n)
	}
}

// heldEmployees holds CreateEmployee until release is closed, telling entered when a call arrives: a request
// in progress, without sleeping.
type heldEmployees struct {
	ports.Employees
	entered chan struct{}
	release chan struct{}
}

func (h heldEmployees) CreateEmployee(ctx context.Context, p ports.Principal, in ports.EmployeeInput) (ports.Employee, error) {
	select {
	case h.entered <- struct{}{}:
	default:
	}
	<-h.release
	return h.Employees.CreateEmployee(ctx, p, in)
}

// TestIdempotencyKeyInProgress: while the first request with a key runs, the same request answers 409
// idempotency_in_progress; once it has finished, its answer.
func TestIdempotencyKeyInProgress(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	held := heldEmployees{Employees: env.Employees, entered: make(chan struct{}, 1), release: make(chan struct{})}
	a := serveApp(t, env, newServerChanged(t, env, web.Config{PublicURL: testenv.PublicURL},
		func(d *web.Deps) { d.Employees = held }))
	_, admin := a.tenant("acme")
	body := jsonBody(t, newEmployeeBody("E001", nil))

	type outcome struct {
		res response
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, a.base+"/api/v1/employees", strings.NewReader(body))
		if err != nil {
			done <- outcome{err: err}
			return
		}
		req.Header = http.Header{"Authorization": {"Bearer " + admin}, "Content-Type": {"application/json"},
			"Idempotency-Key": {"slow"}}
		res, err := a.client.Do(req)
		if err != nil {
			done <- outcome{err: err}
			return
		}
		defer res.Body.Close()
		data, err := io.ReadAll(res.Body)
		done <- outcome{response{status: res.StatusCode, header: res.Header, body: data}, err}
	}()
	<-held.entered

	wantProblem(t, a.keyed("/api/v1/employees", admin, "slow", body), http.StatusConflict, "idempotency_in_progress")
	wantProblem(t, a.keyed("/api/v1/employees", admin, "slow", jsonBody(t, newEmployeeBody("E002", nil))),
		http.StatusUnprocessableEntity, "idempotency_key_reused")
	close(held.release)
	first := <-done
	if first.err != nil {
		t.Fatal(first.err)
	}
	wantFirst(t, first.res, http.StatusCreated)
	wantReplay(t, a.keyed("/api/v1/employees", admin, "slow", body), first.res)
	if n := a.employeeCount(admin); n != 1 {
		t.Fatalf("%d employees, want 1", n)
	}
}

// TestIdempotentProcedureApproval: an approval sent again with its key answers the approval, where without
// the key the second approval would be an illegal transition; the procedure is approved once.
func TestIdempotentProcedureApproval(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	hr := a.activate("acme", a.createAccount(admin, "sato", "佐藤 一郎", "hr")).Token
	emp := a.hire(admin, "P001", "2026-04-01")
	p := a.employeeProcedures(admin, emp.ID)[ports.ProcedureHealthPensionAcquisition]
	a.act(hr, p.ID, ports.ActionSubmit, "確認お願いします")

	path := "/api/v1/procedures/" + p.ID + "/approve"
	comment := jsonBody(t, map[string]string{"comment": "OK"})
	first := a.keyed(path, admin, "approve-"+p.ID, comment)
	var approved procedure
	wantJSON(t, first, http.StatusOK, &approved)
	wantFirst(t, first, http.StatusOK)
	wantReplay(t, a.keyed(path, admin, "approve-"+p.ID, comment), first)
	wantProblem(t, a.tryAct(admin, p.ID, ports.ActionApprove, "OK"), http.StatusConflict, "illegal_transition")

	got := a.getProcedure(admin, p.ID)
	approvals := 0
	for _, h := range got.History {
		if h.To == ports.ProcedureApproved {
			approvals++
		}
	}
	if got.Status != ports.ProcedureApproved || got.Version != approved.Version || approvals != 1 {
		t.Fatalf("after the replay: %s v%d (answered v%d), %d approvals", got.Status, got.Version, approved.Version, approvals)
	}
}

// failingEmployees fails its first CreateEmployee with an internal error and panics in its second; later
// calls go through.
type failingEmployees struct {
	ports.Employees
	calls *atomic.Int32
}

func (f failingEmployees) CreateEmployee(ctx context.Context, p ports.Principal, in ports.EmployeeInput) (ports.Employee, error) {
	switch f.calls.Add(1) {
	case 1:
		return ports.Employee{}, errors.New("the register is down")
	case 2:
		panic("the register broke")
	}
	return f.Employees.CreateEmployee(ctx, p, in)
}

// TestIdempotencyKeyFreedByServerFailures: a request that fails on the server's side (500, or a panic)
// keeps no answer, so its retry with the key runs again; the answer of the retry that succeeds is kept.
func TestIdempotencyKeyFreedByServerFailures(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	failing := failingEmployees{Employees: env.Employees, calls: &atomic.Int32{}}
	a := serveApp(t, env, newServerChanged(t, env, web.Config{PublicURL: testenv.PublicURL},
		func(d *web.Deps) { d.Employees = failing }))
	_, admin := a.tenant("acme")
	body := jsonBody(t, newEmployeeBody("E001", nil))

	wantProblem(t, a.keyed("/api/v1/employees", admin, "retry", body), http.StatusInternalServerError, "internal_error")
	wantProblem(t, a.keyed("/api/v1/employees", admin, "retry", body), http.StatusInternalServerError, "internal_error")
	first := a.keyed("/api/v1/employees", admin, "retry", body)
	wantFirst(t, first, http.StatusCreated)
	wantReplay(t, a.keyed("/api/v1/employees", admin, "retry", body), first)
	if n := failing.calls.Load(); n != 3 {
		t.Fatalf("CreateEmployee ran %d times, want 3", n)
	}
}

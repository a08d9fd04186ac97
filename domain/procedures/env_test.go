package procedures_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/keyring"
	"github.com/roumu/roumu/adapters/memory"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/domain/employees"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/procedures"
	"github.com/roumu/roumu/ports"
)

var ctx = context.Background()

// start is where every test clock starts: Wednesday 2026-04-01 09:00 in Tokyo.
var start = time.Date(2026, 4, 1, 9, 0, 0, 0, kernel.Tokyo)

// env is the employee register and the procedures module wired on one memory store, with a keyring, the
// real audit log and a fake clock, as cmd/roumu wires them.
type env struct {
	clock  *kernel.FakeClock
	store  stores
	reg    *employees.Service
	svc    *procedures.Service
	deps   procedures.Deps
	admin  ports.Principal // admin of tenant t1
	admin2 ports.Principal // another admin of t1
	hr     ports.Principal // hr of t1
	other  ports.Principal // admin of tenant t2
}

func member(tenant string, roles ...string) ports.Principal {
	return ports.Principal{AccountID: kernel.NewID(), TenantID: tenant, TenantCode: tenant, Kind: ports.KindMember,
		Login: "user", Stage: ports.StageFull, Roles: roles, Source: ports.Source{IP: "192.0.2.1", UserAgent: "test"}}
}

// stores are the driven ports both modules need, on one database.
type stores interface {
	ports.EmployeeStore
	ports.DepartmentStore
	ports.AccountStore
	ports.Outbox
	ports.JobStore
	ports.Transactor
	ports.AuditStore
	ports.ProcedureStore
}

func newEnv(t testing.TB) *env { return newEnvOn(t, memory.New()) }

// newEnvOn wires the modules on store, which holds the tenants t1 and t2 when it keeps foreign keys.
func newEnvOn(t testing.TB, store stores) *env {
	t.Helper()
	clock := kernel.NewFakeClock(start)
	keys, err := keyring.Open(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	log := audit.New(store, clock)
	reg, err := employees.New(employees.Deps{Employees: store, Departments: store, Accounts: store, Outbox: store, Jobs: store,
		Tx: store, Cipher: keys, Audit: log, Clock: clock})
	if err != nil {
		t.Fatalf("wiring employees: %v", err)
	}
	deps := procedures.Deps{Procedures: store, Outbox: store, Employees: reg, Tx: store, Audit: log, Clock: clock}
	svc, err := procedures.New(deps)
	if err != nil {
		t.Fatalf("wiring procedures: %v", err)
	}
	return &env{clock: clock, store: store, reg: reg, svc: svc, deps: deps,
		admin: member("t1", ports.RoleAdmin), admin2: member("t1", ports.RoleAdmin), hr: member("t1", ports.RoleHR),
		other: member("t2", ports.RoleAdmin)}
}

// employeeFields returns a valid new employee's fields with overrides.
func employeeFields(number string, set ...string) map[string]string {
	f := map[string]string{
		"employee_number": number, "family_name": "山田", "given_name": "太郎",
		"family_name_kana": "ヤマダ", "given_name_kana": "タロウ", "birth_date": "1990-05-15", "gender": "male",
		"email": "taro." + strings.ToLower(number) + "@example.jp", "phone": "03-1234-5678",
		"address.postal_code": "100-0001", "address.prefecture": "東京都", "address.city": "千代田区",
		"address.street": "千代田1-1", "hire_date": "2026-04-01", "employment_type": "regular",
		"position": "主任", "monthly_pay.cash": "300000", "monthly_pay.in_kind": "0",
		"basic_pension_number": "1234-567890", "employment_insurance_number": "1234-567890-1",
		"my_number": "123456789018",
	}
	for i := 0; i+1 < len(set); i += 2 {
		f[set[i]] = set[i+1]
	}
	return f
}

// hire records an employee of p's tenant in the register (which writes employee.hired to the outbox).
func (e *env) hire(t testing.TB, p ports.Principal, number string, set ...string) ports.Employee {
	t.Helper()
	emp, err := e.reg.CreateEmployee(ctx, p, ports.EmployeeInput{Fields: employeeFields(number, set...)})
	if err != nil {
		t.Fatalf("hire %s: %v", number, err)
	}
	return emp
}

// consume runs the event consumer and returns how many events it handled.
func (e *env) consume(t testing.TB) int {
	t.Helper()
	n, err := e.svc.ConsumeEvents(ctx)
	if err != nil {
		t.Fatalf("ConsumeEvents: %v", err)
	}
	return n
}

// procs lists the procedures of p's tenant for an employee (all when ""), by due date.
func (e *env) procs(t testing.TB, p ports.Principal, employeeID string) []ports.Procedure {
	t.Helper()
	page, err := e.svc.ListProcedures(ctx, p, ports.ProcedureFilter{EmployeeID: employeeID, Limit: procedures.MaxLimit})
	if err != nil {
		t.Fatalf("ListProcedures: %v", err)
	}
	return page.Items
}

// byType returns the procedure of a type among ps.
func byType(t testing.TB, ps []ports.Procedure, typ string) ports.Procedure {
	t.Helper()
	i := slices.IndexFunc(ps, func(p ports.Procedure) bool { return p.Type == typ })
	if i < 0 {
		t.Fatalf("no %s among %d procedures", typ, len(ps))
	}
	return ps[i]
}

// types returns the sorted types of ps.
func types(ps []ports.Procedure) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Type)
	}
	slices.Sort(out)
	return out
}

// act applies an action and fails the test on an error.
func (e *env) act(t testing.TB, p ports.Principal, id, action, comment string) ports.Procedure {
	t.Helper()
	got, err := e.svc.Act(ctx, p, id, ports.ProcedureAction{Action: action, Comment: comment})
	if err != nil {
		t.Fatalf("%s by %s: %v", action, p.Roles, err)
	}
	return got
}

// audits returns the audit records whose action starts with prefix, in order.
func (e *env) audits(t testing.TB, prefix string) []ports.AuditRecord {
	t.Helper()
	recs, err := e.store.ListAudit(ctx, ports.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []ports.AuditRecord
	for _, r := range recs {
		if strings.HasPrefix(r.Event.Action, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// code returns the boundary error code of err ("" for nil).
func code(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := ports.AsError(err); ok {
		return e.Code
	}
	return "untyped: " + err.Error()
}

// failingAudit fails the first `fail` records (a crash in the middle of a transaction), then records.
type failingAudit struct {
	mu   sync.Mutex
	fail int
	next ports.AuditLog
}

var errCrash = errors.New("simulated crash")

func (a *failingAudit) Record(ctx context.Context, ev ports.AuditEvent) error {
	a.mu.Lock()
	crash := a.fail > 0
	if crash {
		a.fail--
	}
	a.mu.Unlock()
	if crash {
		return errCrash
	}
	return a.next.Record(ctx, ev)
}

// fakeFiler is an electronic filing office: it numbers submissions (the same procedure gets the same
// number) and answers progress from a table the test sets.
type fakeFiler struct {
	mu       sync.Mutex
	arrivals map[string]string // procedure ID → arrival number
	answers  map[string]ports.FilingProgress
	filed    []ports.Procedure
}

func newFakeFiler() *fakeFiler {
	return &fakeFiler{arrivals: map[string]string{}, answers: map[string]ports.FilingProgress{}}
}

func (f *fakeFiler) File(_ context.Context, _ string, p ports.Procedure) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n, ok := f.arrivals[p.ID]; ok {
		return n, nil
	}
	n := "ARR-" + p.ID[len(p.ID)-6:]
	f.arrivals[p.ID] = n
	f.filed = append(f.filed, p)
	return n, nil
}

func (f *fakeFiler) Progress(_ context.Context, _ string, arrival string) (ports.FilingProgress, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.answers[arrival], nil
}

func (f *fakeFiler) answer(arrival string, p ports.FilingProgress) {
	f.mu.Lock()
	f.answers[arrival] = p
	f.mu.Unlock()
}

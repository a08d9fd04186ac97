package employees_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/keyring"
	"github.com/roumu/roumu/adapters/memory"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/domain/employees"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

var ctx = context.Background()

// start is where every test clock starts: 2026-04-01 09:00 in Tokyo (00:00 UTC).
var start = time.Date(2026, 4, 1, 9, 0, 0, 0, kernel.Tokyo)

// env is the employee register wired on the memory store, a keyring in a temporary directory, the real
// audit log and a fake clock.
type env struct {
	clock *kernel.FakeClock
	store *memory.Store
	keys  *keyring.Keyring
	svc   *employees.Service
	admin ports.Principal // admin of tenant t1
	hr    ports.Principal // hr of tenant t1
	other ports.Principal // admin of tenant t2
}

func member(tenant string, roles ...string) ports.Principal {
	return ports.Principal{AccountID: kernel.NewID(), TenantID: tenant, TenantCode: tenant, Kind: ports.KindMember,
		Login: "user", Stage: ports.StageFull, Roles: roles, Source: ports.Source{IP: "192.0.2.1", UserAgent: "test"}}
}

func newEnv(t testing.TB) *env {
	t.Helper()
	clock := kernel.NewFakeClock(start)
	store := memory.New()
	keys, err := keyring.Open(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	svc, err := employees.New(employees.Deps{Employees: store, Departments: store, Accounts: store, Outbox: store, Jobs: store,
		Tx: store, Cipher: keys, Audit: audit.New(store, clock), Clock: clock})
	if err != nil {
		t.Fatalf("wiring: %v", err)
	}
	return &env{clock: clock, store: store, keys: keys, svc: svc,
		admin: member("t1", ports.RoleAdmin), hr: member("t1", ports.RoleHR), other: member("t2", ports.RoleAdmin)}
}

// account stores the account of p, a member principal, so that records can be linked to it (account_id).
func (e *env) account(t testing.TB, p ports.Principal) ports.Principal {
	t.Helper()
	if err := e.store.CreateAccount(ctx, ports.AccountRecord{ID: p.AccountID, TenantID: p.TenantID, Kind: p.Kind,
		Login: p.AccountID, LoginKey: p.AccountID, Roles: p.Roles, Status: ports.AccountActive}); err != nil {
		t.Fatalf("account: %v", err)
	}
	return p
}

// fields returns a valid new employee's fields with overrides ("" values clear).
func fields(number string, set ...string) map[string]string {
	f := map[string]string{
		"employee_number": number, "family_name": "山田", "given_name": "太郎",
		"family_name_kana": "ヤマダ", "given_name_kana": "タロウ", "birth_date": "1990-05-15", "gender": "male",
		"email": "taro." + strings.ToLower(number) + "@example.jp", "phone": "03-1234-5678",
		"address.postal_code": "100-0001", "address.prefecture": "東京都", "address.city": "千代田区",
		"address.street": "千代田1-1", "hire_date": "2025-04-01", "employment_type": "regular",
		"position": "主任", "monthly_pay.cash": "300000", "monthly_pay.in_kind": "0",
		"basic_pension_number": "1234-567890", "employment_insurance_number": "1234-567890-1",
		"health_insurance_number": "123", "my_number": "123456789018",
		"bank_account.bank_code": "0005", "bank_account.branch_code": "001", "bank_account.account_type": "ordinary",
		"bank_account.account_number": "1234567", "bank_account.holder_kana": "ヤマダ タロウ",
	}
	for i := 0; i+1 < len(set); i += 2 {
		f[set[i]] = set[i+1]
	}
	return f
}

func (e *env) create(t testing.TB, number string, set ...string) ports.Employee {
	t.Helper()
	emp, err := e.svc.CreateEmployee(ctx, e.admin, ports.EmployeeInput{Fields: fields(number, set...)})
	if err != nil {
		t.Fatalf("create %s: %v", number, err)
	}
	return emp
}

func (e *env) update(t testing.TB, id, effective string, set ...string) ports.Employee {
	t.Helper()
	f := map[string]string{}
	for i := 0; i+1 < len(set); i += 2 {
		f[set[i]] = set[i+1]
	}
	emp, err := e.svc.UpdateEmployee(ctx, e.admin, id, ports.EmployeeInput{Fields: f, EffectiveOn: effective})
	if err != nil {
		t.Fatalf("update %s %v: %v", id, set, err)
	}
	return emp
}

func (e *env) get(t testing.TB, id, asOf string) ports.Employee {
	t.Helper()
	emp, err := e.svc.GetEmployee(ctx, e.admin, id, asOf)
	if err != nil {
		t.Fatalf("get %s as of %q: %v", id, asOf, err)
	}
	return emp
}

// events returns the pending outbox events of the given types (all when none given).
func (e *env) events(t testing.TB, types ...string) []ports.OutboxEvent {
	t.Helper()
	evs, err := e.store.PendingEvents(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []ports.OutboxEvent
	for _, ev := range evs {
		if len(types) == 0 || strings.Contains(","+strings.Join(types, ",")+",", ","+ev.Type+",") {
			out = append(out, ev)
		}
	}
	return out
}

// audits returns the audit records of an action.
func (e *env) audits(t testing.TB, action string) []ports.AuditRecord {
	t.Helper()
	recs, err := e.store.ListAudit(ctx, ports.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return recs
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

// fieldCodes returns "field:code" of every field error of err.
func fieldCodes(t testing.TB, err error) []string {
	t.Helper()
	e, ok := ports.AsError(err)
	if !ok || !errors.Is(err, ports.ErrInvalid) {
		t.Fatalf("want a validation error, got %v", err)
	}
	var out []string
	for _, f := range e.Fields {
		if f.MessageEN == "" || f.MessageJA == "" {
			t.Errorf("field error %s:%s without both messages", f.Field, f.Code)
		}
		out = append(out, f.Field+":"+f.Code)
	}
	return out
}

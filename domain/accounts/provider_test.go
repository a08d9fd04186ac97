package accounts_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/roumu/roumu/domain/accounts"
	"github.com/roumu/roumu/domain/operations"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// provider is a test environment with the two-person rule wired to the accounts module's handlers, and two
// operators to request and approve.
type provider struct {
	*testenv.Env
	svc      *accounts.Service // the accounts service reading the work records
	ops      *operations.Service
	op1, op2 ports.Principal
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	env := testenv.New(t)
	deps := env.Accounts.Deps
	deps.OperationRecords = env.Store
	svc, err := accounts.New(ctx, deps, accounts.DefaultSessionPolicy)
	if err != nil {
		t.Fatal(err)
	}
	handlers := svc.OperationHandlers()
	ops, err := operations.New(operations.Deps{Requests: env.Store, Tx: env.Store, Audit: env.Audit, Clock: env.Clock,
		Handlers: handlers})
	if err != nil {
		t.Fatal(err)
	}
	return &provider{Env: env, svc: svc, ops: ops, op1: operator(t, svc, "ops1"), op2: operator(t, svc, "ops2")}
}

// operator creates an operator and returns a full principal for them, as Authenticate would after MFA.
func operator(t *testing.T, svc *accounts.Service, login string) ports.Principal {
	t.Helper()
	v, err := svc.CreateOperator(ctx, ports.CreateOperatorCommand{Login: login, Name: "運用 " + login, Password: testenv.Password})
	if err != nil {
		t.Fatal(err)
	}
	return ports.Principal{AccountID: v.ID, Kind: ports.KindOperator, Login: login, Stage: ports.StageFull,
		Source: ports.Source{IP: "203.0.113.200"}}
}

// run requests an operation as op1 and has op2 approve it; it returns the work record.
func (pv *provider) run(t *testing.T, kind string, params map[string]string) ports.OperationRequest {
	t.Helper()
	r, err := pv.ops.Request(ctx, pv.op1, ports.RequestOperationCommand{Kind: kind, Params: params, Reason: "テスト"})
	if err != nil {
		t.Fatalf("request %s %v: %v", kind, params, err)
	}
	r, err = pv.ops.Approve(ctx, pv.op2, r.ID, "")
	if err != nil {
		t.Fatalf("approve %s: %v", kind, err)
	}
	return r
}

func loginFrom(env *testenv.Env, tenant, password, ip string) (ports.LoginResult, error) {
	return env.Accounts.Login(ctx, ports.LoginCommand{Tenant: tenant, Login: "admin", Password: password,
		Source: ports.Source{IP: ip}})
}

// restrict switches a tenant's IP restriction on with the given list, as an approved contract change would.
func restrict(t *testing.T, env *testenv.Env, tenantID string, cidrs ...string) {
	t.Helper()
	if _, err := env.Store.UpdateTenant(ctx, tenantID, func(r *ports.TenantRecord) error {
		r.IPRestriction, r.AllowedCIDRs = true, cidrs
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func audited(t *testing.T, env *testenv.Env, action, reason string) int {
	t.Helper()
	recs, err := env.Store.ListAudit(ctx, ports.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Event.Outcome == ports.OutcomeDenied && r.Event.Detail["reason"] == reason {
			n++
		}
	}
	return n
}

func TestLoginChecksTheAllowListBeforeThePassword(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	acme, _ := env.Tenant(t, "acme")
	env.Tenant(t, "open")
	restrict(t, env, acme.ID, "192.0.2.0/24", "2001:db8::/48")
	for _, tc := range []struct {
		name, tenant, password, ip, want string
	}{
		{"allowed IPv4", "acme", testenv.NewPassword, "192.0.2.77", ""},
		{"allowed IPv4-mapped IPv6", "acme", testenv.NewPassword, "::ffff:192.0.2.77", ""},
		{"allowed IPv6", "acme", testenv.NewPassword, "2001:db8:0:ff::1", ""},
		{"outside, right password", "acme", testenv.NewPassword, "198.51.100.1", "ip_not_allowed"},
		{"outside, wrong password", "acme", "Wrong#Password1", "198.51.100.1", "ip_not_allowed"},
		{"unknown address", "acme", testenv.NewPassword, "", "ip_not_allowed"},
		{"garbage address", "acme", testenv.NewPassword, "192.0.2.77, 10.0.0.1", "ip_not_allowed"},
		{"inside, wrong password", "acme", "Wrong#Password1", "192.0.2.77", "invalid_credentials"},
		{"unknown tenant, any address", "nosuch", testenv.NewPassword, "198.51.100.1", "invalid_credentials"},
		{"tenant without the option", "open", testenv.NewPassword, "198.51.100.1", ""},
	} {
		_, err := loginFrom(env, tc.tenant, tc.password, tc.ip)
		if code(err) != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if tc.want == "ip_not_allowed" && !errors.Is(err, ports.ErrForbidden) {
			t.Errorf("%s: %v is not ErrForbidden (403)", tc.name, err)
		}
	}
	if n := audited(t, env, "auth.login", "ip_not_allowed"); n != 4 {
		t.Errorf("%d refused logins audited, want 4", n)
	}
	// Outsiders cannot lock members out: refused attempts check no password and count no failure.
	for range 10 {
		if _, err := loginFrom(env, "acme", "Wrong#Password1", "198.51.100.1"); code(err) != "ip_not_allowed" {
			t.Fatalf("outsider: %v", err)
		}
	}
	if _, err := loginFrom(env, "acme", testenv.NewPassword, "192.0.2.1"); err != nil {
		t.Errorf("admin from the office after outsiders' attempts: %v", err)
	}
}

func TestSessionsFollowTheAllowListAtOnce(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	acme, admin := env.Tenant(t, "acme")
	office, home := ports.Source{IP: "192.0.2.10"}, ports.Source{IP: "198.51.100.7"}
	admin.Source = office
	restrict(t, env, acme.ID, "192.0.2.0/24")
	res, err := loginFrom(env, "acme", testenv.NewPassword, office.IP)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Accounts.Authenticate(ctx, res.Token, office); err != nil {
		t.Fatalf("session from the office: %v", err)
	}
	// The same session from elsewhere (a stolen cookie, a forged X-Forwarded-For that the adapter did not
	// believe) is refused, but not ended: back at the office it works again.
	if _, err := env.Accounts.Authenticate(ctx, res.Token, home); code(err) != "ip_not_allowed" || !errors.Is(err, ports.ErrForbidden) {
		t.Fatalf("session from home: %v, want ip_not_allowed", err)
	}
	if audited(t, env, "auth.session", "ip_not_allowed") != 1 {
		t.Error("the refused request is not audited")
	}
	// The admin opens home as well: the open session works from there with the next request.
	if _, err := env.Accounts.SetAllowedCIDRs(ctx, admin, []string{"192.0.2.0/24", "198.51.100.0/24"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Accounts.Authenticate(ctx, res.Token, home); err != nil {
		t.Fatalf("session from home once allowed: %v", err)
	}
	// And closes it again: refused at once, no new login needed.
	if _, err := env.Accounts.SetAllowedCIDRs(ctx, admin, []string{"192.0.2.0/24"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Accounts.Authenticate(ctx, res.Token, home); code(err) != "ip_not_allowed" {
		t.Fatalf("session from home after the removal: %v, want ip_not_allowed", err)
	}
	// Operators belong to no tenant: no tenant's list restricts them.
	if _, err := env.Accounts.CreateOperator(ctx, ports.CreateOperatorCommand{Login: "ops1", Name: "運用", Password: testenv.Password}); err != nil {
		t.Fatal(err)
	}
	op, err := env.Accounts.OperatorLogin(ctx, ports.LoginCommand{Login: "ops1", Password: testenv.Password, Source: home})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Accounts.Authenticate(ctx, op.Token, home); err != nil {
		t.Errorf("operator from anywhere: %v", err)
	}
}

func TestAdminSetsTheAllowList(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	acme, admin := env.Tenant(t, "acme")
	admin.Source.IP = "192.0.2.10"
	hr := admin
	hr.Roles = []string{ports.RoleHR}
	if _, err := env.Accounts.SetAllowedCIDRs(ctx, admin, []string{"192.0.2.0/24"}); code(err) != "ip_restriction_not_contracted" || !errors.Is(err, ports.ErrForbidden) {
		t.Fatalf("option off: %v, want ip_restriction_not_contracted", err)
	}
	restrict(t, env, acme.ID, "192.0.2.0/24")
	for _, tc := range []struct {
		name   string
		p      ports.Principal
		lines  []string
		want   string
		fields []string
	}{
		{"not an admin", hr, []string{"192.0.2.0/24"}, "forbidden", nil},
		{"bad lines", admin, []string{"192.0.2.0/24", "", "300.1.1.1", "0.0.0.0/0"}, "validation_failed",
			[]string{"allowed_cidrs[2]", "allowed_cidrs[3]"}},
		{"locks the admin out", admin, []string{"198.51.100.0/24"}, "would_lock_out", []string{"allowed_cidrs"}},
		{"empty list locks the admin out", admin, nil, "would_lock_out", []string{"allowed_cidrs"}},
	} {
		_, err := env.Accounts.SetAllowedCIDRs(ctx, tc.p, tc.lines)
		if code(err) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
			continue
		}
		e, _ := ports.AsError(err)
		var fields []string
		for _, f := range e.Fields {
			fields = append(fields, f.Field)
		}
		if !slices.Equal(fields, tc.fields) {
			t.Errorf("%s: fields %v, want %v", tc.name, fields, tc.fields)
		}
	}
	v, err := env.Accounts.SetAllowedCIDRs(ctx, admin, []string{" 192.0.2.99/24 ", "2001:DB8::1/48", "192.0.2.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"192.0.2.0/24", "2001:db8::/48"}
	if !v.Enabled || !slices.Equal(v.AllowedCIDRs, want) || v.ClientIP != "192.0.2.10" {
		t.Errorf("saved view %+v, want the normal form %v and the client address", v, want)
	}
	if v, err := env.Accounts.IPRestriction(ctx, admin); err != nil || !slices.Equal(v.AllowedCIDRs, want) {
		t.Errorf("read back %+v %v", v, err)
	}
	recs, _ := env.Store.ListAudit(ctx, ports.AuditFilter{Action: "tenant.allowed_cidrs"})
	if len(recs) != 1 || recs[0].Event.Detail["allowed_cidrs"] != "192.0.2.0/24,2001:db8::/48" ||
		recs[0].Event.Detail["previous"] != "192.0.2.0/24" || recs[0].Event.ActorID != admin.AccountID {
		t.Errorf("audit of the change: %+v", recs)
	}
}

func TestOnlyOperatorsSeeTenants(t *testing.T) {
	t.Parallel()
	pv := newProvider(t)
	acme, admin := pv.Tenant(t, "acme")
	pv.Tenant(t, "beta")
	if _, _, err := pv.CreateAccountAs(t, admin, "hr1"); err != nil {
		t.Fatal(err)
	}
	list, err := pv.svc.ListTenants(ctx, pv.op1)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Code != "acme" || list[0].Accounts != 2 || list[0].ActiveAccounts != 2 || list[1].Accounts != 1 {
		t.Errorf("tenants %+v", list)
	}
	if got, err := pv.svc.GetTenant(ctx, pv.op1, acme.ID); err != nil || got.Code != "acme" || got.Accounts != 2 {
		t.Errorf("get: %+v %v", got, err)
	}
	if _, err := pv.svc.GetTenant(ctx, pv.op1, "nosuch"); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
	tv, av, err := pv.svc.OperatorCreateTenant(ctx, pv.op1, ports.CreateTenantCommand{Code: "gamma", Name: "ガンマ",
		AdminLogin: "admin", AdminName: "管理 花子", AdminPassword: testenv.Password})
	if err != nil || tv.Code != "gamma" || !av.MustChangePassword {
		t.Fatalf("operator creates a tenant: %+v %+v %v", tv, av, err)
	}
	recs, _ := pv.Store.ListAudit(ctx, ports.AuditFilter{Action: "tenant.create", TenantID: tv.ID})
	if len(recs) != 1 || recs[0].Event.ActorID != pv.op1.AccountID || recs[0].Event.ActorKind != ports.KindOperator {
		t.Errorf("tenant creation audited as %+v", recs)
	}
	if ops, err := pv.svc.ListOperators(ctx, pv.op2); err != nil || len(ops) != 2 {
		t.Errorf("operators: %d %v", len(ops), err)
	}
	halfway := pv.op1
	halfway.Stage = ports.StageMFAEnrol
	for name, p := range map[string]ports.Principal{"tenant admin": admin, "operator before MFA": halfway, "nobody": {}} {
		if _, err := pv.svc.ListTenants(ctx, p); code(err) != "forbidden" {
			t.Errorf("%s lists tenants: %v", name, err)
		}
		if _, _, err := pv.svc.OperatorCreateTenant(ctx, p, ports.CreateTenantCommand{}); code(err) != "forbidden" {
			t.Errorf("%s creates a tenant: %v", name, err)
		}
	}
	recs, _ = pv.Store.ListAudit(ctx, ports.AuditFilter{Action: "tenant.list"})
	if len(recs) != 3 || recs[0].Event.Outcome != ports.OutcomeDenied {
		t.Errorf("refusals audited: %+v", recs)
	}
}

// CreateAccountAs creates an HR account in the admin's tenant.
func (pv *provider) CreateAccountAs(t *testing.T, admin ports.Principal, login string) (ports.AccountView, string, error) {
	t.Helper()
	return pv.svc.CreateAccount(ctx, admin, ports.CreateAccountCommand{Login: login, Name: "人事 " + login,
		Roles: []string{ports.RoleHR}})
}

func TestSuspendReactivateAndDeleteATenant(t *testing.T) {
	t.Parallel()
	pv := newProvider(t)
	acme, _ := pv.Tenant(t, "acme")
	res, err := loginFrom(pv.Env, "acme", testenv.NewPassword, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	tenant := map[string]string{"tenant_id": acme.ID}

	r := pv.run(t, ports.OpTenantSuspend, tenant)
	if r.Status != ports.OperationExecuted || !strings.Contains(r.Result, "acme is suspended; 2 sessions ended") {
		t.Fatalf("suspension: %s %q %q", r.Status, r.Result, r.Error)
	}
	if _, err := pv.Accounts.Authenticate(ctx, res.Token, ports.Source{}); !errors.Is(err, ports.ErrUnauthenticated) {
		t.Errorf("session of a suspended tenant: %v", err)
	}
	if _, err := loginFrom(pv.Env, "acme", testenv.NewPassword, "192.0.2.1"); code(err) != "account_disabled" {
		t.Errorf("login to a suspended tenant: %v, want account_disabled", err)
	}
	if _, err := pv.ops.Request(ctx, pv.op1, ports.RequestOperationCommand{Kind: ports.OpTenantSuspend, Params: tenant, Reason: "x"}); code(err) != "tenant_status" {
		t.Errorf("suspending twice: %v, want tenant_status", err)
	}

	r = pv.run(t, ports.OpTenantReactivate, tenant)
	if r.Status != ports.OperationExecuted {
		t.Fatalf("reactivation: %s %q", r.Status, r.Error)
	}
	if _, err := pv.Accounts.Authenticate(ctx, res.Token, ports.Source{}); err == nil {
		t.Error("a session from before the suspension came back to life")
	}
	if _, err := loginFrom(pv.Env, "acme", testenv.NewPassword, "192.0.2.1"); err != nil {
		t.Errorf("login after reactivation: %v", err)
	}

	r = pv.run(t, ports.OpTenantDelete, tenant)
	if r.Status != ports.OperationExecuted {
		t.Fatalf("deletion: %s %q", r.Status, r.Error)
	}
	// A deleted tenant is like an unknown one at login, and nothing can be requested on it any more.
	if _, err := loginFrom(pv.Env, "acme", testenv.NewPassword, "192.0.2.1"); code(err) != "invalid_credentials" {
		t.Errorf("login to a deleted tenant: %v, want invalid_credentials", err)
	}
	if got, _ := pv.svc.GetTenant(ctx, pv.op1, acme.ID); got.Status != ports.TenantDeleted {
		t.Errorf("operators see status %q", got.Status)
	}
	for _, kind := range []string{ports.OpTenantReactivate, ports.OpTenantDelete, ports.OpContractOptions} {
		params := map[string]string{"tenant_id": acme.ID, "seats": "3"}
		if kind != ports.OpContractOptions {
			delete(params, "seats")
		}
		_, err := pv.ops.Request(ctx, pv.op1, ports.RequestOperationCommand{Kind: kind, Params: params, Reason: "x"})
		if e, ok := ports.AsError(err); !ok || len(e.Fields) != 1 || e.Fields[0].Code != "unknown_tenant" {
			t.Errorf("%s on a deleted tenant: %v, want unknown_tenant", kind, err)
		}
	}
	recs, _ := pv.Store.ListAudit(ctx, ports.AuditFilter{Action: "tenant.status", TenantID: acme.ID})
	if len(recs) != 3 || recs[0].Event.ActorID != pv.op2.AccountID || recs[0].Event.Detail["requested_by"] != pv.op1.AccountID {
		t.Errorf("status changes audited: %+v", recs)
	}
}

// TestExecutionChecksAgain: a request made while valid fails when, by its approval, the tenant changed.
func TestExecutionChecksAgain(t *testing.T) {
	t.Parallel()
	pv := newProvider(t)
	acme, _ := pv.Tenant(t, "acme")
	tenant := map[string]string{"tenant_id": acme.ID}
	first, err := pv.ops.Request(ctx, pv.op1, ports.RequestOperationCommand{Kind: ports.OpTenantSuspend, Params: tenant, Reason: "x"})
	if err != nil {
		t.Fatal(err)
	}
	pv.run(t, ports.OpTenantSuspend, tenant)
	r, err := pv.ops.Approve(ctx, pv.op2, first.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != ports.OperationFailed || !strings.Contains(r.Error, "suspended") {
		t.Errorf("stale request: %s %q, want failed", r.Status, r.Error)
	}
}

func TestRequestsWithBadParametersAreRefused(t *testing.T) {
	t.Parallel()
	pv := newProvider(t)
	acme, _ := pv.Tenant(t, "acme")
	id := acme.ID
	for _, tc := range []struct {
		kind   string
		params map[string]string
		fields []string // "field:code"
		code   string
	}{
		{ports.OpTenantSuspend, nil, []string{"params.tenant_id:required"}, ""},
		{ports.OpTenantSuspend, map[string]string{"tenant_id": "nosuch"}, []string{"params.tenant_id:unknown_tenant"}, ""},
		{ports.OpTenantDelete, map[string]string{"tenant_id": id, "force": "true"}, []string{"params.force:unknown_parameter"}, ""},
		{ports.OpTenantReactivate, map[string]string{"tenant_id": id}, nil, "tenant_status"},
		{ports.OpContractOptions, map[string]string{"tenant_id": id}, []string{"params:nothing_to_change"}, ""},
		{ports.OpContractOptions, map[string]string{"tenant_id": id, "ip_restriction": "yes", "mfa_required": "1"},
			[]string{"params.ip_restriction:boolean", "params.mfa_required:boolean"}, ""},
		{ports.OpContractOptions, map[string]string{"tenant_id": id, "seats": "-1"}, []string{"params.seats:seats"}, ""},
		{ports.OpContractOptions, map[string]string{"tenant_id": id, "seats": "ten"}, []string{"params.seats:seats"}, ""},
		{ports.OpContractOptions, map[string]string{"tenant_id": id, "seats": "1000001"}, []string{"params.seats:seats"}, ""},
		{ports.OpContractOptions, map[string]string{"tenant_id": id, "ip_restriction": "true"}, []string{"params.allowed_cidrs:required"}, ""},
		{ports.OpContractOptions, map[string]string{"tenant_id": id, "ip_restriction": "true", "allowed_cidrs": "192.0.2.0/24,nope"},
			[]string{"params.allowed_cidrs[1]:invalid_cidr"}, ""},
		{ports.OpContractOptions, map[string]string{"tenant_id": "nosuch", "seats": "3"}, []string{"params.tenant_id:unknown_tenant"}, ""},
		{ports.OpGrantOperator, map[string]string{"login": "x", "name": ""}, []string{"params.login:length", "params.name:length"}, ""},
		{ports.OpGrantOperator, map[string]string{"login": "OPS1", "name": "運用"}, nil, "login_taken"},
	} {
		_, err := pv.ops.Request(ctx, pv.op1, ports.RequestOperationCommand{Kind: tc.kind, Params: tc.params, Reason: "x"})
		e, ok := ports.AsError(err)
		if !ok {
			t.Errorf("%s %v: %v, want a refusal", tc.kind, tc.params, err)
			continue
		}
		var fields []string
		for _, f := range e.Fields {
			fields = append(fields, f.Field+":"+f.Code)
			if f.MessageJA == "" || f.MessageEN == "" {
				t.Errorf("%s %v: field error %+v lacks a message", tc.kind, tc.params, f)
			}
		}
		if tc.code != "" && e.Code != tc.code || tc.code == "" && !errors.Is(err, ports.ErrInvalid) || !slices.Equal(fields, tc.fields) {
			t.Errorf("%s %v: %v %v, want %s %v", tc.kind, tc.params, err, fields, tc.code, tc.fields)
		}
	}
}

func TestContractOptionsAndSeats(t *testing.T) {
	t.Parallel()
	pv := newProvider(t)
	acme, admin := pv.Tenant(t, "acme")
	r := pv.run(t, ports.OpContractOptions, map[string]string{"tenant_id": acme.ID, "ip_restriction": "true",
		"allowed_cidrs": "192.0.2.0/24\n2001:db8::/48", "mfa_required": "true", "seats": "3"})
	if r.Status != ports.OperationExecuted {
		t.Fatalf("contract change: %s %q", r.Status, r.Error)
	}
	got, _ := pv.svc.GetTenant(ctx, pv.op1, acme.ID)
	if !got.IPRestriction || !got.MFARequired || got.Seats != 3 || !slices.Equal(got.AllowedCIDRs, []string{"192.0.2.0/24", "2001:db8::/48"}) {
		t.Errorf("tenant after the change: %+v", got.TenantView)
	}
	admin.Source.IP = "192.0.2.5"
	if _, _, err := pv.CreateAccountAs(t, admin, "hr1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pv.CreateAccountAs(t, admin, "hr2"); err != nil {
		t.Fatal(err)
	}
	_, _, err := pv.CreateAccountAs(t, admin, "hr3")
	e, ok := ports.AsError(err)
	if !ok || e.Code != "seats_exhausted" || !errors.Is(err, ports.ErrConflict) ||
		!strings.Contains(e.MessageEN, "3 seats") || !strings.Contains(e.MessageJA, "（3）") {
		t.Fatalf("fourth account with 3 seats: %v", err)
	}
	// A disabled account frees its seat.
	list, _ := pv.svc.ListAccounts(ctx, admin)
	if _, err := pv.svc.DisableAccount(ctx, admin, list[1].ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pv.CreateAccountAs(t, admin, "hr3"); err != nil {
		t.Errorf("after disabling one: %v", err)
	}
	// Lowering the seats below the accounts in use is allowed (nobody is cut off) and said so.
	r = pv.run(t, ports.OpContractOptions, map[string]string{"tenant_id": acme.ID, "seats": "1", "ip_restriction": "false"})
	if r.Status != ports.OperationExecuted || !strings.Contains(r.Result, "3 active accounts exceed the seats") {
		t.Errorf("lowering the seats: %s %q %q", r.Status, r.Result, r.Error)
	}
	recs, _ := pv.Store.ListAudit(ctx, ports.AuditFilter{Action: "tenant.contract_options", TenantID: acme.ID})
	if len(recs) != 2 || recs[0].Event.Detail["change"] != "ip_restriction=true mfa_required=true seats=3 allowed_cidrs=192.0.2.0/24,2001:db8::/48" {
		t.Errorf("contract changes audited: %+v", recs)
	}
}

// TestSeatsHoldUnderConcurrency creates 20 accounts at once against 5 seats: exactly 4 join the admin.
func TestSeatsHoldUnderConcurrency(t *testing.T) {
	t.Parallel()
	pv := newProvider(t)
	acme, admin := pv.Tenant(t, "acme")
	pv.run(t, ports.OpContractOptions, map[string]string{"tenant_id": acme.ID, "seats": "5"})
	var created, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, _, err := pv.CreateAccountAs(t, admin, "hr"+string(rune('a'+i)))
			switch code(err) {
			case "":
				created.Add(1)
			case "seats_exhausted":
				refused.Add(1)
			default:
				t.Errorf("create: %v", err)
			}
		})
	}
	wg.Wait()
	if created.Load() != 4 || refused.Load() != 16 {
		t.Errorf("%d created, %d refused, want 4 and 16", created.Load(), refused.Load())
	}
}

func TestGrantingOperatorRights(t *testing.T) {
	t.Parallel()
	pv := newProvider(t)
	r := pv.run(t, ports.OpGrantOperator, map[string]string{"login": "ops3", "name": "運用 三郎"})
	if r.Status != ports.OperationExecuted {
		t.Fatalf("grant: %s %q", r.Status, r.Error)
	}
	newOp := ports.Principal{AccountID: r.ID, Kind: ports.KindOperator, Login: "ops3", Stage: ports.StageFull}
	for name, p := range map[string]ports.Principal{"the requester": pv.op1, "the new operator": newOp} {
		if _, err := pv.svc.IssueOperatorPassword(ctx, p, r.ID); code(err) != "requester_cannot_issue" {
			t.Errorf("%s issues the password: %v, want requester_cannot_issue", name, err)
		}
	}
	if _, err := pv.svc.IssueOperatorPassword(ctx, pv.op2, pv.op1.AccountID); code(err) != "not_granted" {
		t.Errorf("an operator made without a grant: %v, want not_granted", err)
	}
	first, err := pv.svc.IssueOperatorPassword(ctx, pv.op2, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	second, err := pv.svc.IssueOperatorPassword(ctx, pv.op2, r.ID)
	if err != nil || second == first {
		t.Fatalf("issuing again: %v", err)
	}
	if _, err := pv.svc.OperatorLogin(ctx, ports.LoginCommand{Login: "ops3", Password: first}); code(err) != "invalid_credentials" {
		t.Errorf("the replaced password: %v", err)
	}
	res, err := pv.svc.OperatorLogin(ctx, ports.LoginCommand{Login: "ops3", Password: second})
	if err != nil || res.Stage != ports.StagePasswordChange {
		t.Fatalf("first login of the new operator: %+v %v", res, err)
	}
	if _, err := pv.svc.IssueOperatorPassword(ctx, pv.op2, r.ID); code(err) != "already_activated" {
		t.Errorf("issuing after the first login: %v, want already_activated", err)
	}
	recs, _ := pv.Store.ListAudit(ctx, ports.AuditFilter{Action: "operator.issue_password"})
	if len(recs) != 4 { // two issued, two refused
		t.Errorf("%d issue_password entries, want 4", len(recs))
	}
	for _, rec := range recs {
		for _, v := range rec.Event.Detail {
			if strings.Contains(v, first) || strings.Contains(v, second) {
				t.Error("a one-time password reached the audit log")
			}
		}
	}
}

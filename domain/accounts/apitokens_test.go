package accounts_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/accounts"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

var office = ports.Source{IP: "192.0.2.10", UserAgent: "payroll-sync/1.0"}

// newToken creates a token of the admin with the scopes, expiring in 90 days.
func newToken(t *testing.T, env *testenv.Env, admin ports.Principal, scopes ...string) (ports.APITokenView, string) {
	t.Helper()
	v, token, err := env.Accounts.CreateAPIToken(ctx, admin, ports.CreateAPITokenCommand{Name: "給与システム",
		Scopes: scopes, ExpiresAt: env.Clock.Now().Add(90 * 24 * time.Hour)})
	if err != nil {
		t.Fatalf("CreateAPIToken: %v", err)
	}
	return v, token
}

func storedToken(t *testing.T, env *testenv.Env, id string) ports.APITokenRecord {
	t.Helper()
	r, err := env.Store.APITokenByID(ctx, id)
	if err != nil {
		t.Fatalf("APITokenByID: %v", err)
	}
	return r
}

func TestAPITokenAuthenticatesWithItsScopesAndCreatorsRoles(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	v, token := newToken(t, env, admin, ports.ScopeProceduresRead, ports.ScopeEmployeesRead, ports.ScopeEmployeesRead)
	if !strings.HasPrefix(token, "roumu_"+v.ID+"_") || len(token) != 66 || v.Hint != "roumu_"+v.ID+"_…" {
		t.Fatalf("token %q (view %+v): want roumu_<id>_<secret>, 66 characters", token, v)
	}
	if want := []string{ports.ScopeEmployeesRead, ports.ScopeProceduresRead}; strings.Join(v.Scopes, " ") != strings.Join(want, " ") {
		t.Errorf("scopes %v, want %v (deduplicated, in catalogue order)", v.Scopes, want)
	}
	if r := storedToken(t, env, v.ID); strings.Contains(r.SecretHash, token[len("roumu_")+17:]) || len(r.SecretHash) != 64 {
		t.Errorf("stored %q: want the SHA-256 of the token, never the token", r.SecretHash)
	}
	p, err := env.Accounts.Authenticate(ctx, token, office)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if p.TokenID != v.ID || p.AccountID != admin.AccountID || p.TenantID != admin.TenantID || p.Kind != ports.KindMember ||
		p.Stage != ports.StageFull || !p.HasRole(ports.RoleAdmin) || p.SessionID != "" {
		t.Errorf("principal %+v", p)
	}
	for scope, want := range map[string]bool{ports.ScopeEmployeesRead: true, ports.ScopeProceduresRead: true,
		ports.ScopeEmployeesWrite: false, ports.ScopeAccountsRead: false, ports.ScopeWebhooksManage: false} {
		if p.Allows(scope) != want {
			t.Errorf("token Allows(%s) = %v, want %v", scope, !want, want)
		}
		if !admin.Allows(scope) {
			t.Errorf("session Allows(%s) = false: sessions have the full rights of their roles", scope)
		}
	}
	// What belongs to the person is not the integration's: no password change, no second factor, no tokens.
	if _, err := env.Accounts.ChangePassword(ctx, p, testenv.NewPassword, "Another#Pass9word"); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("ChangePassword with a token: %v, want forbidden", err)
	}
	if _, err := env.Accounts.BeginTOTP(ctx, p, testenv.NewPassword); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("BeginTOTP with a token: %v, want forbidden", err)
	}
	if _, _, err := env.Accounts.CreateAPIToken(ctx, p, ports.CreateAPITokenCommand{Name: "x",
		Scopes: []string{ports.ScopeEmployeesRead}, ExpiresAt: env.Clock.Now().Add(time.Hour)}); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("CreateAPIToken with a token: %v, want forbidden", err)
	}
	if _, err := env.Accounts.ListAPITokens(ctx, p); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("ListAPITokens with a token: %v, want forbidden", err)
	}
	if err := env.Accounts.RevokeAPIToken(ctx, p, v.ID); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("RevokeAPIToken with a token: %v, want forbidden", err)
	}
}

func TestAPITokenLastUsedIsThrottled(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	v, token := newToken(t, env, admin, ports.ScopeEmployeesRead)
	if !v.LastUsedAt.IsZero() {
		t.Fatalf("new token used at %v", v.LastUsedAt)
	}
	first := env.Clock.Now()
	steps := []struct {
		after  time.Duration
		ip     string
		wantAt time.Time
		wantIP string
	}{
		{0, "192.0.2.10", first, "192.0.2.10"},
		{59 * time.Second, "192.0.2.11", first, "192.0.2.10"}, // within the minute: no write
		{time.Second, "192.0.2.12", first.Add(time.Minute), "192.0.2.12"},
		{30 * time.Second, "192.0.2.13", first.Add(time.Minute), "192.0.2.12"},
	}
	for i, st := range steps {
		env.Clock.Advance(st.after)
		if _, err := env.Accounts.Authenticate(ctx, token, ports.Source{IP: st.ip}); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		r := storedToken(t, env, v.ID)
		if !r.LastUsedAt.Equal(st.wantAt) || r.LastUsedIP != st.wantIP {
			t.Errorf("step %d: last used %v from %s, want %v from %s", i, r.LastUsedAt, r.LastUsedIP, st.wantAt, st.wantIP)
		}
	}
	list, err := env.Accounts.ListAPITokens(ctx, admin)
	if err != nil || len(list) != 1 || !list[0].LastUsedAt.Equal(first.Add(time.Minute)) || list[0].LastUsedIP != "192.0.2.12" {
		t.Errorf("ListAPITokens = %+v, %v", list, err)
	}
}

// auditReasons returns the reasons of the refused API token uses recorded so far.
func auditReasons(t *testing.T, env *testenv.Env) []string {
	t.Helper()
	recs, err := env.Store.ListAudit(ctx, ports.AuditFilter{Action: "auth.api_token"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		if r.Event.Outcome != ports.OutcomeDenied || r.Event.ActorKind != "token" {
			t.Errorf("audit %+v", r.Event)
		}
		out = append(out, r.Event.Detail["reason"])
	}
	return out
}

func TestAPITokenRefusals(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	tv, admin := env.Tenant(t, "acme")
	for _, tc := range []struct {
		name   string
		setup  func(v ports.APITokenView, token string) (string, ports.Source) // returns the token to present
		kind   error
		code   string
		reason string // the audited reason, "" when nothing is audited
	}{
		{"valid", func(_ ports.APITokenView, tok string) (string, ports.Source) { return tok, office }, nil, "", ""},
		{"wrong secret", func(_ ports.APITokenView, tok string) (string, ports.Source) {
			return tok[:len(tok)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(tok, "A")], office
		}, ports.ErrUnauthenticated, "unauthenticated", "wrong_secret"},
		{"revoked", func(v ports.APITokenView, tok string) (string, ports.Source) {
			if err := env.Accounts.RevokeAPIToken(ctx, admin, v.ID); err != nil {
				t.Fatal(err)
			}
			return tok, office
		}, ports.ErrUnauthenticated, "token_revoked", "revoked"},
		{"expired", func(v ports.APITokenView, tok string) (string, ports.Source) {
			env.Clock.Set(v.ExpiresAt)
			return tok, office
		}, ports.ErrUnauthenticated, "token_expired", "expired"},
		{"creator disabled", func(_ ports.APITokenView, tok string) (string, ports.Source) {
			setAccountStatus(t, env, admin, ports.AccountDisabled)
			return tok, office
		}, ports.ErrUnauthenticated, "account_disabled", "disabled"},
		{"outside the allow-list", func(_ ports.APITokenView, tok string) (string, ports.Source) {
			restrict(t, env, tv.ID, "192.0.2.0/24")
			return tok, ports.Source{IP: "198.51.100.7"}
		}, ports.ErrForbidden, "ip_not_allowed", "ip_not_allowed"},
		{"inside the allow-list", func(_ ports.APITokenView, tok string) (string, ports.Source) {
			restrict(t, env, tv.ID, "192.0.2.0/24")
			return tok, office
		}, nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.Clock.Set(testenv.Start)
			setAccountStatus(t, env, admin, ports.AccountActive)
			unrestrict(t, env, tv.ID)
			before := len(auditReasons(t, env))
			v, token := newToken(t, env, admin, ports.ScopeEmployeesRead)
			presented, src := tc.setup(v, token)
			p, err := env.Accounts.Authenticate(ctx, presented, src)
			if tc.kind == nil {
				if err != nil || p.TokenID != v.ID {
					t.Fatalf("Authenticate: %+v, %v", p, err)
				}
			} else if !errors.Is(err, tc.kind) || code(err) != tc.code {
				t.Fatalf("Authenticate: %v, want %v %s", err, tc.kind, tc.code)
			}
			reasons := auditReasons(t, env)[before:]
			if want := []string{tc.reason}; tc.reason == "" && len(reasons) > 0 || tc.reason != "" && strings.Join(reasons, ",") != strings.Join(want, ",") {
				t.Errorf("audited refusals %v, want %q", reasons, tc.reason)
			}
		})
	}
	recs, err := env.Store.ListAudit(ctx, ports.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		for k, v := range r.Event.Detail {
			if strings.Contains(v, "roumu_") {
				t.Errorf("audit %s detail %s holds a token: %q", r.Event.Action, k, v)
			}
		}
	}
}

func setAccountStatus(t *testing.T, env *testenv.Env, p ports.Principal, status string) {
	t.Helper()
	if _, err := env.Store.UpdateAccount(ctx, p.TenantID, p.AccountID, func(a *ports.AccountRecord) error {
		a.Status = status
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// unrestrict switches the tenant's IP restriction off.
func unrestrict(t *testing.T, env *testenv.Env, tenantID string) {
	t.Helper()
	if _, err := env.Store.UpdateTenant(ctx, tenantID, func(r *ports.TenantRecord) error {
		r.IPRestriction, r.AllowedCIDRs = false, nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestHostileAPITokenStrings(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	v, token := newToken(t, env, admin, ports.ScopeEmployeesRead)
	secret := token[len("roumu_")+17:]
	for name, tok := range map[string]string{
		"prefix only":       "roumu_",
		"no secret":         "roumu_" + v.ID + "_",
		"overlong":          token + strings.Repeat("A", 4096),
		"one longer":        token + "A",
		"wrong prefix":      "ROUMU_" + token[6:],
		"upper-case ID":     "roumu_" + strings.ToUpper(v.ID) + "_" + secret,
		"NUL in the secret": token[:40] + "\x00" + token[41:],
		"NUL in the ID":     "roumu_" + v.ID[:15] + "\x00_" + secret,
		"unknown ID":        "roumu_0123456789abcdef_" + secret,
		"separator swapped": "roumu_" + v.ID + "-" + secret,
		"padding":           token[:len(token)-1] + "=",
		"non-ASCII":         token[:len(token)-3] + "あ",
	} {
		if _, err := env.Accounts.Authenticate(ctx, tok, office); !errors.Is(err, ports.ErrUnauthenticated) {
			t.Errorf("%s: %v, want ErrUnauthenticated", name, err)
		}
	}
	if reasons := auditReasons(t, env); len(reasons) != 0 {
		t.Errorf("malformed or unknown tokens audited as %v: they name no tenant", reasons)
	}
}

func TestCreateAPITokenPolicy(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	now := env.Clock.Now()
	read := []string{ports.ScopeEmployeesRead}
	for _, tc := range []struct {
		name    string
		cmd     ports.CreateAPITokenCommand
		field   string // the field error expected, "" for success
		errCode string
	}{
		{"a year ahead", ports.CreateAPITokenCommand{Name: "連携", Scopes: read, ExpiresAt: now.Add(accounts.MaxAPITokenLifetime)}, "", ""},
		{"every scope", ports.CreateAPITokenCommand{Name: "連携", Scopes: ports.Scopes, ExpiresAt: now.Add(time.Hour)}, "", ""},
		{"a year from now", ports.CreateAPITokenCommand{Name: "連携", Scopes: read, ExpiresIn: accounts.MaxAPITokenLifetime}, "", ""},
		{"a year and a day from now", ports.CreateAPITokenCommand{Name: "連携", Scopes: read, ExpiresIn: accounts.MaxAPITokenLifetime + 24*time.Hour}, "expires_at", "too_far"},
		{"backwards", ports.CreateAPITokenCommand{Name: "連携", Scopes: read, ExpiresIn: -time.Hour}, "expires_at", "in_past"},
		{"no name", ports.CreateAPITokenCommand{Name: " ", Scopes: read, ExpiresAt: now.Add(time.Hour)}, "name", "length"},
		{"control in name", ports.CreateAPITokenCommand{Name: "a\x00b", Scopes: read, ExpiresAt: now.Add(time.Hour)}, "name", "control_character"},
		{"no scope", ports.CreateAPITokenCommand{Name: "連携", ExpiresAt: now.Add(time.Hour)}, "scopes", "required"},
		{"unknown scope", ports.CreateAPITokenCommand{Name: "連携", Scopes: []string{"employees:*"}, ExpiresAt: now.Add(time.Hour)}, "scopes", "unknown_scope"},
		{"no expiry", ports.CreateAPITokenCommand{Name: "連携", Scopes: read}, "expires_at", "required"},
		{"expiry now", ports.CreateAPITokenCommand{Name: "連携", Scopes: read, ExpiresAt: now}, "expires_at", "in_past"},
		{"expiry past a year", ports.CreateAPITokenCommand{Name: "連携", Scopes: read, ExpiresAt: now.Add(accounts.MaxAPITokenLifetime + time.Second)}, "expires_at", "too_far"},
	} {
		v, token, err := env.Accounts.CreateAPIToken(ctx, admin, tc.cmd)
		if tc.field == "" {
			if err != nil || token == "" || v.ID == "" {
				t.Errorf("%s: %+v %v", tc.name, v, err)
			}
			continue
		}
		e, ok := ports.AsError(err)
		if !ok || !errors.Is(err, ports.ErrInvalid) || len(e.Fields) != 1 || e.Fields[0].Field != tc.field || e.Fields[0].Code != tc.errCode {
			t.Errorf("%s: %v, want %s %s", tc.name, err, tc.field, tc.errCode)
		}
	}
	list, err := env.Accounts.ListAPITokens(ctx, admin)
	if err != nil || len(list) != 3 {
		t.Errorf("ListAPITokens = %d tokens, %v; want the 3 created", len(list), err)
	}
	recs, _ := env.Store.ListAudit(ctx, ports.AuditFilter{Action: "api_token.create"})
	if len(recs) != 3 {
		t.Errorf("%d api_token.create records, want 3", len(recs))
	}
}

func TestAPITokensAreTheirTenantsAndTheAdmins(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, adminA := env.Tenant(t, "acme")
	_, adminB := env.Tenant(t, "globex")
	vA, tokenA := newToken(t, env, adminA, ports.ScopeEmployeesRead)
	if list, err := env.Accounts.ListAPITokens(ctx, adminB); err != nil || len(list) != 0 {
		t.Errorf("B lists %+v, %v", list, err)
	}
	if err := env.Accounts.RevokeAPIToken(ctx, adminB, vA.ID); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("B revokes A's token: %v, want not found", err)
	}
	if p, err := env.Accounts.Authenticate(ctx, tokenA, office); err != nil || p.TenantID != adminA.TenantID {
		t.Errorf("A's token after B's attempt: %+v %v", p, err)
	}
	hr := adminA
	hr.Roles = []string{ports.RoleHR}
	if _, _, err := env.Accounts.CreateAPIToken(ctx, hr, ports.CreateAPITokenCommand{Name: "x",
		Scopes: []string{ports.ScopeEmployeesRead}, ExpiresAt: env.Clock.Now().Add(time.Hour)}); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("HR creates a token: %v, want forbidden", err)
	}
	if err := env.Accounts.RevokeAPIToken(ctx, adminA, vA.ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if err := env.Accounts.RevokeAPIToken(ctx, adminA, vA.ID); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("second revoke: %v, want not found", err)
	}
	if list, err := env.Accounts.ListAPITokens(ctx, adminA); err != nil || len(list) != 0 {
		t.Errorf("A lists %+v after the revocation, %v", list, err)
	}
	recs, _ := env.Store.ListAudit(ctx, ports.AuditFilter{Action: "api_token.revoke"})
	if len(recs) != 1 || recs[0].Event.Target != "api_token:"+vA.ID || recs[0].Event.ActorID != adminA.AccountID {
		t.Errorf("revocation audit %+v", recs)
	}
}

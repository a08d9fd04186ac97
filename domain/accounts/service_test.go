package accounts_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

var ctx = context.Background()

func code(err error) string {
	if e, ok := ports.AsError(err); ok {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return "untyped: " + err.Error()
}

func login(env *testenv.Env, tenant, user, password string) (ports.LoginResult, error) {
	return env.Accounts.Login(ctx, ports.LoginCommand{Tenant: tenant, Login: user, Password: password,
		Source: ports.Source{IP: "192.0.2.10", UserAgent: "test"}})
}

func TestUnknownTenantLoginAndPasswordLookAlike(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Tenant(t, "acme")
	for _, tc := range []struct{ tenant, login, password string }{
		{"nosuch", "admin", testenv.NewPassword},
		{"acme", "nosuch", testenv.NewPassword},
		{"acme", "admin", "Wrong#Password1"},
		{"acme", "admin", testenv.Password}, // the old password after the change
	} {
		_, err := login(env, tc.tenant, tc.login, tc.password)
		if !errors.Is(err, ports.ErrUnauthenticated) || code(err) != "invalid_credentials" {
			t.Errorf("login %+v: %v, want invalid_credentials", tc, err)
		}
	}
}

func TestLoginNormalisesWidthAndCase(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Tenant(t, "acme")
	if _, err := login(env, "ＡＣＭＥ", "ＡＤＭＩＮ", testenv.NewPassword); err != nil {
		t.Fatalf("full-width company code and login: %v", err)
	}
}

func TestLockoutAfterFiveFailures(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Tenant(t, "acme")
	for i := 1; i <= 4; i++ {
		if _, err := login(env, "acme", "admin", "Wrong#Password1"); code(err) != "invalid_credentials" {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	_, err := login(env, "acme", "admin", "Wrong#Password1")
	var e *ports.Error
	if !errors.As(err, &e) || e.Code != "account_locked" || e.RetryAfter != 30*time.Minute {
		t.Fatalf("5th failure: %v, want account_locked for 30m", err)
	}
	env.Clock.Advance(10 * time.Minute)
	_, err = login(env, "acme", "admin", testenv.NewPassword)
	if !errors.As(err, &e) || e.Code != "account_locked" || e.RetryAfter != 20*time.Minute {
		t.Fatalf("right password while locked: %v, want account_locked with 20m left", err)
	}
	// Failures while locked do not extend the lock.
	for range 10 {
		_, _ = login(env, "acme", "admin", "Wrong#Password1")
	}
	env.Clock.Advance(20 * time.Minute)
	if _, err := login(env, "acme", "admin", testenv.NewPassword); err != nil {
		t.Fatalf("after 30 minutes: %v", err)
	}
}

func TestSuccessResetsTheCount(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Tenant(t, "acme")
	for range 2 {
		for range 4 {
			_, _ = login(env, "acme", "admin", "Wrong#Password1")
		}
		if _, err := login(env, "acme", "admin", testenv.NewPassword); err != nil {
			t.Fatalf("4 failures then success: %v", err)
		}
	}
}

func TestUnknownIdentifiersLockLikeKnownOnes(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Tenant(t, "acme")
	for _, id := range []struct{ tenant, login string }{{"acme", "ghost"}, {"nosuch", "admin"}} {
		var err error
		for range 5 {
			_, err = login(env, id.tenant, id.login, "Wrong#Password1")
		}
		if code(err) != "account_locked" {
			t.Errorf("%v after 5 failures: %v, want account_locked", id, err)
		}
	}
}

// TestParallelFailuresAreNeverLost fires 5 wrong passwords at once, many times over: a lost update in the
// counter would leave the account unlocked in some round.
func TestParallelFailuresAreNeverLost(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Tenant(t, "acme")
	for round := range 50 {
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() { _, _ = login(env, "acme", "admin", "Wrong#Password1") })
		}
		wg.Wait()
		if _, err := login(env, "acme", "admin", testenv.NewPassword); code(err) != "account_locked" {
			t.Fatalf("round %d: right password after 5 parallel failures: %v, want account_locked", round, err)
		}
		env.Clock.Advance(31 * time.Minute)
		if _, err := login(env, "acme", "admin", testenv.NewPassword); err != nil {
			t.Fatalf("round %d: after the lock: %v", round, err)
		}
	}
}

func TestAdminUnlocks(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	acct, _, err := env.Accounts.CreateAccount(ctx, admin, ports.CreateAccountCommand{Login: "hr1", Name: "人事 花子",
		Roles: []string{"hr"}, Password: testenv.Password})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		_, _ = login(env, "acme", "hr1", "Wrong#Password1")
	}
	if v, _ := env.Accounts.GetAccount(ctx, admin, acct.ID); !v.Locked {
		t.Fatal("account not shown as locked")
	}
	if v, err := env.Accounts.UnlockAccount(ctx, admin, acct.ID); err != nil || v.Locked {
		t.Fatalf("unlock: %+v %v", v, err)
	}
	if _, err := login(env, "acme", "hr1", testenv.Password); err != nil {
		t.Fatalf("login after unlock: %v", err)
	}
}

func TestNewAccountMustChooseItsOwnPassword(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	acct, oneTime, err := env.Accounts.CreateAccount(ctx, admin, ports.CreateAccountCommand{Login: "Sato", Name: "佐藤 一郎", Roles: []string{"employee"}})
	if err != nil || oneTime == "" || !acct.MustChangePassword {
		t.Fatalf("create: %+v %q %v", acct, oneTime, err)
	}
	res, err := login(env, "acme", "sato", oneTime)
	if err != nil || res.Stage != ports.StagePasswordChange {
		t.Fatalf("first login: %+v %v", res, err)
	}
	p, _ := env.Accounts.Authenticate(ctx, res.Token, ports.Source{})
	if _, err := env.Accounts.ListAccounts(ctx, p); !errors.Is(err, ports.ErrForbidden) {
		t.Fatalf("restricted session used elsewhere: %v", err)
	}
	_, err = env.Accounts.ChangePassword(ctx, p, oneTime, "short")
	var e *ports.Error
	if !errors.As(err, &e) || e.Code != "password_policy" || len(e.Fields) < 2 {
		t.Fatalf("weak new password: %v, want password_policy listing each rule", err)
	}
	res, err = env.Accounts.ChangePassword(ctx, p, oneTime, testenv.NewPassword)
	if err != nil || res.Stage != ports.StageFull {
		t.Fatalf("change: %+v %v", res, err)
	}
	if _, err := env.Accounts.Authenticate(ctx, res.Token, ports.Source{}); err != nil {
		t.Fatalf("new session: %v", err)
	}
	if _, err := env.Accounts.Authenticate(ctx, p.SessionID, ports.Source{}); err == nil {
		t.Fatal("a session hash must never authenticate")
	}
}

func TestPasswordChangeEndsEverySession(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	other, _ := login(env, "acme", "admin", testenv.NewPassword)
	if _, err := env.Accounts.ChangePassword(ctx, admin, "Wrong#Password1", "Zq8!pLm4Rt6$"); code(err) != "current_password_incorrect" {
		t.Fatalf("wrong current password: %v", err)
	}
	res, err := env.Accounts.ChangePassword(ctx, admin, testenv.NewPassword, "Zq8!pLm4Rt6$")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Accounts.Authenticate(ctx, other.Token, ports.Source{}); !errors.Is(err, ports.ErrUnauthenticated) {
		t.Fatalf("other session survived the change: %v", err)
	}
	if _, err := env.Accounts.Authenticate(ctx, res.Token, ports.Source{}); err != nil {
		t.Fatalf("fresh session: %v", err)
	}
}

func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Tenant(t, "acme")
	res, _ := login(env, "acme", "admin", testenv.NewPassword)
	for range 23 { // 11.5 hours of activity every 30 minutes minus a second
		env.Clock.Advance(30*time.Minute - time.Second)
		if _, err := env.Accounts.Authenticate(ctx, res.Token, ports.Source{}); err != nil {
			t.Fatalf("active session ended early at %v: %v", env.Clock.Now(), err)
		}
	}
	env.Clock.Advance(30 * time.Minute)
	if _, err := env.Accounts.Authenticate(ctx, res.Token, ports.Source{}); code(err) != "session_expired" {
		t.Fatalf("after 12 hours: %v", err)
	}
	res, _ = login(env, "acme", "admin", testenv.NewPassword)
	env.Clock.Advance(30 * time.Minute)
	if _, err := env.Accounts.Authenticate(ctx, res.Token, ports.Source{}); code(err) != "session_expired" {
		t.Fatalf("after 30 idle minutes: %v", err)
	}
	if err := env.Accounts.Logout(ctx, res.Token, ports.Source{}); err != nil {
		t.Fatalf("logout of an expired session: %v", err)
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, adminA := env.Tenant(t, "tenant-a")
	_, adminB := env.Tenant(t, "tenant-b")
	b, _, err := env.Accounts.CreateAccount(ctx, adminB, ports.CreateAccountCommand{Login: "hr1", Name: "B 人事", Roles: []string{"hr"}})
	if err != nil {
		t.Fatal(err)
	}
	name := "乗っ取り"
	for what, err := range map[string]error{
		"get":     second(env.Accounts.GetAccount(ctx, adminA, b.ID)),
		"update":  second(env.Accounts.UpdateAccount(ctx, adminA, b.ID, ports.UpdateAccountCommand{Name: &name})),
		"unlock":  second(env.Accounts.UnlockAccount(ctx, adminA, b.ID)),
		"disable": second(env.Accounts.DisableAccount(ctx, adminA, b.ID)),
		"admin":   second(env.Accounts.GetAccount(ctx, adminA, adminB.AccountID)),
	} {
		if !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("%s of another tenant's account: %v, want not found", what, err)
		}
	}
	list, _ := env.Accounts.ListAccounts(ctx, adminA)
	for _, a := range list {
		if a.TenantID != adminA.TenantID {
			t.Errorf("tenant A lists %s of another tenant", a.ID)
		}
	}
	if v, _ := env.Accounts.GetAccount(ctx, adminB, b.ID); v.Name != "B 人事" || v.Status != ports.AccountActive {
		t.Errorf("tenant B's account changed: %+v", v)
	}
}

func second[T any](_ T, err error) error { return err }

func TestRolesGateAdministration(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	_, _, _ = env.Accounts.CreateAccount(ctx, admin, ports.CreateAccountCommand{Login: "hr1", Name: "人事", Roles: []string{"hr"}, Password: testenv.Password})
	res, _ := login(env, "acme", "hr1", testenv.Password)
	p, _ := env.Accounts.Authenticate(ctx, res.Token, ports.Source{})
	res, _ = env.Accounts.ChangePassword(ctx, p, testenv.Password, testenv.NewPassword)
	hr, _ := env.Accounts.Authenticate(ctx, res.Token, ports.Source{})
	if _, err := env.Accounts.ListAccounts(ctx, hr); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("hr lists accounts: %v", err)
	}
	if _, _, err := env.Accounts.CreateAccount(ctx, hr, ports.CreateAccountCommand{Login: "x1x", Name: "x", Roles: []string{"admin"}}); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("hr creates an admin: %v", err)
	}
	if _, err := env.Accounts.UpdateAccount(ctx, admin, admin.AccountID, ports.UpdateAccountCommand{Roles: []string{"hr"}}); code(err) != "cannot_remove_own_admin" {
		t.Errorf("admin demotes self: %v", err)
	}
	if _, err := env.Accounts.DisableAccount(ctx, admin, admin.AccountID); code(err) != "cannot_disable_self" {
		t.Errorf("admin disables self: %v", err)
	}
	if _, _, err := env.Accounts.CreateAccount(ctx, admin, ports.CreateAccountCommand{Login: "HR1", Name: "重複", Roles: []string{"hr"}}); code(err) != "login_taken" {
		t.Errorf("duplicate login differing in case: %v", err)
	}
}

func TestDisabledAccountIsLoggedOut(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	acct, _, _ := env.Accounts.CreateAccount(ctx, admin, ports.CreateAccountCommand{Login: "hr1", Name: "人事", Roles: []string{"hr"}, Password: testenv.Password})
	res, _ := login(env, "acme", "hr1", testenv.Password)
	if _, err := env.Accounts.DisableAccount(ctx, admin, acct.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Accounts.Authenticate(ctx, res.Token, ports.Source{}); err == nil {
		t.Fatal("session of a disabled account still works")
	}
	if _, err := login(env, "acme", "hr1", testenv.Password); code(err) != "account_disabled" {
		t.Fatalf("disabled login: %v", err)
	}
}

func TestRehashWhenCostRises(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	before, _ := env.Store.AccountByID(ctx, admin.TenantID, admin.AccountID)
	env.Hasher.MinCost = 3
	if _, err := login(env, "acme", "admin", testenv.NewPassword); err != nil {
		t.Fatal(err)
	}
	after, _ := env.Store.AccountByID(ctx, admin.TenantID, admin.AccountID)
	if after.PasswordHash == before.PasswordHash || !strings.HasPrefix(after.PasswordHash, "fast$3$") {
		t.Fatalf("hash not upgraded: %q", after.PasswordHash)
	}
	if _, err := login(env, "acme", "admin", testenv.NewPassword); err != nil {
		t.Fatalf("login with the upgraded hash: %v", err)
	}
}

func TestOperatorsMustEnrolASecondFactor(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	if _, err := env.Accounts.CreateOperator(ctx, ports.CreateOperatorCommand{Login: "ops1", Name: "運用 一郎", Password: testenv.Password}); err != nil {
		t.Fatal(err)
	}
	res, err := env.Accounts.OperatorLogin(ctx, ports.LoginCommand{Login: "ops1", Password: testenv.Password})
	if err != nil || res.Stage != ports.StageMFAEnrol {
		t.Fatalf("operator login: %+v %v", res, err)
	}
	if _, err := login(env, "", "ops1", testenv.Password); !errors.Is(err, ports.ErrInvalid) {
		t.Fatalf("operator through the member login: %v", err)
	}
}

func TestAuditTrailHasNoSecretsAndVerifies(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	_, _ = login(env, "acme", "admin", "Wrong#Password1")
	_, oneTime, _ := env.Accounts.CreateAccount(ctx, admin, ports.CreateAccountCommand{Login: "hr1\nforged", Name: "x", Roles: []string{"hr"}})
	_, _ = login(env, "acme", "hr1\nforged entry", "x")
	recs, err := env.Store.ListAudit(ctx, ports.AuditFilter{})
	if err != nil || len(recs) < 5 {
		t.Fatalf("audit: %d records, %v", len(recs), err)
	}
	actions := map[string]bool{}
	for _, r := range recs {
		actions[r.Event.Action+"/"+r.Event.Outcome] = true
		text := r.Event.Target + r.Event.UserAgent + r.Event.Action
		for _, v := range r.Event.Detail {
			text += v
		}
		for _, secret := range []string{testenv.Password, testenv.NewPassword, "Wrong#Password1", oneTime} {
			if secret != "" && strings.Contains(text, secret) {
				t.Fatalf("audit entry %d holds a password", r.Seq)
			}
		}
		if strings.ContainsAny(text, "\n\r") {
			t.Fatalf("audit entry %d holds a raw newline: %q", r.Seq, text)
		}
	}
	for _, want := range []string{"tenant.create/success", "auth.login/success", "auth.login/failure", "auth.password_change/success"} {
		if !actions[want] {
			t.Errorf("no %s audit entry in %v", want, actions)
		}
	}
	if n, err := audit.Verify(ctx, env.Store, nil); err != nil || n != int64(len(recs)) {
		t.Fatalf("verify: %d, %v", n, err)
	}
}

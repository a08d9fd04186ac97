package accounts_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/pquerna/otp/totp"

	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
	"github.com/roumu/roumu/test/virtualkey"
)

// enrolTOTP adds an authenticator app for the principal and returns its secret and the new session.
func enrolTOTP(t *testing.T, env *testenv.Env, p ports.Principal, password string) (string, ports.MFAEnrolled) {
	t.Helper()
	key, err := env.Accounts.BeginTOTP(ctx, p, password)
	if err != nil {
		t.Fatalf("begin TOTP: %v", err)
	}
	code, _ := totp.GenerateCode(key.Secret, env.Clock.Now())
	res, err := env.Accounts.ConfirmTOTP(ctx, p, code)
	if err != nil {
		t.Fatalf("confirm TOTP: %v", err)
	}
	return key.Secret, res
}

func principal(t *testing.T, env *testenv.Env, token string) ports.Principal {
	t.Helper()
	p, err := env.Accounts.Authenticate(ctx, token, ports.Source{IP: "192.0.2.10"})
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return p
}

// pendingMFA logs the admin in with the password and returns the MFA-step principal.
func pendingMFA(t *testing.T, env *testenv.Env) ports.Principal {
	t.Helper()
	res, err := login(env, "acme", "admin", testenv.NewPassword)
	if err != nil || res.Stage != ports.StageMFA {
		t.Fatalf("password step: %+v %v", res, err)
	}
	return principal(t, env, res.Token)
}

func TestTOTPEnrolmentAndLogin(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	other, _ := login(env, "acme", "admin", testenv.NewPassword)
	if _, err := env.Accounts.BeginTOTP(ctx, admin, "Wrong#Password1"); code(err) != "current_password_incorrect" {
		t.Fatalf("enrolment without re-authentication: %v", err)
	}
	secret, enrolled := enrolTOTP(t, env, admin, testenv.NewPassword)
	if len(enrolled.RecoveryCodes) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(enrolled.RecoveryCodes))
	}
	if _, err := env.Accounts.Authenticate(ctx, other.Token, ports.Source{}); err == nil {
		t.Fatal("enrolment must end the account's other sessions")
	}
	rec, _ := env.Store.TOTPByAccount(ctx, admin.TenantID, admin.AccountID)
	if bytes.Contains(rec.SecretSealed, []byte(secret)) {
		t.Fatal("TOTP secret stored in clear")
	}

	p := pendingMFA(t, env)
	if _, err := env.Accounts.ListAccounts(ctx, p); !errors.Is(err, ports.ErrForbidden) {
		t.Fatalf("the MFA step opened administration: %v", err)
	}
	env.Clock.Advance(30 * time.Second) // the enrolment code's step is spent
	otp, _ := totp.GenerateCode(secret, env.Clock.Now())
	res, err := env.Accounts.VerifyTOTP(ctx, p, otp)
	if err != nil || res.Stage != ports.StageFull {
		t.Fatalf("TOTP step: %+v %v", res, err)
	}
	if _, err := env.Accounts.Authenticate(ctx, p.SessionID, ports.Source{}); err == nil {
		t.Fatal("pending session survived")
	}
	// The same code, or one from an earlier step, never works again.
	for _, at := range []time.Time{env.Clock.Now(), env.Clock.Now().Add(-30 * time.Second)} {
		replay, _ := totp.GenerateCode(secret, at)
		if _, err := env.Accounts.VerifyTOTP(ctx, pendingMFA(t, env), replay); code(err) != "mfa_failed" {
			t.Fatalf("replayed code accepted at %v", at)
		}
	}
}

func TestTOTPCodeIsSingleUseUnderConcurrency(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	secret, _ := enrolTOTP(t, env, admin, testenv.NewPassword)
	for round := range 20 {
		env.Clock.Advance(30 * time.Second)
		otp, _ := totp.GenerateCode(secret, env.Clock.Now())
		a, b := pendingMFA(t, env), pendingMFA(t, env)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for _, p := range []ports.Principal{a, b} {
			wg.Go(func() {
				if _, err := env.Accounts.VerifyTOTP(ctx, p, otp); err == nil {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("round %d: one code passed %d times", round, wins.Load())
		}
		_, _ = env.Accounts.UnlockAccount(ctx, admin, admin.AccountID) // the failures above count toward lockout
	}
}

func TestFailedSecondFactorsCountTowardLockout(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	enrolTOTP(t, env, admin, testenv.NewPassword)
	p := pendingMFA(t, env)
	var err error
	for range 5 {
		_, err = env.Accounts.VerifyTOTP(ctx, p, "000000")
	}
	if code(err) != "account_locked" {
		t.Fatalf("5 wrong codes: %v", err)
	}
	if _, err := login(env, "acme", "admin", testenv.NewPassword); code(err) != "account_locked" {
		t.Fatalf("password login after 5 wrong codes: %v", err)
	}
	// A second factor tried while locked is refused, and the audit log says so.
	if _, err := env.Accounts.VerifyTOTP(ctx, p, "000000"); code(err) != "account_locked" {
		t.Fatalf("a code while locked: %v", err)
	}
	recs, err := env.Store.ListAudit(ctx, ports.AuditFilter{Action: "auth.mfa"})
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1].Event
	if last.Detail["reason"] != "locked" || last.Outcome != ports.OutcomeDenied {
		t.Fatalf("the refusal while locked is audited as %s %v", last.Outcome, last.Detail)
	}
}

func TestRecoveryCodes(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	_, enrolled := enrolTOTP(t, env, admin, testenv.NewPassword)
	rc := enrolled.RecoveryCodes[3]
	res, err := env.Accounts.UseRecoveryCode(ctx, pendingMFA(t, env), " "+rc+" ")
	if err != nil || res.Stage != ports.StageFull || res.Notice != ports.NoticeRecoveryCodeUsed {
		t.Fatalf("recovery code: %+v %v", res, err)
	}
	if _, err := env.Accounts.UseRecoveryCode(ctx, pendingMFA(t, env), rc); code(err) != "mfa_failed" {
		t.Fatalf("second use of a recovery code: %v", err)
	}
	st, _ := env.Accounts.MFAStatus(ctx, principal(t, env, res.Token))
	if st.RecoveryCodesLeft != 9 {
		t.Fatalf("%d codes left, want 9", st.RecoveryCodesLeft)
	}
	recs, _ := env.Store.ListAudit(ctx, ports.AuditFilter{Action: "auth.mfa"})
	found := false
	for _, r := range recs {
		found = found || r.Event.Detail["method"] == "recovery_code" && r.Event.Outcome == ports.OutcomeSuccess
	}
	if !found {
		t.Fatal("recovery-code use not audited")
	}
}

// authenticator is an emulated security key on the browser side.
type authenticator struct {
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	key  virtualwebauthn.Credential
}

func newAuthenticator(t *testing.T, accountID string) *authenticator {
	a := &authenticator{rp: virtualwebauthn.RelyingParty{ID: "localhost", Name: "Roumu", Origin: testenv.PublicURL},
		auth: virtualwebauthn.NewAuthenticator(), key: virtualkey.New(t)}
	a.auth.Options.UserHandle = []byte(accountID)
	return a
}

func (a *authenticator) attest(t *testing.T, options []byte) []byte {
	t.Helper()
	parsed, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	resp := []byte(virtualwebauthn.CreateAttestationResponse(a.rp, a.auth, a.key, *parsed))
	a.auth.AddCredential(a.key)
	return resp
}

func (a *authenticator) assert(t *testing.T, options []byte) []byte {
	t.Helper()
	parsed, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	a.key.Counter++
	return []byte(virtualwebauthn.CreateAssertionResponse(a.rp, a.auth, a.key, *parsed))
}

func registerKey(t *testing.T, env *testenv.Env, p ports.Principal) (*authenticator, ports.MFAEnrolled) {
	t.Helper()
	options, err := env.Accounts.BeginWebAuthnRegistration(ctx, p, testenv.NewPassword, "YubiKey 5")
	if err != nil {
		t.Fatalf("begin registration: %v", err)
	}
	a := newAuthenticator(t, p.AccountID)
	res, err := env.Accounts.FinishWebAuthnRegistration(ctx, p, a.attest(t, options))
	if err != nil {
		t.Fatalf("finish registration: %v", err)
	}
	return a, res
}

func TestWebAuthnRegistrationAndLogin(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	key, enrolled := registerKey(t, env, admin)
	if len(enrolled.RecoveryCodes) != 10 || enrolled.Session.Stage != ports.StageFull {
		t.Fatalf("enrolment: %+v", enrolled)
	}
	full := principal(t, env, enrolled.Session.Token)
	if _, err := env.Accounts.BeginWebAuthnLogin(ctx, full); !errors.Is(err, ports.ErrForbidden) {
		t.Fatalf("allowCredentials revealed outside the MFA step: %v", err)
	}
	p := pendingMFA(t, env)
	options, err := env.Accounts.BeginWebAuthnLogin(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	response := key.assert(t, options)
	res, err := env.Accounts.FinishWebAuthnLogin(ctx, p, response)
	if err != nil || res.Stage != ports.StageFull {
		t.Fatalf("WebAuthn step: %+v %v", res, err)
	}
	creds, _ := env.Store.WebAuthnCredentials(ctx, admin.TenantID, admin.AccountID)
	if len(creds) != 1 || creds[0].SignCount != key.key.Counter || creds[0].Name != "YubiKey 5" || creds[0].LastUsedAt.IsZero() {
		t.Fatalf("stored credential: %+v", creds)
	}

	// The ceremony is single use: finishing again finds none.
	if _, err := env.Accounts.FinishWebAuthnLogin(ctx, p, response); err == nil {
		t.Fatal("a finished ceremony was accepted twice")
	}
	// A replayed assertion in a new ceremony fails (challenge mismatch); so does a counter that does not rise.
	p = pendingMFA(t, env)
	if _, err := env.Accounts.BeginWebAuthnLogin(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Accounts.FinishWebAuthnLogin(ctx, p, response); code(err) != "mfa_failed" {
		t.Fatalf("replayed assertion: %v", err)
	}
	p = pendingMFA(t, env)
	options, _ = env.Accounts.BeginWebAuthnLogin(ctx, p)
	key.key.Counter -= 2 // a clone that is behind the original
	if _, err := env.Accounts.FinishWebAuthnLogin(ctx, p, key.assert(t, options)); code(err) != "mfa_failed" {
		t.Fatalf("non-increasing counter: %v", err)
	}
	key.key.Counter += 5
	// A ceremony expires on the server's clock.
	p = pendingMFA(t, env)
	options, _ = env.Accounts.BeginWebAuthnLogin(ctx, p)
	env.Clock.Advance(5*time.Minute + time.Second)
	if _, err := env.Accounts.FinishWebAuthnLogin(ctx, p, key.assert(t, options)); err == nil {
		t.Fatal("an expired ceremony was accepted")
	}
}

func TestWebAuthnOptionsListOnlyAfterPassword(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	registerKey(t, env, admin)
	options, err := env.Accounts.BeginWebAuthnLogin(ctx, pendingMFA(t, env))
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		PublicKey struct {
			AllowCredentials []json.RawMessage `json:"allowCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &parsed); err != nil || len(parsed.PublicKey.AllowCredentials) != 1 {
		t.Fatalf("options: %s (%v)", options, err)
	}
}

func TestTenantRequiresMFA(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	if _, _, err := env.Accounts.CreateAccount(ctx, admin, ports.CreateAccountCommand{Login: "hr1", Name: "人事", Roles: []string{"hr"}, Password: testenv.Password}); err != nil {
		t.Fatal(err)
	}
	if tv, err := env.Accounts.SetTenantMFARequired(ctx, admin, true); err != nil || !tv.MFARequired {
		t.Fatalf("require MFA: %+v %v", tv, err)
	}
	res, _ := login(env, "acme", "hr1", testenv.Password)
	p := principal(t, env, res.Token)
	res, err := env.Accounts.ChangePassword(ctx, p, testenv.Password, testenv.NewPassword)
	if err != nil || res.Stage != ports.StageMFAEnrol {
		t.Fatalf("after the forced password change: %+v %v", res, err)
	}
	p = principal(t, env, res.Token)
	if _, err := env.Accounts.ChangePassword(ctx, p, testenv.NewPassword, "Zq8!pLm4Rt6$"); !errors.Is(err, ports.ErrForbidden) {
		t.Fatalf("enrolment session used for something else: %v", err)
	}
	_, enrolled := enrolTOTP(t, env, p, testenv.NewPassword)
	if enrolled.Session.Stage != ports.StageFull {
		t.Fatalf("after enrolment: %+v", enrolled.Session)
	}
	full := principal(t, env, enrolled.Session.Token)
	if err := env.Accounts.RemoveTOTP(ctx, full, testenv.NewPassword); code(err) != "last_factor_required" {
		t.Fatalf("removing the only factor while required: %v", err)
	}
	if _, err := env.Accounts.SetTenantMFARequired(ctx, full, false); !errors.Is(err, ports.ErrForbidden) {
		t.Fatalf("hr changes the tenant policy: %v", err)
	}
}

func TestRemovingAFactorNeedsThePassword(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	_, admin := env.Tenant(t, "acme")
	_, enrolled := registerKey(t, env, admin)
	p := principal(t, env, enrolled.Session.Token)
	st, _ := env.Accounts.MFAStatus(ctx, p)
	if len(st.WebAuthn) != 1 {
		t.Fatalf("status: %+v", st)
	}
	if err := env.Accounts.RemoveWebAuthn(ctx, p, st.WebAuthn[0].ID, "Wrong#Password1"); code(err) != "current_password_incorrect" {
		t.Fatalf("removal without re-authentication: %v", err)
	}
	if err := env.Accounts.RemoveWebAuthn(ctx, p, st.WebAuthn[0].ID, testenv.NewPassword); err != nil {
		t.Fatal(err)
	}
	if res, _ := login(env, "acme", "admin", testenv.NewPassword); res.Stage != ports.StageFull {
		t.Fatalf("login without factors: %+v", res)
	}
}

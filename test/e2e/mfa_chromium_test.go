package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/roumu/roumu/test/testenv"
)

// totpCode is the code an authenticator app holding secret shows at the given time.
func totpCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatalf("computing a TOTP code: %v", err)
	}
	return code
}

// addSecurityKey plugs a virtual USB security key (CTAP2, resident keys, user verification that succeeds)
// into the tab through the DevTools protocol; it answers every WebAuthn ceremony of the page.
func addSecurityKey(t *testing.T, tab context.Context) {
	t.Helper()
	if _, err := chromedp.Call(tab, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("enabling the WebAuthn domain: %v", err)
	}
	_, err := chromedp.Call(tab, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Transport:                   webauthn.AuthenticatorTransportUsb,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true, // the protocol's default, which the zero value would turn off
		},
	})
	if err != nil {
		t.Fatalf("adding the virtual authenticator: %v", err)
	}
}

// logInWithPassword fills in the login form; what follows depends on the account.
func logInWithPassword(base, tenant, login, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("tenant")),
		fillIn("tenant", tenant, "login", login, "password", password),
	)
}

// wantDashboardOf checks that the tab shows the dashboard of the person named name.
func wantDashboardOf(t *testing.T, tab context.Context, base, name string) {
	t.Helper()
	browse(t, tab, chromedp.WaitVisible(chromedp.ID("who-heading")))
	shown := read(t, tab, chromedp.Text(chromedp.CSS("dl.facts dd")))
	location := read(t, tab, chromedp.Location())
	if strings.TrimSpace(shown) != name || location != base+"/" {
		t.Fatalf("dashboard at %s shows %q, want %q", location, shown, name)
	}
}

// TestChromiumSecurityKey registers a security key on the security settings and logs in with the password and
// the key, in headless Chromium with a virtual authenticator.
func TestChromiumSecurityKey(t *testing.T) {
	t.Parallel()
	env := browserEnv(t)
	_, admin := env.Tenant(t, "acme")
	base := serveLoopback(t, env)
	tab := newChromium(t)
	addSecurityKey(t, tab)

	browse(t, tab,
		logInWithPassword(base, "acme", "admin", testenv.NewPassword),
		chromedp.WaitVisible(chromedp.ID("who-heading")),
		chromedp.Navigate(base+"/settings/security"),
		chromedp.WaitVisible(chromedp.ID("webauthn-register")), // the script shows the form
		chromedp.SendKeys(chromedp.ID("webauthn-name"), "USBキー"),
		chromedp.SendKeys(chromedp.ID("current-password"), testenv.NewPassword),
		chromedp.Click(chromedp.ID("webauthn-register")),
		chromedp.WaitVisible(chromedp.ID("recovery-codes-panel")),
	)
	if codes := strings.Fields(read(t, tab, chromedp.Text(chromedp.ID("recovery-codes")))); len(codes) < 5 {
		t.Fatalf("recovery codes shown after the first factor: %q", codes)
	}
	browse(t, tab,
		chromedp.Click(chromedp.ID("recovery-continue")),
		chromedp.WaitVisible(chromedp.ID("webauthn-keys")),
	)
	if keys := read(t, tab, chromedp.Text(chromedp.ID("webauthn-keys"))); !strings.Contains(keys, "USBキー") {
		t.Fatalf("the key list shows %q", keys)
	}
	creds, err := env.Store.WebAuthnCredentials(t.Context(), admin.TenantID, admin.AccountID)
	if err != nil || len(creds) != 1 || !creds[0].UserVerified {
		t.Fatalf("stored credentials %+v, %v", creds, err)
	}

	browse(t, tab,
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.ID("tenant")),
		logInWithPassword(base, "acme", "admin", testenv.NewPassword),
		chromedp.WaitVisible(chromedp.ID("webauthn-login")), // the second step: /login/mfa
		chromedp.Click(chromedp.ID("webauthn-login")),
	)
	wantDashboardOf(t, tab, base, "管理 太郎")
	screenshot(t, tab, "dashboard-after-security-key")

	creds, err = env.Store.WebAuthnCredentials(t.Context(), admin.TenantID, admin.AccountID)
	if err != nil || len(creds) != 1 || creds[0].LastUsedAt.IsZero() {
		t.Fatalf("the key's use was not recorded: %+v, %v", creds, err)
	}
}

// TestChromiumTOTPLogin logs in with the password and a code typed from an authenticator app enrolled
// through the domain, at the fake clock's time.
func TestChromiumTOTPLogin(t *testing.T) {
	t.Parallel()
	env := browserEnv(t)
	_, admin := env.Tenant(t, "acme")
	key, err := env.Accounts.BeginTOTP(t.Context(), admin, testenv.NewPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Accounts.ConfirmTOTP(t.Context(), admin, totpCode(t, key.Secret, env.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(30 * time.Second) // the enrolment spent the current code: each code works once
	base := serveLoopback(t, env)
	tab := newChromium(t)

	browse(t, tab,
		logInWithPassword(base, "acme", "admin", testenv.NewPassword),
		chromedp.WaitVisible(chromedp.ID("totp-code")),
		// A code from ten minutes ago is refused and the step can be tried again.
		fillIn("totp-code", totpCode(t, key.Secret, env.Clock.Now().Add(-10*time.Minute))),
		chromedp.WaitVisible(chromedp.CSS(`#form-errors[role="alert"]`)),
		fillIn("totp-code", totpCode(t, key.Secret, env.Clock.Now())),
	)
	wantDashboardOf(t, tab, base, "管理 太郎")
}

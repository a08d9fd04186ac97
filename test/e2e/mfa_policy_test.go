package e2e

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/test/testenv"
)

// TestRequiredMFAThroughThePages: once an admin requires MFA, a login without a factor is taken to the
// enrolment, every other page sends it back there, and enrolling an authenticator app opens the site.
func TestRequiredMFAThroughThePages(t *testing.T) {
	t.Parallel()
	a, _, member := startWithNewcomer(t, "employee")
	b := a.browser()

	b.logIn("acme", "admin", testenv.NewPassword, "/")
	wantPage(t, b.get("/admin/security"), http.StatusOK, `id="mfa-required"`)
	wantRedirectPath(t, b.submit("/admin/security", url.Values{"mfa_required": {"true"}}), "/admin/security")
	wantPage(t, b.get("/admin/security?notice=saved"), http.StatusOK, "設定を保存しました。")
	if tn, err := a.env.Store.TenantByCode(t.Context(), "acme"); err != nil || !tn.MFARequired {
		t.Fatalf("the policy was not stored: %+v %v", tn, err)
	}
	wantRedirect(t, b.submit("/logout", url.Values{}), "/login")

	// A newcomer owes the password change first, then the enrolment.
	b.logIn("acme", "tanaka", member.InitialPassword, "/settings/security")
	wantPage(t, b.get("/settings/security"), http.StatusOK, `name="new_password_confirm"`)
	res := b.changePassword(member.InitialPassword, testenv.Password, testenv.Password)
	wantPage(t, b.get(wantRedirectPath(t, res, "/settings/security")), http.StatusOK, `id="enrol-required"`)
	for _, page := range []string{"/", "/admin/accounts", "/admin/security"} {
		wantRedirect(t, b.get(page), "/settings/security")
	}
	wantRedirect(t, b.get("/login/mfa"), "/settings/security")
	// The password form is not part of the enrolment.
	wantRedirect(t, b.changePassword(testenv.Password, "Another-pass-8", "Another-pass-8"), "/settings/security")

	secret := enrolTOTPOnThePage(t, a, b, testenv.Password)
	wantPage(t, b.get("/"), http.StatusOK, "<dd>田中 花子</dd>")

	// The next login asks for the app's code.
	wantRedirect(t, b.submit("/logout", url.Values{}), "/login")
	a.env.Clock.Advance(30 * time.Second)
	b.logIn("acme", "tanaka", testenv.Password, "/login/mfa")
	wantRedirect(t, b.get("/"), "/login/mfa")
	wantPage(t, b.get("/login/mfa"), http.StatusOK, `id="totp-code"`)
	wantRedirect(t, b.submit("/login/mfa/totp", url.Values{"code": {totpCode(t, secret, a.env.Clock.Now())}}), "/")
	wantPage(t, b.get("/"), http.StatusOK, "<dd>田中 花子</dd>")
}

var (
	totpSecretOnPage    = regexp.MustCompile(`<code class="secret" id="totp-secret">([^<]+)</code>`)
	recoveryCodesOnPage = regexp.MustCompile(`<li><code>([^<]+)</code></li>`)
)

// enrolTOTPOnThePage adds an authenticator app through the security settings and returns its secret: the
// password, the secret shown once, a code from it, and the recovery codes shown once.
func enrolTOTPOnThePage(t *testing.T, a *app, b *browser, password string) string {
	t.Helper()
	res := b.submit("/settings/security/totp", url.Values{"current_password": {password}})
	wantPage(t, res, http.StatusOK, `id="totp-qr"`)
	m := totpSecretOnPage.FindSubmatch(res.body)
	if m == nil {
		t.Fatalf("no TOTP secret on the page:\n%s", res.body)
	}
	// Shown in groups of four for typing; the app ignores the spaces.
	secret := strings.ReplaceAll(html.UnescapeString(string(m[1])), " ", "")
	res = b.submit("/settings/security/totp/confirm", url.Values{"code": {totpCode(t, secret, a.env.Clock.Now())}})
	wantPage(t, res, http.StatusOK, `id="recovery-codes-panel"`, `id="recovery-continue"`)
	if codes := recoveryCodesOnPage.FindAllSubmatch(res.body, -1); len(codes) < 5 {
		t.Fatalf("%d recovery codes shown after the first factor", len(codes))
	}
	return secret
}

// TestRequiredMFAThroughTheAPI: under the tenant's policy a login without a factor opens only the enrolment
// (stage mfa_enrol; everything else is 403 mfa_enrolment_required) until an authenticator app is confirmed.
func TestRequiredMFAThroughTheAPI(t *testing.T) {
	t.Parallel()
	a, admin, newcomer := startWithNewcomer(t, "admin")
	person := a.activate("acme", newcomer)

	var tenant struct {
		MFARequired bool `json:"mfa_required"`
	}
	wantJSON(t, a.api(http.MethodPatch, "/api/v1/tenant", admin, `{"mfa_required":true}`), http.StatusOK, &tenant)
	if !tenant.MFARequired {
		t.Fatalf("tenant after requiring MFA: %+v", tenant)
	}
	// A session opened before the policy is not cut short.
	a.me(person.Token)

	enrol := a.login("acme", "tanaka", testenv.Password, "mfa_enrol")
	if m := a.me(enrol.Token); m.Stage != "mfa_enrol" || !m.MFA.Required || m.MFA.Enabled {
		t.Fatalf("me while enrolment is owed: %+v", m)
	}
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/accounts", ""},
		{http.MethodGet, "/api/v1/tenant", ""},
		{http.MethodPost, "/api/v1/accounts", `{"login":"other","name":"他","roles":["hr"]}`},
		{http.MethodPost, "/api/v1/me/password", `{"current_password":"` + testenv.Password + `","new_password":"Another-pass-8"}`},
		{http.MethodPost, "/api/v1/auth/mfa/totp", `{"code":"123456"}`},
	} {
		wantProblem(t, a.api(r.method, r.path, enrol.Token, r.body), http.StatusForbidden, "mfa_enrolment_required")
	}

	var key struct {
		Secret     string `json:"secret"`
		OTPAuthURL string `json:"otpauth_url"`
	}
	wrong := a.api(http.MethodPost, "/api/v1/me/mfa/totp", enrol.Token, `{"current_password":"Not-my-password-1"}`)
	wantProblem(t, wrong, http.StatusUnprocessableEntity, "current_password_incorrect")
	wantJSON(t, a.api(http.MethodPost, "/api/v1/me/mfa/totp", enrol.Token,
		jsonBody(t, map[string]string{"current_password": testenv.Password})), http.StatusOK, &key)
	if key.Secret == "" || !regexp.MustCompile(`^otpauth://totp/`).MatchString(key.OTPAuthURL) {
		t.Fatalf("TOTP key %+v", key)
	}
	stale := totpCode(t, key.Secret, a.env.Clock.Now().Add(-10*time.Minute))
	wantProblem(t, a.api(http.MethodPost, "/api/v1/me/mfa/totp/confirm", enrol.Token, `{"code":"`+stale+`"}`),
		http.StatusUnprocessableEntity, "totp_invalid")

	var enrolled struct {
		RecoveryCodes []string `json:"recovery_codes"`
		session
	}
	wantJSON(t, a.api(http.MethodPost, "/api/v1/me/mfa/totp/confirm", enrol.Token,
		`{"code":"`+totpCode(t, key.Secret, a.env.Clock.Now())+`"}`), http.StatusOK, &enrolled)
	if len(enrolled.RecoveryCodes) < 5 || enrolled.Token == "" || enrolled.Stage != "full" {
		t.Fatalf("enrolment answered %+v", enrolled)
	}
	// Adding a factor ends every other session of the account.
	for _, old := range []string{enrol.Token, person.Token} {
		wantProblem(t, a.api(http.MethodGet, "/api/v1/me", old, ""), http.StatusUnauthorized, "unauthenticated")
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/accounts", enrolled.Token, ""), http.StatusOK, nil)

	// From now on a login owes the second factor: a code of the app, or a recovery code once.
	a.env.Clock.Advance(30 * time.Second)
	step := a.login("acme", "tanaka", testenv.Password, "mfa")
	wantProblem(t, a.api(http.MethodGet, "/api/v1/accounts", step.Token, ""), http.StatusForbidden, "mfa_required")
	var full session
	wantJSON(t, a.api(http.MethodPost, "/api/v1/auth/mfa/totp", step.Token,
		`{"code":"`+totpCode(t, key.Secret, a.env.Clock.Now())+`"}`), http.StatusOK, &full)
	if full.Stage != "full" || full.MFARequired {
		t.Fatalf("after the code: %+v", full)
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/accounts", full.Token, ""), http.StatusOK, nil)

	recovery := jsonBody(t, map[string]string{"code": enrolled.RecoveryCodes[0]})
	step = a.login("acme", "tanaka", testenv.Password, "mfa")
	wantJSON(t, a.api(http.MethodPost, "/api/v1/auth/mfa/recovery", step.Token, recovery), http.StatusOK, &full)
	if full.Stage != "full" {
		t.Fatalf("after a recovery code: %+v", full)
	}
	step = a.login("acme", "tanaka", testenv.Password, "mfa")
	res := a.api(http.MethodPost, "/api/v1/auth/mfa/recovery", step.Token, recovery)
	if res.status < 400 || res.status >= 500 {
		t.Fatalf("a recovery code used twice: %s", res)
	}
}

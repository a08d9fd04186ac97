package web_test

import (
	"bytes"
	"encoding/base64"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/roumu/roumu/ports"
)

// script sends what the page script sends: a JSON body with the CSRF token in the X-CSRF-Token header.
func (b *browser) script(path, body string) *httptest.ResponseRecorder {
	b.h.t.Helper()
	if c, ok := b.cookies["roumu_csrf"]; ok {
		b.header.Set("X-CSRF-Token", c.Value)
		defer b.header.Del("X-CSRF-Token")
	}
	r := request{method: http.MethodPost, path: path, header: b.header.Clone(), body: strings.NewReader(body), contentType: "application/json"}
	r.header.Set("Accept", "application/json")
	for _, c := range b.cookies {
		r.header.Add("Cookie", c.Name+"="+c.Value)
	}
	rec := b.h.do(r)
	for _, c := range rec.Result().Cookies() {
		b.cookies[c.Name] = c
	}
	return rec
}

// withSession is a browser holding a session the fake already knows (and a CSRF cookie from a first page).
func (h *harness) withSession(token string) *browser {
	b := h.browser()
	b.cookies["roumu_session"] = &http.Cookie{Name: "roumu_session", Value: token}
	b.get("/login")
	return b
}

// noInlineCode checks that a page holds nothing the Content-Security-Policy would block.
func noInlineCode(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	body := rec.Body.String()
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|style=|<style|\son[a-z]+=`).MatchString(body) {
		t.Fatalf("inline script or style would break the CSP:\n%s", body)
	}
}

// sessionReplaced checks that the browser's session cookie changed and that the new one is complete.
func sessionReplaced(t *testing.T, h *harness, b *browser, old string) {
	t.Helper()
	ck := b.cookies["roumu_session"]
	if ck == nil || ck.Value == old || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie not replaced: %+v", ck)
	}
	if p, err := h.fake.Authenticate(t.Context(), ck.Value, ports.Source{}); err != nil || p.Stage != ports.StageFull {
		t.Fatalf("new session %+v %v", p, err)
	}
}

func TestMFALoginPage(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	b.login("mfa-user")
	rec := b.get("/login/mfa")
	wantPage(t, rec, http.StatusOK, "2段階認証", `<script src="/static/webauthn.js" defer></script>`,
		`action="/login/mfa/totp"`, `id="totp-code" name="code" type="text" autocomplete="one-time-code" required inputmode="numeric"`,
		`<label for="totp-code">`, `id="webauthn-login"`, `data-webauthn="login"`, `data-begin="/login/mfa/webauthn/begin"`,
		`data-finish="/login/mfa/webauthn/finish"`, `id="webauthn-login-status" class="status" aria-live="polite"`,
		"セキュリティキーでログイン", "Use a security key", `<details id="recovery">`, `action="/login/mfa/recovery"`,
		`id="recovery-code" name="recovery_code"`, `aria-describedby="recovery-hint"`)
	noInlineCode(t, rec)

	rec = b.post("/login/mfa/totp", url.Values{"code": {"000000"}})
	wantPage(t, rec, http.StatusUnauthorized, "2要素目の認証に失敗しました。", "The second factor could not be verified.", `role="alert"`)
	if strings.Contains(rec.Body.String(), `value="000000"`) {
		t.Error("the typed code is shown back")
	}
	rec = b.post("/login/mfa/totp", url.Values{"code": {lockingTOTP}})
	wantPage(t, rec, http.StatusLocked, "失敗が続いたため、アカウントを30分間ロックしました。", "the account is locked for 30 minutes")
	if rec.Header().Get("Retry-After") != lockedRetryStr {
		t.Errorf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	rec = b.post("/login/mfa/recovery", url.Values{"recovery_code": {"nope"}})
	wantPage(t, rec, http.StatusUnauthorized, `<details id="recovery" open>`)

	old, csrf := b.cookies["roumu_session"].Value, b.cookies["roumu_csrf"].Value
	wantRedirect(t, b.post("/login/mfa/totp", url.Values{"code": {goodTOTP}}), "/")
	sessionReplaced(t, h, b, old)
	if b.cookies["roumu_csrf"].Value == csrf {
		t.Error("the CSRF token was not rotated with the session")
	}
	wantPage(t, b.get("/"), http.StatusOK, "二要素 次郎")
	wantRedirect(t, b.get("/login/mfa"), "/") // the step is done
}

func TestMFARecoveryCodeNotice(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	b.login("mfa-user")
	old := b.cookies["roumu_session"].Value
	wantRedirect(t, b.post("/login/mfa/recovery", url.Values{"recovery_code": {goodRecovery}}), "/settings/security?notice=recovery_code_used")
	sessionReplaced(t, h, b, old)
	wantPage(t, b.get("/settings/security?notice=recovery_code_used"), http.StatusOK,
		"リカバリーコードを使ってログインしました。", "Please register a new authenticator app or security key.",
		`<dd>9</dd>`)
}

func TestMFALoginWithSecurityKey(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	b.login("mfa-user")
	rec := b.script("/login/mfa/webauthn/begin", "{}")
	mustJSON(t, rec, http.StatusOK, nil)
	if rec.Body.String() != fakeLoginOptions {
		t.Fatalf("options %s", rec.Body)
	}
	mustProblem(t, b.script("/login/mfa/webauthn/finish", badCredential), http.StatusUnauthorized, "mfa_failed")
	if _, ok := b.cookies["roumu_session"]; !ok {
		t.Fatal("a failed factor ended the pending session")
	}

	b.script("/login/mfa/webauthn/begin", "{}")
	old := b.cookies["roumu_session"].Value
	rec = b.script("/login/mfa/webauthn/finish", goodCredential)
	var res struct{ Redirect string }
	mustJSON(t, rec, http.StatusOK, &res)
	if res.Redirect != "/" || h.fake.lastResponse() != goodCredential {
		t.Fatalf("finish: %s", rec.Body)
	}
	sessionReplaced(t, h, b, old)

	// the script's endpoints answer problems, never redirects or pages, which fetch could not read
	mustProblem(t, b.script("/login/mfa/webauthn/begin", "{}"), http.StatusForbidden, "forbidden")
	anon := h.browser()
	anon.get("/login")
	mustProblem(t, anon.script("/login/mfa/webauthn/begin", "{}"), http.StatusUnauthorized, "unauthenticated")
	e := h.withSession(tokEnrol)
	mustProblem(t, e.script("/login/mfa/webauthn/finish", goodCredential), http.StatusForbidden, "mfa_enrolment_required")
}

// TestScriptEndpointsBodies: the raw credential endpoints still insist on JSON, the body limit and one
// well-formed object, before the domain sees anything.
func TestScriptEndpointsBodies(t *testing.T) {
	big := `{"id":"` + strings.Repeat("a", 2<<20) + `"}`
	bodies := []struct {
		name, contentType string
		body              func() *strings.Reader
		opaque            bool
		status            int
		code              string
	}{
		{"text/plain", "text/plain", func() *strings.Reader { return strings.NewReader(goodCredential) }, false, 415, "unsupported_media_type"},
		{"no content type", "", func() *strings.Reader { return strings.NewReader(goodCredential) }, false, 415, "unsupported_media_type"},
		{"form", "application/x-www-form-urlencoded", func() *strings.Reader { return strings.NewReader("id=x") }, false, 415, "unsupported_media_type"},
		{"2 MiB with length", "application/json", func() *strings.Reader { return strings.NewReader(big) }, false, 413, "body_too_large"},
		{"2 MiB without length", "application/json", func() *strings.Reader { return strings.NewReader(big) }, true, 413, "body_too_large"},
		{"empty", "application/json", func() *strings.Reader { return strings.NewReader("") }, false, 400, "malformed_json"},
		{"array", "application/json", func() *strings.Reader { return strings.NewReader("[" + goodCredential + "]") }, false, 400, "malformed_json"},
		{"truncated", "application/json", func() *strings.Reader { return strings.NewReader(goodCredential[:40]) }, false, 400, "malformed_json"},
		{"trailing data", "application/json", func() *strings.Reader { return strings.NewReader(goodCredential + "{}") }, false, 400, "malformed_json"},
		{"duplicate member", "application/json", func() *strings.Reader { return strings.NewReader(`{"id":"a","id":"b"}`) }, false, 400, "duplicate_field"},
		{"nested duplicate", "application/json", func() *strings.Reader {
			return strings.NewReader(`{"response":{"signature":"a","signature":"b"}}`)
		}, false, 400, "duplicate_field"},
	}
	endpoints := []struct {
		path, token, session string
	}{
		{"/api/v1/auth/mfa/webauthn/finish", tokMFA, ""},
		{"/api/v1/me/mfa/webauthn/finish", tokAdmin, ""},
		{"/login/mfa/webauthn/finish", "", tokMFA},
		{"/settings/security/webauthn/finish", "", tokAdmin},
	}
	for _, ep := range endpoints {
		for _, c := range bodies {
			t.Run(ep.path+" "+c.name, func(t *testing.T) {
				h := newDefault(t)
				r := request{method: "POST", path: ep.path, token: ep.token, contentType: c.contentType,
					header: http.Header{"Accept": {"application/json"}}}
				r.body = c.body()
				if c.opaque {
					r.body = opaqueReader{c.body()}
				}
				if ep.session != "" {
					b := h.withSession(ep.session)
					r.header.Set("Cookie", "roumu_session="+ep.session+"; roumu_csrf="+b.cookies["roumu_csrf"].Value)
					r.header.Set("X-CSRF-Token", b.cookies["roumu_csrf"].Value)
				}
				mustProblem(t, h.do(r), c.status, c.code)
				for _, uc := range h.fake.useCases() {
					if strings.HasPrefix(uc, "Finish") {
						t.Fatalf("reached %s", uc)
					}
				}
			})
		}
	}
}

func TestTOTPEnrolmentPage(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	b.login("admin")
	rec := b.get("/settings/security")
	wantPage(t, rec, http.StatusOK, `id="mfa-status"`, "未設定", "必須", `action="/settings/security/totp"`,
		`id="totp-password" name="current_password" type="password"`, `id="totp-begin"`,
		`id="webauthn-register-form" data-webauthn="register"`, `id="webauthn-name" name="key_name" type="text" autocomplete="off" value=""`,
		`id="current-password" name="current_password" type="password"`, `id="webauthn-register"`,
		`<section class="card" id="recovery-codes-panel" aria-labelledby="recovery-heading" hidden>`,
		`<script src="/static/webauthn.js" defer></script>`, "登録されたセキュリティキーはありません。",
		`id="current_password" name="current_password"`, `name="new_password"`)
	noInlineCode(t, rec)
	if strings.Contains(rec.Body.String(), "totp-qr") {
		t.Fatal("a QR code before the password was checked")
	}

	rec = b.post("/settings/security/totp", url.Values{"current_password": {"wrong"}})
	wantPage(t, rec, http.StatusUnprocessableEntity, "現在のパスワードが正しくありません。",
		`id="totp-password" name="current_password" type="password" autocomplete="current-password" required aria-invalid="true" aria-describedby="form-errors"`)
	if strings.Count(rec.Body.String(), `aria-invalid="true"`) != 1 {
		t.Errorf("fields of other forms marked invalid:\n%s", rec.Body)
	}

	rec = b.post("/settings/security/totp", url.Values{"current_password": {goodPassword}})
	wantPage(t, rec, http.StatusOK, `id="totp-secret">JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP</code>`,
		`action="/settings/security/totp/confirm"`, `id="totp-code" name="code" type="text" autocomplete="one-time-code" required inputmode="numeric"`,
		`alt="認証アプリに登録するQRコード / QR code to register in the authenticator app"`)
	noInlineCode(t, rec)
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("the secret may be cached: %q", rec.Header().Get("Cache-Control"))
	}
	m := regexp.MustCompile(`<img class="qr" id="totp-qr" src="data:image/png;base64,([A-Za-z0-9+/=]+)" width="240" height="240"`).
		FindStringSubmatch(html.UnescapeString(rec.Body.String()))
	if m == nil {
		t.Fatalf("no QR image:\n%s", rec.Body)
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil || img.Bounds().Dx() != 240 || img.Bounds().Dy() != 240 {
		t.Fatalf("QR image: %v %v", err, img)
	}
	if strings.Contains(rec.Body.String(), "otpauth://") {
		t.Error("the otpauth URL is in the page as text")
	}

	rec = b.post("/settings/security/totp/confirm", url.Values{"code": {"000000"}})
	wantPage(t, rec, http.StatusUnprocessableEntity, "確認コードが正しくありません。", "確認コード（6桁）：正しくありません",
		`action="/settings/security/totp/confirm"`, `id="totp-code" name="code" type="text" autocomplete="one-time-code" required inputmode="numeric" value="" maxlength="128" autocapitalize="none" spellcheck="false" aria-invalid="true"`)

	old := b.cookies["roumu_session"].Value
	rec = b.post("/settings/security/totp/confirm", url.Values{"code": {goodTOTP}})
	wantPage(t, rec, http.StatusOK, `id="recovery-codes-panel"`, `<ol class="codes" id="recovery-codes">`, "<li><code>rc01-aaaa</code></li>",
		"<li><code>rc10-kkkk</code></li>", "二度と表示されません", "They will not be shown again.",
		`<a id="recovery-continue" href="/settings/security?notice=totp_added">`)
	body := rec.Body.String()
	if strings.Contains(body, `name="new_password"`) || strings.Contains(body, "recovery-codes-panel\" aria-labelledby=\"recovery-heading\" hidden") {
		t.Error("the recovery codes do not stand alone")
	}
	sessionReplaced(t, h, b, old)

	rec = b.get("/settings/security?notice=totp_added")
	wantPage(t, rec, http.StatusOK, "認証アプリを登録しました。", "有効", "登録済みです。", `action="/settings/security/totp/remove"`,
		`id="totp-remove-password"`, `<dd>10</dd>`)
	if strings.Contains(rec.Body.String(), "rc01-aaaa") {
		t.Fatal("recovery codes shown a second time")
	}
}

func TestEnrolStagePage(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	b.login("enrol-user")
	rec := b.get("/settings/security")
	wantPage(t, rec, http.StatusOK, "所属企業では2段階認証が必須です。", "Your company requires two-step verification.",
		`id="totp-begin"`, `id="webauthn-register"`)
	if strings.Contains(rec.Body.String(), `name="new_password"`) || strings.Contains(rec.Body.String(), `href="/admin/accounts"`) {
		t.Fatal("the enrolment stage offers more than the enrolment")
	}
	// removal needs a complete session
	wantRedirect(t, b.post("/settings/security/totp/remove", url.Values{"current_password": {goodPassword}}), "/settings/security")
	if slices.Contains(h.fake.useCases(), "RemoveTOTP") {
		t.Fatal("the enrolment stage reached a removal")
	}

	b.post("/settings/security/totp", url.Values{"current_password": {goodPassword}})
	rec = b.post("/settings/security/totp/confirm", url.Values{"code": {goodTOTP}})
	wantPage(t, rec, http.StatusOK, "rc01-aaaa", `href="/"`) // the new, full session's navigation
	wantPage(t, b.get("/"), http.StatusOK, "登録 三郎")
}

func TestSecurityKeyPages(t *testing.T) {
	h := newDefault(t)
	b := h.withSession(tokEmployee)
	rec := b.get("/settings/security")
	wantPage(t, rec, http.StatusOK, `<table id="webauthn-keys"`, "<td>YubiKey &lt;5&gt;</td>", "2026-04-01 18:00 JST", "2026-04-01 19:00 JST",
		`action="/settings/security/webauthn/key-hanako/remove"`, `id="key-remove-key-hanako-password"`, `id="key-remove-key-hanako"`)

	rec = b.post("/settings/security/webauthn/"+hanakoKeyID+"/remove", url.Values{"current_password": {"wrong"}})
	wantPage(t, rec, http.StatusUnprocessableEntity, "現在のパスワードが正しくありません。", `<details open>`,
		`id="key-remove-key-hanako-password" name="current_password" type="password" autocomplete="current-password" required aria-invalid="true"`)
	wantPage(t, b.post("/settings/security/webauthn/key-nope/remove", url.Values{"current_password": {goodPassword}}),
		http.StatusNotFound, "認証器が見つかりません。")
	wantRedirect(t, b.post("/settings/security/webauthn/"+hanakoKeyID+"/remove", url.Values{"current_password": {goodPassword}}),
		"/settings/security?notice=key_removed")
	wantPage(t, b.get("/settings/security?notice=key_removed"), http.StatusOK, "セキュリティキーを削除しました。", "登録されたセキュリティキーはありません。")
	rec = b.post("/settings/security/totp/remove", url.Values{"current_password": {goodPassword}})
	wantPage(t, rec, http.StatusConflict, "別の認証器を登録してから削除してください。")

	// a new key through the script: begin with the password and name, finish with the credential
	p := mustProblem(t, b.script("/settings/security/webauthn/begin", `{"current_password":"wrong","name":"鍵"}`),
		http.StatusUnprocessableEntity, "current_password_incorrect")
	if p.Errors[0].Field != "current_password" {
		t.Fatalf("problem %+v", p)
	}
	rec = b.script("/settings/security/webauthn/begin", `{"current_password":"`+goodPassword+`","name":"仕事用の鍵"}`)
	mustJSON(t, rec, http.StatusOK, nil)
	if rec.Body.String() != fakeRegistrationOptions || h.fake.lastKeyName != "仕事用の鍵" {
		t.Fatalf("begin: %s (name %q)", rec.Body, h.fake.lastKeyName)
	}
	old := b.cookies["roumu_session"].Value
	var res struct {
		Redirect      string    `json:"redirect"`
		RecoveryCodes *[]string `json:"recovery_codes"`
	}
	mustJSON(t, b.script("/settings/security/webauthn/finish", goodCredential), http.StatusOK, &res)
	if res.Redirect != "/settings/security?notice=key_added" || res.RecoveryCodes != nil {
		t.Fatalf("finish %+v", res)
	}
	sessionReplaced(t, h, b, old)
	wantPage(t, b.get(res.Redirect), http.StatusOK, "セキュリティキーを登録しました。", "<td>仕事用の鍵</td>")
}

func TestFirstSecurityKeyShowsRecoveryCodes(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	b.login("admin")
	b.script("/settings/security/webauthn/begin", `{"current_password":"`+goodPassword+`","name":""}`)
	rec := b.script("/settings/security/webauthn/finish", goodCredential)
	var res struct {
		Redirect      string   `json:"redirect"`
		RecoveryCodes []string `json:"recovery_codes"`
	}
	mustJSON(t, rec, http.StatusOK, &res)
	if !slices.Equal(res.RecoveryCodes, fakeRecoveryCodes) || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("finish %s", rec.Body)
	}
	// the page the script fills is there, empty, for this moment
	wantPage(t, b.get("/settings/security"), http.StatusOK, `id="recovery-codes"`, `id="recovery-heading" tabindex="-1"`, `id="recovery-continue" href=""`)
}

// TestMFAPagesCSRF: every new state-changing page route refuses a request without the token, before any use
// case; the script routes answer that with a problem document.
func TestMFAPagesCSRF(t *testing.T) {
	forms := []struct {
		token, path string
	}{
		{tokMFA, "/login/mfa/totp"},
		{tokMFA, "/login/mfa/recovery"},
		{tokAdmin, "/settings/security/totp"},
		{tokAdmin, "/settings/security/totp/confirm"},
		{tokEmployee, "/settings/security/totp/remove"},
		{tokEmployee, "/settings/security/webauthn/" + hanakoKeyID + "/remove"},
		{tokAdmin, "/admin/security"},
	}
	for _, f := range forms {
		t.Run(f.path, func(t *testing.T) {
			h := newDefault(t)
			b := h.withSession(f.token)
			form := url.Values{"current_password": {goodPassword}, "code": {goodTOTP}, "recovery_code": {goodRecovery}}
			wantPage(t, b.send("POST", f.path, form), http.StatusForbidden, "フォームの有効期限が切れたか")
			form.Set("_csrf", "forged")
			wantPage(t, b.send("POST", f.path, form), http.StatusForbidden)
			b.header.Set("Sec-Fetch-Site", "cross-site")
			wantPage(t, b.post(f.path, form), http.StatusForbidden)
			if uc := h.fake.useCases(); len(uc) != 0 {
				t.Fatalf("use cases reached: %v", uc)
			}
		})
	}
	for _, s := range []struct{ token, path, body string }{
		{tokMFA, "/login/mfa/webauthn/begin", "{}"},
		{tokMFA, "/login/mfa/webauthn/finish", goodCredential},
		{tokAdmin, "/settings/security/webauthn/begin", `{"current_password":"` + goodPassword + `","name":"x"}`},
		{tokAdmin, "/settings/security/webauthn/finish", goodCredential},
	} {
		t.Run(s.path, func(t *testing.T) {
			h := newDefault(t)
			b := h.withSession(s.token)
			r := request{method: "POST", path: s.path, body: strings.NewReader(s.body), contentType: "application/json",
				header: http.Header{"Accept": {"application/json"}, "Cookie": {"roumu_session=" + s.token + "; roumu_csrf=" + b.cookies["roumu_csrf"].Value}}}
			mustProblem(t, h.do(r), http.StatusForbidden, "csrf")
			r.body, r.header["X-Csrf-Token"] = strings.NewReader(s.body), []string{"forged"}
			mustProblem(t, h.do(r), http.StatusForbidden, "csrf")
			r.body, r.header["X-Csrf-Token"] = strings.NewReader(s.body), []string{b.cookies["roumu_csrf"].Value}
			r.header.Set("Sec-Fetch-Site", "cross-site")
			mustProblem(t, h.do(r), http.StatusForbidden, "csrf")
			if uc := h.fake.useCases(); len(uc) != 0 {
				t.Fatalf("use cases reached: %v", uc)
			}
		})
	}
}

// TestFetchMetadataCSRF pins what Echo's CSRF middleware adds to the token check: a browser's same-origin
// request passes on its Fetch Metadata alone, a same-site one (a sibling subdomain) still needs the token.
func TestFetchMetadataCSRF(t *testing.T) {
	h := newDefault(t)
	b := h.withSession(tokAdmin)
	b.header.Set("Sec-Fetch-Site", "same-site")
	wantPage(t, b.send("POST", "/admin/security", url.Values{"mfa_required": {"true"}}), http.StatusForbidden)
	b.header.Set("Sec-Fetch-Site", "same-origin")
	wantRedirect(t, b.send("POST", "/admin/security", url.Values{}), "/admin/security?notice=saved")
	if h.fake.tenantMFARequired() {
		t.Fatal("the same-origin form was not applied")
	}
}

func TestAdminSecurityPage(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	b.login("admin")
	rec := b.get("/admin/security")
	wantPage(t, rec, http.StatusOK, `href="/admin/security"`, `action="/admin/security"`,
		`<input type="checkbox" id="mfa-required" name="mfa_required" value="true" aria-describedby="mfa-required-hint" checked>`,
		`<label for="mfa-required">2段階認証を必須にする <span lang="en">/ Require 2-step verification</span></label>`)
	noInlineCode(t, rec)

	wantRedirect(t, b.post("/admin/security", url.Values{}), "/admin/security?notice=saved")
	if h.fake.tenantMFARequired() {
		t.Fatal("an unticked box did not switch the policy off")
	}
	rec = b.get("/admin/security?notice=saved")
	wantPage(t, rec, http.StatusOK, "設定を保存しました。", `aria-describedby="mfa-required-hint">`)
	wantRedirect(t, b.post("/admin/security", url.Values{"mfa_required": {"true"}}), "/admin/security?notice=saved")
	if !h.fake.tenantMFARequired() {
		t.Fatal("a ticked box did not switch the policy on")
	}

	emp := h.withSession(tokEmployee)
	wantPage(t, emp.get("/admin/security"), http.StatusForbidden)
	wantPage(t, emp.post("/admin/security", url.Values{}), http.StatusForbidden)
	if !h.fake.tenantMFARequired() {
		t.Fatal("an employee changed the policy")
	}
	if strings.Contains(emp.get("/").Body.String(), `href="/admin/security"`) {
		t.Error("the policy page is offered to an employee")
	}
}

func TestWebAuthnScript(t *testing.T) {
	h := newDefault(t)
	rec := h.do(request{method: "GET", path: "/static/webauthn.js"})
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") {
		t.Fatalf("script: %d %v", rec.Code, rec.Header())
	}
	for _, want := range []string{"navigator.credentials.create", "navigator.credentials.get", "X-CSRF-Token", "aria-invalid",
		"excludeCredentials", "allowCredentials", "attestationObject", "authenticatorData", "userHandle", "getTransports",
		"clientExtensionResults", "recovery-codes"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("script lacks %s", want)
		}
	}
}

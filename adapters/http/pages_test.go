package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	web "github.com/roumu/roumu/adapters/http"
	"github.com/roumu/roumu/ports"
)

func TestLoginPage(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	rec := b.get("/login")
	wantPage(t, rec, http.StatusOK, `<html lang="ja">`, `<label for="tenant">企業コード <span lang="en">/ Company code</span>`,
		`<label for="login">ログインID`, `<label for="password">パスワード`, `id="password" name="password" type="password"`,
		`autocomplete="current-password"`, `href="/static/roumu.css"`, `name="_csrf"`)
	body := rec.Body.String()
	if strings.Contains(body, "<script") || strings.Contains(body, "style=") || strings.Contains(body, "<style") {
		t.Fatal("inline script or style on the page would break the CSP")
	}
	ck := b.cookies["roumu_csrf"]
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure {
		t.Fatalf("CSRF cookie %+v", ck)
	}
}

func TestLoginFlow(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	b.get("/login")
	csrfBefore := b.cookies["roumu_csrf"].Value

	rec := b.post("/login", url.Values{"tenant": {tenantCode}, "login": {"admin"}, "password": {goodPassword}})
	wantRedirect(t, rec, "/")
	ck := b.cookies["roumu_session"]
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure || ck.Expires.IsZero() {
		t.Fatalf("session cookie %+v", ck)
	}
	if b.cookies["roumu_csrf"].Value == csrfBefore {
		t.Error("the CSRF token was not rotated at login")
	}
	wantPage(t, b.get("/"), http.StatusOK, "管理 太郎", "admin", tenantName, tenantCode, "管理者 / Administrator",
		`action="/logout"`, `href="/admin/accounts"`)

	// logging in again ends the previous session
	old := ck.Value
	b.post("/login", url.Values{"tenant": {tenantCode}, "login": {"admin"}, "password": {goodPassword}})
	if _, err := h.fake.Authenticate(t.Context(), old, ports.Source{}); err == nil {
		t.Error("the previous session survived a new login")
	}

	rec = b.post("/logout", nil)
	wantRedirect(t, rec, "/login")
	if _, ok := b.cookies["roumu_session"]; ok {
		t.Fatal("session cookie not cleared")
	}
	wantRedirect(t, b.get("/"), "/login")
}

func TestLoginFailureKeepsTheForm(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	b.get("/login")
	rec := b.post("/login", url.Values{"tenant": {tenantCode}, "login": {"ad<min>"}, "password": {"Secret-Typed-1"}})
	wantPage(t, rec, http.StatusUnauthorized, "企業コード、ログインID、またはパスワードが正しくありません。",
		"The company code, login ID or password is incorrect.", `value="acme"`, `value="ad&lt;min&gt;"`, `role="alert"`)
	if strings.Contains(rec.Body.String(), "Secret-Typed-1") {
		t.Fatal("the password was written back into the page")
	}
	if _, ok := b.cookies["roumu_session"]; ok {
		t.Fatal("a failed login set a session cookie")
	}

	rec = b.post("/login", url.Values{"tenant": {tenantCode}, "login": {"locked"}, "password": {"x"}})
	wantPage(t, rec, http.StatusLocked, "アカウントはロックされています。")
	if rec.Header().Get("Retry-After") != lockedRetryStr {
		t.Errorf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	rec = b.post("/login", url.Values{"tenant": {""}, "login": {""}, "password": {""}})
	wantPage(t, rec, http.StatusUnprocessableEntity, "ログインID：入力してください", `aria-invalid="true"`)
}

func TestCSRF(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	b.get("/login")
	form := func(token string) url.Values {
		return url.Values{"_csrf": {token}, "tenant": {tenantCode}, "login": {"admin"}, "password": {goodPassword}}
	}

	wantPage(t, b.send("POST", "/login", form("")), http.StatusForbidden, "フォームの有効期限が切れたか")
	wantPage(t, b.send("POST", "/login", form("forged-token")), http.StatusForbidden)
	fresh := h.browser() // a cross-site form: no CSRF cookie at all
	wantPage(t, fresh.send("POST", "/login", form(b.cookies["roumu_csrf"].Value)), http.StatusForbidden)
	b.header.Set("Sec-Fetch-Site", "cross-site")
	wantPage(t, b.post("/login", form("")), http.StatusForbidden)
	b.header.Del("Sec-Fetch-Site")
	if uc := h.fake.useCases(); len(uc) != 0 {
		t.Fatalf("use cases reached without a valid CSRF token: %v", uc)
	}

	// the header works too (for a future script of our own)
	b.header.Set("X-CSRF-Token", b.cookies["roumu_csrf"].Value)
	wantRedirect(t, b.send("POST", "/login", form("")), "/")
	b.header.Del("X-CSRF-Token")

	// state-changing admin forms are protected the same way
	b.get("/admin/accounts")
	rec := b.send("POST", "/admin/accounts/acc-hanako/unlock", url.Values{})
	wantPage(t, rec, http.StatusForbidden)
	rec = b.send("POST", "/logout", url.Values{})
	wantPage(t, rec, http.StatusForbidden)
	if !h.fake.account("acc-hanako").Locked || slices.Contains(h.fake.Calls(), "Logout") {
		t.Fatal("a request without the CSRF token changed state")
	}
}

func TestUnauthenticatedPagesRedirect(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	for path, login := range map[string]string{"/": "/login", "/settings/security": "/login", "/admin/accounts": "/login",
		"/login/mfa": "/login", "/ops": "/ops/login"} {
		wantRedirect(t, b.get(path), login)
	}
	b.cookies["roumu_session"] = &http.Cookie{Name: "roumu_session", Value: "expired-token"}
	wantRedirect(t, b.get("/"), "/login")
	if _, ok := b.cookies["roumu_session"]; ok {
		t.Error("an invalid session cookie was not cleared")
	}
}

func TestPasswordChangeStage(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	b.login("newbie")
	for _, path := range []string{"/", "/admin/accounts", "/login/mfa", "/ops"} {
		rec := b.get(path)
		if path == "/ops" {
			wantRedirect(t, rec, "/ops/login") // a member is not an operator, whatever the stage
			continue
		}
		wantRedirect(t, rec, "/settings/security")
	}
	wantPage(t, b.get("/settings/security"), http.StatusOK, "続行する前に、パスワードを変更してください。",
		`autocomplete="new-password"`, `<label for="new_password_confirm">`)

	rec := b.post("/settings/security", url.Values{"current_password": {goodPassword}, "new_password": {"Brand-New-Pass-7"}, "new_password_confirm": {"Brand-New-Pass-8"}})
	wantPage(t, rec, http.StatusUnprocessableEntity, "新しいパスワード（確認）：新しいパスワードと一致しません")
	if slices.Contains(h.fake.Calls(), "ChangePassword") {
		t.Fatal("mismatched confirmation reached the use case")
	}

	rec = b.post("/settings/security", url.Values{"current_password": {goodPassword}, "new_password": {"short"}, "new_password_confirm": {"short"}})
	wantPage(t, rec, http.StatusUnprocessableEntity, "パスワードがポリシーを満たしていません。",
		"新しいパスワード：10文字以上にしてください", "新しいパスワード：英大文字・英小文字・数字・記号のうち3種類以上を含めてください",
		"New password: must be at least 10 characters")

	old := b.cookies["roumu_session"].Value
	rec = b.post("/settings/security", url.Values{"current_password": {goodPassword}, "new_password": {"Brand-New-Pass-7"}, "new_password_confirm": {"Brand-New-Pass-7"}})
	wantRedirect(t, rec, "/settings/security?notice=password_changed")
	if b.cookies["roumu_session"].Value == old {
		t.Fatal("the session cookie was not replaced by the new session")
	}
	wantPage(t, b.get("/settings/security?notice=password_changed"), http.StatusOK, "パスワードを変更しました。")
	wantPage(t, b.get("/"), http.StatusOK, "新人 一郎")
}

func TestMFAStages(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	b.login("mfa-user")
	wantRedirect(t, b.get("/"), "/login/mfa")
	wantRedirect(t, b.get("/settings/security"), "/login/mfa")
	wantPage(t, b.get("/login/mfa"), http.StatusOK, "2段階認証", "Two-step verification")

	e := h.browser()
	e.login("enrol-user")
	wantRedirect(t, e.get("/"), "/settings/security")
	rec := e.get("/settings/security")
	wantPage(t, rec, http.StatusOK, "所属企業では2段階認証が必須です。")
	if strings.Contains(rec.Body.String(), `name="new_password"`) {
		t.Error("the enrolment stage offers a password change")
	}
	wantRedirect(t, e.post("/settings/security", url.Values{"current_password": {goodPassword}, "new_password": {"Brand-New-Pass-7"}, "new_password_confirm": {"Brand-New-Pass-7"}}), "/settings/security")
	if slices.Contains(h.fake.Calls(), "ChangePassword") {
		t.Fatal("the enrolment stage changed a password")
	}
	// a complete session has nothing to do on the MFA step
	f := h.browser()
	f.login("admin")
	wantRedirect(t, f.get("/login/mfa"), "/")
}

func TestAdminAccountsPage(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	b.login("admin")
	rec := b.get("/admin/accounts")
	wantPage(t, rec, http.StatusOK, "hanako", "山田 花子", "ロック中", "2026-04-01 18:30 JST",
		`action="/admin/accounts/acc-hanako/unlock"`, `action="/admin/accounts/acc-hanako/disable"`,
		`<input type="checkbox" id="role-admin" name="roles" value="admin">`, `<label for="role-admin">`)
	if strings.Contains(rec.Body.String(), "Other tenant") {
		t.Fatal("another tenant's account listed")
	}

	rec = b.post("/admin/accounts", url.Values{"login": {"taro"}, "name": {"佐藤 太郎"}, "roles": {"hr", "employee"}})
	wantPage(t, rec, http.StatusOK, "アカウント「taro」を作成しました。", generatedOTP, "佐藤 太郎")
	rec = b.post("/admin/accounts", url.Values{"login": {"jiro"}, "name": {"次郎"}, "roles": {"employee"}, "password": {"Chosen-Pass-42"}})
	if strings.Contains(rec.Body.String(), "Chosen-Pass-42") || strings.Contains(rec.Body.String(), generatedOTP) {
		t.Fatal("a chosen password is shown back")
	}
	rec = b.post("/admin/accounts", url.Values{"login": {"taro"}, "name": {"別の太郎"}, "roles": {"hr"}, "password": {"Typed-Pass-99"}})
	wantPage(t, rec, http.StatusConflict, "このログインIDは既に使われています。", `value="別の太郎"`,
		`<input type="checkbox" id="role-hr" name="roles" value="hr" checked>`)
	if strings.Contains(rec.Body.String(), "Typed-Pass-99") {
		t.Fatal("the typed password is shown back")
	}
	wantPage(t, b.post("/admin/accounts", url.Values{"login": {""}, "name": {"x"}}), http.StatusUnprocessableEntity,
		"ログインID：入力してください", "権限：権限を1つ以上選んでください")

	wantRedirect(t, b.post("/admin/accounts/acc-hanako/unlock", nil), "/admin/accounts")
	wantRedirect(t, b.post("/admin/accounts/acc-hanako/disable", nil), "/admin/accounts")
	if a := h.fake.account("acc-hanako"); a.Locked || a.Status != ports.AccountDisabled {
		t.Fatalf("account %+v", a)
	}
	wantPage(t, b.post("/admin/accounts/acc-other/disable", nil), http.StatusNotFound, "アカウントが見つかりません。", "The account was not found.")
	wantPage(t, b.post("/admin/accounts/..%2Fx/disable", nil), http.StatusNotFound)

	emp := h.browser()
	emp.cookies["roumu_session"] = &http.Cookie{Name: "roumu_session", Value: tokEmployee}
	wantPage(t, emp.get("/admin/accounts"), http.StatusForbidden, "この操作を行う権限がありません。")
}

func TestOpsPages(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	wantPage(t, b.get("/ops/login"), http.StatusOK, "運用者ログイン", `action="/ops/login"`)
	if strings.Contains(b.get("/ops/login").Body.String(), `name="tenant"`) {
		t.Error("the operator login asks for a company code")
	}
	rec := b.post("/ops/login", url.Values{"login": {"root"}, "password": {"wrong"}})
	wantPage(t, rec, http.StatusUnauthorized, `value="root"`)
	wantRedirect(t, b.post("/ops/login", url.Values{"login": {"root"}, "password": {goodPassword}}), "/ops")
	wantPage(t, b.get("/ops"), http.StatusOK, "運用 担当", "(root)", `name="area" value="ops"`)
	wantRedirect(t, b.get("/"), "/ops") // operators have no member dashboard
	wantRedirect(t, b.get("/admin/accounts"), "/ops")
	wantRedirect(t, b.post("/logout", url.Values{"area": {"ops"}}), "/ops/login")

	m := h.browser()
	m.login("admin")
	wantRedirect(t, m.get("/ops"), "/ops/login")

	// an operator owing the second factor is sent to the MFA step, which admits operators too (no loop)
	o := h.browser()
	o.cookies["roumu_session"] = &http.Cookie{Name: "roumu_session", Value: tokOperatorMFA}
	wantRedirect(t, o.get("/ops"), "/login/mfa")
	wantRedirect(t, o.get("/"), "/login/mfa")
	wantPage(t, o.get("/login/mfa"), http.StatusOK, "2段階認証")
}

func TestSecureCookiesOverHTTPS(t *testing.T) {
	h := newHarness(t, web.Config{PublicURL: "https://roumu.example.jp"})
	b := h.browser()
	rec := b.get("/login")
	csrf := b.cookies["__Host-roumu_csrf"]
	if csrf == nil || !csrf.Secure || csrf.Path != "/" || csrf.Domain != "" {
		t.Fatalf("CSRF cookie %+v", rec.Result().Cookies())
	}
	rec = b.send("POST", "/login", url.Values{"_csrf": {csrf.Value}, "tenant": {tenantCode}, "login": {"admin"}, "password": {goodPassword}})
	wantRedirect(t, rec, "/")
	s := b.cookies["__Host-roumu_session"]
	if s == nil || !s.Secure || !s.HttpOnly || s.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", rec.Result().Cookies())
	}
	if _, ok := b.cookies["roumu_session"]; ok {
		t.Fatal("unprefixed cookie over https")
	}
	wantPage(t, b.get("/"), http.StatusOK, "管理 太郎")
}

func TestPageErrors(t *testing.T) {
	h := newDefault(t)
	b := h.browser()
	wantPage(t, b.get("/no/such/page"), http.StatusNotFound, "エラー", "対象が見つかりません。", "The resource was not found.")
	wantPage(t, b.send("DELETE", "/login", nil), http.StatusMethodNotAllowed)

	b.login("admin")
	h.fake.failNext(ports.ErrUnavailable)
	wantPage(t, b.get("/"), http.StatusServiceUnavailable, "サービスは一時的に利用できません。")
	h.fake.failNext(ports.ErrUnauthenticated) // the session ended between the check and the use case
	wantRedirect(t, b.get("/"), "/login")

	p := h.browser()
	p.cookies["roumu_session"] = &http.Cookie{Name: "roumu_session", Value: tokPanic}
	rec := p.get("/")
	wantPage(t, rec, http.StatusInternalServerError, "予期しないエラーが発生しました。")
	if strings.Contains(rec.Body.String(), "secret-panic-detail") {
		t.Fatal("panic text reached the page")
	}

	b.get("/login")
	rec = b.post("/login", url.Values{"tenant": {tenantCode}, "login": {"ad\x00min"}, "password": {"x"}})
	wantPage(t, rec, http.StatusBadRequest, "フォームを読み取れませんでした。")
}

func TestStaticFiles(t *testing.T) {
	h := newDefault(t)
	rec := h.do(request{method: "GET", path: "/static/roumu.css"})
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") ||
		!strings.Contains(rec.Body.String(), ":focus-visible") || !strings.Contains(rec.Header().Get("Cache-Control"), "max-age") {
		t.Fatalf("css: %d %v", rec.Code, rec.Header())
	}
	for _, path := range []string{"/static/", "/static/../server.go", "/static/..%2Fserver.go", "/static/nope.css", "/static/%00"} {
		mustProblem(t, h.do(request{method: "GET", path: path}), http.StatusNotFound, "not_found")
	}
}

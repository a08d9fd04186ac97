package e2e

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/roumu/roumu/test/testenv"
)

// browser is a minimal browser for the HTML pages: it keeps the cookies the service sets and the CSRF token of
// the last page it read, and follows no redirects. Cookie expiry is not enforced (the fake clock stands in
// the past of the wall clock).
type browser struct {
	a       *app
	cookies map[string]*http.Cookie
	csrf    string
}

func (a *app) browser() *browser { return &browser{a: a, cookies: map[string]*http.Cookie{}} }

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (b *browser) send(method, path string, form url.Values) response {
	b.a.t.Helper()
	h := http.Header{}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range b.cookies {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	res := b.a.send(method, path, body, h)
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	if m := csrfInput.FindSubmatch(res.body); m != nil {
		b.csrf = html.UnescapeString(string(m[1]))
	}
	return res
}

func (b *browser) get(path string) response { return b.send(http.MethodGet, path, nil) }

// submit posts a form as the page's own form would, with the CSRF token of the last page read.
func (b *browser) submit(path string, form url.Values) response {
	b.a.t.Helper()
	if b.csrf == "" {
		b.a.t.Fatalf("submitting %s before reading a page with a form", path)
	}
	form.Set("_csrf", b.csrf)
	return b.send(http.MethodPost, path, form)
}

// logIn fills in the login form and expects to be sent to next.
func (b *browser) logIn(tenant, login, password, next string) {
	b.a.t.Helper()
	wantPage(b.a.t, b.get("/login"), http.StatusOK, `action="/login"`)
	res := b.submit("/login", url.Values{"tenant": {tenant}, "login": {login}, "password": {password}})
	wantRedirect(b.a.t, res, next)
	if b.cookies["roumu_session"] == nil {
		b.a.t.Fatal("no session cookie after logging in")
	}
}

// changePassword submits the password form of the security settings.
func (b *browser) changePassword(current, next, confirm string) response {
	b.a.t.Helper()
	return b.submit("/settings/security", url.Values{"current_password": {current}, "new_password": {next},
		"new_password_confirm": {confirm}})
}

func wantRedirect(t testing.TB, res response, location string) {
	t.Helper()
	if res.status != http.StatusSeeOther || res.header.Get("Location") != location {
		t.Fatalf("status %d Location %q, want 303 to %q: %s", res.status, res.header.Get("Location"), location, res)
	}
}

// wantRedirectPath fails unless res is a 303 to path (with any query) and returns the full location.
func wantRedirectPath(t testing.TB, res response, path string) string {
	t.Helper()
	loc := res.header.Get("Location")
	u, err := url.Parse(loc)
	if res.status != http.StatusSeeOther || err != nil || u.Path != path || u.Host != "" {
		t.Fatalf("status %d Location %q, want 303 to %s: %s", res.status, loc, path, res)
	}
	return loc
}

// wantPage fails unless res is an HTML page with the given status containing every fragment.
func wantPage(t testing.TB, res response, status int, fragments ...string) {
	t.Helper()
	if res.status != status || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d (%s), want an HTML page with %d: %.600s", res.status, res.header.Get("Content-Type"), status, res.body)
	}
	for _, f := range fragments {
		if !strings.Contains(string(res.body), f) {
			t.Fatalf("page lacks %q:\n%s", f, res.body)
		}
	}
}

func TestPagesLoginDashboardLogout(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	a.tenant("acme")
	b := a.browser()

	wantPage(t, b.get("/login"), http.StatusOK, `name="tenant"`, `name="login"`, `name="password"`, `name="_csrf"`)
	if b.cookies["roumu_csrf"] == nil {
		t.Fatal("no CSRF cookie with the login page")
	}
	res := b.submit("/login", url.Values{"tenant": {"acme"}, "login": {"admin"}, "password": {"Wrong-password-1"}})
	wantPage(t, res, http.StatusUnauthorized, "企業コード、ログインID、またはパスワードが正しくありません。", `value="acme"`)
	if b.cookies["roumu_session"] != nil {
		t.Fatal("a failed login set a session cookie")
	}

	b.logIn("acme", "admin", testenv.NewPassword, "/")
	session := b.cookies["roumu_session"]
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
		t.Fatalf("session cookie %+v", session)
	}
	wantPage(t, b.get("/"), http.StatusOK, "<dd>管理 太郎</dd>", "<dd>admin</dd>", "acme 株式会社 (acme)", `action="/logout"`)

	wantRedirect(t, b.submit("/logout", url.Values{}), "/login")
	if b.cookies["roumu_session"] != nil {
		t.Fatal("the session cookie survived logout")
	}
	wantRedirect(t, b.get("/"), "/login")
	// The session itself has ended, not only the cookie.
	h := http.Header{"Cookie": {"roumu_session=" + session.Value}}
	wantRedirect(t, a.send(http.MethodGet, "/", nil, h), "/login")
}

func TestPagesRefuseFormsWithoutCSRFToken(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	a.tenant("acme")
	b := a.browser()
	b.get("/login")

	before := snapshot(t, a.env)
	login := url.Values{"tenant": {"acme"}, "login": {"admin"}, "password": {testenv.NewPassword}}
	wantPage(t, b.send(http.MethodPost, "/login", login), http.StatusForbidden, "フォームの有効期限が切れたか")
	login.Set("_csrf", strings.Repeat("A", 43)) // well-formed, but not the cookie's
	wantPage(t, b.send(http.MethodPost, "/login", login), http.StatusForbidden)
	assertUnchanged(t, before, snapshot(t, a.env))
	if b.cookies["roumu_session"] != nil {
		t.Fatal("a login without the CSRF token set a session cookie")
	}

	// A logged-in browser cannot be made to change its password either.
	b.logIn("acme", "admin", testenv.NewPassword, "/")
	before = snapshot(t, a.env)
	change := url.Values{"current_password": {testenv.NewPassword}, "new_password": {"Forged-change-1"},
		"new_password_confirm": {"Forged-change-1"}}
	wantPage(t, b.send(http.MethodPost, "/settings/security", change), http.StatusForbidden)
	assertUnchanged(t, before, snapshot(t, a.env))
	wantPage(t, b.get("/"), http.StatusOK, "<dd>管理 太郎</dd>")
}

func TestPagesForcedPasswordChange(t *testing.T) {
	t.Parallel()
	a, _, newcomer := startWithNewcomer(t, "employee")
	b := a.browser()

	b.logIn("acme", "tanaka", newcomer.InitialPassword, "/settings/security")
	wantRedirect(t, b.get("/"), "/settings/security")
	wantPage(t, b.get("/settings/security"), http.StatusOK, "続行する前に、パスワードを変更してください。", `name="new_password_confirm"`)

	res := b.changePassword(newcomer.InitialPassword, testenv.Password, "Something-else-2")
	wantPage(t, res, http.StatusUnprocessableEntity, "新しいパスワードが一致しません。")
	res = b.changePassword(newcomer.InitialPassword, "weak", "weak")
	wantPage(t, res, http.StatusUnprocessableEntity, "パスワードがパスワードポリシーを満たしていません。")

	res = b.changePassword(newcomer.InitialPassword, testenv.Password, testenv.Password)
	wantPage(t, b.get(wantRedirectPath(t, res, "/settings/security")), http.StatusOK, "パスワードを変更しました。")
	wantPage(t, b.get("/"), http.StatusOK, "<dd>田中 花子</dd>")
}

package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// apiToken is a token as the API answers its creation.
type apiToken struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Scopes     []string `json:"scopes"`
	Hint       string   `json:"hint"`
	ExpiresAt  string   `json:"expires_at"`
	LastUsedAt *string  `json:"last_used_at"`
	Token      string   `json:"token"`
}

// createToken has the admin create a token with the scopes, valid for 30 days.
func (a *app) createToken(adminToken string, scopes ...string) apiToken {
	a.t.Helper()
	var tok apiToken
	res := a.api(http.MethodPost, "/api/v1/api-tokens", adminToken,
		jsonBody(a.t, map[string]any{"name": "給与システム連携", "scopes": scopes, "expires_in_days": 30}))
	wantJSON(a.t, res, http.StatusCreated, &tok)
	if !strings.HasPrefix(tok.Token, "roumu_"+tok.ID+"_") || res.header.Get("Cache-Control") != "no-store" {
		a.t.Fatalf("created %+v (Cache-Control %q)", tok, res.header.Get("Cache-Control"))
	}
	return tok
}

// TestAPITokenScopes: a token with employees:read reads the register and nothing else: writes, other
// resources and everything that belongs to a person answer 403 insufficient_scope.
func TestAPITokenScopes(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	emp := a.createEmployee(admin, "E001", nil)
	tok := a.createToken(admin, ports.ScopeEmployeesRead)

	var page employeePage
	wantJSON(t, a.api(http.MethodGet, "/api/v1/employees", tok.Token, ""), http.StatusOK, &page)
	if len(page.Items) != 1 || page.Items[0].ID != emp.ID {
		t.Fatalf("token lists %+v", page.Items)
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/employees/"+emp.ID, tok.Token, ""), http.StatusOK, nil)
	wantJSON(t, a.api(http.MethodGet, "/api/v1/departments", tok.Token, ""), http.StatusOK, nil)

	body := jsonBody(t, newEmployeeBody("E002", nil))
	for _, req := range []struct{ method, path, body, scope string }{
		{http.MethodPost, "/api/v1/employees", body, ports.ScopeEmployeesWrite},
		{http.MethodPatch, "/api/v1/employees/" + emp.ID, `{"position":"課長"}`, ports.ScopeEmployeesWrite},
		{http.MethodPost, "/api/v1/employees/import?dry_run=true", "", ports.ScopeEmployeesWrite},
		{http.MethodDelete, "/api/v1/employees/" + emp.ID, "", ports.ScopeEmployeesWrite},
		{http.MethodPost, "/api/v1/departments", `{"code":"HR","name":"人事部"}`, ports.ScopeEmployeesWrite},
		{http.MethodGet, "/api/v1/procedures", "", ports.ScopeProceduresRead},
		{http.MethodGet, "/api/v1/accounts", "", ports.ScopeAccountsRead},
		{http.MethodPost, "/api/v1/employees/" + emp.ID + "/my-number/reveal", "", ""},
		{http.MethodGet, "/api/v1/api-tokens", "", ""},
		{http.MethodPost, "/api/v1/api-tokens", `{"name":"x","scopes":["employees:write"],"expires_in_days":1}`, ""},
		{http.MethodDelete, "/api/v1/api-tokens/" + tok.ID, "", ""},
		{http.MethodGet, "/api/v1/me", "", ""},
		{http.MethodGet, "/api/v1/me/employee", "", ""},
		{http.MethodPost, "/api/v1/me/password", `{"current_password":"x","new_password":"y"}`, ""},
		{http.MethodGet, "/api/v1/me/mfa", "", ""},
		{http.MethodPost, "/api/v1/me/mfa/totp", `{"current_password":"x"}`, ""},
		{http.MethodGet, "/api/v1/tenant", "", ""},
		{http.MethodPut, "/api/v1/tenant/ip-restriction", `{"allowed_cidrs":[]}`, ""},
		{http.MethodPost, "/api/v1/auth/logout", "", ""},
	} {
		res := a.api(req.method, req.path, tok.Token, req.body)
		wantProblem(t, res, http.StatusForbidden, "insufficient_scope")
		challenge := res.header.Get("WWW-Authenticate")
		if !strings.Contains(challenge, `error="insufficient_scope"`) ||
			(req.scope != "") != strings.Contains(challenge, `scope="`+req.scope+`"`) {
			t.Errorf("%s %s: WWW-Authenticate %q, want the scope %q named", req.method, req.path, challenge, req.scope)
		}
	}
	if n := len(a.listEmployees(admin, "").Items); n != 1 {
		t.Errorf("%d employees after the refused writes, want 1", n)
	}

	// A token with the write scope writes, within the creator's roles.
	a.env.Clock.Advance(time.Minute)
	writer := a.createToken(admin, ports.ScopeEmployeesWrite)
	wantJSON(t, a.api(http.MethodPost, "/api/v1/employees", writer.Token, body), http.StatusCreated, nil)
	wantProblem(t, a.api(http.MethodGet, "/api/v1/employees", writer.Token, ""), http.StatusForbidden, "insufficient_scope")

	// The list shows both, with the last use; never a token.
	var list struct{ Items []apiToken }
	res := a.api(http.MethodGet, "/api/v1/api-tokens", admin, "")
	wantJSON(t, res, http.StatusOK, &list)
	if len(list.Items) != 2 || list.Items[0].ID != writer.ID || list.Items[1].LastUsedAt == nil ||
		strings.Contains(string(res.body), tok.Token) || strings.Contains(string(res.body), writer.Token) {
		t.Errorf("list %s", res.body)
	}
}

// TestAPITokenRevokedAndExpired: a revoked token and an expired one are 401 with a Bearer challenge.
func TestAPITokenRevokedAndExpired(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	revoked := a.createToken(admin, ports.ScopeEmployeesRead)
	wantJSON(t, a.api(http.MethodGet, "/api/v1/employees", revoked.Token, ""), http.StatusOK, nil)
	res := a.api(http.MethodDelete, "/api/v1/api-tokens/"+revoked.ID, admin, "")
	if res.status != http.StatusNoContent {
		t.Fatalf("DELETE: %s", res)
	}
	res = a.api(http.MethodGet, "/api/v1/employees", revoked.Token, "")
	wantProblem(t, res, http.StatusUnauthorized, "token_revoked")
	if !strings.Contains(res.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate %q", res.header.Get("WWW-Authenticate"))
	}
	wantProblem(t, a.api(http.MethodDelete, "/api/v1/api-tokens/"+revoked.ID, admin, ""), http.StatusNotFound, "not_found")

	expiring := a.createToken(admin, ports.ScopeEmployeesRead)
	a.env.Clock.Advance(30*24*time.Hour - time.Second)
	wantJSON(t, a.api(http.MethodGet, "/api/v1/employees", expiring.Token, ""), http.StatusOK, nil)
	a.env.Clock.Advance(time.Second)
	wantProblem(t, a.api(http.MethodGet, "/api/v1/employees", expiring.Token, ""), http.StatusUnauthorized, "token_expired")
}

// TestAPITokenCreationRules: only an admin's session creates tokens; bad input is 422 with one entry per field.
func TestAPITokenCreationRules(t *testing.T) {
	t.Parallel()
	a, admin, newcomer := startWithNewcomer(t, ports.RoleHR)
	hr := a.activate("acme", newcomer).Token
	wantProblem(t, a.api(http.MethodPost, "/api/v1/api-tokens", hr, `{"name":"x","scopes":["employees:read"],"expires_in_days":1}`),
		http.StatusForbidden, "forbidden")
	wantProblem(t, a.api(http.MethodGet, "/api/v1/api-tokens", hr, ""), http.StatusForbidden, "forbidden")
	for body, fields := range map[string]string{
		`{"name":"","scopes":[],"expires_at":"tomorrow"}`:                              "expires_at",
		`{"name":"","scopes":[]}`:                                                      "name scopes expires_at",
		`{"name":"x","scopes":["employees:admin"],"expires_in_days":366}`:              "scopes expires_at",
		`{"name":"x","scopes":["employees:read"],"expires_at":"2020-01-01T00:00:00Z"}`: "expires_at",
	} {
		p := wantProblem(t, a.api(http.MethodPost, "/api/v1/api-tokens", admin, body), http.StatusUnprocessableEntity, "validation_failed")
		if got := strings.Join(problemFields(p), " "); got != fields {
			t.Errorf("%s: fields %q, want %q", body, got, fields)
		}
	}
	var list struct{ Items []apiToken }
	wantJSON(t, a.api(http.MethodGet, "/api/v1/api-tokens", admin, ""), http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Errorf("refused creations left %d tokens", len(list.Items))
	}
}

// TestAPITokenTenantIsolation: tenant B's token never sees tenant A's data, and B's admin cannot revoke A's token.
func TestAPITokenTenantIsolation(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, adminA := a.tenant("alpha")
	empA := a.createEmployee(adminA, "A001", nil)
	tokA := a.createToken(adminA, ports.ScopeEmployeesRead)
	_, adminB := a.tenant("beta")
	tokB := a.createToken(adminB, ports.ScopeEmployeesRead, ports.ScopeEmployeesWrite, ports.ScopeAccountsRead)

	var page employeePage
	wantJSON(t, a.api(http.MethodGet, "/api/v1/employees", tokB.Token, ""), http.StatusOK, &page)
	if len(page.Items) != 0 {
		t.Errorf("B's token lists %+v", page.Items)
	}
	want404Code(t, a.api(http.MethodGet, "/api/v1/employees/"+empA.ID, tokB.Token, ""))
	want404Code(t, a.withHeaders(http.MethodPatch, "/api/v1/employees/"+empA.ID, tokB.Token, `{"position":"x"}`, "If-Match", `"1"`))
	var accounts struct{ Items []struct{ Login string } }
	wantJSON(t, a.api(http.MethodGet, "/api/v1/accounts", tokB.Token, ""), http.StatusOK, &accounts)
	if len(accounts.Items) != 1 {
		t.Errorf("B's token lists accounts %+v", accounts.Items)
	}
	wantProblem(t, a.api(http.MethodDelete, "/api/v1/api-tokens/"+tokA.ID, adminB, ""), http.StatusNotFound, "not_found")
	wantJSON(t, a.api(http.MethodGet, "/api/v1/employees/"+empA.ID, tokA.Token, ""), http.StatusOK, nil)
}

// TestAPITokenIPAllowList: the tenant's allow-list applies to tokens as to sessions.
func TestAPITokenIPAllowList(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	tok := a.createToken(admin, ports.ScopeEmployeesRead)
	tenant, err := a.env.Store.TenantByCode(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	restrictIPs(t, a.env, tenant.ID, "198.51.100.0/24")
	wantProblem(t, a.api(http.MethodGet, "/api/v1/employees", tok.Token, ""), http.StatusForbidden, "ip_not_allowed")
	restrictIPs(t, a.env, tenant.ID, "127.0.0.0/8", "::1/128")
	wantJSON(t, a.api(http.MethodGet, "/api/v1/employees", tok.Token, ""), http.StatusOK, nil)
}

// TestHostileAPITokens: odd token strings are 401 problems, never 500, and never reach a page.
func TestHostileAPITokens(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	tok := a.createToken(admin, ports.ScopeEmployeesRead)
	for name, token := range map[string]string{
		"overlong":       tok.Token + strings.Repeat("A", 600),
		"one too long":   tok.Token + "A",
		"wrong prefix":   "roumv_" + tok.Token[6:],
		"prefix only":    "roumu_",
		"unknown ID":     "roumu_0000000000000000_" + tok.Token[len(tok.Token)-43:],
		"wrong secret":   tok.Token[:len(tok.Token)-4] + "AAAA",
		"percent-escape": "roumu_" + tok.ID + "_%00" + tok.Token[len(tok.Token)-40:],
	} {
		t.Run(name, func(t *testing.T) {
			wantProblem(t, a.api(http.MethodGet, "/api/v1/employees", token, ""), http.StatusUnauthorized, "unauthenticated")
		})
	}
	for name, header := range map[string]string{
		"NUL":         "Bearer " + tok.Token[:30] + "\x00" + tok.Token[31:],
		"two tokens":  "Bearer " + tok.Token + " " + tok.Token,
		"basic":       "Basic " + tok.Token,
		"bearer only": "Bearer ",
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.base+"/api/v1/employees", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header["Authorization"] = []string{header}
		res, err := a.client.Do(req)
		if err != nil {
			continue // the client itself refuses a NUL in a header: nothing reaches the service
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, res.StatusCode)
		}
	}
	// A token in the session cookie opens no page.
	b := a.browser()
	b.cookies["roumu_session"] = &http.Cookie{Name: "roumu_session", Value: tok.Token}
	for _, path := range []string{"/", "/employees", "/admin/tokens"} {
		wantRedirect(t, b.get(path), "/login")
	}
}

var tokenShown = regexp.MustCompile(`value="(roumu_[0-9a-f]{16}_[A-Za-z0-9_-]{43})"`)

// TestAPITokensPage: the admin creates a token on the page, sees it once, finds it listed with its scopes and
// last use, and revokes it.
func TestAPITokensPage(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	a.tenant("acme")
	b := a.browser()
	b.logIn("acme", "admin", "Vt4$hr8@LmQ2", "/")
	wantPage(t, b.get("/admin/tokens"), http.StatusOK, "APIトークンはありません")
	res := b.submit("/admin/tokens", url.Values{"name": {""}, "expires_in_days": {"90"}})
	wantPage(t, res, http.StatusUnprocessableEntity, `aria-invalid="true"`)
	res = b.submit("/admin/tokens", url.Values{"name": {"勤怠連携"}, "scopes": {ports.ScopeEmployeesRead, ports.ScopeProceduresRead},
		"expires_in_days": {"365"}})
	wantPage(t, res, http.StatusOK, "この画面でのみ表示されます")
	m := tokenShown.FindSubmatch(res.body)
	if m == nil {
		t.Fatalf("no token shown: %s", res.body)
	}
	token := string(m[1])
	wantJSON(t, a.api(http.MethodGet, "/api/v1/procedures", token, ""), http.StatusOK, nil)
	page := b.get("/admin/tokens")
	wantPage(t, page, http.StatusOK, "勤怠連携")
	if strings.Contains(string(page.body), token) || !strings.Contains(string(page.body), token[:23]) ||
		!strings.Contains(string(page.body), ports.ScopeProceduresRead) || strings.Contains(string(page.body), "未使用") {
		t.Errorf("list page: %s", page.body)
	}
	id := token[6:22]
	wantRedirect(t, b.submit("/admin/tokens/"+id+"/revoke", url.Values{}), "/admin/tokens?notice=revoked")
	wantPage(t, b.get("/admin/tokens?notice=revoked"), http.StatusOK, "APIトークンはありません")
	wantProblem(t, a.api(http.MethodGet, "/api/v1/procedures", token, ""), http.StatusUnauthorized, "token_revoked")
	// Without the CSRF token nothing happens.
	res = b.send(http.MethodPost, "/admin/tokens", url.Values{"name": {"x"}, "scopes": {ports.ScopeEmployeesRead}, "expires_in_days": {"30"}})
	if res.status != http.StatusForbidden {
		t.Errorf("POST without CSRF: %d", res.status)
	}
}

// TestAPITokenHasItsOwnRateLimit: each token counts in a bucket of its own, apart from its creator's sessions
// and from other tokens.
func TestAPITokenHasItsOwnRateLimit(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := startLimited(t, env)
	_, admin := a.tenant("acme")
	first, second := a.createToken(admin, ports.ScopeEmployeesRead), a.createToken(admin, ports.ScopeEmployeesRead)
	for i := range 3 {
		res := a.api(http.MethodGet, "/api/v1/employees", first.Token, "")
		wantJSON(t, res, http.StatusOK, nil)
		wantRateHeaders(t, res, 600, 599-i, 60)
	}
	res := a.api(http.MethodGet, "/api/v1/employees", second.Token, "")
	wantJSON(t, res, http.StatusOK, nil)
	wantRateHeaders(t, res, 600, 599, 60)
}

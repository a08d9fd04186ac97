package web_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/roumu/roumu/ports"
)

// fakeAPITokens stands in for the token port where the tests drive tokens through the fake accounts' sessions
// (the real port runs in test/e2e): it has no tokens and makes none.
type fakeAPITokens struct{}

func (fakeAPITokens) ListAPITokens(context.Context, ports.Principal) ([]ports.APITokenView, error) {
	return []ports.APITokenView{}, nil
}

func (fakeAPITokens) CreateAPIToken(context.Context, ports.Principal, ports.CreateAPITokenCommand) (ports.APITokenView, string, error) {
	return ports.APITokenView{}, "", ports.ErrForbidden
}

func (fakeAPITokens) RevokeAPIToken(context.Context, ports.Principal, string) error {
	return ports.ErrNotFound
}

// tokenOpens lists the route groups integration tokens may call, with the scopes for reading and writing: the
// specification the scope table of the adapter must meet.
var tokenOpens = []struct{ prefix, read, write string }{
	{"/api/v1/employees", ports.ScopeEmployeesRead, ports.ScopeEmployeesWrite},
	{"/api/v1/departments", ports.ScopeEmployeesRead, ports.ScopeEmployeesWrite},
	{"/api/v1/jobs", ports.ScopeEmployeesRead, ports.ScopeEmployeesWrite},
	{"/api/v1/procedures", ports.ScopeProceduresRead, ports.ScopeProceduresWrite},
	{"/api/v1/webhooks", ports.ScopeWebhooksManage, ports.ScopeWebhooksManage},
	{"/api/v1/accounts", ports.ScopeAccountsRead, ports.ScopeAccountsWrite},
}

var myNumberRoute = regexp.MustCompile(`/my-number(/|$)`)

// wantScope is the scope route needs with method, "" when tokens may not call it at all.
func wantScope(method, route string) string {
	if myNumberRoute.MatchString(route) {
		return ""
	}
	for _, o := range tokenOpens {
		if route == o.prefix || strings.HasPrefix(route, o.prefix+"/") {
			if method == http.MethodGet || method == http.MethodHead {
				return o.read
			}
			return o.write
		}
	}
	return ""
}

// TestEveryAPIRouteChecksTokenScopes walks every registered /api/v1 route that needs authentication and calls
// it with a token holding every scope but the one the route needs (403 insufficient_scope, naming the scope),
// and, for the routes tokens may call, with a token holding just that scope (anything but a scope refusal).
// A route added later without a scope is closed to tokens by default, and this test shows it.
func TestEveryAPIRouteChecksTokenScopes(t *testing.T) {
	h := newDefault(t)
	admin := h.fake.sessions[tokAdmin]
	tokenWith := func(scopes ...string) string {
		p := admin
		p.TokenID, p.Scopes = "tok1", scopes
		name := "roumu_token_" + strings.Join(scopes, "+")
		h.fake.mu.Lock()
		h.fake.sessions[name] = p
		h.fake.mu.Unlock()
		return name
	}
	path := strings.NewReplacer(":id", "0123", ":dep_id", "0456", ":change_id", "0789", ":action", "approve")
	checked := 0
	for _, r := range h.srv.Echo().Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		url := path.Replace(r.Path)
		if h.api(r.Method, url, "", "").Code != http.StatusUnauthorized {
			continue // a route without authentication (login, notices)
		}
		checked++
		scope := wantScope(r.Method, r.Path)
		var others []string
		for _, sc := range ports.Scopes {
			if sc != scope {
				others = append(others, sc)
			}
		}
		rec := h.api(r.Method, url, tokenWith(others...), "{}")
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"insufficient_scope"`) {
			t.Errorf("%s %s with every scope but %q: %d %s", r.Method, r.Path, scope, rec.Code, rec.Body)
			continue
		}
		challenge := rec.Header().Get("WWW-Authenticate")
		if scope != "" && !strings.Contains(challenge, `scope="`+scope+`"`) {
			t.Errorf("%s %s: WWW-Authenticate %q does not name %s", r.Method, r.Path, challenge, scope)
		}
		if scope == "" {
			continue
		}
		if rec := h.api(r.Method, url, tokenWith(scope), "{}"); strings.Contains(rec.Body.String(), `"insufficient_scope"`) {
			t.Errorf("%s %s with %s: refused for its scope: %s", r.Method, r.Path, scope, rec.Body)
		}
	}
	if checked < 40 {
		t.Errorf("only %d authenticated API routes found", checked)
	}
	// A token never opens a page, whatever cookie it is put in.
	rec := h.do(request{method: http.MethodGet, path: "/",
		header: http.Header{"Cookie": {"roumu_session=" + tokenWith(ports.Scopes...)}}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
		t.Errorf("page with a token as the session cookie: %d %s", rec.Code, rec.Header().Get("Location"))
	}
}

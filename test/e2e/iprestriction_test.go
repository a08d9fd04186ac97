package e2e

import (
	"net/http"
	"net/url"
	"testing"

	web "github.com/roumu/roumu/adapters/http"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// forwardingTransport adds an X-Forwarded-For header to every request, as a client forging it (or a proxy
// writing it) would.
type forwardingTransport struct {
	base http.RoundTripper
	xff  string
}

func (f forwardingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.xff)
	return f.base.RoundTrip(r)
}

// forwardedFor makes every later request of a carry X-Forwarded-For: xff.
func (a *app) forwardedFor(xff string) {
	base := a.client.Transport
	if ft, ok := base.(forwardingTransport); ok {
		base = ft.base
	}
	a.client.Transport = forwardingTransport{base: base, xff: xff}
}

// restrictIPs switches the tenant's IP restriction on with the allow-list cidrs, as an approved contract
// change would.
func restrictIPs(t *testing.T, env *testenv.Env, tenantID string, cidrs ...string) {
	t.Helper()
	_, err := env.Store.UpdateTenant(t.Context(), tenantID, func(r *ports.TenantRecord) error {
		r.IPRestriction, r.AllowedCIDRs = true, cidrs
		return nil
	})
	if err != nil {
		t.Fatalf("restricting IPs: %v", err)
	}
}

// TestForgedForwardedForCannotPassTheAllowList: the tenant allows only 198.51.100.0/24. A client that is not
// a trusted proxy (the test client is 127.0.0.1, the proxies 10.0.0.0/8) claiming that address in
// X-Forwarded-For is refused on the API and on the pages; behind a trusted proxy the same header is believed,
// but only its rightmost entry, so a forged left part does not help either.
func TestForgedForwardedForCannotPassTheAllowList(t *testing.T) {
	env := testenv.New(t)
	tv, _ := env.Tenant(t, "acme")
	direct := startAppWith(t, env, web.Config{PublicURL: testenv.PublicURL, TrustedProxies: []string{"10.0.0.0/8"}})
	token := direct.login("acme", "admin", testenv.NewPassword, "full").Token
	restrictIPs(t, env, tv.ID, "198.51.100.0/24")

	direct.forwardedFor("198.51.100.7")
	wantProblem(t, direct.api(http.MethodGet, "/api/v1/me", token, ""), http.StatusForbidden, "ip_not_allowed")
	wantProblem(t, direct.tryLogin("acme", "admin", testenv.NewPassword), http.StatusForbidden, "ip_not_allowed")
	b := direct.browser()
	wantPage(t, b.get("/login"), http.StatusOK, `action="/login"`)
	res := b.submit("/login", url.Values{"tenant": {"acme"}, "login": {"admin"}, "password": {testenv.NewPassword}})
	wantPage(t, res, http.StatusForbidden, "このIPアドレスからのアクセスは許可されていません", "is not allowed")
	if b.cookies["roumu_session"] != nil {
		t.Fatal("a refused address got a session cookie")
	}

	proxied := startAppWith(t, env, web.Config{PublicURL: testenv.PublicURL, TrustedProxies: []string{"127.0.0.1"}})
	proxied.forwardedFor("198.51.100.7")
	if m := proxied.me(token); m.Account.Login != "admin" {
		t.Fatalf("me behind the trusted proxy: %+v", m)
	}
	pb := proxied.browser()
	pb.logIn("acme", "admin", testenv.NewPassword, "/")
	wantPage(t, pb.get("/"), http.StatusOK)

	proxied.forwardedFor("198.51.100.7, 203.0.113.9")
	wantProblem(t, proxied.api(http.MethodGet, "/api/v1/me", token, ""), http.StatusForbidden, "ip_not_allowed")
	res = pb.get("/")
	wantPage(t, res, http.StatusForbidden, "203.0.113.9")
}

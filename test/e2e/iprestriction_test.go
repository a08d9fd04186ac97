package e2e

import (
	"net/http"
	"net/url"
	"strings"
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
func restrictIPs(t testing.TB, env *testenv.Env, tenantID string, cidrs ...string) {
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

type ipRestriction struct {
	Enabled      bool     `json:"enabled"`
	AllowedCIDRs []string `json:"allowed_cidrs"`
	ClientIP     string   `json:"client_ip"`
}

// TestIPAllowListAdministration: the tenant admin edits the allow-list through the API and the page; bad
// lines are refused one by one, next to the text area; a list that would lock the admin out is refused
// naming their address; without the contract option nothing can be set.
func TestIPAllowListAdministration(t *testing.T) {
	a := startApp(t)
	_, token := a.tenant("acme")
	_, otherToken := a.tenant("beta")
	acme, err := a.env.Store.TenantByCode(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	restrictIPs(t, a.env, acme.ID, "127.0.0.1/32")

	var got ipRestriction
	wantJSON(t, a.api(http.MethodGet, "/api/v1/tenant/ip-restriction", token, ""), http.StatusOK, &got)
	if !got.Enabled || got.ClientIP != "127.0.0.1" || len(got.AllowedCIDRs) != 1 || got.AllowedCIDRs[0] != "127.0.0.1/32" {
		t.Fatalf("ip restriction %+v", got)
	}
	p := wantProblem(t, a.api(http.MethodPut, "/api/v1/tenant/ip-restriction", token,
		`{"allowed_cidrs":["127.0.0.0/8","bogus","10.0.0.0/33"]}`), http.StatusUnprocessableEntity, "validation_failed")
	if fields := problemFields(p); len(fields) != 2 || fields[0] != "allowed_cidrs[1]" || fields[1] != "allowed_cidrs[2]" {
		t.Fatalf("field errors %v", fields)
	}
	p = wantProblem(t, a.api(http.MethodPut, "/api/v1/tenant/ip-restriction", token, `{"allowed_cidrs":["10.0.0.0/8"]}`),
		http.StatusUnprocessableEntity, "would_lock_out")
	if !strings.Contains(p.Detail, "127.0.0.1") {
		t.Fatalf("lock-out refusal does not name the address: %+v", p)
	}
	wantJSON(t, a.api(http.MethodPut, "/api/v1/tenant/ip-restriction", token,
		`{"allowed_cidrs":["127.0.0.9/8","2001:DB8::1/48"]}`), http.StatusOK, &got)
	if strings.Join(got.AllowedCIDRs, ",") != "127.0.0.0/8,2001:db8::/48" {
		t.Fatalf("stored list %v", got.AllowedCIDRs)
	}
	wantProblem(t, a.api(http.MethodPut, "/api/v1/tenant/ip-restriction", otherToken, `{"allowed_cidrs":["127.0.0.1"]}`),
		http.StatusForbidden, "ip_restriction_not_contracted")

	b := a.browser()
	b.logIn("acme", "admin", testenv.NewPassword, "/")
	wantPage(t, b.get("/admin/security/ip"), http.StatusOK, `<textarea id="allowed-cidrs"`, "127.0.0.0/8\n2001:db8::/48</textarea>",
		`<code id="client-ip">127.0.0.1</code>`)
	res := b.submit("/admin/security/ip", url.Values{"allowed_cidrs": {"127.0.0.0/8\r\nnot-a-range\r\n"}})
	wantPage(t, res, http.StatusUnprocessableEntity, `aria-invalid="true"`, `id="allowed-cidrs-errors"`, "2行目",
		"line 2", "127.0.0.0/8\nnot-a-range\n</textarea>")
	res = b.submit("/admin/security/ip", url.Values{"allowed_cidrs": {"10.0.0.0/8"}})
	wantPage(t, res, http.StatusUnprocessableEntity, "現在の接続元（127.0.0.1）からアクセスできなくなります", "10.0.0.0/8</textarea>")
	wantRedirect(t, b.submit("/admin/security/ip", url.Values{"allowed_cidrs": {"127.0.0.1\n192.0.2.0/24"}}),
		"/admin/security/ip?notice=saved")
	wantPage(t, b.get("/admin/security/ip?notice=saved"), http.StatusOK, "保存しました", "127.0.0.1/32\n192.0.2.0/24</textarea>")

	other := a.browser()
	other.logIn("beta", "admin", testenv.NewPassword, "/")
	wantPage(t, other.get("/admin/security/ip"), http.StatusOK, "ご契約のオプションに含まれていません")
}

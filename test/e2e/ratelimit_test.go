package e2e

import (
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	web "github.com/roumu/roumu/adapters/http"
	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/domain/ratelimit"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// behindProxy is the configuration of a service behind a proxy on loopback, so that the tests play client
// addresses with X-Forwarded-For.
var behindProxy = web.Config{PublicURL: testenv.PublicURL, TrustedProxies: []string{"127.0.0.1/32"}}

// startLimited serves env counting requests with env's rate limits (ratelimit.DefaultPolicy).
func startLimited(t *testing.T, env *testenv.Env) *app {
	t.Helper()
	return serveApp(t, env, newLimitedServer(t, env, behindProxy, env.RateLimits))
}

// wantRateHeaders fails unless res carries the RateLimit-* headers with these values.
func wantRateHeaders(t *testing.T, res response, limit, remaining, reset int) {
	t.Helper()
	for name, want := range map[string]int{"RateLimit-Limit": limit, "RateLimit-Remaining": remaining, "RateLimit-Reset": reset} {
		if got := res.header.Get(name); got != strconv.Itoa(want) {
			t.Errorf("%s = %q, want %d (status %d)", name, got, want, res.status)
		}
	}
}

// TestLoginStormIsThrottledPerAddress: the eleventh login attempt in a minute from one address is refused
// with 429, Retry-After and the RateLimit-* headers, on the API and on the page, while another address still
// logs in; the next minute the first address may try again.
func TestLoginStormIsThrottledPerAddress(t *testing.T) {
	env := testenv.New(t)
	env.Tenant(t, "acme")
	a := startLimited(t, env)

	a.forwardedFor("198.51.100.7")
	for i := range 10 {
		res := a.tryLogin("acme", "nobody"+strconv.Itoa(i), testenv.Password)
		wantProblem(t, res, http.StatusUnauthorized, "invalid_credentials")
		wantRateHeaders(t, res, 10, 9-i, 60)
	}
	res := a.tryLogin("acme", "admin", testenv.NewPassword)
	wantProblem(t, res, http.StatusTooManyRequests, "rate_limited")
	wantRateHeaders(t, res, 10, 0, 60)
	if got := res.header.Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After = %q, want 60", got)
	}
	// The pages and the operators' login share the address's count.
	page := a.send(http.MethodPost, "/login", strings.NewReader("tenant=acme&login=admin&password=x"),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if page.status != http.StatusTooManyRequests || !strings.Contains(string(page.body), "リクエストが多すぎます") ||
		!strings.Contains(string(page.body), "Too many requests") || page.header.Get("Retry-After") == "" {
		t.Errorf("login page over the limit: %d %s", page.status, page)
	}
	wantProblem(t, a.api(http.MethodPost, "/api/v1/ops/auth/login", "",
		jsonBody(t, map[string]string{"login": "op", "password": "x"})), http.StatusTooManyRequests, "rate_limited")

	a.forwardedFor("203.0.113.5")
	s := a.login("acme", "admin", testenv.NewPassword, "full")

	env.Clock.Advance(time.Minute)
	a.forwardedFor("198.51.100.7")
	a.login("acme", "admin", testenv.NewPassword, "full")
	a.me(s.Token)
}

// TestAPIRateLimit: authenticated calls count per account (every session of it), show the limit in the
// RateLimit-* headers, and are refused with 429 and Retry-After over it until the window resets.
func TestAPIRateLimit(t *testing.T) {
	env := testenv.New(t)
	env.Tenant(t, "acme")
	limits, err := ratelimit.New(env.Store, env.Clock, ratelimit.Policy{
		ports.RateSession: {Requests: 5, Window: time.Minute},
		ports.RateAddress: {Requests: 3, Window: time.Minute},
		ports.RateLogin:   ratelimit.DefaultPolicy[ports.RateLogin],
	})
	if err != nil {
		t.Fatal(err)
	}
	a := serveApp(t, env, newLimitedServer(t, env, behindProxy, limits))
	first := a.login("acme", "admin", testenv.NewPassword, "full")
	second := a.login("acme", "admin", testenv.NewPassword, "full")

	env.Clock.Advance(15 * time.Second) // 09:00:15: 45 seconds left in the window
	for i, token := range []string{first.Token, second.Token, first.Token, second.Token, first.Token} {
		res := a.api(http.MethodGet, "/api/v1/me", token, "")
		wantJSON(t, res, http.StatusOK, nil)
		wantRateHeaders(t, res, 5, 4-i, 45)
	}
	res := a.api(http.MethodGet, "/api/v1/me", second.Token, "")
	wantProblem(t, res, http.StatusTooManyRequests, "rate_limited")
	wantRateHeaders(t, res, 5, 0, 45)
	if got := res.header.Get("Retry-After"); got != "45" {
		t.Errorf("Retry-After = %q, want 45", got)
	}

	// Unauthenticated calls and rejected tokens count against the address.
	wantProblem(t, a.api(http.MethodGet, "/api/v1/me", "", ""), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, a.api(http.MethodGet, "/api/v1/me", "not-a-token", ""), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, a.api(http.MethodGet, "/api/v1/no-such-route", "", ""), http.StatusNotFound, "not_found")
	res = a.api(http.MethodGet, "/api/v1/me", "", "")
	wantProblem(t, res, http.StatusTooManyRequests, "rate_limited")
	wantRateHeaders(t, res, 3, 0, 45)

	env.Clock.Advance(45 * time.Second)
	res = a.api(http.MethodGet, "/api/v1/me", second.Token, "")
	wantJSON(t, res, http.StatusOK, nil)
	wantRateHeaders(t, res, 5, 4, 60)
}

// TestInstancesShareOneLimit: two server instances counting in one database (an SQLite file opened twice,
// as two processes would) enforce one limit between them.
func TestInstancesShareOneLimit(t *testing.T) {
	env := testenv.New(t)
	path := filepath.Join(t.TempDir(), "limits.db")
	var apps []*app
	for range 2 {
		store, err := sqlstore.Open(t.Context(), sqlstore.DriverSQLite, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		if err := store.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		limits, err := ratelimit.New(store, env.Clock, ratelimit.Policy{ports.RateAddress: {Requests: 4, Window: time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, serveApp(t, env, newLimitedServer(t, env, behindProxy, limits)))
	}
	for i := range 4 {
		res := apps[i%2].api(http.MethodGet, "/api/v1/me", "", "")
		wantProblem(t, res, http.StatusUnauthorized, "unauthenticated")
		wantRateHeaders(t, res, 4, 3-i, 60)
	}
	for _, a := range apps {
		wantProblem(t, a.api(http.MethodGet, "/api/v1/me", "", ""), http.StatusTooManyRequests, "rate_limited")
	}
}

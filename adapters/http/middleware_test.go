package web_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	web "github.com/roumu/roumu/adapters/http"
	"github.com/roumu/roumu/ports"
)

func TestSecurityHeaders(t *testing.T) {
	plain := newDefault(t)
	tls := newHarness(t, web.Config{PublicURL: "https://roumu.example.jp"})
	requests := []request{
		{method: "GET", path: "/login"},
		{method: "GET", path: "/api/v1/me", token: tokAdmin},
		{method: "GET", path: "/api/v1/me"},                  // 401
		{method: "GET", path: "/api/v1/nope"},                // 404
		{method: "GET", path: "/api/v1/me", token: tokPanic}, // 500 after a panic
		{method: "GET", path: "/healthz"},
		{method: "GET", path: "/static/roumu.css"},
	}
	for _, h := range []*harness{plain, tls} {
		for _, r := range requests {
			rec := h.do(r)
			hd := rec.Header()
			csp := hd.Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'", "script-src 'self'",
				"img-src 'self' data:"} {
				if !strings.Contains(csp, d) {
					t.Errorf("%s: CSP %q lacks %q", r.path, csp, d)
				}
			}
			if strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP allows inline code: %q", csp)
			}
			if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("X-Frame-Options") != "DENY" || hd.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("%s: headers %v", r.path, hd)
			}
			if hd.Get("X-Request-Id") == "" {
				t.Errorf("%s: no X-Request-Id", r.path)
			}
			if r.path != "/static/roumu.css" && hd.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control %q", r.path, hd.Get("Cache-Control"))
			}
			hsts := hd.Get("Strict-Transport-Security")
			if (h == tls) != (hsts != "") {
				t.Errorf("%s: HSTS %q over https=%v", r.path, hsts, h == tls)
			}
		}
	}
}

func TestRequestID(t *testing.T) {
	h := newDefault(t)
	rec := h.do(request{method: "GET", path: "/healthz"})
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(rec.Header().Get("X-Request-Id")) {
		t.Fatalf("generated id %q", rec.Header().Get("X-Request-Id"))
	}
	rec = h.do(request{method: "GET", path: "/healthz", header: http.Header{"X-Request-Id": {"lb-1234.abcd:5"}}})
	if rec.Header().Get("X-Request-Id") != "lb-1234.abcd:5" {
		t.Fatalf("sane inbound id not kept: %q", rec.Header().Get("X-Request-Id"))
	}
	for _, bad := range []string{"<script>", strings.Repeat("a", 65), "a b", "ｉｄ", `"quoted"`} {
		rec = h.do(request{method: "GET", path: "/healthz", header: http.Header{"X-Request-Id": {bad}}})
		if got := rec.Header().Get("X-Request-Id"); got == bad || len(got) != 32 {
			t.Errorf("inbound id %q gave %q", bad, got)
		}
	}
}

// TestClientIP: X-Forwarded-For counts only when the peer is a configured proxy, and then only the
// configured ranges are skipped; loopback and private peers are not trusted by default.
func TestClientIP(t *testing.T) {
	direct := newDefault(t)
	proxied := newHarness(t, web.Config{TrustedProxies: []string{"10.0.0.0/8", "2001:db8::1"}})
	cases := []struct {
		name   string
		h      *harness
		remote string
		xff    []string
		want   string
	}{
		{"no proxies configured: header ignored", direct, "203.0.113.5:1000", []string{"198.51.100.7"}, "203.0.113.5"},
		{"no proxies configured, loopback peer", direct, "127.0.0.1:1000", []string{"198.51.100.7"}, "127.0.0.1"},
		{"trusted proxy", proxied, "10.1.2.3:1000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"trusted proxy, spoofed left part", proxied, "10.1.2.3:1000", []string{"1.2.3.4, 198.51.100.7"}, "198.51.100.7"},
		{"trusted proxy chain", proxied, "10.1.2.3:1000", []string{"198.51.100.7, 10.9.9.9"}, "198.51.100.7"},
		{"trusted IPv6 proxy", proxied, "[2001:db8::1]:1000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"untrusted peer forging the header", proxied, "203.0.113.5:1000", []string{"10.0.0.1"}, "203.0.113.5"},
		{"private peer not configured", proxied, "192.168.1.10:1000", []string{"198.51.100.7"}, "192.168.1.10"},
		{"loopback peer not configured", proxied, "127.0.0.1:1000", []string{"198.51.100.7"}, "127.0.0.1"},
		{"garbage in the header", proxied, "10.1.2.3:1000", []string{"not-an-ip"}, "10.1.2.3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := c.h.do(request{method: "POST", path: "/api/v1/auth/login", remote: c.remote,
				header: http.Header{"X-Forwarded-For": c.xff}, body: strings.NewReader(loginBody(tenantCode, "admin", "x")), contentType: "application/json"})
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status %d", rec.Code)
			}
			if got := c.h.fake.source().IP; got != c.want {
				t.Fatalf("client IP %q, want %q", got, c.want)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	f := newFake()
	for name, cfg := range map[string]web.Config{
		"bad proxy":        {TrustedProxies: []string{"10.0.0.0/33"}},
		"hostname proxy":   {TrustedProxies: []string{"proxy.local"}},
		"bad public URL":   {PublicURL: "ftp://x"},
		"relative URL":     {PublicURL: "/app"},
		"cert without key": {TLSCertFile: "cert.pem"},
	} {
		if _, err := web.New(cfg, web.Deps{Accounts: f, MFA: f}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := web.New(web.Config{}, web.Deps{MFA: f}); err == nil {
		t.Error("no Accounts port accepted")
	}
	if _, err := web.New(web.Config{}, web.Deps{Accounts: f, MFA: f}); err == nil {
		t.Error("New accepted deps without Employees")
	}
	if _, err := web.New(web.Config{}, web.Deps{Accounts: f, MFA: f, Employees: fakeEmployees{}}); err == nil {
		t.Error("New accepted deps without Procedures")
	}
	if _, err := web.New(web.Config{}, web.Deps{Accounts: f}); err == nil {
		t.Error("no MFA port accepted")
	}
	if _, err := web.New(web.Config{}, web.Deps{Accounts: f, MFA: f, Employees: fakeEmployees{}, Procedures: fakeProcedures{}}); err == nil {
		t.Error("no APITokens port accepted")
	}
}

func TestRecoverAndAccessLog(t *testing.T) {
	h := newDefault(t)
	rec := h.api("GET", "/api/v1/me", tokPanic, "")
	mustProblem(t, rec, http.StatusInternalServerError, "internal_error")
	if strings.Contains(rec.Body.String(), "secret-panic-detail") {
		t.Fatal("panic text reached the client")
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "panic in handler") || !strings.Contains(logs, "secret-panic-detail") {
		t.Fatalf("panic not logged: %s", logs)
	}

	h = newDefault(t)
	h.do(request{method: "POST", path: "/api/v1/auth/login?token=query-secret", remote: "198.51.100.9:5555",
		header:      http.Header{"Cookie": {"roumu_session=cookie-secret"}, "X-Request-Id": {"req-42"}},
		contentType: "application/json", body: strings.NewReader(loginBody(tenantCode, "admin", goodPassword))})
	h.api("GET", "/api/v1/me", tokAdmin, "")
	logs = h.logs.String()
	for _, want := range []string{`"method":"POST"`, `"path":"/api/v1/auth/login"`, `"route":"/api/v1/auth/login"`, `"status":200`,
		`"request_id":"req-42"`, `"client_ip":"198.51.100.9"`, `"duration":`, `"status":200`} {
		if !strings.Contains(logs, want) {
			t.Errorf("access log lacks %s: %s", want, logs)
		}
	}
	for _, secret := range []string{"query-secret", "cookie-secret", goodPassword, tokAdmin, "tok-new-", "Bearer"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q: %s", secret, logs)
		}
	}
}

type pinger func(ctx context.Context) error

func (p pinger) Ping(ctx context.Context) error { return p(ctx) }

func TestOperationsEndpoints(t *testing.T) {
	h := newDefault(t)
	rec := h.do(request{method: "GET", path: "/healthz"})
	if rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		t.Fatalf("healthz %d %q", rec.Code, rec.Body)
	}
	if rec := h.do(request{method: "GET", path: "/readyz"}); rec.Code != http.StatusOK {
		t.Fatalf("readyz without a pinger: %d", rec.Code)
	}

	var down error
	ready := newHarness(t, web.Config{ReadyTimeout: 50 * time.Millisecond}, func(d *web.Deps) {
		d.Ready = pinger(func(ctx context.Context) error {
			if down != nil {
				return down
			}
			return nil
		})
	})
	if rec := ready.do(request{method: "GET", path: "/readyz"}); rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		t.Fatalf("readyz up: %d %s", rec.Code, rec.Body)
	}
	down = errors.New("dial tcp db:5432: password authentication failed")
	rec = ready.do(request{method: "GET", path: "/readyz"})
	mustProblem(t, rec, http.StatusServiceUnavailable, "not_ready")
	if strings.Contains(rec.Body.String(), "5432") {
		t.Fatal("ping error text reached the client")
	}

	slow := newHarness(t, web.Config{ReadyTimeout: 50 * time.Millisecond}, func(d *web.Deps) {
		d.Ready = pinger(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	})
	start := time.Now()
	mustProblem(t, slow.do(request{method: "GET", path: "/readyz"}), http.StatusServiceUnavailable, "not_ready")
	if time.Since(start) > 2*time.Second {
		t.Fatal("readyz waited past its timeout")
	}
}

func TestMetrics(t *testing.T) {
	h := newHarness(t, web.Config{Version: "1.2.3"})
	h.do(request{method: "GET", path: "/healthz"})
	h.do(request{method: "GET", path: "/healthz"})
	h.api("GET", "/api/v1/accounts/acc-hanako", tokAdmin, "")
	h.do(request{method: "GET", path: "/wp-admin/" + strings.Repeat("x", 40)})
	h.do(request{method: "BREW", path: "/healthz"})
	rec := h.do(request{method: "GET", path: "/metrics"})
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics %d %v", rec.Code, rec.Header())
	}
	body := rec.Body.String()
	for _, want := range []string{
		`# TYPE roumu_http_requests_total counter`,
		`roumu_http_requests_total{method="GET",route="/healthz",status="200"} 2`,
		`roumu_http_requests_total{method="GET",route="/api/v1/accounts/:id",status="200"} 1`,
		`roumu_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`roumu_http_requests_total{method="OTHER",route="/healthz",status="405"} 1`,
		`# TYPE roumu_http_request_duration_seconds histogram`,
		`roumu_http_request_duration_seconds_bucket{method="GET",route="/healthz",status="200",le="+Inf"} 2`,
		`roumu_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 2`,
		`roumu_build_info{version="1.2.3"} 1`,
		"# TYPE go_goroutines gauge",              // the Go runtime collector
		"# TYPE process_start_time_seconds gauge", // the process collector
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "wp-admin") || strings.Contains(body, "acc-hanako") {
		t.Error("raw paths in metric labels")
	}
	// another server has its own registry
	if other := newDefault(t).do(request{method: "GET", path: "/metrics"}); strings.Contains(other.Body.String(), `route="/healthz"`) {
		t.Error("metrics shared between servers")
	}
}

// TestRoutes pins the route table (other tests, e.g. an OpenAPI check, enumerate it the same way).
func TestRoutes(t *testing.T) {
	h := newDefault(t)
	var got []string
	for _, r := range h.srv.Echo().Routes() {
		if r.Method != echo.RouteNotFound {
			got = append(got, r.Method+" "+r.Path)
		}
	}
	want := []string{
		"GET /healthz", "GET /readyz", "GET /metrics", "GET /static/*",
		"POST /api/v1/auth/login", "POST /api/v1/auth/logout", "POST /api/v1/ops/auth/login",
		"GET /api/v1/me", "POST /api/v1/me/password",
		"GET /api/v1/accounts", "POST /api/v1/accounts", "GET /api/v1/accounts/:id", "PATCH /api/v1/accounts/:id",
		"POST /api/v1/accounts/:id/unlock", "POST /api/v1/accounts/:id/disable",
		"POST /api/v1/auth/mfa/totp", "POST /api/v1/auth/mfa/webauthn/begin", "POST /api/v1/auth/mfa/webauthn/finish",
		"POST /api/v1/auth/mfa/recovery",
		"GET /api/v1/me/mfa", "POST /api/v1/me/mfa/totp", "POST /api/v1/me/mfa/totp/confirm", "DELETE /api/v1/me/mfa/totp",
		"POST /api/v1/me/mfa/webauthn/begin", "POST /api/v1/me/mfa/webauthn/finish", "DELETE /api/v1/me/mfa/webauthn/:id",
		"GET /api/v1/tenant", "PATCH /api/v1/tenant",
		"GET /login", "POST /login", "POST /logout", "GET /",
		"GET /login/mfa", "POST /login/mfa/totp", "POST /login/mfa/recovery",
		"POST /login/mfa/webauthn/begin", "POST /login/mfa/webauthn/finish",
		"GET /settings/security", "POST /settings/security",
		"POST /settings/security/totp", "POST /settings/security/totp/confirm", "POST /settings/security/totp/remove",
		"POST /settings/security/webauthn/begin", "POST /settings/security/webauthn/finish",
		"POST /settings/security/webauthn/:id/remove",
		"GET /admin/accounts", "POST /admin/accounts", "POST /admin/accounts/:id/unlock", "POST /admin/accounts/:id/disable",
		"GET /admin/security", "POST /admin/security",
		"GET /ops/login", "POST /ops/login", "GET /ops",
		// the employee register's API
		"GET /api/v1/employees", "POST /api/v1/employees", "POST /api/v1/employees/import",
		"GET /api/v1/employees/export.csv", "GET /api/v1/employees/:id", "PATCH /api/v1/employees/:id",
		"DELETE /api/v1/employees/:id", "GET /api/v1/employees/:id/history",
		"PATCH /api/v1/employees/:id/changes/:change_id", "DELETE /api/v1/employees/:id/changes/:change_id",
		"POST /api/v1/employees/:id/my-number/reveal", "POST /api/v1/employees/:id/dependents",
		"PATCH /api/v1/employees/:id/dependents/:dep_id", "DELETE /api/v1/employees/:id/dependents/:dep_id",
		"POST /api/v1/employees/:id/dependents/:dep_id/my-number/reveal", "GET /api/v1/me/employee",
		"GET /api/v1/departments", "POST /api/v1/departments", "GET /api/v1/departments/:id",
		"PATCH /api/v1/departments/:id", "DELETE /api/v1/departments/:id", "GET /api/v1/jobs/:id",
		// and its pages
		"GET /employees", "GET /employees/new", "POST /employees/new", "GET /employees/me", "GET /employees/export.csv",
		"GET /employees/import", "POST /employees/import", "GET /employees/import/jobs/:id",
		"GET /employees/import/:upload", "POST /employees/import/:upload/check", "POST /employees/import/:upload/run",
		"GET /employees/:id", "GET /employees/:id/edit", "POST /employees/:id/edit", "POST /employees/:id/delete",
		"POST /employees/:id/dependents", "POST /employees/:id/dependents/:dep_id/remove",
		"POST /employees/:id/changes/:change_id/cancel",
		// the procedures' API and pages
		"GET /api/v1/procedures", "POST /api/v1/procedures", "GET /api/v1/procedures/dashboard",
		"GET /api/v1/procedures/types", "POST /api/v1/procedures/annual-reports", "GET /api/v1/procedures/:id",
		"PATCH /api/v1/procedures/:id", "POST /api/v1/procedures/:id/:action",
		"GET /api/v1/procedures/:id/document.pdf", "GET /api/v1/procedures/:id/efiling.csv",
		"GET /procedures/:id/document.pdf", "GET /procedures/:id/efiling.csv",
		"POST /api/v1/procedures/:id/attachments", "GET /api/v1/procedures/:id/attachments",
		"GET /api/v1/procedures/:id/attachments/:aid", "DELETE /api/v1/procedures/:id/attachments/:aid",
		"POST /procedures/:id/attachments", "GET /procedures/:id/attachments/:aid",
		"POST /procedures/:id/attachments/:aid/remove",
		"GET /procedures", "GET /procedures/new", "POST /procedures/new", "GET /procedures/:id",
		"POST /procedures/:id/edit", "POST /procedures/:id/act",
		// the tenant's IP allow-list
		"GET /api/v1/tenant/ip-restriction", "PUT /api/v1/tenant/ip-restriction",
		"GET /admin/security/ip", "POST /admin/security/ip",
		// integration tokens
		"GET /api/v1/api-tokens", "POST /api/v1/api-tokens", "DELETE /api/v1/api-tokens/:id",
		"GET /admin/tokens", "POST /admin/tokens", "POST /admin/tokens/:id/revoke",
		// notices and the operator console
		"GET /api/v1/openapi.yaml", "GET /api/v1/notices", "GET /ops/tenants", "POST /ops/tenants", "GET /ops/tenants/:id", "GET /ops/requests",
		"POST /ops/requests", "GET /ops/requests/:id", "POST /ops/requests/:id/approve", "POST /ops/requests/:id/reject",
		"GET /ops/operators", "POST /ops/operators/:id/password", "GET /ops/notices", "POST /ops/notices/incidents",
		"POST /ops/notices/maintenance", "POST /ops/notices/:id/resolve", "POST /ops/notices/:id/cancel",
		"GET /ops/audit", "GET /ops/audit.csv",
		"GET /api/v1/ops/tenants", "POST /api/v1/ops/tenants", "GET /api/v1/ops/tenants/:id", "GET /api/v1/ops/operators",
		"POST /api/v1/ops/operators/:id/password", "GET /api/v1/ops/requests", "POST /api/v1/ops/requests",
		"GET /api/v1/ops/requests/:id", "POST /api/v1/ops/requests/:id/approve", "POST /api/v1/ops/requests/:id/reject",
		"GET /api/v1/ops/notices", "POST /api/v1/ops/notices/incidents", "POST /api/v1/ops/notices/maintenance",
		"POST /api/v1/ops/notices/:id/resolve", "POST /api/v1/ops/notices/:id/cancel", "GET /api/v1/ops/audit",
		"GET /api/v1/ops/audit.csv",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("routes\n got %v\nwant %v", got, want)
	}
}

// statsFunc is a ports.StatsReader from a function.
type statsFunc func(context.Context, time.Time) (ports.OperationalStats, error)

func (f statsFunc) OperationalStats(ctx context.Context, now time.Time) (ports.OperationalStats, error) {
	return f(ctx, now)
}

// TestMetricsOfLoginsAndTheStore: login outcomes are counted apart (a lockout shows as "locked"), and each
// scrape samples the store's outbox lag, webhook deliveries and connection pool.
func TestMetricsOfLoginsAndTheStore(t *testing.T) {
	h := newHarness(t, web.Config{}, func(d *web.Deps) {
		d.Stats = statsFunc(func(context.Context, time.Time) (ports.OperationalStats, error) {
			return ports.OperationalStats{OutboxPending: map[string]int{"procedures": 3},
				OutboxOldest: map[string]time.Duration{"procedures": 90 * time.Second}, WebhookDeliveriesFailing: 2,
				WebhookSubscriptionsPaused: 1, DBOpenConnections: 4, DBInUse: 1, DBWaitCount: 7}, nil
		})
	})
	for _, login := range []string{"hanako", "hanako", "locked"} {
		h.api("POST", "/api/v1/auth/login", "", `{"tenant":"acme","login":"`+login+`","password":"wrong-password-1A"}`)
	}
	body := h.do(request{method: "GET", path: "/metrics"}).Body.String()
	for _, want := range []string{
		`roumu_login_attempts_total{outcome="invalid_credentials",route="/api/v1/auth/login"} 2`,
		`roumu_login_attempts_total{outcome="locked",route="/api/v1/auth/login"} 1`,
		`roumu_store_stats_up 1`,
		`roumu_outbox_pending_events{consumer="procedures"} 3`,
		`roumu_outbox_oldest_pending_seconds{consumer="procedures"} 90`,
		`roumu_webhook_deliveries_failing 2`,
		`roumu_webhook_subscriptions_paused 1`,
		`roumu_db_connections_open 4`,
		`roumu_db_connection_waits_total 7`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	failing := newHarness(t, web.Config{}, func(d *web.Deps) {
		d.Stats = statsFunc(func(context.Context, time.Time) (ports.OperationalStats, error) {
			return ports.OperationalStats{}, errors.New("database down")
		})
	})
	if body := failing.do(request{method: "GET", path: "/metrics"}).Body.String(); !strings.Contains(body, "roumu_store_stats_up 0") {
		t.Error("a failing stats query does not show as roumu_store_stats_up 0")
	}
}

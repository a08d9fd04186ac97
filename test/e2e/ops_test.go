package e2e

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// The provider's side: the operator console (/ops, /api/v1/ops), the two-person rule, notices and the
// maintenance switch.

// operatorLogin is an operator login through the API, whatever its outcome.
func (a *app) operatorLogin(login, password string) response {
	a.t.Helper()
	return a.api(http.MethodPost, "/api/v1/ops/auth/login", "",
		jsonBody(a.t, map[string]string{"login": login, "password": password}))
}

// operator creates a provider operator, has them enrol an authenticator app through the API and returns
// their account ID, the full session's token and the app's secret.
func (a *app) operator(login string) (id, token, secret string) {
	a.t.Helper()
	op, err := a.env.Accounts.CreateOperator(a.t.Context(), ports.CreateOperatorCommand{
		Login: login, Name: "運用 " + login, Password: testenv.Password})
	if err != nil {
		a.t.Fatal(err)
	}
	var enrol session
	wantJSON(a.t, a.operatorLogin(login, testenv.Password), http.StatusOK, &enrol)
	var key struct {
		Secret string `json:"secret"`
	}
	wantJSON(a.t, a.api(http.MethodPost, "/api/v1/me/mfa/totp", enrol.Token,
		jsonBody(a.t, map[string]string{"current_password": testenv.Password})), http.StatusOK, &key)
	var full session
	wantJSON(a.t, a.api(http.MethodPost, "/api/v1/me/mfa/totp/confirm", enrol.Token,
		`{"code":"`+totpCode(a.t, key.Secret, a.env.Clock.Now())+`"}`), http.StatusOK, &full)
	if full.Stage != "full" {
		a.t.Fatalf("operator %s after enrolment: %+v", login, full)
	}
	return op.ID, full.Token, key.Secret
}

// operatorAgain logs an enrolled operator in through the API with a code of their app, after moving the
// clock to the next code (each code works once).
func (a *app) operatorAgain(login, secret string) string {
	a.t.Helper()
	a.env.Clock.Advance(30 * time.Second)
	var step, full session
	wantJSON(a.t, a.operatorLogin(login, testenv.Password), http.StatusOK, &step)
	wantJSON(a.t, a.api(http.MethodPost, "/api/v1/auth/mfa/totp", step.Token,
		`{"code":"`+totpCode(a.t, secret, a.env.Clock.Now())+`"}`), http.StatusOK, &full)
	if step.Stage != "mfa" || full.Stage != "full" {
		a.t.Fatalf("operator %s logging in: %+v then %+v", login, step, full)
	}
	return full.Token
}

// opsBrowser logs an enrolled operator in through the pages (password, then a code of their app) and returns
// the browser on the console's home page.
func (a *app) opsBrowser(login, secret string) *browser {
	a.t.Helper()
	a.env.Clock.Advance(30 * time.Second)
	b := a.browser()
	wantPage(a.t, b.get("/ops/login"), http.StatusOK, `action="/ops/login"`)
	wantRedirect(a.t, b.submit("/ops/login", url.Values{"login": {login}, "password": {testenv.Password}}), "/login/mfa")
	wantRedirect(a.t, b.get("/ops"), "/login/mfa") // the console needs the second factor
	wantPage(a.t, b.get("/login/mfa"), http.StatusOK)
	wantRedirect(a.t, b.submit("/login/mfa/totp", url.Values{"code": {totpCode(a.t, secret, a.env.Clock.Now())}}), "/ops")
	wantPage(a.t, b.get("/ops"), http.StatusOK, "運用管理")
	return b
}

// operation is a request of the two-person rule as the API shows it.
type operation struct {
	ID               string            `json:"id"`
	Kind             string            `json:"kind"`
	Params           map[string]string `json:"params"`
	Reason           string            `json:"reason"`
	Status           string            `json:"status"`
	RequestedByLogin string            `json:"requested_by_login"`
	RequestedAt      *string           `json:"requested_at"`
	DecidedByLogin   string            `json:"decided_by_login"`
	DecidedAt        *string           `json:"decided_at"`
	DecisionComment  string            `json:"decision_comment"`
	ExecutedByLogin  string            `json:"executed_by_login"`
	StartedAt        *string           `json:"started_at"`
	FinishedAt       *string           `json:"finished_at"`
	Result           string            `json:"result"`
	Error            string            `json:"error"`
}

// TestOpsTwoPersonTenantSuspension: operator A requests a company's suspension on the console; A cannot
// approve it (console and API), B approves it and it runs: the company's members are logged out and cannot log
// in. The work record shows the request, the approval and the execution, and the audit search finds the
// suspension, also in its CSV export.
func TestOpsTwoPersonTenantSuspension(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	tenantID := a.me(admin).Tenant.ID
	_, tokenA, secretA := a.operator("ops.suzuki")
	_, tokenB, secretB := a.operator("ops.tanaka")

	// A asks for the suspension on the company's page.
	browserA := a.opsBrowser("ops.suzuki", secretA)
	wantPage(t, browserA.get("/ops/tenants"), http.StatusOK, "/ops/tenants/"+tenantID)
	wantPage(t, browserA.get("/ops/tenants/"+tenantID), http.StatusOK, `action="/ops/requests"`)
	res := browserA.submit("/ops/requests", url.Values{"kind": {ports.OpTenantSuspend}, "tenant_id": {tenantID},
		"reason": {"契約解除の申し出 / Contract ended"}})
	recordPath := res.header.Get("Location")
	id, ok := strings.CutPrefix(recordPath, "/ops/requests/")
	if !ok {
		t.Fatalf("after the request: %d to %q: %s", res.status, recordPath, res.body)
	}
	wantRedirect(t, res, recordPath)
	var r operation
	wantJSON(t, a.api(http.MethodGet, "/api/v1/ops/requests/"+id, tokenA, ""), http.StatusOK, &r)
	if r.Kind != ports.OpTenantSuspend || r.Status != ports.OperationPending || r.Params["tenant_id"] != tenantID ||
		r.RequestedByLogin != "ops.suzuki" || r.RequestedAt == nil {
		t.Fatalf("the request: %+v", r)
	}

	// A's own approval is refused, on the page and through the API, and changes nothing.
	wantPage(t, browserA.get(recordPath), http.StatusOK, `id="approve"`)
	wantPage(t, browserA.submit(recordPath+"/approve", url.Values{"comment": {"自分で承認"}}), http.StatusForbidden,
		"別のオペレーター")
	// (The tab in the User-Agent goes into the audit log, and must not come out of the CSV export.)
	wantProblem(t, a.send(http.MethodPost, "/api/v1/ops/requests/"+id+"/approve", nil,
		http.Header{"Authorization": {"Bearer " + tokenA}, "User-Agent": {"curl\t=cmd|' /C calc'!A0"}}),
		http.StatusForbidden, "self_approval")
	a.me(admin)

	// B approves on the console, and the suspension runs at once.
	browserB := a.opsBrowser("ops.tanaka", secretB)
	wantPage(t, browserB.get("/ops"), http.StatusOK, recordPath)
	wantPage(t, browserB.get(recordPath), http.StatusOK, `id="approve"`)
	wantRedirect(t, browserB.submit(recordPath+"/approve", url.Values{"comment": {"確認しました"}}), recordPath)
	wantProblem(t, a.api(http.MethodGet, "/api/v1/me", admin, ""), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, a.tryLogin("acme", "admin", testenv.NewPassword), http.StatusForbidden, "account_disabled")
	var overview struct {
		Status string `json:"status"`
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/ops/tenants/"+tenantID, tokenB, ""), http.StatusOK, &overview)
	if overview.Status != ports.TenantSuspended {
		t.Fatalf("tenant after the suspension: %+v", overview)
	}

	// The work record: who asked and why, who approved, who ran it and what came of it.
	wantJSON(t, a.api(http.MethodGet, "/api/v1/ops/requests/"+id, tokenA, ""), http.StatusOK, &r)
	if r.Status != ports.OperationExecuted || r.DecidedByLogin != "ops.tanaka" || r.DecidedAt == nil ||
		r.DecisionComment != "確認しました" || r.ExecutedByLogin != "ops.tanaka" || r.StartedAt == nil ||
		r.FinishedAt == nil || !strings.Contains(r.Result, "suspended") || r.Error != "" {
		t.Fatalf("the work record: %+v", r)
	}
	wantPage(t, browserA.get(recordPath), http.StatusOK, `<dd id="request-status">executed</dd>`, "ops.suzuki",
		"契約解除の申し出", `<p id="decision">ops.tanaka`, "確認しました", `id="result"`)
	wantProblem(t, a.api(http.MethodPost, "/api/v1/ops/requests/"+id+"/approve", tokenB, ""), http.StatusConflict,
		"not_pending")

	// The audit search finds the suspension, and so does its CSV export.
	var found struct {
		Items []struct {
			TenantID  string            `json:"tenant_id"`
			ActorKind string            `json:"actor_kind"`
			Action    string            `json:"action"`
			Target    string            `json:"target"`
			Detail    map[string]string `json:"detail"`
		} `json:"items"`
		NextAfter *int64 `json:"next_after"`
	}
	q := "?tenant_id=" + tenantID + "&action=tenant.status"
	wantJSON(t, a.api(http.MethodGet, "/api/v1/ops/audit"+q, tokenB, ""), http.StatusOK, &found)
	if len(found.Items) != 1 || found.Items[0].Target != "tenant:"+tenantID || found.Items[0].ActorKind != ports.KindOperator ||
		found.Items[0].Detail["status"] != ports.TenantSuspended {
		t.Fatalf("audit search: %+v", found)
	}
	wantPage(t, browserA.get("/ops/audit"+q), http.StatusOK, "tenant.status", "/ops/audit.csv")
	for _, export := range []response{
		a.api(http.MethodGet, "/api/v1/ops/audit.csv", tokenB, ""),
		browserA.get("/ops/audit.csv?tenant_id=" + tenantID),
	} {
		rows := wantAuditCSV(t, export)
		if !slicesContainRow(rows, "tenant.status", "tenant:"+tenantID) {
			t.Fatalf("the CSV export lacks the suspension: %q", rows)
		}
	}
}

// wantAuditCSV fails unless res is a CSV export whose bytes hold no control character but the line ends,
// and returns its rows.
func wantAuditCSV(t *testing.T, res response) [][]string {
	t.Helper()
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("CSV export: %d %s", res.status, res.header.Get("Content-Type"))
	}
	for i, b := range res.body {
		if (b < 0x20 && b != '\n') || b == 0x7f {
			t.Fatalf("control character %#x at byte %d of the CSV export", b, i)
		}
	}
	rows, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "seq" {
		t.Fatalf("CSV export: %v %q", err, rows)
	}
	for _, row := range rows {
		for _, cell := range row {
			if strings.ContainsAny(cell, "\r\n") {
				t.Fatalf("a line break inside a cell: %q", row)
			}
		}
	}
	return rows
}

// slicesContainRow reports whether some row holds every cell of want.
func slicesContainRow(rows [][]string, want ...string) bool {
	for _, row := range rows {
		n := 0
		for _, w := range want {
			for _, cell := range row {
				if cell == w {
					n++
					break
				}
			}
		}
		if n == len(want) {
			return true
		}
	}
	return false
}

// notice is a notice as the API shows it.
type notice struct {
	ID         string  `json:"id"`
	Kind       string  `json:"kind"`
	Severity   string  `json:"severity"`
	TitleJA    string  `json:"title_ja"`
	TitleEN    string  `json:"title_en"`
	KnownAt    *string `json:"known_at"`
	DeadlineAt *string `json:"deadline_at"`
	StartsAt   *string `json:"starts_at"`
	EndsAt     *string `json:"ends_at"`
	PostedBy   string  `json:"posted_by"`
	Overdue    bool    `json:"overdue"`
}

// TestOpsNoticesAndMaintenanceWindow: an incident is posted with its computed deadline; a maintenance window
// must be announced a month ahead; everyone sees the notices on the login pages and GET /api/v1/notices; during
// the window the members' pages and API answer 503 with Retry-After, while the operators, the probes and the
// metrics go on.
func TestOpsNoticesAndMaintenanceWindow(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	opID, token, secret := a.operator("ops.suzuki")
	b := a.opsBrowser("ops.suzuki", secret) // testenv.Start is Wednesday 2026-04-01 09:00 JST, a business day

	// Known during business hours: due an hour later, shown on the console.
	wantPage(t, b.get("/ops/notices"), http.StatusOK, `action="/ops/notices/incidents"`)
	wantPage(t, b.submit("/ops/notices/incidents", url.Values{"severity": {"major"}, "known_at": {"2026-04-01T09:00"},
		"title_ja": {"ログイン遅延"}, "title_en": {"Slow logins"}, "body_ja": {"調査中です。"}}), http.StatusOK,
		"掲載期限: 2026-04-01 10:00", "ログイン遅延")
	// Known the evening before: due at the next opening, 09:00, which has passed: overdue.
	var incident notice
	wantJSON(t, a.api(http.MethodPost, "/api/v1/ops/notices/incidents", token, jsonBody(t, map[string]string{
		"severity": "minor", "known_at": "2026-03-31T18:30:00+09:00", "title_ja": "帳票の遅延", "body_ja": "夜間バッチの遅延"})),
		http.StatusCreated, &incident)
	if incident.Kind != ports.NoticeIncident || incident.DeadlineAt == nil || *incident.DeadlineAt != "2026-04-01T00:00:00Z" ||
		!incident.Overdue || incident.PostedBy != opID {
		t.Fatalf("incident known the evening before: %+v", incident)
	}

	// A window must be announced a calendar month ahead: 29 days is too short, a month is enough.
	window := func(start string) string {
		starts, err := time.Parse(time.RFC3339, start)
		if err != nil {
			t.Fatal(err)
		}
		return jsonBody(t, map[string]string{"starts_at": start, "ends_at": starts.Add(2 * time.Hour).Format(time.RFC3339),
			"title_ja": "定期メンテナンス", "title_en": "Scheduled maintenance", "body_ja": "全機能が停止します。"})
	}
	p := wantProblem(t, a.api(http.MethodPost, "/api/v1/ops/notices/maintenance", token, window("2026-04-30T10:00:00+09:00")),
		http.StatusUnprocessableEntity, "validation_failed")
	if len(p.Errors) != 1 || p.Errors[0].Field != "starts_at" || p.Errors[0].Code != "notice_too_short" {
		t.Fatalf("29 days ahead: %+v", p)
	}
	var scheduled struct {
		Notice   notice `json:"notice"`
		Warnings []struct {
			Code string `json:"code"`
		} `json:"warnings"`
	}
	wantJSON(t, a.api(http.MethodPost, "/api/v1/ops/notices/maintenance", token, window("2026-05-01T10:00:00+09:00")),
		http.StatusCreated, &scheduled)
	if m := scheduled.Notice; m.Kind != ports.NoticeMaintenance || m.StartsAt == nil || *m.StartsAt != "2026-05-01T01:00:00Z" ||
		*m.EndsAt != "2026-05-01T03:00:00Z" || len(scheduled.Warnings) != 0 {
		t.Fatalf("a month ahead: %+v", scheduled)
	}

	// Anyone sees the notices, without logging in; the public view does not name the operator.
	public := a.api(http.MethodGet, "/api/v1/notices", "", "")
	var current struct {
		Items []notice `json:"items"`
	}
	wantJSON(t, public, http.StatusOK, &current)
	if len(current.Items) != 3 || strings.Contains(string(public.body), opID) || strings.Contains(string(public.body), "overdue") {
		t.Fatalf("public notices: %s", public)
	}
	for _, path := range []string{"/login", "/ops/login"} {
		wantPage(t, a.browser().get(path), http.StatusOK, "定期メンテナンス", "2026-05-01 10:00 〜 2026-05-01 12:00",
			"ログイン遅延", "帳票の遅延")
	}

	// Inside the window (10:30, half an hour in): 503 with Retry-After (90 minutes) for the members' pages and
	// API, the login included.
	a.env.Clock.Set(time.Date(2026, 5, 1, 10, 30, 0, 0, kernel.Tokyo))
	const retry = "5400"
	for _, path := range []string{"/login", "/", "/employees", "/settings/security"} {
		res := a.browser().get(path)
		wantPage(t, res, http.StatusServiceUnavailable, "メンテナンス中", "定期メンテナンス")
		if res.header.Get("Retry-After") != retry {
			t.Fatalf("%s during maintenance: Retry-After %q", path, res.header.Get("Retry-After"))
		}
	}
	for _, res := range []response{
		a.api(http.MethodGet, "/api/v1/me", admin, ""),
		a.tryLogin("acme", "admin", testenv.NewPassword),
		a.api(http.MethodGet, "/api/v1/employees", "", ""),
	} {
		wantProblem(t, res, http.StatusServiceUnavailable, "maintenance")
		if res.header.Get("Retry-After") != retry {
			t.Fatalf("API during maintenance: Retry-After %q", res.header.Get("Retry-After"))
		}
	}
	// The operators work on, and the probes, the metrics and the notices answer.
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if res := a.send(http.MethodGet, path, nil, nil); res.status != http.StatusOK {
			t.Fatalf("%s during maintenance: %d", path, res.status)
		}
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/notices", "", ""), http.StatusOK, nil)
	token = a.operatorAgain("ops.suzuki", secret)
	wantJSON(t, a.api(http.MethodGet, "/api/v1/ops/notices", token, ""), http.StatusOK, nil)
	b = a.opsBrowser("ops.suzuki", secret)
	wantPage(t, b.get("/ops/tenants"), http.StatusOK, "acme")

	// After the window, everything is back.
	a.env.Clock.Set(time.Date(2026, 5, 1, 12, 0, 0, 0, kernel.Tokyo))
	wantPage(t, a.browser().get("/login"), http.StatusOK, `action="/login"`)
	a.login("acme", "admin", testenv.NewPassword, "full")
}

// opsAPIRoutes are the operator console's API routes (":id" stands for an ID), for checks of who reaches them.
var opsAPIRoutes = []struct{ method, path string }{
	{"GET", "/api/v1/ops/tenants"}, {"POST", "/api/v1/ops/tenants"}, {"GET", "/api/v1/ops/tenants/:id"},
	{"GET", "/api/v1/ops/operators"}, {"POST", "/api/v1/ops/operators/:id/password"},
	{"GET", "/api/v1/ops/requests"}, {"POST", "/api/v1/ops/requests"}, {"GET", "/api/v1/ops/requests/:id"},
	{"POST", "/api/v1/ops/requests/:id/approve"}, {"POST", "/api/v1/ops/requests/:id/reject"},
	{"GET", "/api/v1/ops/notices"}, {"POST", "/api/v1/ops/notices/incidents"}, {"POST", "/api/v1/ops/notices/maintenance"},
	{"POST", "/api/v1/ops/notices/:id/resolve"}, {"POST", "/api/v1/ops/notices/:id/cancel"},
	{"GET", "/api/v1/ops/audit"}, {"GET", "/api/v1/ops/audit.csv"},
}

// opsPages are the operator console's pages.
var opsPages = []string{"/ops", "/ops/tenants", "/ops/requests", "/ops/operators", "/ops/notices", "/ops/audit", "/ops/audit.csv"}

// TestOpsConsoleOnlyForFullyLoggedInOperators: tenant members, even admins, never reach the console: its API
// does not exist for them (404) and its pages send them to the operators' login (or 403 to a script). An
// operator needs the second factor before either.
func TestOpsConsoleOnlyForFullyLoggedInOperators(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	adminID, admin := a.tenant("acme")
	tenantID := a.me(admin).Tenant.ID
	_, opToken, secret := a.operator("ops.suzuki")
	route := func(path string) string { return strings.Replace(path, ":id", adminID, 1) }
	body := func(method string) string {
		if method == http.MethodPost {
			return `{}`
		}
		return ""
	}
	member := a.browser()
	member.logIn("acme", "admin", testenv.NewPassword, "/")
	before := snapshot(t, a.env)
	for _, r := range opsAPIRoutes {
		wantProblem(t, a.api(r.method, route(r.path), admin, body(r.method)), http.StatusNotFound, "not_found")
		wantProblem(t, a.api(r.method, route(r.path), "", body(r.method)), http.StatusUnauthorized, "unauthenticated")
	}
	for _, path := range opsPages {
		wantRedirect(t, member.get(path), "/ops/login")
		script := a.send(http.MethodGet, path, nil, http.Header{"Accept": {"application/json"},
			"Cookie": {"roumu_session=" + member.cookies["roumu_session"].Value}})
		wantProblem(t, script, http.StatusForbidden, "forbidden")
		wantRedirect(t, a.browser().get(path), "/ops/login")
	}
	wantPage(t, member.get("/"), http.StatusOK)
	wantRedirect(t, member.submit("/ops/requests", url.Values{"kind": {ports.OpTenantSuspend}, "tenant_id": {tenantID},
		"reason": {"乗っ取り"}}), "/ops/login")
	assertUnchanged(t, before, snapshot(t, a.env))
	var none struct {
		Items []operation `json:"items"`
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/ops/requests", opToken, ""), http.StatusOK, &none)
	if len(none.Items) != 0 {
		t.Fatalf("requests after the members' attempts: %+v", none.Items)
	}

	// An operator who has not enrolled a factor, or has not given it yet, is held at that step.
	if _, err := a.env.Accounts.CreateOperator(t.Context(), ports.CreateOperatorCommand{
		Login: "ops.new", Name: "運用 新人", Password: testenv.Password}); err != nil {
		t.Fatal(err)
	}
	var enrol, step session
	wantJSON(t, a.operatorLogin("ops.new", testenv.Password), http.StatusOK, &enrol)
	a.env.Clock.Advance(30 * time.Second)
	wantJSON(t, a.operatorLogin("ops.suzuki", testenv.Password), http.StatusOK, &step)
	for _, r := range opsAPIRoutes {
		wantProblem(t, a.api(r.method, route(r.path), enrol.Token, body(r.method)), http.StatusForbidden, "mfa_enrolment_required")
		wantProblem(t, a.api(r.method, route(r.path), step.Token, body(r.method)), http.StatusForbidden, "mfa_required")
	}
	newcomer := a.browser()
	wantPage(t, newcomer.get("/ops/login"), http.StatusOK)
	wantRedirect(t, newcomer.submit("/ops/login", url.Values{"login": {"ops.new"}, "password": {testenv.Password}}),
		"/settings/security")
	halfway := a.browser()
	wantPage(t, halfway.get("/ops/login"), http.StatusOK)
	wantRedirect(t, halfway.submit("/ops/login", url.Values{"login": {"ops.suzuki"}, "password": {testenv.Password}}),
		"/login/mfa")
	for _, path := range opsPages {
		wantRedirect(t, newcomer.get(path), "/settings/security")
		wantRedirect(t, halfway.get(path), "/login/mfa")
	}
	full := a.opsBrowser("ops.suzuki", secret)
	for _, path := range opsPages {
		if res := full.get(path); res.status != http.StatusOK {
			t.Fatalf("%s for a fully logged-in operator: %d %.300s", path, res.status, res.body)
		}
	}
}

// TestHostileOpsRequestsAreRefusedAndChangeNothing: malformed and hostile requests to the operators' API are
// each refused with a 4xx problem document, never a 500, and leave the accounts, the requests and the notices
// as they were.
func TestHostileOpsRequestsAreRefusedAndChangeNothing(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	adminID, admin := a.tenant("acme")
	tenantID := a.me(admin).Tenant.ID
	_, op, _ := a.operator("ops.suzuki")
	var pending operation
	wantJSON(t, a.api(http.MethodPost, "/api/v1/ops/requests", op, jsonBody(t, map[string]any{
		"kind": ports.OpTenantSuspend, "params": map[string]string{"tenant_id": tenantID}, "reason": "解約"})),
		http.StatusCreated, &pending)
	var incident notice
	wantJSON(t, a.api(http.MethodPost, "/api/v1/ops/notices/incidents", op,
		`{"severity":"minor","known_at":"2026-04-01T09:00:00+09:00","title_ja":"遅延","body_ja":"調査中"}`), http.StatusCreated, &incident)
	request := "/api/v1/ops/requests/" + pending.ID

	const js = "application/json"
	text := func(s string) io.Reader { return strings.NewReader(s) }
	suspend := func(set string) io.Reader {
		return text(`{"kind":"tenant.suspend","params":{"tenant_id":"` + tenantID + `"},"reason":"x"` + set + `}`)
	}
	manyParams := make(map[string]string, 100)
	for i := range 100 {
		manyParams["k"+strconv.Itoa(i)] = "v"
	}
	maintenance := func(starts, ends string) io.Reader {
		return text(`{"starts_at":"` + starts + `","ends_at":"` + ends + `","title_ja":"保守","body_ja":"停止"}`)
	}
	cases := []hostileRequest{
		{"truncated JSON", "POST", "/api/v1/ops/requests", "operator", js, text(`{"kind":"tenant.sus`), 400, "malformed_json"},
		{"array body", "POST", "/api/v1/ops/requests", "operator", js, text(`[{}]`), 400, "malformed_json"},
		{"unknown member", "POST", "/api/v1/ops/requests", "operator", js, suspend(`,"approved_by":"someone"`), 400, "unknown_field"},
		{"duplicate member", "POST", "/api/v1/ops/requests", "operator", js, text(`{"kind":"tenant.delete","kind":"tenant.suspend"}`), 400, "duplicate_field"},
		{"NUL in the reason", "POST", "/api/v1/ops/requests", "operator", js, text(`{"kind":"tenant.suspend","reason":"a\u0000b"}`), 400, "malformed_json"},
		{"invalid UTF-8", "POST", "/api/v1/ops/requests", "operator", js, suspend(",\"x\":\"\xff\""), 400, "malformed_json"},
		{"bell in the reason", "POST", "/api/v1/ops/requests", "operator", js,
			text(`{"kind":"tenant.suspend","params":{"tenant_id":"` + tenantID + `"},"reason":"a\u0007b"}`), 422, "validation_failed"},
		{"unknown kind", "POST", "/api/v1/ops/requests", "operator", js, text(`{"kind":"'; DROP TABLE operation_requests; --","params":{},"reason":"x"}`), 422, "validation_failed"},
		{"params as an array", "POST", "/api/v1/ops/requests", "operator", js, text(`{"kind":"tenant.suspend","params":["x"],"reason":"x"}`), 422, "invalid_type"},
		{"param as a number", "POST", "/api/v1/ops/requests", "operator", js, text(`{"kind":"tenant.suspend","params":{"tenant_id":1},"reason":"x"}`), 422, "invalid_type"},
		{"100 params", "POST", "/api/v1/ops/requests", "operator", js,
			text(jsonBody(t, map[string]any{"kind": ports.OpTenantSuspend, "params": manyParams, "reason": "x"})), 422, "validation_failed"},
		{"unknown tenant", "POST", "/api/v1/ops/requests", "operator", js, text(`{"kind":"tenant.suspend","params":{"tenant_id":"nosuch"},"reason":"x"}`), 422, "validation_failed"},
		{"no reason", "POST", "/api/v1/ops/requests", "operator", js, text(`{"kind":"tenant.suspend","params":{"tenant_id":"` + tenantID + `"},"reason":""}`), 422, "validation_failed"},
		{"2 MiB reason", "POST", "/api/v1/ops/requests", "operator", js, suspend(`,"comment":"` + strings.Repeat("x", 2<<20) + `"`), 413, "body_too_large"},
		{"2 MiB decision of unknown length", "POST", request + "/reject", "operator", js, chunked{text(`{"comment":"` + strings.Repeat("x", 2<<20) + `"}`)}, 413, "body_too_large"},
		{"form encoding", "POST", "/api/v1/ops/requests", "operator", "application/x-www-form-urlencoded", text("kind=tenant.suspend"), 415, "unsupported_media_type"},
		{"self approval", "POST", request + "/approve", "operator", "", nil, 403, "self_approval"},
		{"comment as a number", "POST", request + "/reject", "operator", js, text(`{"comment":1}`), 422, "invalid_type"},
		{"decision with an unknown member", "POST", request + "/reject", "operator", js, text(`{"comment":"x","as":"other"}`), 400, "unknown_field"},
		{"approval of an unknown request", "POST", "/api/v1/ops/requests/nosuch/approve", "operator", "", nil, 404, "not_found"},
		{"SQL id", "POST", "/api/v1/ops/requests/" + url.PathEscape("1' OR '1'='1") + "/approve", "operator", "", nil, 404, "not_found"},
		{"overlong id", "GET", "/api/v1/ops/requests/" + strings.Repeat("a", 65), "operator", "", nil, 404, "not_found"},
		{"path traversal", "GET", "/api/v1/ops/tenants/..%2F..%2Fetc%2Fpasswd", "operator", "", nil, 404, "not_found"},
		{"NUL id", "POST", "/api/v1/ops/notices/%00/resolve", "operator", "", nil, 404, "not_found"},
		{"DELETE a request", "DELETE", request, "operator", "", nil, 405, "method_not_allowed"},
		{"GET an approval", "GET", request + "/approve", "operator", "", nil, 405, "method_not_allowed"},
		{"unknown status filter", "GET", "/api/v1/ops/requests?status=" + url.QueryEscape("' OR 1=1 --"), "operator", "", nil, 422, "validation_failed"},
		{"unknown kind filter", "GET", "/api/v1/ops/requests?kind=root", "operator", "", nil, 422, "validation_failed"},
		{"unknown severity", "POST", "/api/v1/ops/notices/incidents", "operator", js,
			text(`{"severity":"apocalyptic","known_at":"2026-04-01T09:00:00+09:00","title_ja":"x","body_ja":"x"}`), 422, "validation_failed"},
		{"incident known tomorrow", "POST", "/api/v1/ops/notices/incidents", "operator", js,
			text(`{"severity":"minor","known_at":"2026-04-02T09:00:00+09:00","title_ja":"x","body_ja":"x"}`), 422, "validation_failed"},
		{"known_at as text", "POST", "/api/v1/ops/notices/incidents", "operator", js,
			text(`{"severity":"minor","known_at":"yesterday","title_ja":"x","body_ja":"x"}`), 422, "validation_failed"},
		{"known_at as a number", "POST", "/api/v1/ops/notices/incidents", "operator", js,
			text(`{"severity":"minor","known_at":1743465600,"title_ja":"x","body_ja":"x"}`), 422, "invalid_type"},
		{"script in the title is kept as text, but a newline is not", "POST", "/api/v1/ops/notices/incidents", "operator", js,
			text(`{"severity":"minor","known_at":"2026-04-01T09:00:00+09:00","title_ja":"<script>\nalert(1)</script>","body_ja":"x"}`), 422, "validation_failed"},
		{"10,000-character body", "POST", "/api/v1/ops/notices/incidents", "operator", js,
			text(`{"severity":"minor","known_at":"2026-04-01T09:00:00+09:00","title_ja":"x","body_ja":"` + strings.Repeat("長", 10000) + `"}`), 422, "validation_failed"},
		{"maintenance in the past", "POST", "/api/v1/ops/notices/maintenance", "operator", js,
			maintenance("2026-03-01T10:00:00+09:00", "2026-03-01T11:00:00+09:00"), 422, "validation_failed"},
		{"maintenance ending before it starts", "POST", "/api/v1/ops/notices/maintenance", "operator", js,
			maintenance("2026-06-01T10:00:00+09:00", "2026-06-01T09:00:00+09:00"), 422, "validation_failed"},
		{"maintenance of a day", "POST", "/api/v1/ops/notices/maintenance", "operator", js,
			maintenance("2026-06-01T10:00:00+09:00", "2026-06-02T10:00:00+09:00"), 422, "validation_failed"},
		{"maintenance in year 10000", "POST", "/api/v1/ops/notices/maintenance", "operator", js,
			maintenance("10000-01-01T00:00:00Z", "10000-01-01T01:00:00Z"), 422, "validation_failed"},
		{"cancelling an incident", "POST", "/api/v1/ops/notices/" + incident.ID + "/cancel", "operator", "", nil, 404, "not_found"},
		{"resolving an unknown notice", "POST", "/api/v1/ops/notices/nosuch/resolve", "operator", "", nil, 404, "not_found"},
		{"audit since garbage", "GET", "/api/v1/ops/audit?since=" + url.QueryEscape("1' OR '1'='1"), "operator", "", nil, 422, "validation_failed"},
		{"audit negative cursor", "GET", "/api/v1/ops/audit?after=-1", "operator", "", nil, 422, "validation_failed"},
		{"audit huge limit text", "GET", "/api/v1/ops/audit?limit=" + strings.Repeat("9", 40), "operator", "", nil, 422, "validation_failed"},
		{"audit CSV with a bad until", "GET", "/api/v1/ops/audit.csv?until=tomorrow", "operator", "", nil, 422, "validation_failed"},
		{"password of a tenant admin", "POST", "/api/v1/ops/operators/" + adminID + "/password", "operator", "", nil, 404, "not_found"},
		{"password of an operator not granted", "POST", "/api/v1/ops/operators/" + pending.ID + "/password", "operator", "", nil, 404, "not_found"},
		{"tenant with a weak admin password", "POST", "/api/v1/ops/tenants", "operator", js,
			text(`{"code":"beta","name":"ベータ","admin_login":"admin","admin_name":"管理","admin_password":"password"}`), 422, "validation_failed"},
		{"tenant with a taken code", "POST", "/api/v1/ops/tenants", "operator", js,
			text(`{"code":"ＡＣＭＥ","name":"偽","admin_login":"admin","admin_name":"管理","admin_password":"` + testenv.Password + `"}`), 409, "tenant_code_taken"},
		{"requests listed by a member", "GET", "/api/v1/ops/requests", "admin", "", nil, 404, "not_found"},
		{"approval by a member", "POST", request + "/approve", "admin", "", nil, 404, "not_found"},
		{"maintenance announced by a member", "POST", "/api/v1/ops/notices/maintenance", "admin", js,
			maintenance("2026-06-01T10:00:00+09:00", "2026-06-01T11:00:00+09:00"), 404, "not_found"},
		{"no token", "GET", "/api/v1/ops/audit", "", "", nil, 401, "unauthenticated"},
	}
	state := func() any {
		return []any{snapshot(t, a.env), a.api(http.MethodGet, "/api/v1/ops/requests", op, "").String(),
			a.api(http.MethodGet, "/api/v1/ops/notices", op, "").String()}
	}
	refuseAll(t, a, map[string]string{"operator": op, "admin": admin}, cases, state)
}

package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	web "github.com/roumu/roumu/adapters/http"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
	"github.com/roumu/roumu/test/virtualkey"
)

// The isolation sweep: every registered route, called as an intruder would call it. See TestIsolationSweep.

// access is who a route is for, the rule the sweep holds it to.
type access int

const (
	public   access = iota // anyone, no session needed: only a 5xx fails it
	ending                 // the end of a session (logout), at any stage
	mfaStep                // the second step of a login
	self                   // the caller's own account: me, password, second factors (members and operators)
	shared                 // what every member of a tenant reads: its departments
	member                 // every member of a tenant: the modules show an employee their own part only
	staff                  // a tenant's admin and hr: the register and the procedures
	admin                  // a tenant's admin
	operator               // the provider's operators: the console
)

// sweepAccess holds every route of the service ("METHOD /path" as Echo registers it). A route missing here fails
// the sweep, so a new route is swept from the day it is added.
var sweepAccess = accessTable(map[access][]string{
	public: {
		"GET /healthz", "GET /readyz", "GET /metrics", "GET /static/*", "GET /api/v1/openapi.yaml",
		"GET /login", "POST /login", "GET /ops/login", "POST /ops/login",
		"POST /api/v1/auth/login", "POST /api/v1/ops/auth/login", "GET /api/v1/notices",
	},
	ending: {"POST /api/v1/auth/logout", "POST /logout"},
	mfaStep: {
		"POST /api/v1/auth/mfa/totp", "POST /api/v1/auth/mfa/recovery",
		"POST /api/v1/auth/mfa/webauthn/begin", "POST /api/v1/auth/mfa/webauthn/finish",
		"GET /login/mfa", "POST /login/mfa/totp", "POST /login/mfa/recovery",
		"POST /login/mfa/webauthn/begin", "POST /login/mfa/webauthn/finish",
	},
	self: {
		"GET /api/v1/me", "POST /api/v1/me/password", "GET /api/v1/me/mfa",
		"POST /api/v1/me/mfa/totp", "POST /api/v1/me/mfa/totp/confirm", "DELETE /api/v1/me/mfa/totp",
		"POST /api/v1/me/mfa/webauthn/begin", "POST /api/v1/me/mfa/webauthn/finish", "DELETE /api/v1/me/mfa/webauthn/:id",
		"GET /settings/security", "POST /settings/security",
		"POST /settings/security/totp", "POST /settings/security/totp/confirm", "POST /settings/security/totp/remove",
		"POST /settings/security/webauthn/begin", "POST /settings/security/webauthn/finish",
		"POST /settings/security/webauthn/:id/remove",
	},
	shared: {"GET /api/v1/departments", "GET /api/v1/departments/:id"},
	member: {
		"GET /", "GET /api/v1/me/employee", "GET /employees/me", "GET /employees", "GET /employees/new", "GET /employees/import",
		"GET /api/v1/employees/:id", "PATCH /api/v1/employees/:id", "GET /api/v1/employees/:id/history",
		"POST /api/v1/employees/:id/dependents", "PATCH /api/v1/employees/:id/dependents/:dep_id",
		"DELETE /api/v1/employees/:id/dependents/:dep_id",
		"GET /employees/:id", "GET /employees/:id/edit", "POST /employees/:id/edit", "POST /employees/:id/dependents",
		"POST /employees/:id/dependents/:dep_id/remove",
	},
	staff: {
		"GET /api/v1/employees", "POST /api/v1/employees", "POST /api/v1/employees/import", "GET /api/v1/employees/export.csv",
		"DELETE /api/v1/employees/:id", "PATCH /api/v1/employees/:id/changes/:change_id",
		"DELETE /api/v1/employees/:id/changes/:change_id", "POST /api/v1/employees/:id/my-number/reveal",
		"POST /api/v1/employees/:id/dependents/:dep_id/my-number/reveal",
		"POST /api/v1/departments", "PATCH /api/v1/departments/:id", "DELETE /api/v1/departments/:id", "GET /api/v1/jobs/:id",
		"POST /employees/new", "GET /employees/export.csv", "POST /employees/import",
		"GET /employees/import/jobs/:id", "GET /employees/import/:upload", "POST /employees/import/:upload/check",
		"POST /employees/import/:upload/run", "POST /employees/:id/delete", "POST /employees/:id/changes/:change_id/cancel",
		"GET /api/v1/procedures", "POST /api/v1/procedures", "GET /api/v1/procedures/dashboard",
		"GET /api/v1/procedures/types", "POST /api/v1/procedures/annual-reports", "GET /api/v1/procedures/:id",
		"PATCH /api/v1/procedures/:id", "POST /api/v1/procedures/:id/:action",
		"GET /api/v1/procedures/:id/document.pdf", "GET /api/v1/procedures/:id/efiling.csv",
		"POST /api/v1/procedures/:id/attachments", "GET /api/v1/procedures/:id/attachments",
		"GET /api/v1/procedures/:id/attachments/:aid", "DELETE /api/v1/procedures/:id/attachments/:aid",
		"GET /procedures", "GET /procedures/new", "POST /procedures/new", "GET /procedures/:id",
		"POST /procedures/:id/edit", "POST /procedures/:id/act", "GET /procedures/:id/document.pdf",
		"GET /procedures/:id/efiling.csv", "POST /procedures/:id/attachments", "GET /procedures/:id/attachments/:aid",
		"POST /procedures/:id/attachments/:aid/remove",
	},
	admin: {
		"GET /api/v1/tenant", "PATCH /api/v1/tenant", "GET /api/v1/tenant/ip-restriction", "PUT /api/v1/tenant/ip-restriction",
		"GET /api/v1/accounts", "POST /api/v1/accounts", "GET /api/v1/accounts/:id", "PATCH /api/v1/accounts/:id",
		"POST /api/v1/accounts/:id/unlock", "POST /api/v1/accounts/:id/disable",
		"GET /api/v1/api-tokens", "POST /api/v1/api-tokens", "DELETE /api/v1/api-tokens/:id",
		"GET /api/v1/webhooks", "POST /api/v1/webhooks", "GET /api/v1/webhooks/event-types", "GET /api/v1/webhooks/:id",
		"PATCH /api/v1/webhooks/:id", "DELETE /api/v1/webhooks/:id", "POST /api/v1/webhooks/:id/rotate-secret",
		"POST /api/v1/webhooks/:id/pause", "POST /api/v1/webhooks/:id/resume", "POST /api/v1/webhooks/:id/test",
		"GET /api/v1/webhooks/:id/deliveries",
		"GET /admin/accounts", "POST /admin/accounts", "POST /admin/accounts/:id/unlock", "POST /admin/accounts/:id/disable",
		"GET /admin/security", "POST /admin/security", "GET /admin/security/ip", "POST /admin/security/ip",
		"GET /admin/tokens", "POST /admin/tokens", "POST /admin/tokens/:id/revoke",
		"GET /admin/webhooks", "POST /admin/webhooks", "GET /admin/webhooks/:id", "POST /admin/webhooks/:id/:action",
	},
	operator: {
		"GET /api/v1/ops/tenants", "POST /api/v1/ops/tenants", "GET /api/v1/ops/tenants/:id", "GET /api/v1/ops/operators",
		"POST /api/v1/ops/operators/:id/password", "GET /api/v1/ops/requests", "POST /api/v1/ops/requests",
		"GET /api/v1/ops/requests/:id", "POST /api/v1/ops/requests/:id/approve", "POST /api/v1/ops/requests/:id/reject",
		"GET /api/v1/ops/notices", "POST /api/v1/ops/notices/incidents", "POST /api/v1/ops/notices/maintenance",
		"POST /api/v1/ops/notices/:id/resolve", "POST /api/v1/ops/notices/:id/cancel",
		"GET /api/v1/ops/audit", "GET /api/v1/ops/audit.csv", "GET /api/v1/ops/keys", "GET /api/v1/ops/key-rotations/:id",
		"GET /ops", "GET /ops/tenants", "POST /ops/tenants", "GET /ops/tenants/:id", "GET /ops/requests",
		"POST /ops/requests", "GET /ops/requests/:id", "POST /ops/requests/:id/approve", "POST /ops/requests/:id/reject",
		"GET /ops/operators", "POST /ops/operators/:id/password", "GET /ops/notices", "POST /ops/notices/incidents",
		"POST /ops/notices/maintenance", "POST /ops/notices/:id/resolve", "POST /ops/notices/:id/cancel",
		"GET /ops/audit", "GET /ops/audit.csv", "GET /ops/keys",
	},
})

func accessTable(groups map[access][]string) map[string]access {
	table := map[string]access{}
	for rule, keys := range groups {
		for _, k := range keys {
			table[k] = rule
		}
	}
	return table
}

// pathActions are the values the sweep tries for an :action parameter, by the route's first segments.
var pathActions = map[string][]string{
	"/api/v1/procedures": {ports.ActionSubmit, ports.ActionApprove, ports.ActionReturn, ports.ActionFile,
		ports.ActionComplete, ports.ActionCancel},
	"/admin/webhooks": {"test", "pause", "resume", "rotate-secret", "delete"},
}

// fill gives the paths route stands for: each parameter replaced by the ID in ids under the parameter's name
// (":dep_id") or, for ":id", under the path segment before it ("employees"), and :action by each action of its
// resource. An error names a parameter the sweep has no value for.
func fill(route string, ids map[string]string) ([]string, error) {
	paths := []string{""}
	segments := strings.Split(route, "/")[1:]
	for i, seg := range segments {
		var values []string
		switch {
		case seg == "*":
			values = []string{"roumu.css"}
		case seg == ":action":
			for prefix, actions := range pathActions {
				if strings.HasPrefix(route, prefix+"/") {
					values = actions
				}
			}
		case seg == ":id":
			if id := ids[segments[i-1]]; id != "" {
				values = []string{id}
			}
		case strings.HasPrefix(seg, ":"):
			if id := ids[seg]; id != "" {
				values = []string{id}
			}
		default:
			values = []string{seg}
		}
		if len(values) == 0 {
			return nil, fmt.Errorf("no value for %s in %s", seg, route)
		}
		var next []string
		for _, p := range paths {
			for _, v := range values {
				next = append(next, p+"/"+v)
			}
		}
		paths = next
	}
	return paths, nil
}

// payload is what a request of the sweep carries besides its path: a query and a body.
type payload struct {
	query, contentType, body string
}

// jsonPayload is a JSON body: v as it is when a string, else encoded (maps of strings and numbers, which
// always encode).
func jsonPayload(v any) payload {
	s, ok := v.(string)
	if !ok {
		data, _ := json.Marshal(v)
		s = string(data)
	}
	return payload{contentType: "application/json", body: s}
}

func formPayload(v url.Values) payload {
	return payload{contentType: "application/x-www-form-urlencoded", body: v.Encode()}
}

// filePayload is a multipart form with one file, as the upload forms send it.
func filePayload(name string, content []byte) payload {
	var b bytes.Buffer // writes to which never fail
	w := multipart.NewWriter(&b)
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = w.Close()
	return payload{contentType: w.FormDataContentType(), body: b.String()}
}

// crossTenant are the routes without path parameters whose payloads name the other tenant's resources: a
// caller of tenant A must be refused those too.
var crossTenant = []string{"POST /api/v1/employees", "POST /api/v1/procedures", "POST /employees/new", "POST /procedures/new"}

// payloads are the requests the sweep makes of a route, naming the resources in ids: a request that would
// succeed on the caller's own resources where the route takes one, so that only the ownership check stands
// between an intruder and success. password is the caller's own, for the routes that ask for it again.
func payloads(key string, ids map[string]string, marker, password string) []payload {
	dependent := map[string]string{"relationship": "child", "family_name": "侵入", "given_name": "子", "birth_date": "2015-01-01"}
	switch key {
	case "GET /api/v1/employees", "GET /employees":
		return []payload{{query: "q=" + marker}, {query: "department_id=" + ids["departments"]}}
	case "GET /api/v1/procedures", "GET /procedures":
		return []payload{{query: "employee_id=" + ids["employees"]}}
	case "POST /api/v1/employees":
		return []payload{
			jsonPayload(newEmployeeBody("X001", map[string]any{"department_id": ids["departments"]})),
			jsonPayload(newEmployeeBody("X002", map[string]any{"account_id": ids["accounts"]})),
		}
	case "POST /employees/new": // the form has no account_id
		f := validForm()
		f.Set("department_id", ids["departments"])
		return []payload{formPayload(f)}
	case "POST /api/v1/procedures":
		return []payload{jsonPayload(map[string]any{"type": ports.ProcedureBonusPaymentReport, "employee_id": ids["employees"],
			"fact_date": "2026-04-03", "fields": map[string]string{"bonus.amount": "500000"}})}
	case "POST /procedures/new":
		return []payload{formPayload(url.Values{"type": {ports.ProcedureBonusPaymentReport}, "employee_id": {ids["employees"]},
			"fact_date": {"2026-04-03"}})}
	case "PATCH /api/v1/employees/:id":
		return []payload{jsonPayload(`{"family_name":"侵入","email":"x@example.jp"}`)}
	case "POST /employees/:id/edit":
		f := validForm()
		f.Set("version", "1")
		return []payload{formPayload(f)}
	case "PATCH /api/v1/employees/:id/changes/:change_id":
		return []payload{jsonPayload(`{"position":"社長"}`)}
	case "POST /api/v1/employees/:id/my-number/reveal", "POST /api/v1/employees/:id/dependents/:dep_id/my-number/reveal":
		return []payload{jsonPayload(`{"purpose":"tax"}`)}
	case "POST /api/v1/employees/:id/dependents":
		return []payload{jsonPayload(dependent)}
	case "POST /employees/:id/dependents":
		f := url.Values{}
		for k, v := range dependent {
			f.Set(k, v)
		}
		return []payload{formPayload(f)}
	case "PATCH /api/v1/employees/:id/dependents/:dep_id":
		return []payload{jsonPayload(`{"living_together":false}`)}
	case "PATCH /api/v1/departments/:id":
		return []payload{jsonPayload(`{"name":"侵入部"}`)}
	case "PATCH /api/v1/procedures/:id":
		return []payload{jsonPayload(`{"fact_date":"2026-04-02"}`)}
	case "POST /api/v1/procedures/:id/:action":
		return []payload{jsonPayload(`{"comment":"侵入"}`)}
	case "POST /procedures/:id/act":
		return []payload{formPayload(url.Values{"action": {ports.ActionSubmit}})}
	case "POST /procedures/:id/edit":
		return []payload{formPayload(url.Values{"fact_date": {"2026-04-02"}, "version": {"1"}})}
	case "POST /api/v1/procedures/:id/attachments", "POST /procedures/:id/attachments":
		return []payload{filePayload("侵入.pdf", attachmentPDF)}
	case "POST /api/v1/employees/import":
		return []payload{{query: "dry_run=true", contentType: "text/csv", body: csvRows(900, 1)}}
	case "POST /employees/import":
		return []payload{filePayload("侵入.csv", []byte(csvRows(900, 1)))}
	case "PATCH /api/v1/accounts/:id":
		return []payload{jsonPayload(`{"name":"侵入","roles":["admin"]}`)}
	case "PATCH /api/v1/webhooks/:id":
		return []payload{jsonPayload(`{"description":"侵入"}`)}
	}
	method, route, _ := strings.Cut(key, " ")
	// The caller's own password wherever one is asked for again, so that no refusal is a wrong password's
	// (nor the lock that repeated wrong ones bring).
	reauth := map[string]string{"current_password": password}
	switch {
	case method == http.MethodGet:
		return []payload{{}}
	case strings.HasPrefix(route, "/api/") || strings.HasSuffix(route, "/webauthn/begin") || strings.HasSuffix(route, "/webauthn/finish"):
		return []payload{jsonPayload(reauth)}
	}
	return []payload{formPayload(url.Values{"current_password": {password}})}
}

// caller is whom the sweep sends a request as: a bearer token on the API, a session cookie on the pages ("" sends
// none). password is the caller's own.
type caller struct {
	name, bearer, cookie, password string
}

// sweepCSRF is the CSRF token of every page request of the sweep, in the cookie and the header alike, so that
// what refuses a form is never the CSRF check but the session and the rules behind it.
var sweepCSRF = strings.Repeat("c", 43)

// sweep is the service with its two tenants seeded, the callers, and the count of what the sweep did.
type sweep struct {
	t          *testing.T
	a          *app
	tenantA    *tenantData
	tenantB    *tenantData
	idsA, idsB map[string]string // each tenant's resources and the console's, by fill's keys
	// signedOut hold no valid session; intruders are tenant A's admin by session and by API token.
	signedOut, intruders   []caller
	employee, hr, operator caller // an employee and an hr of tenant A, an operator
	requests, failures     int
}

func isAPI(route string) bool { return strings.HasPrefix(route, "/api/") }

func (s *sweep) send(c caller, method, route, path string, p payload) response {
	s.t.Helper()
	h := http.Header{}
	if isAPI(route) {
		if c.bearer != "" {
			h.Set("Authorization", "Bearer "+c.bearer)
		}
		h.Set("If-Match", "*") // a version check must not be what refuses a write
	} else {
		cookie := "roumu_csrf=" + sweepCSRF
		if c.cookie != "" {
			cookie += "; roumu_session=" + c.cookie
		}
		h.Set("Cookie", cookie)
		h.Set("X-CSRF-Token", sweepCSRF)
	}
	var body io.Reader
	if p.contentType != "" {
		h.Set("Content-Type", p.contentType)
		body = strings.NewReader(p.body)
	}
	if p.query != "" {
		path += "?" + p.query
	}
	s.requests++
	return s.a.send(method, path, body, h)
}

// fail reports a request the sweep did not expect to be answered as it was; past 50 failures it stops
// listing them.
func (s *sweep) fail(c caller, method, path string, res response, format string, args ...any) {
	s.t.Helper()
	s.failures++
	if s.failures <= 50 {
		s.t.Errorf("%s: %s %s: %d %.300s: %s", c.name, method, path, res.status, res, fmt.Sprintf(format, args...))
	}
}

// refusalPages are where the pages send a caller they turn away: a login form, or the page of the step the
// session owes or of its own area.
var refusalPages = []string{"/login", "/ops/login", "/", "/ops", "/settings/security", "/login/mfa"}

// refused fails unless res turns the caller away: a 4xx problem document on the API; a 4xx page, or a 303 to
// a login form or a step, on the pages.
func (s *sweep) refused(c caller, method, route, path string, res response) {
	s.t.Helper()
	switch {
	case res.status >= 400 && res.status < 500 && isAPI(route):
		if _, err := decodeProblem(res); err != nil {
			s.fail(c, method, path, res, "refusal is no problem document: %v", err)
		}
	case res.status >= 400 && res.status < 500:
	case res.status == http.StatusSeeOther && !isAPI(route) && slices.Contains(refusalPages, res.header.Get("Location")):
	default:
		s.fail(c, method, path, res, "want a refusal")
	}
}

// loggedOut fails unless res is the answer to a request without a valid session: 401 on the API, a 303 to the
// login form on the pages.
func (s *sweep) loggedOut(c caller, method, route, path string, res response) {
	s.t.Helper()
	if isAPI(route) {
		if p, err := decodeProblem(res); res.status != http.StatusUnauthorized || err != nil {
			s.fail(c, method, path, res, "want 401: %v %+v", err, p)
		}
		return
	}
	login := "/login"
	if path == "/ops" || strings.HasPrefix(path, "/ops/") {
		login = "/ops/login"
	}
	if res.status != http.StatusSeeOther || res.header.Get("Location") != login {
		s.fail(c, method, path, res, "want a 303 to %s", login)
	}
}

// served fails on a server error.
func (s *sweep) served(c caller, method, path string, res response) {
	s.t.Helper()
	if res.status >= 500 {
		s.fail(c, method, path, res, "server error")
	}
}

// noLeak fails when res shows anything of other: its marker, its name, or an ID of its resources the request
// did not name itself.
func (s *sweep) noLeak(c caller, method, path string, p payload, res response, other *tenantData) {
	s.t.Helper()
	sent := path + "?" + p.query + p.body
	if !strings.Contains(sent, other.marker) && bytes.Contains(res.body, []byte(other.marker)) ||
		bytes.Contains(res.body, []byte(other.name)) {
		s.fail(c, method, path, res, "shows tenant %s's data", other.code)
		return
	}
	for kind, id := range other.ids {
		if !strings.Contains(sent, id) && bytes.Contains(res.body, []byte(id)) {
			s.fail(c, method, path, res, "shows tenant %s's %s %s", other.code, kind, id)
			return
		}
	}
}

// tenantData is what the sweep seeds in a tenant: one resource of every kind, by the key fill looks them up
// under, each named with the tenant's marker.
type tenantData struct {
	code, marker, name string
	ids                map[string]string
	admin              caller // the admin, with an API session and a page session
	token              string // an API token of the admin's with every scope
}

// seedTenant logs in the admin of a tenant that app.tenant made and creates one of everything: a department,
// an employee in it with a dependent and a scheduled change, the procedures of the hire with an attachment, an
// account with a security key, a webhook, an API token, an import job and an upload waiting in the import
// wizard.
func seedTenant(a *app, code string) *tenantData {
	t := a.t
	t.Helper()
	marker := strings.ToUpper(code)
	d := &tenantData{code: code, marker: marker, name: code + " 株式会社", ids: map[string]string{}}
	admin := a.login(code, "admin", testenv.NewPassword, "full").Token
	d.ids["tenants"] = a.me(admin).Tenant.ID
	d.ids["accounts"] = a.me(admin).Account.ID

	var dept struct{ ID string }
	wantJSON(t, a.api(http.MethodPost, "/api/v1/departments", admin, jsonBody(t, map[string]string{"code": marker, "name": marker + "部"})),
		http.StatusCreated, &dept)
	d.ids["departments"] = dept.ID
	emp := a.createEmployee(admin, marker+"001", map[string]any{"department_id": dept.ID, "family_name": marker, "hire_date": "2026-04-01"})
	d.ids["employees"] = emp.ID
	var withDep employee
	wantJSON(t, a.api(http.MethodPost, "/api/v1/employees/"+emp.ID+"/dependents", admin,
		`{"relationship":"child","family_name":"`+marker+`","given_name":"一郎","birth_date":"2015-01-01","my_number":"983205673214"}`),
		http.StatusCreated, &withDep)
	d.ids[":dep_id"] = withDep.Dependents[0].ID
	wantJSON(t, a.withHeaders(http.MethodPatch, "/api/v1/employees/"+emp.ID, admin, `{"position":"部長","effective_on":"2027-04-01"}`,
		"If-Match", "*"), http.StatusOK, nil)
	var hist struct{ Items []struct{ ID string } }
	wantJSON(t, a.api(http.MethodGet, "/api/v1/employees/"+emp.ID+"/history", admin, ""), http.StatusOK, &hist)
	d.ids[":change_id"] = hist.Items[0].ID

	a.consume()
	proc := a.employeeProcedures(admin, emp.ID)[ports.ProcedureHealthPensionAcquisition]
	d.ids["procedures"] = proc.ID
	// The employer's block, so that the procedure's e-filing data can be made.
	wantJSON(t, a.withHeaders(http.MethodPatch, "/api/v1/procedures/"+proc.ID, admin, `{"fields":{`+
		`"employer.prefecture_code":"21","employer.district_code":"01","employer.office_symbol":"ﾛｳﾑ",`+
		`"employer.office_number":"12345","employer.name":"株式会社`+marker+`","employer.postal_code":"100-8916",`+
		`"employer.address":"東京都千代田区霞が関1-2-2","employer.owner_name":"労務　太郎","employer.phone":"03-1234-5678"}}`,
		"If-Match", "*"), http.StatusOK, nil)
	var att attachment
	wantJSON(t, a.uploadAttachment(admin, proc.ID, marker+".pdf", attachmentPDF), http.StatusCreated, &att)
	d.ids[":aid"] = att.ID

	d.ids["webhooks"] = a.createWebhook(admin, "http://127.0.0.1:9/"+code, "employee.hired").ID
	tok := a.createToken(admin, ports.Scopes...)
	d.ids["api-tokens"], d.ids["tokens"], d.token = tok.ID, tok.ID, tok.Token

	res := a.importCSV(admin, "", "text/csv", strings.NewReader(
		"社員番号,姓,名,セイ,メイ,生年月日,性別,入社日\n"+marker+"002,"+marker+",花子,サトウ,ハナコ,1988-02-01,女,2024-04-01\n"))
	var queued job
	wantJSON(t, res, http.StatusAccepted, &queued)
	a.waitJob(admin, res.header.Get("Location"))
	d.ids["jobs"] = queued.ID

	b := a.browser()
	b.logIn(code, "admin", testenv.NewPassword, "/")
	wantPage(t, b.get("/employees/import"), http.StatusOK)
	res = b.upload("/employees/import", marker+".csv", []byte("社員番号,姓\n"+marker+"003,"+marker+"\n"), url.Values{"encoding": {""}})
	loc, _, _ := strings.Cut(res.header.Get("Location"), "?")
	upload, ok := strings.CutPrefix(loc, "/employees/import/")
	if res.status != http.StatusSeeOther || !ok {
		t.Fatalf("upload: %s", res)
	}
	d.ids[":upload"] = upload

	keyholder := a.createAccount(admin, strings.ToLower(marker)+".key", marker+" 鍵", "employee")
	d.ids["webauthn"] = a.addSecurityKey(a.activate(code, keyholder).Token, testenv.Password)

	d.admin = caller{name: "admin of " + code, bearer: admin, cookie: b.cookies["roumu_session"].Value, password: testenv.NewPassword}
	return d
}

// addSecurityKey registers an emulated security key for the caller through the API and returns its ID.
func (a *app) addSecurityKey(token, password string) string {
	a.t.Helper()
	res := a.api(http.MethodPost, "/api/v1/me/mfa/webauthn/begin", token,
		jsonBody(a.t, map[string]string{"current_password": password, "name": "鍵"}))
	wantJSON(a.t, res, http.StatusOK, nil)
	options, err := virtualwebauthn.ParseAttestationOptions(string(res.body))
	if err != nil {
		a.t.Fatal(err)
	}
	rp := virtualwebauthn.RelyingParty{ID: "localhost", Name: "Roumu", Origin: testenv.PublicURL}
	attestation := virtualwebauthn.CreateAttestationResponse(rp, virtualwebauthn.NewAuthenticator(), virtualkey.New(a.t), *options)
	var enrolled session
	wantJSON(a.t, a.api(http.MethodPost, "/api/v1/me/mfa/webauthn/finish", token, attestation), http.StatusOK, &enrolled)
	var status struct {
		WebAuthn []struct{ ID string } `json:"webauthn"`
	}
	wantJSON(a.t, a.api(http.MethodGet, "/api/v1/me/mfa", enrolled.Token, ""), http.StatusOK, &status)
	if len(status.WebAuthn) != 1 {
		a.t.Fatalf("security keys after registering one: %+v", status)
	}
	return status.WebAuthn[0].ID
}

// memberOf logs a new member of the tenant with role in through the API and the pages; they have their own
// employee record.
func (a *app) memberOf(d *tenantData, login string, role string) caller {
	a.t.Helper()
	acct := a.createAccount(d.admin.bearer, login, d.marker+" "+login, role)
	s := a.activate(d.code, acct)
	a.createEmployee(d.admin.bearer, d.marker+"-"+role, map[string]any{"account_id": acct.ID})
	b := a.browser()
	b.logIn(d.code, login, testenv.Password, "/")
	return caller{name: role + " of " + d.code, bearer: s.Token, cookie: b.cookies["roumu_session"].Value, password: testenv.Password}
}

// flip changes one character of a token, keeping its shape.
func flip(token string) string {
	b := []byte(token)
	i := len(b) - 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestIsolationSweep calls every registered route as an intruder would and holds each answer to the route's
// rule (sweepAccess):
//   - without a valid session (none, a random token, a real one with a character changed, a revoked or
//     expired API token, an expired session, an API token as a page cookie): 401 on the API, the login form
//     on the pages;
//   - tenant A's admin, by session and by API token with every scope, with tenant B's IDs in the path (and in
//     the body of creations): refused, and nothing of B's in any answer; the console refused too;
//   - tenant A's employee on staff and admin routes and on every route naming another person's resources, and
//     A's hr on admin routes: refused;
//   - an operator on the tenants' routes: refused;
//   - never a 5xx.
//
// B's admin reads every resource the sweep names (so the refusals are not about IDs that exist nowhere) before
// and after, and finds it unchanged; the operator reads the console's.
func TestIsolationSweep(t *testing.T) {
	t.Parallel()
	started := time.Now()
	env := testenv.New(t)
	// Every import becomes a job, so that the tenants have one.
	srv := newServerWith(t, env, web.Config{PublicURL: testenv.PublicURL, ImportSyncLimit: 1})
	a := serveApp(t, env, srv)
	t.Cleanup(srv.WaitJobs) // the intruders' imports, before the server goes
	s := newSweep(t, a)

	var routes []string
	for _, r := range srv.Echo().Routes() {
		routes = append(routes, r.Method+" "+r.Path)
	}
	sort.Strings(routes)
	for key, rule := range sweepAccess {
		if rule != public && !slices.Contains(routes, key) {
			t.Errorf("sweepAccess names %s, which is not a route", key)
		}
	}

	before := s.control(routes)
	for _, key := range routes {
		if rule, ok := sweepAccess[key]; ok {
			s.route(key, rule)
		} else {
			t.Errorf("%s has no rule in sweepAccess: say who it is for", key)
		}
	}

	// The callers' sessions were alive throughout, so their refusals were the rules', and B is as it was.
	for _, c := range append(s.intruders, s.employee, s.hr, s.operator) {
		if res := s.send(c, http.MethodGet, "/api/v1/me", "/api/v1/me", payload{}); res.status == http.StatusUnauthorized {
			t.Errorf("%s's session after the sweep: %s", c.name, res) // (an API token gets 403 here: it is no person)
		}
	}
	after := s.control(routes)
	for path, body := range before {
		if after[path] != body {
			t.Errorf("tenant B's %s changed:\nbefore %.400s\nafter  %.400s", path, body, after[path])
		}
	}
	t.Logf("swept %d routes with %d requests in %s", len(routes), s.requests, time.Since(started).Round(time.Millisecond))
}

// newSweep seeds the tenants alpha (A) and beta (B) and the console, and makes the callers, some of whose
// credentials have expired or been revoked by the time it returns.
func newSweep(t *testing.T, a *app) *sweep {
	t.Helper()
	_, expiring := a.tenant("alpha")
	a.tenant("beta")
	expiringPage := a.browser()
	expiringPage.logIn("alpha", "admin", testenv.NewPassword, "/")
	var expiringToken apiToken
	wantJSON(t, a.api(http.MethodPost, "/api/v1/api-tokens", expiring,
		jsonBody(t, map[string]any{"name": "短期", "scopes": ports.Scopes, "expires_in_days": 1})), http.StatusCreated, &expiringToken)
	revoked := a.createToken(expiring, ports.Scopes...)
	if res := a.api(http.MethodDelete, "/api/v1/api-tokens/"+revoked.ID, expiring, ""); res.status != http.StatusNoContent {
		t.Fatalf("revoking: %s", res)
	}
	a.env.Clock.Advance(24*time.Hour + time.Minute)

	s := &sweep{t: t, a: a, tenantA: seedTenant(a, "alpha"), tenantB: seedTenant(a, "beta")}
	s.employee, s.hr = a.memberOf(s.tenantA, "alpha.employee", ports.RoleEmployee), a.memberOf(s.tenantA, "alpha.hr", ports.RoleHR)
	opID, opToken, secret := a.operator("ops.sweep")
	var request, incident struct{ ID string }
	wantJSON(t, a.api(http.MethodPost, "/api/v1/ops/requests", opToken, jsonBody(t, map[string]any{
		"kind": ports.OpTenantSuspend, "params": map[string]string{"tenant_id": s.tenantB.ids["tenants"]}, "reason": "解約"})),
		http.StatusCreated, &request)
	wantJSON(t, a.api(http.MethodPost, "/api/v1/ops/notices/incidents", opToken,
		`{"severity":"minor","known_at":"2026-04-02T09:00:00+09:00","title_ja":"遅延","body_ja":"調査中"}`), http.StatusCreated, &incident)
	s.operator = caller{name: "operator", bearer: opToken, cookie: a.opsBrowser("ops.sweep", secret).cookies["roumu_session"].Value,
		password: testenv.Password}
	// A key rotation job, as an approved rotation leaves it (under the request's ID, as its work record's).
	now := a.env.Clock.Now()
	if err := a.env.Store.CreateResealJob(t.Context(), ports.ResealJob{ID: request.ID, KeyID: 2, Status: ports.ResealRunning,
		StartedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	console := map[string]string{"operators": opID, "requests": request.ID, "notices": incident.ID, "key-rotations": request.ID}
	s.idsA, s.idsB = maps.Clone(console), maps.Clone(console)
	maps.Copy(s.idsA, s.tenantA.ids)
	maps.Copy(s.idsB, s.tenantB.ids)

	admin, token := s.tenantA.admin, s.tenantA.token
	s.signedOut = []caller{
		{name: "no credentials"},
		{name: "a random token", bearer: randomToken(), cookie: randomToken()},
		{name: "A's session with a character changed", bearer: flip(admin.bearer), cookie: flip(admin.cookie)},
		{name: "A's API token with a character changed", bearer: flip(token), cookie: flip(token)},
		{name: "A's revoked API token", bearer: revoked.Token, cookie: revoked.Token},
		{name: "A's expired API token", bearer: expiringToken.Token, cookie: expiringToken.Token},
		{name: "A's expired session", bearer: expiring, cookie: expiringPage.cookies["roumu_session"].Value},
		{name: "A's API token as a page cookie", cookie: token},
	}
	s.intruders = []caller{admin, {name: "API token of alpha", bearer: token}}
	return s
}

// route sweeps one route: every caller, with B's IDs for the signed-out, the intruders and the operator, and
// with A's own for A's employee and hr.
func (s *sweep) route(key string, rule access) {
	s.t.Helper()
	method, route, _ := strings.Cut(key, " ")
	pathsB, err := fill(route, s.idsB)
	if err != nil {
		s.t.Error(err)
		return
	}
	pathsA, _ := fill(route, s.idsA)
	hasParams := strings.ContainsAny(route, ":*")
	for _, path := range pathsB {
		for _, c := range s.signedOut {
			if c.bearer == "" && c.cookie != "" && isAPI(route) {
				continue // a page cookie, not sent to the API
			}
			res := s.send(c, method, route, path, payloads(key, s.idsB, s.tenantB.marker, c.password)[0])
			if rule == public {
				s.served(c, method, path, res)
			} else {
				s.loggedOut(c, method, route, path, res)
			}
		}
		for _, c := range s.intruders {
			if rule == public || rule == ending || rule == self && !hasParams || !isAPI(route) && c.cookie == "" {
				continue // nothing of B's, only the caller's own account, whose changes end the sweep's sessions
			}
			mustRefuse := hasParams || rule == operator || rule == mfaStep || slices.Contains(crossTenant, key)
			for _, p := range payloads(key, s.idsB, s.tenantB.marker, c.password) {
				res := s.send(c, method, route, path, p)
				s.served(c, method, path, res)
				if mustRefuse {
					s.refused(c, method, route, path, res)
				}
				s.noLeak(c, method, path, p, res, s.tenantB)
			}
		}
		switch {
		case rule == shared || rule == member || rule == staff || rule == admin || rule == mfaStep:
			for _, p := range payloads(key, s.idsB, s.tenantB.marker, s.operator.password) {
				s.refused(s.operator, method, route, path, s.send(s.operator, method, route, path, p))
			}
		case rule == operator && method == http.MethodGet: // what the tenants are refused is there
			if res := s.send(s.operator, method, route, path, payload{}); res.status != http.StatusOK {
				s.fail(s.operator, method, path, res, "the operator cannot read it")
			}
		}
	}
	if rule == public {
		return
	}
	// hr's own work, and the employee's own record and account, are the modules' tests' to hold.
	refuses := map[caller]bool{
		s.employee: rule == staff || rule == admin || rule == operator || rule == mfaStep || hasParams && rule != shared,
		s.hr:       rule == admin || rule == operator || rule == mfaStep,
	}
	for _, path := range pathsA {
		for c, refuse := range refuses {
			if !refuse {
				continue
			}
			for _, p := range payloads(key, s.idsA, s.tenantA.marker, c.password) {
				res := s.send(c, method, route, path, p)
				s.refused(c, method, route, path, res)
				s.noLeak(c, method, path, p, res, s.tenantB)
			}
		}
	}
}

// control has B's admin read every resource the sweep names in B and returns the JSON answers by path: each
// must be a success, so that the sweep's refusals are about ownership and not about IDs that exist nowhere.
func (s *sweep) control(routes []string) map[string]string {
	s.t.Helper()
	answers := map[string]string{}
	for _, key := range routes {
		method, route, _ := strings.Cut(key, " ")
		if method != http.MethodGet || !strings.Contains(route, ":") {
			continue
		}
		if rule := sweepAccess[key]; rule != shared && rule != member && rule != staff && rule != admin && rule != self {
			continue
		}
		paths, err := fill(route, s.idsB)
		if err != nil {
			continue // reported by the sweep
		}
		for _, path := range paths {
			res := s.send(s.tenantB.admin, method, route, path, payload{})
			if res.status != http.StatusOK {
				s.fail(s.tenantB.admin, method, path, res, "the owner cannot read it")
			}
			if strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
				answers[path] = string(res.body)
			}
		}
	}
	return answers
}

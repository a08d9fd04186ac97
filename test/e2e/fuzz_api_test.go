package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roumu/roumu/test/testenv"
)

// fuzzRoute is one API route the fuzzer drives, with a valid body (or query) as its seed.
type fuzzRoute struct {
	method, path, contentType string
	seed                      string // the body of a valid request, or the query of a list
}

// FuzzAPIRequests sends arbitrary bodies and query strings to the API's write and list routes, as an admin of
// a tenant with an employee, and checks that every answer is a success or a complete problem document: never
// a 5xx, never an error in another shape. The seeds are valid requests, so the fuzzer starts from bodies
// that reach the modules' rules rather than only the JSON decoder.
func FuzzAPIRequests(f *testing.F) {
	env := testenv.New(f)
	handler := newServer(f, env, testenv.PublicURL).Handler()
	tenant, _ := env.Tenant(f, "acme")
	restrictIPs(f, env, tenant.ID, "192.0.2.0/24") // the address httptest gives every request
	call := func(method, target, token, contentType string, body []byte, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/", bytes.NewReader(body))
		req.URL.Path, req.URL.RawQuery, _ = strings.Cut(target, "?")
		req.RequestURI = ""
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec
	}
	created := func(rec *httptest.ResponseRecorder) string {
		var v struct {
			ID    string `json:"id"`
			Token string `json:"token"`
		}
		if rec.Code >= 300 || json.Unmarshal(rec.Body.Bytes(), &v) != nil {
			f.Fatalf("setup: %d %s", rec.Code, rec.Body)
		}
		return v.ID + v.Token
	}
	const js = "application/json"
	token := created(call(http.MethodPost, "/api/v1/auth/login", "", js,
		[]byte(loginBody(f, "acme", "admin", testenv.NewPassword))))
	employeeID := created(call(http.MethodPost, "/api/v1/employees", token, js,
		[]byte(jsonBody(f, newEmployeeBody("E0001", nil)))))

	routes := []fuzzRoute{
		{http.MethodPost, "/api/v1/employees", js, jsonBody(f, newEmployeeBody("E0002", nil))},
		{http.MethodPatch, "/api/v1/employees/" + employeeID, js, `{"position":"課長","address":{"postal_code":"100-0001"}}`},
		{http.MethodPost, "/api/v1/employees/" + employeeID + "/dependents", js,
			`{"family_name":"山田","given_name":"花子","family_name_kana":"ヤマダ","given_name_kana":"ハナコ","birth_date":"2020-05-01","relationship":"child","gender":"female"}`},
		{http.MethodPost, "/api/v1/departments", js, `{"code":"HR","name":"人事部"}`},
		{http.MethodPost, "/api/v1/procedures", js,
			`{"type":"bonus_payment_report","employee_id":"` + employeeID + `","fact_date":"2026-04-01","fields":{"bonus.amount":"500000"}}`},
		{http.MethodPost, "/api/v1/webhooks", js, `{"url":"https://hooks.example.com/x","event_types":["employee.hired"]}`},
		{http.MethodPost, "/api/v1/api-tokens", js, `{"name":"給与","scopes":["employees:read"],"expires_in_days":30}`},
		{http.MethodPost, "/api/v1/accounts", js, `{"login":"sato","name":"佐藤 一郎","roles":["hr"]}`},
		{http.MethodPut, "/api/v1/tenant/ip-restriction", js, `{"allowed_cidrs":["192.0.2.0/24","2001:db8::/32"]}`},
		{http.MethodPost, "/api/v1/employees/import?dry_run=true", "text/csv; charset=utf-8",
			"社員番号,姓,名,セイ,メイ,生年月日,性別,入社日\r\nE0100,佐藤,一郎,サトウ,イチロウ,1990-01-02,男,2026-04-01\r\n"},
		{http.MethodGet, "/api/v1/employees", "", "limit=5&sort=kana&status=active&updated_since=2026-01-01T00:00:00Z"},
		{http.MethodGet, "/api/v1/procedures", "", "limit=5&sort=updated_at&status=draft,approved&due_before=2026-05-01"},
		{http.MethodGet, "/api/v1/departments", "", "limit=2"},
		{http.MethodGet, "/api/v1/accounts", "", "limit=2&cursor=bm90IGEgY3Vyc29y"},
	}
	for i, r := range routes {
		if r.method == http.MethodGet {
			f.Add(uint8(i), r.seed, []byte(nil))
		} else {
			f.Add(uint8(i), "", []byte(r.seed))
		}
	}
	f.Add(uint8(0), "skip_webhooks=maybe", []byte(`{"employee_number":"E\u0000","birth_date":"2026-02-30"}`))
	f.Add(uint8(1), "", []byte(`{"monthly_pay":{"cash":-1e309}}`))
	f.Add(uint8(4), "", []byte(`{"type":"bonus_payment_report","employee_id":"`+strings.Repeat("9", 300)+`"}`))

	f.Fuzz(func(t *testing.T, route uint8, query string, body []byte) {
		r := routes[int(route)%len(routes)]
		target, header := r.path, []string{}
		if query != "" {
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			target += sep + query
		}
		if r.method == http.MethodPatch { // the current version, so that the body is read and not refused as stale
			header = append(header, "If-Match", call(http.MethodGet, r.path, token, "", nil).Header().Get("ETag"))
		}
		rec := call(r.method, target, token, r.contentType, body, header...)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, target, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			if _, err := decodeProblem(response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}); err != nil {
				t.Fatalf("%s %s %q: %d: %v: %s", r.method, target, body, rec.Code, err, rec.Body)
			}
		}
	})
}

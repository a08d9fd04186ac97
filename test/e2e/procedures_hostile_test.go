package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roumu/roumu/ports"
)

// TestHostileProcedureRequestsAreRefusedAndChangeNothing: malformed and hostile requests to the procedures
// API are each refused with a 4xx problem document, never a 500, and leave every procedure as it was.
func TestHostileProcedureRequestsAreRefusedAndChangeNothing(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	hr := a.activate("acme", a.createAccount(admin, "sato", "佐藤 一郎", "hr")).Token
	self := a.activate("acme", a.createAccount(admin, "tanaka", "田中 花子", "employee")).Token
	emp := a.hire(admin, "H001", "2026-04-01")
	p := a.employeeProcedures(admin, emp.ID)[ports.ProcedureHealthPensionAcquisition]
	pending := a.employeeProcedures(admin, a.hire(admin, "H002", "2026-04-01").ID)[ports.ProcedureHealthPensionAcquisition]
	a.act(hr, pending.ID, ports.ActionSubmit, "")
	path := "/api/v1/procedures/" + p.ID

	const js = "application/json"
	text := func(s string) io.Reader { return strings.NewReader(s) }
	create := func(set string) io.Reader {
		return text(`{"type":"bonus_payment_report","employee_id":"` + emp.ID + `","fact_date":"2026-04-01"` + set + `}`)
	}
	cases := []hostileRequest{
		{"truncated JSON", "POST", "/api/v1/procedures", "admin", js, text(`{"type":"bonus`), 400, "malformed_json"},
		{"array body", "POST", "/api/v1/procedures", "admin", js, text(`[{}]`), 400, "malformed_json"},
		{"unknown member", "POST", "/api/v1/procedures", "admin", js, create(`,"status":"completed"`), 400, "unknown_field"},
		{"duplicate member", "POST", "/api/v1/procedures", "admin", js, text(`{"type":"a","type":"b"}`), 400, "duplicate_field"},
		{"NUL in the comment", "POST", "/api/v1/procedures", "admin", js, create(`,"comment":"a\u0000b"`), 400, "malformed_json"},
		{"invalid UTF-8", "POST", "/api/v1/procedures", "admin", js, create(",\"comment\":\"\xff\xfe\""), 400, "malformed_json"},
		{"fields as an array", "POST", "/api/v1/procedures", "admin", js, create(`,"fields":["a"]`), 422, "invalid_type"},
		{"field as a number", "POST", "/api/v1/procedures", "admin", js, create(`,"fields":{"bonus.amount":500000}`), 422, "invalid_type"},
		{"unknown field of the snapshot", "POST", "/api/v1/procedures", "admin", js, create(`,"fields":{"my_number":"123456789018"}`), 422, "validation_failed"},
		{"unknown type", "POST", "/api/v1/procedures", "admin", js, text(`{"type":"'; DROP TABLE procedures; --","employee_id":"` + emp.ID + `","fact_date":"2026-04-01"}`), 422, "validation_failed"},
		{"impossible fact date", "POST", "/api/v1/procedures", "admin", js, text(`{"type":"bonus_payment_report","employee_id":"` + emp.ID + `","fact_date":"2026-02-30"}`), 422, "validation_failed"},
		{"fact date out of the calendar", "POST", "/api/v1/procedures", "admin", js, text(`{"type":"bonus_payment_report","employee_id":"` + emp.ID + `","fact_date":"9999-12-31"}`), 422, "validation_failed"},
		{"unknown office", "POST", "/api/v1/procedures", "admin", js, create(`,"office":"tax_office"`), 422, "validation_failed"},
		{"unknown employee", "POST", "/api/v1/procedures", "admin", js, text(`{"type":"bonus_payment_report","employee_id":"nosuch","fact_date":"2026-04-01"}`), 404, "not_found"},
		{"empty object", "POST", "/api/v1/procedures", "admin", js, text(`{}`), 422, "validation_failed"},
		{"form encoding", "POST", "/api/v1/procedures", "admin", "application/x-www-form-urlencoded", text("type=x"), 415, "unsupported_media_type"},
		{"2 MiB body", "POST", "/api/v1/procedures", "admin", js, create(`,"comment":"` + strings.Repeat("x", 2<<20) + `"`), 413, "body_too_large"},
		{"2 MiB action body of unknown length", "POST", path + "/cancel", "admin", js, chunked{text(`{"comment":"` + strings.Repeat("x", 2<<20) + `"}`)}, 413, "body_too_large"},
		{"comment as a number", "POST", path + "/cancel", "admin", js, text(`{"comment":1}`), 422, "invalid_type"},
		{"action body as text", "POST", path + "/cancel", "admin", "text/plain", text("理由"), 415, "unsupported_media_type"},
		{"action with an unknown member", "POST", path + "/submit", "admin", js, text(`{"comment":"","force":true}`), 400, "unknown_field"},
		{"cancel without a reason", "POST", path + "/cancel", "admin", "", nil, 422, "validation_failed"},
		{"return without a reason", "POST", "/api/v1/procedures/" + pending.ID + "/return", "admin", js, text(`{"comment":"  "}`), 422, "validation_failed"},
		{"unknown action", "POST", path + "/publish", "admin", "", nil, 404, "not_found"},
		{"action in upper case", "POST", path + "/SUBMIT", "admin", "", nil, 404, "not_found"},
		{"GET an action", "GET", path + "/submit", "admin", "", nil, 405, "method_not_allowed"},
		{"DELETE a procedure", "DELETE", path, "admin", "", nil, 405, "method_not_allowed"},
		{"PATCH without If-Match", "PATCH", path, "admin", js, text(`{"fact_date":"2026-04-02"}`), 428, "precondition_required"},
		{"path traversal", "GET", "/api/v1/procedures/..%2F..%2Fetc%2Fpasswd", "admin", "", nil, 404, "not_found"},
		{"overlong id", "GET", "/api/v1/procedures/" + strings.Repeat("a", 65), "admin", "", nil, 404, "not_found"},
		{"SQL id", "POST", "/api/v1/procedures/" + url.PathEscape("1' OR '1'='1") + "/approve", "admin", "", nil, 404, "not_found"},
		{"NUL id", "GET", "/api/v1/procedures/%00", "admin", "", nil, 404, "not_found"},
		{"unknown status", "GET", "/api/v1/procedures?status=done", "admin", "", nil, 422, "validation_failed"},
		{"unknown type filter", "GET", "/api/v1/procedures?type=" + url.QueryEscape("' OR 1=1 --"), "admin", "", nil, 422, "validation_failed"},
		{"bad due_before", "GET", "/api/v1/procedures?due_before=tomorrow", "admin", "", nil, 422, "validation_failed"},
		{"unknown parameter", "GET", "/api/v1/procedures?order=created_at", "admin", "", nil, 422, "validation_failed"},
		{"unknown sort", "GET", "/api/v1/procedures?sort=" + url.QueryEscape("due_date; DROP TABLE procedures"), "admin", "", nil, 422, "validation_failed"},
		{"bad updated_since", "GET", "/api/v1/procedures?updated_since=yesterday", "admin", "", nil, 422, "validation_failed"},
		{"cursor of another sort", "GET", "/api/v1/procedures?sort=updated_at&cursor=eyJzIjoiZHVlX2RhdGUiLCJrIjoiMjAyNi0wNC0wMSIsImkiOiJ4In0", "admin", "", nil, 400, "invalid_cursor"},
		{"negative limit", "GET", "/api/v1/procedures?limit=-1", "admin", "", nil, 422, "validation_failed"},
		{"huge limit text", "GET", "/api/v1/procedures?limit=" + strings.Repeat("9", 40), "admin", "", nil, 422, "validation_failed"},
		{"forged cursor", "GET", "/api/v1/procedures?cursor=eyJkIjoiMjAyNi0wNC0wMSJ9", "admin", "", nil, 400, "invalid_cursor"},
		{"garbage cursor", "GET", "/api/v1/procedures?cursor=" + strings.Repeat("%FF", 10), "admin", "", nil, 400, "invalid_cursor"},
		{"year as text", "POST", "/api/v1/procedures/annual-reports", "admin", js, text(`{"year":"2026"}`), 422, "invalid_type"},
		{"year out of the calendar", "POST", "/api/v1/procedures/annual-reports", "admin", js, text(`{"year":1e9}`), 422, "invalid_type"},
		{"year zero", "POST", "/api/v1/procedures/annual-reports", "admin", js, text(`{"year":0}`), 422, "validation_failed"},
		{"approval by hr", "POST", "/api/v1/procedures/" + pending.ID + "/approve", "hr", "", nil, 403, "approver_role_required"},
		{"approval by an employee", "POST", "/api/v1/procedures/" + pending.ID + "/approve", "employee", "", nil, 403, "forbidden"},
		{"list by an employee", "GET", "/api/v1/procedures", "employee", "", nil, 403, "forbidden"},
		{"no token", "GET", "/api/v1/procedures", "", "", nil, 401, "unauthenticated"},
	}
	tokens := map[string]string{"admin": admin, "hr": hr, "employee": self}
	state := func() any { return a.procedureSnapshot(admin) }
	refuseAll(t, a, tokens, cases, state)

	// Preconditions of a write: a stale version, a list, garbage.
	for _, c := range []struct {
		ifMatch, code string
		status        int
	}{
		{`"999"`, "stale_version", http.StatusPreconditionFailed},
		{`"1", "2"`, "invalid_if_match", http.StatusBadRequest},
		{`1`, "invalid_if_match", http.StatusBadRequest},
	} {
		before := state()
		for _, target := range []string{path, path + "/submit"} {
			method, body := http.MethodPatch, `{"fields":{"position":"x"}}`
			if target != path {
				method, body = http.MethodPost, `{"comment":"x"}`
			}
			res := a.send(method, target, strings.NewReader(body), http.Header{"Authorization": {"Bearer " + admin},
				"Content-Type": {js}, "If-Match": {c.ifMatch}})
			if pr, err := decodeProblem(res); err != nil || res.status != c.status || pr.Code != c.code {
				t.Errorf("%s %s with If-Match %s: %d %s (%v), want %d %s", method, target, c.ifMatch, res.status, pr.Code, err, c.status, c.code)
			}
		}
		assertUnchanged(t, before, state())
	}
}

// procedureSnapshot is every procedure of the tenant as its admin reads it.
func (a *app) procedureSnapshot(token string) any {
	a.t.Helper()
	list := a.api(http.MethodGet, "/api/v1/procedures?limit=200", token, "")
	if list.status != http.StatusOK {
		a.t.Fatalf("snapshot: %s", list)
	}
	return string(list.body)
}

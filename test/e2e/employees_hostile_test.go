package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestHostileRegisterRequestsAreRefusedAndChangeNothing: malformed and hostile requests to the employee
// register are each refused with a 4xx problem document, never a 500, and leave the register, its
// departments and its history as they were.
func TestHostileRegisterRequestsAreRefusedAndChangeNothing(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	self := a.activate("acme", a.createAccount(admin, "tanaka", "田中 花子", "employee")).Token
	emp := a.createEmployee(admin, "X001", nil)
	_, tag := a.getEmployee(admin, emp.ID)
	path := "/api/v1/employees/" + emp.ID

	const js = "application/json"
	text := func(s string) io.Reader { return strings.NewReader(s) }
	valid := jsonBody(t, newEmployeeBody("X002", nil))
	cases := []hostileRequest{
		{"truncated JSON", "POST", "/api/v1/employees", "admin", js, text(`{"employee_number":"X9`), 400, "malformed_json"},
		{"array body", "POST", "/api/v1/employees", "admin", js, text(`[` + valid + `]`), 400, "malformed_json"},
		{"two objects", "POST", "/api/v1/employees", "admin", js, text(valid + valid), 400, "malformed_json"},
		{"duplicate member", "POST", "/api/v1/employees", "admin", js, text(`{"employee_number":"X3","employee_number":"X4"}`), 400, "duplicate_field"},
		{"duplicate nested member", "POST", "/api/v1/employees", "admin", js, text(`{"address":{"city":"a","city":"b"}}`), 400, "duplicate_field"},
		{"NUL in a value", "POST", "/api/v1/employees", "admin", js, text(`{"family_name":"山\u0000田"}`), 400, "malformed_json"},
		{"invalid UTF-8", "POST", "/api/v1/employees", "admin", js, text("{\"family_name\":\"\xff\xfe\"}"), 400, "malformed_json"},
		{"deep nesting", "POST", "/api/v1/employees", "admin", js, text(`{"address":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 41)), 400, "malformed_json"},
		{"nested object in the address", "POST", "/api/v1/employees", "admin", js, text(`{"address":{"city":{"$ne":""}}}`), 422, "validation_failed"},
		{"address as a string", "POST", "/api/v1/employees", "admin", js, text(`{"address":"東京都"}`), 422, "validation_failed"},
		{"address null", "POST", "/api/v1/employees", "admin", js, text(`{"address":null}`), 422, "validation_failed"},
		{"dotted member", "POST", "/api/v1/employees", "admin", js, text(`{"address.city":"港区"}`), 422, "validation_failed"},
		{"read-only id", "POST", "/api/v1/employees", "admin", js, text(`{"id":"mine"}`), 422, "validation_failed"},
		{"huge number", "POST", "/api/v1/employees", "admin", js, text(`{"monthly_pay":{"cash":1e400}}`), 422, "validation_failed"},
		{"SQL in the search", "GET", "/api/v1/employees?q=" + url.QueryEscape("' OR 1=1; --"), "admin", "", nil, 0, ""},
		{"empty object", "POST", "/api/v1/employees", "admin", js, text(`{}`), 422, "validation_failed"},
		{"2 MiB body", "POST", "/api/v1/employees", "admin", js, text(`{"position":"` + strings.Repeat("x", 2<<20) + `"}`), 413, "body_too_large"},
		{"2 MiB body of unknown length", "POST", "/api/v1/employees", "admin", js, chunked{text(`{"position":"` + strings.Repeat("x", 2<<20) + `"}`)}, 413, "body_too_large"},
		{"form encoding", "POST", "/api/v1/employees", "admin", "application/x-www-form-urlencoded", text("family_name=x"), 415, "unsupported_media_type"},
		{"PATCH without If-Match", "PATCH", path, "admin", js, text(`{"position":"x"}`), 428, "precondition_required"},
		{"PATCH with a stale If-Match", "PATCH", path, "admin-stale", js, text(`{"position":"x"}`), 412, "stale_version"},
		{"PATCH with a list in If-Match", "PATCH", path, "admin-list", js, text(`{"position":"x"}`), 400, "invalid_if_match"},
		{"PATCH an unknown employee", "PATCH", "/api/v1/employees/nosuch", "admin-current", js, text(`{"position":"x"}`), 404, "not_found"},
		{"path traversal", "GET", "/api/v1/employees/..%2F..%2Fetc%2Fpasswd", "admin", "", nil, 404, "not_found"},
		{"overlong id", "GET", "/api/v1/employees/" + strings.Repeat("a", 65), "admin", "", nil, 404, "not_found"},
		{"SQL id", "GET", "/api/v1/employees/" + url.PathEscape("1' OR '1'='1"), "admin", "", nil, 404, "not_found"},
		{"SQL dependent id", "PATCH", path + "/dependents/" + url.PathEscape("' OR 1=1"), "admin", js, text(`{}`), 404, "not_found"},
		{"bad as_of", "GET", path + "?as_of=" + url.QueryEscape("2026-02-30"), "admin", "", nil, 422, "validation_failed"},
		{"unknown parameter on read", "GET", path + "?fields=all", "admin", "", nil, 422, "validation_failed"},
		{"negative limit", "GET", "/api/v1/employees?limit=-1", "admin", "", nil, 422, "validation_failed"},
		{"huge limit text", "GET", "/api/v1/employees?limit=" + strings.Repeat("9", 40), "admin", "", nil, 422, "validation_failed"},
		{"forged cursor", "GET", "/api/v1/employees?cursor=eyJzIjoiZW1wbG95ZWVfbnVtYmVyIn0", "admin", "", nil, 400, "invalid_cursor"},
		{"bad updated_since", "GET", "/api/v1/employees?updated_since=yesterday", "admin", "", nil, 422, "validation_failed"},
		{"reveal without purpose", "POST", path + "/my-number/reveal", "admin", js, text(`{}`), 422, "validation_failed"},
		{"reveal with extra member", "POST", path + "/my-number/reveal", "admin", js, text(`{"purpose":"tax","all":true}`), 400, "unknown_field"},
		{"reveal by an employee", "POST", path + "/my-number/reveal", "employee", js, text(`{"purpose":"tax"}`), 403, "forbidden"},
		{"import as JSON", "POST", "/api/v1/employees/import", "admin", js, text(`{}`), 415, "unsupported_media_type"},
		{"import in EBCDIC", "POST", "/api/v1/employees/import", "admin", "text/csv; charset=ebcdic", text("a"), 415, "unsupported_media_type"},
		{"import of garbage", "POST", "/api/v1/employees/import", "admin", "text/csv", text("\"unterminated,\n"), 0, ""},
		{"import of an empty file", "POST", "/api/v1/employees/import", "admin", "text/csv", text(""), 0, ""},
		{"import with a bad mapping", "POST", "/api/v1/employees/import?map=nothing", "admin", "text/csv", text("a\n"), 422, "validation_failed"},
		{"import by an employee", "POST", "/api/v1/employees/import", "employee", "text/csv", text(csvRows(1, 1)), 403, "forbidden"},
		{"export by an employee", "GET", "/api/v1/employees/export.csv", "employee", "", nil, 403, "forbidden"},
		{"unknown job", "GET", "/api/v1/jobs/nosuchjob", "admin", "", nil, 404, "not_found"},
		{"department with a bad code", "POST", "/api/v1/departments", "admin", js, text(`{"code":"営業 部!","name":"x"}`), 422, "validation_failed"},
		{"department with an unknown member", "POST", "/api/v1/departments", "admin", js, text(`{"code":"A","name":"x","budget":1}`), 400, "unknown_field"},
		{"department under an unknown parent", "PATCH", "/api/v1/departments/nosuch", "admin", js, text(`{"parent_id":"nosuch"}`), 422, "validation_failed"},
		{"employee list by an employee", "GET", "/api/v1/employees", "employee", "", nil, 403, "forbidden"},
	}
	tokens := map[string]string{"admin": admin, "employee": self}
	state := func() any { return a.registerSnapshot(admin) }
	// The admin-… cases send an If-Match header besides the admin's token.
	var plain []hostileRequest
	for _, c := range cases {
		switch c.auth {
		case "admin-stale", "admin-list", "admin-current":
			ifMatch := map[string]string{"admin-stale": `"999"`, "admin-list": `"1", "2"`, "admin-current": tag}[c.auth]
			before := state()
			h := http.Header{"Authorization": {"Bearer " + admin}, "Content-Type": {c.contentType}, "If-Match": {ifMatch}}
			res := a.send(c.method, c.path, c.body, h)
			if p, err := decodeProblem(res); err != nil || res.status != c.status || p.Code != c.code {
				t.Errorf("%s: %d %s (%v), want %d %s", c.name, res.status, p.Code, err, c.status, c.code)
			}
			assertUnchanged(t, before, state())
		default:
			plain = append(plain, c)
		}
	}
	var refused, answered []hostileRequest
	for _, c := range plain {
		if c.status == 0 {
			answered = append(answered, c)
		} else {
			refused = append(refused, c)
		}
	}
	refuseAll(t, a, tokens, refused, state)
	// The rest are well-formed requests with odd content: answered without a 5xx, writing nothing.
	for _, c := range answered {
		before := state()
		h := http.Header{"Authorization": {"Bearer " + tokens[c.auth]}}
		if c.contentType != "" {
			h.Set("Content-Type", c.contentType)
		}
		if res := a.send(c.method, c.path, c.body, h); res.status >= 500 {
			t.Errorf("%s: %s", c.name, res)
		}
		assertUnchanged(t, before, state())
	}
	a.getEmployee(admin, emp.ID) // still there
}

// registerSnapshot is the register as its admin reads it: every employee and the departments.
func (a *app) registerSnapshot(token string) any {
	a.t.Helper()
	list := a.api(http.MethodGet, "/api/v1/employees?limit=200", token, "")
	deps := a.api(http.MethodGet, "/api/v1/departments", token, "")
	if list.status != http.StatusOK || deps.status != http.StatusOK {
		a.t.Fatalf("snapshot: %s %s", list, deps)
	}
	return [2]string{string(list.body), string(deps.body)}
}

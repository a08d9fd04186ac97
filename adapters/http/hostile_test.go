package web_test

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// opaqueReader hides its length, so the request arrives without Content-Length (as with chunked encoding).
type opaqueReader struct{ r io.Reader }

func (o opaqueReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestHostileRequests: malformed and hostile requests are all refused with a 4xx problem document, never a
// 500, and reach no use case except the one that must see them (a login with odd but well-formed input is
// still a login attempt the domain has to count).
func TestHostileRequests(t *testing.T) {
	const login = "/api/v1/auth/login"
	const js = "application/json"
	big := strings.Repeat("a", 2<<20)
	valid := loginBody(tenantCode, "admin", "wrong-password")
	deep := `{"login":` + strings.Repeat("[", 50) + strings.Repeat("]", 50) + `}`

	cases := []struct {
		name    string
		req     request
		status  int
		code    string
		mayCall string // the one use case the request may reach
	}{
		{"truncated JSON", request{method: "POST", path: login, body: strings.NewReader(`{"tenant":`), contentType: js}, 400, "malformed_json", ""},
		{"JSON array instead of object", request{method: "POST", path: login, body: strings.NewReader(`[` + valid + `]`), contentType: js}, 400, "malformed_json", ""},
		{"JSON string", request{method: "POST", path: login, body: strings.NewReader(`"admin"`), contentType: js}, 400, "malformed_json", ""},
		{"JSON number", request{method: "POST", path: login, body: strings.NewReader(`42`), contentType: js}, 400, "malformed_json", ""},
		{"JSON null", request{method: "POST", path: login, body: strings.NewReader(`null`), contentType: js}, 400, "malformed_json", ""},
		{"empty body", request{method: "POST", path: login, body: strings.NewReader(""), contentType: js}, 400, "malformed_json", ""},
		{"whitespace body", request{method: "POST", path: login, body: strings.NewReader(" \n\t "), contentType: js}, 400, "malformed_json", ""},
		{"wrong content type", request{method: "POST", path: login, body: strings.NewReader(valid), contentType: "text/plain"}, 415, "unsupported_media_type", ""},
		{"no content type", request{method: "POST", path: login, body: strings.NewReader(valid)}, 415, "unsupported_media_type", ""},
		{"form content type", request{method: "POST", path: login, body: strings.NewReader("tenant=acme&login=admin"), contentType: "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
		{"Shift_JIS charset", request{method: "POST", path: login, body: strings.NewReader(valid), contentType: "application/json; charset=shift_jis"}, 415, "unsupported_media_type", ""},
		{"json-patch media type", request{method: "PATCH", path: "/api/v1/accounts/acc-hanako", body: strings.NewReader(`[]`), contentType: "application/json-patch+json", token: tokAdmin}, 415, "unsupported_media_type", ""},
		{"garbage content type", request{method: "POST", path: login, body: strings.NewReader(valid), contentType: ";;;==="}, 415, "unsupported_media_type", ""},
		{"2 MiB body with length", request{method: "POST", path: login, body: strings.NewReader(`{"login":"` + big + `"}`), contentType: js}, 413, "body_too_large", ""},
		{"2 MiB body without length", request{method: "POST", path: login, body: opaqueReader{strings.NewReader(`{"login":"` + big + `"}`)}, contentType: js}, 413, "body_too_large", ""},
		{"raw NUL byte", request{method: "POST", path: login, body: strings.NewReader("{\"tenant\":\"acme\",\"login\":\"ad\x00min\",\"password\":\"x\"}"), contentType: js}, 400, "malformed_json", ""},
		{"escaped NUL", request{method: "POST", path: login, body: strings.NewReader(`{"tenant":"acme","login":"admin\u0000","password":"x"}`), contentType: js}, 400, "malformed_json", ""},
		{"invalid UTF-8", request{method: "POST", path: login, body: bytes.NewReader([]byte("{\"login\":\"\xff\xfe\"}")), contentType: js}, 400, "malformed_json", ""},
		{"unknown field", request{method: "POST", path: login, body: strings.NewReader(`{"tenant":"acme","login":"admin","password":"x","is_admin":true}`), contentType: js}, 400, "unknown_field", ""},
		{"duplicate key", request{method: "POST", path: login, body: strings.NewReader(`{"tenant":"acme","login":"guest","login":"admin","password":"x"}`), contentType: js}, 400, "duplicate_field", ""},
		{"key differing in case", request{method: "POST", path: login, body: strings.NewReader(`{"tenant":"acme","LOGIN":"admin","password":"x"}`), contentType: js}, 400, "unknown_field", ""},
		{"overlong key", request{method: "POST", path: login, body: strings.NewReader(`{"` + strings.Repeat("k", 10000) + `":1}`), contentType: js}, 400, "unknown_field", ""},
		{"trailing object", request{method: "POST", path: login, body: strings.NewReader(valid + valid), contentType: js}, 400, "malformed_json", ""},
		{"trailing garbage", request{method: "POST", path: login, body: strings.NewReader(valid + " ; DROP TABLE accounts"), contentType: js}, 400, "malformed_json", ""},
		{"number for a string", request{method: "POST", path: login, body: strings.NewReader(`{"tenant":1,"login":"admin","password":"x"}`), contentType: js}, 422, "invalid_type", ""},
		{"object for a string", request{method: "POST", path: login, body: strings.NewReader(`{"tenant":{"$ne":""},"login":"admin","password":"x"}`), contentType: js}, 422, "invalid_type", ""},
		{"deep nesting", request{method: "POST", path: login, body: strings.NewReader(deep), contentType: js}, 400, "malformed_json", ""},
		{"SQL-looking login", request{method: "POST", path: login, body: strings.NewReader(loginBody(tenantCode, "' OR 1=1 --", "x")), contentType: js}, 401, "invalid_credentials", "Login"},
		{"SQL-looking tenant", request{method: "POST", path: login, body: strings.NewReader(loginBody("acme'; --", "admin", goodPassword)), contentType: js}, 401, "invalid_credentials", "Login"},
		{"fullwidth confusable login", request{method: "POST", path: login, body: strings.NewReader(loginBody(tenantCode, "ａｄｍｉｎ", goodPassword)), contentType: js}, 401, "invalid_credentials", "Login"},
		{"Cyrillic confusable login", request{method: "POST", path: login, body: strings.NewReader(loginBody(tenantCode, "аdmin", goodPassword)), contentType: js}, 401, "invalid_credentials", "Login"},
		{"script in login", request{method: "POST", path: login, body: strings.NewReader(loginBody(tenantCode, "<script>alert(1)</script>", "x")), contentType: js}, 401, "invalid_credentials", "Login"},
		{"empty fields", request{method: "POST", path: login, body: strings.NewReader(loginBody("", "", "")), contentType: js}, 422, "invalid_request", "Login"},
		{"10,000-character password", request{method: "POST", path: login, body: strings.NewReader(loginBody(tenantCode, "admin", strings.Repeat("P@ss", 2500))), contentType: js}, 401, "invalid_credentials", "Login"},
		{"GET on a POST route", request{method: "GET", path: login}, 405, "method_not_allowed", ""},
		{"DELETE on me", request{method: "DELETE", path: "/api/v1/me", token: tokAdmin}, 405, "method_not_allowed", ""},
		{"made-up method", request{method: "BREW", path: "/api/v1/me", token: tokAdmin}, 405, "method_not_allowed", ""},
		{"unknown API route", request{method: "GET", path: "/api/v1/../../etc/passwd"}, 404, "not_found", ""},
		{"encoded path traversal in id", request{method: "GET", path: "/api/v1/accounts/..%2F..%2Fetc%2Fpasswd", token: tokAdmin}, 404, "not_found", ""},
		{"dot-dot id", request{method: "GET", path: "/api/v1/accounts/..", token: tokAdmin}, 404, "not_found", ""},
		{"overlong id", request{method: "GET", path: "/api/v1/accounts/" + strings.Repeat("9", 300), token: tokAdmin}, 404, "not_found", ""},
		{"non-ASCII id", request{method: "GET", path: "/api/v1/accounts/%E3%81%82", token: tokAdmin}, 404, "not_found", ""},
		{"quote in id", request{method: "POST", path: "/api/v1/accounts/acc'%20OR%201=1/disable", token: tokAdmin}, 404, "not_found", ""},
		{"no token", request{method: "GET", path: "/api/v1/me"}, 401, "unauthenticated", ""},
		{"basic auth", request{method: "GET", path: "/api/v1/me", header: http.Header{"Authorization": {"Basic YWRtaW46cGFzcw=="}}}, 401, "unauthenticated", ""},
		{"token with a space", request{method: "GET", path: "/api/v1/me", header: http.Header{"Authorization": {"Bearer tok admin"}}}, 401, "unauthenticated", ""},
		{"overlong token", request{method: "GET", path: "/api/v1/me", token: strings.Repeat("t", 600)}, 401, "unauthenticated", ""},
		{"unknown token", request{method: "GET", path: "/api/v1/me", token: "forged"}, 401, "session_expired", ""},
		{"session cookie on the API", request{method: "GET", path: "/api/v1/me", header: http.Header{"Cookie": {"roumu_session=" + tokAdmin}}}, 401, "unauthenticated", ""},
		{"unknown field in PATCH", request{method: "PATCH", path: "/api/v1/accounts/acc-hanako", body: strings.NewReader(`{"status":"active"}`), contentType: js, token: tokAdmin}, 400, "unknown_field", ""},
		{"tenant_id smuggled into create", request{method: "POST", path: "/api/v1/accounts", body: strings.NewReader(`{"login":"x","name":"x","roles":["admin"],"tenant_id":"t2"}`), contentType: js, token: tokAdmin}, 400, "unknown_field", ""},
		{"string for roles", request{method: "POST", path: "/api/v1/accounts", body: strings.NewReader(`{"login":"x","name":"x","roles":"admin"}`), contentType: js, token: tokAdmin}, 422, "invalid_type", ""},
		{"number in roles", request{method: "POST", path: "/api/v1/accounts", body: strings.NewReader(`{"login":"x","name":"x","roles":[1]}`), contentType: js, token: tokAdmin}, 422, "invalid_type", ""},
		{"malformed change password", request{method: "POST", path: "/api/v1/me/password", body: strings.NewReader(`{"current_password":`), contentType: js, token: tokAdmin}, 400, "malformed_json", ""},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d hostile cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newDefault(t)
			rec := h.do(c.req)
			p := mustProblem(t, rec, c.status, c.code)
			if c.code == "invalid_type" || c.code == "unknown_field" || c.code == "duplicate_field" {
				if len(p.Errors) != 1 || p.Errors[0].Field == "" || len(p.Errors[0].Field) > 64 {
					t.Errorf("want one entry naming the field (at most 64 bytes), got %+v", p.Errors)
				}
			}
			for _, uc := range h.fake.useCases() {
				if uc != c.mayCall {
					t.Errorf("reached use case %s (allowed: %q)", uc, c.mayCall)
				}
			}
			if strings.Contains(rec.Body.String(), "<script>") {
				t.Errorf("input echoed unescaped: %s", rec.Body)
			}
		})
	}
}

// TestHostileDoesNotChangeState runs the state-changing routes with refused requests and checks the fake
// saw no change.
func TestHostileDoesNotChangeState(t *testing.T) {
	h := newDefault(t)
	before := h.fake.account("acc-hanako")
	for _, r := range []request{
		{method: "POST", path: "/api/v1/accounts/acc-hanako/disable", token: tokEmployee},
		{method: "POST", path: "/api/v1/accounts/acc-hanako/unlock", token: tokMFA},
		{method: "PATCH", path: "/api/v1/accounts/acc-hanako", body: strings.NewReader(`{"name":"x","name":"y"}`), contentType: "application/json", token: tokAdmin},
		{method: "PATCH", path: "/api/v1/accounts/acc-hanako", body: strings.NewReader(`{"name":"x"}`), contentType: "text/plain", token: tokAdmin},
		{method: "POST", path: "/api/v1/accounts", body: strings.NewReader(`{"login":"x","name":"x","roles":["admin"]}`), contentType: "application/json", token: tokPwChange},
	} {
		rec := h.do(r)
		if rec.Code < 400 || rec.Code >= 500 {
			t.Errorf("%s %s: status %d", r.method, r.path, rec.Code)
		}
	}
	after := h.fake.account("acc-hanako")
	if before.Name != after.Name || before.Status != after.Status || before.Locked != after.Locked {
		t.Fatalf("state changed: %+v -> %+v", before, after)
	}
	if uc := h.fake.useCases(); len(uc) != 0 || slices.Contains(uc, "CreateAccount") {
		t.Fatalf("use cases reached: %v", uc)
	}
}

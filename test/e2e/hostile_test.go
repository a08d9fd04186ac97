package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roumu/roumu/test/testenv"
)

// hostileRequest is a malformed or hostile API request and the refusal it must get.
type hostileRequest struct {
	name         string
	method, path string
	// auth is the Authorization header; "admin" and "hr" stand for a valid session of the tenant's admin or of
	// an hr member, "" sends none.
	auth        string
	contentType string // "" sends none
	body        io.Reader
	status      int
	code        string
}

// chunked hides a body's length, so that only reading it reveals its size.
type chunked struct{ io.Reader }

func TestHostileRequestsAreRefusedAndChangeNothing(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	adminID, admin := a.tenant("acme")
	hr := a.activate("acme", a.createAccount(admin, "sato", "佐藤 一郎", "hr")).Token
	a.tenant("beta")

	const jsonType = "application/json"
	text := func(s string) io.Reader { return strings.NewReader(s) }
	login := func(tenant, login, password string) io.Reader { return text(loginBody(t, tenant, login, password)) }
	huge := `{"tenant":"acme","login":"admin","password":"` + strings.Repeat("x", 2<<20) + `"}`
	account := "/api/v1/accounts/" + adminID
	cases := []hostileRequest{
		// The login endpoint.
		{"truncated JSON", "POST", "/api/v1/auth/login", "", jsonType, text(`{"tenant":"acme","login":`), 400, "malformed_json"},
		{"no content type", "POST", "/api/v1/auth/login", "", "", login("acme", "admin", testenv.NewPassword), 415, "unsupported_media_type"},
		{"text/plain", "POST", "/api/v1/auth/login", "", "text/plain", login("acme", "admin", testenv.NewPassword), 415, "unsupported_media_type"},
		{"form encoding", "POST", "/api/v1/auth/login", "", "application/x-www-form-urlencoded",
			text(url.Values{"tenant": {"acme"}, "login": {"admin"}, "password": {testenv.NewPassword}}.Encode()), 415, "unsupported_media_type"},
		{"JSON in Latin-1", "POST", "/api/v1/auth/login", "", "application/json; charset=iso-8859-1", login("acme", "admin", testenv.NewPassword), 415, "unsupported_media_type"},
		{"2 MiB body", "POST", "/api/v1/auth/login", "", jsonType, text(huge), 413, "body_too_large"},
		{"2 MiB body of unknown length", "POST", "/api/v1/auth/login", "", jsonType, chunked{text(huge)}, 413, "body_too_large"},
		{"SQL in the login", "POST", "/api/v1/auth/login", "", jsonType, login("acme", "admin' OR '1'='1' --", "x"), 401, "invalid_credentials"},
		{"SQL in the tenant", "POST", "/api/v1/auth/login", "", jsonType, login("acme'; DROP TABLE accounts; --", "admin", testenv.NewPassword), 401, "invalid_credentials"},
		{"Cyrillic а in the login", "POST", "/api/v1/auth/login", "", jsonType, login("acme", "аdmin", testenv.NewPassword), 401, "invalid_credentials"},
		{"Cyrillic е in the tenant", "POST", "/api/v1/auth/login", "", jsonType, login("bеta", "admin", testenv.NewPassword), 401, "invalid_credentials"},
		{"empty fields", "POST", "/api/v1/auth/login", "", jsonType, login("", "", ""), 422, "invalid_request"},
		{"empty object", "POST", "/api/v1/auth/login", "", jsonType, text(`{}`), 422, "invalid_request"},
		{"empty body", "POST", "/api/v1/auth/login", "", jsonType, nil, 400, "malformed_json"},
		{"10,000-character password", "POST", "/api/v1/auth/login", "", jsonType, login("acme", "sato", strings.Repeat("Aa1!", 2500)), 401, "invalid_credentials"},
		{"NUL in the login", "POST", "/api/v1/auth/login", "", jsonType, text(`{"tenant":"acme","login":"admin\u0000","password":"x"}`), 400, "malformed_json"},
		{"invalid UTF-8", "POST", "/api/v1/auth/login", "", jsonType, text("{\"tenant\":\"acme\",\"login\":\"adm\xff\xfein\",\"password\":\"x\"}"), 400, "malformed_json"},
		{"unknown field", "POST", "/api/v1/auth/login", "", jsonType,
			text(`{"tenant":"acme","login":"admin","password":"x","admin":true}`), 400, "unknown_field"},
		{"duplicate field", "POST", "/api/v1/auth/login", "", jsonType,
			text(`{"tenant":"acme","login":"nobody","login":"admin","password":"x"}`), 400, "duplicate_field"},
		{"field in other case", "POST", "/api/v1/auth/login", "", jsonType, text(`{"tenant":"acme","Login":"admin","password":"x"}`), 400, "unknown_field"},
		{"array instead of object", "POST", "/api/v1/auth/login", "", jsonType, text(`[{"tenant":"acme","login":"admin","password":"x"}]`), 400, "malformed_json"},
		{"number instead of string", "POST", "/api/v1/auth/login", "", jsonType, text(`{"tenant":"acme","login":"admin","password":12345678901}`), 422, "invalid_type"},
		{"null instead of object", "POST", "/api/v1/auth/login", "", jsonType, text(`null`), 400, "malformed_json"},
		{"two objects", "POST", "/api/v1/auth/login", "", jsonType, text(`{"tenant":"acme"}{"login":"admin"}`), 400, "malformed_json"},
		{"deep nesting", "POST", "/api/v1/auth/login", "", jsonType,
			text(`{"tenant":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`), 400, "malformed_json"},
		{"GET on login", "GET", "/api/v1/auth/login", "", "", nil, 405, "method_not_allowed"},
		{"SQL in the operator login", "POST", "/api/v1/ops/auth/login", "", jsonType,
			text(`{"login":"' OR 1=1; --","password":"x"}`), 401, "invalid_credentials"},

		// Credentials.
		{"no Authorization", "GET", "/api/v1/me", "", "", nil, 401, "unauthenticated"},
		{"garbage bearer token", "GET", "/api/v1/me", "Bearer garbage", "", nil, 401, "unauthenticated"},
		{"forged bearer token", "GET", "/api/v1/me", "Bearer " + strings.Repeat("A", 43), "", nil, 401, "unauthenticated"},
		{"600-character bearer token", "GET", "/api/v1/me", "Bearer " + strings.Repeat("x", 600), "", nil, 401, "unauthenticated"},
		{"bearer token with a space", "GET", "/api/v1/me", "Bearer admin x", "", nil, 401, "unauthenticated"},
		{"bearer token in UTF-8", "GET", "/api/v1/me", "Bearer トークン", "", nil, 401, "unauthenticated"},
		{"Bearer without a token", "GET", "/api/v1/me", "Bearer", "", nil, 401, "unauthenticated"},
		{"Basic scheme", "GET", "/api/v1/me", "Basic YWRtaW46cGFzc3dvcmQ=", "", nil, 401, "unauthenticated"},
		{"Token scheme with a real token", "GET", "/api/v1/accounts", "Token admin", "", nil, 401, "unauthenticated"},

		// Tenant administration.
		{"role root", "POST", "/api/v1/accounts", "admin", jsonType, text(`{"login":"eve","name":"イブ","roles":["root"]}`), 422, "validation_failed"},
		{"no roles", "POST", "/api/v1/accounts", "admin", jsonType, text(`{"login":"eve","name":"イブ","roles":[]}`), 422, "validation_failed"},
		{"roles as a string", "POST", "/api/v1/accounts", "admin", jsonType, text(`{"login":"eve","name":"イブ","roles":"admin"}`), 422, "invalid_type"},
		{"weak initial password", "POST", "/api/v1/accounts", "admin", jsonType,
			text(`{"login":"eve","name":"イブ","roles":["hr"],"password":"password"}`), 422, "validation_failed"},
		{"10,000-character initial password", "POST", "/api/v1/accounts", "admin", jsonType,
			text(`{"login":"eve","name":"イブ","roles":["hr"],"password":"` + strings.Repeat("Aa1!", 2500) + `"}`), 422, "validation_failed"},
		{"Cyrillic login", "POST", "/api/v1/accounts", "admin", jsonType, text(`{"login":"аdmin2","name":"イブ","roles":["hr"]}`), 422, "validation_failed"},
		{"SQL login", "POST", "/api/v1/accounts", "admin", jsonType, text(`{"login":"x' OR 1=1 --","name":"イブ","roles":["hr"]}`), 422, "validation_failed"},
		{"full-width copy of a taken login", "POST", "/api/v1/accounts", "admin", jsonType, text(`{"login":"ＡＤＭＩＮ","name":"イブ","roles":["hr"]}`), 409, "login_taken"},
		{"control character in the name", "POST", "/api/v1/accounts", "admin", jsonType, text(`{"login":"eve","name":"イ\u0007ブ","roles":["hr"]}`), 422, "validation_failed"},
		{"account created by hr", "POST", "/api/v1/accounts", "hr", jsonType, text(`{"login":"eve","name":"イブ","roles":["admin"]}`), 403, "forbidden"},
		{"account list as hr", "GET", "/api/v1/accounts", "hr", "", nil, 403, "forbidden"},
		{"array body", "POST", "/api/v1/accounts", "admin", jsonType, text(`[]`), 400, "malformed_json"},
		{"path traversal", "GET", "/api/v1/accounts/..%2F..%2Fetc%2Fpasswd", "admin", "", nil, 404, "not_found"},
		{"dot segments", "GET", "/api/v1/accounts/../../../etc/passwd", "admin", "", nil, 404, "not_found"},
		{"overlong id", "GET", "/api/v1/accounts/" + strings.Repeat("a", 65), "admin", "", nil, 404, "not_found"},
		{"SQL id", "GET", "/api/v1/accounts/" + url.PathEscape("1' OR '1'='1"), "admin", "", nil, 404, "not_found"},
		{"NUL id", "POST", "/api/v1/accounts/%00/disable", "admin", "", nil, 404, "not_found"},
		{"removing one's own admin role", "PATCH", account, "admin", jsonType, text(`{"roles":["hr"]}`), 409, "cannot_remove_own_admin"},
		{"disabling oneself", "POST", account + "/disable", "admin", "", nil, 409, "cannot_disable_self"},
		{"changing the login", "PATCH", account, "admin", jsonType, text(`{"login":"root"}`), 400, "unknown_field"},
		{"roles null inside", "PATCH", account, "admin", jsonType, text(`{"roles":[null]}`), 422, "validation_failed"},
		{"DELETE an account", "DELETE", account, "admin", "", nil, 405, "method_not_allowed"},
		{"PUT me", "PUT", "/api/v1/me", "admin", jsonType, text(`{}`), 405, "method_not_allowed"},
		{"overlong new password", "POST", "/api/v1/me/password", "admin", jsonType,
			text(`{"current_password":"` + testenv.NewPassword + `","new_password":"` + strings.Repeat("Aa1!", 2500) + `"}`), 422, "password_policy"},
		{"unknown route", "GET", "/api/v1/admin/tenants", "admin", "", nil, 404, "not_found"},

		// Second factors.
		{"second step without a pending login", "POST", "/api/v1/auth/mfa/totp", "admin", jsonType, text(`{"code":"123456"}`), 403, "forbidden"},
		{"recovery code without a pending login", "POST", "/api/v1/auth/mfa/recovery", "admin", jsonType, text(`{"code":"x"}`), 403, "forbidden"},
		{"TOTP confirmation without enrolment", "POST", "/api/v1/me/mfa/totp/confirm", "admin", jsonType, text(`{"code":"123456"}`), 409, "no_pending_ceremony"},
		{"TOTP code as a number", "POST", "/api/v1/me/mfa/totp/confirm", "admin", jsonType, text(`{"code":123456}`), 422, "invalid_type"},
		{"TOTP enrolment with a wrong password", "POST", "/api/v1/me/mfa/totp", "hr", jsonType, text(`{"current_password":"Wrong-password-1"}`), 422, "current_password_incorrect"},
		{"security key finish without a ceremony", "POST", "/api/v1/me/mfa/webauthn/finish", "admin", jsonType, text(`{"id":"AAAA","type":"public-key"}`), 409, "no_pending_ceremony"},
		{"security key finish with garbage", "POST", "/api/v1/me/mfa/webauthn/finish", "admin", jsonType, text(`[1,2,3]`), 400, "malformed_json"},
		{"security key removal of an unknown key", "DELETE", "/api/v1/me/mfa/webauthn/nosuchkey", "admin", jsonType,
			text(`{"current_password":"` + testenv.NewPassword + `"}`), 404, "not_found"},
		{"removing a TOTP app that is not there", "DELETE", "/api/v1/me/mfa/totp", "admin", jsonType,
			text(`{"current_password":"` + testenv.NewPassword + `"}`), 404, "not_found"},
		{"MFA policy as a string", "PATCH", "/api/v1/tenant", "admin", jsonType, text(`{"mfa_required":"yes"}`), 422, "invalid_type"},
		{"MFA policy set by hr", "PATCH", "/api/v1/tenant", "hr", jsonType, text(`{"mfa_required":true}`), 403, "forbidden"},
	}

	refuseAll(t, a, map[string]string{"admin": admin, "hr": hr}, cases, func() any { return snapshot(t, a.env) })
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	a.me(admin) // the admin's session survived all of it
	a.me(hr)
}

// refuseAll sends each hostile request and checks its refusal, and that state (what the request must not
// change) reads the same after it. tokens maps the auth names of the cases to bearer tokens.
func refuseAll(t *testing.T, a *app, tokens map[string]string, cases []hostileRequest, state func() any) {
	t.Helper()
	for _, c := range cases {
		before := state()
		h := http.Header{}
		if c.contentType != "" {
			h.Set("Content-Type", c.contentType)
		}
		switch token, ok := tokens[c.auth]; {
		case ok:
			h.Set("Authorization", "Bearer "+token)
		case c.auth == "Token admin":
			h.Set("Authorization", "Token "+tokens["admin"])
		case c.auth != "":
			h.Set("Authorization", c.auth)
		}
		res := a.send(c.method, c.path, c.body, h)
		p, err := decodeProblem(res)
		switch {
		case err != nil:
			t.Errorf("%s: %v: %d %.300s", c.name, err, res.status, res)
		case res.status != c.status || p.Code != c.code:
			t.Errorf("%s: %d %s, want %d %s: %.300s", c.name, res.status, p.Code, c.status, c.code, res)
		}
		assertUnchanged(t, before, state())
	}
}

// TestFullWidthLoginIsTheSameLogin: full-width letters, which Japanese input methods produce, normalise to the
// real login and tenant code (NFKC), while look-alike letters of other scripts do not (see above).
func TestFullWidthLoginIsTheSameLogin(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	adminID, _ := a.tenant("acme")
	s := a.login("ＡＣＭＥ", "ａｄｍｉｎ", testenv.NewPassword, "full")
	if m := a.me(s.Token); m.Account.ID != adminID || m.Account.Login != "admin" {
		t.Fatalf("full-width login opened %+v", m)
	}
	// A full-width password is the same password too.
	a.login("acme", "admin", toFullWidth(testenv.NewPassword), "full")
}

// toFullWidth maps printable ASCII to its full-width form (U+FF01–U+FF5E).
func toFullWidth(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		if r > ' ' && r <= '~' {
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

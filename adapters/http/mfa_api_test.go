package web_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/roumu/roumu/ports"
)

type enrolledBody struct {
	RecoveryCodes *[]string `json:"recovery_codes"`
	Token         string    `json:"token"`
	Stage         string    `json:"stage"`
	ExpiresAt     *string   `json:"expires_at"`
}

type mfaStatusBody struct {
	Required bool `json:"required"`
	Enabled  bool `json:"enabled"`
	TOTP     bool `json:"totp"`
	WebAuthn []struct {
		ID         string  `json:"id"`
		Name       string  `json:"name"`
		CreatedAt  *string `json:"created_at"`
		LastUsedAt *string `json:"last_used_at"`
	} `json:"webauthn"`
	RecoveryCodesLeft int `json:"recovery_codes_left"`
}

// wantSession checks a new session answer and that it replaced the old token.
func wantSession(t *testing.T, h *harness, rec *httptest.ResponseRecorder, old string) sessionBody {
	t.Helper()
	var s sessionBody
	mustJSON(t, rec, http.StatusOK, &s)
	if s.Token == "" || s.Token == old || s.Stage != ports.StageFull || s.MFARequired || s.ExpiresAt == nil {
		t.Fatalf("session %+v", s)
	}
	mustProblem(t, h.api("GET", "/api/v1/me", old, ""), http.StatusUnauthorized, "session_expired")
	mustJSON(t, h.api("GET", "/api/v1/me", s.Token, ""), http.StatusOK, nil)
	return s
}

func TestAPIMFAStepTOTP(t *testing.T) {
	h := newDefault(t)
	p := mustProblem(t, h.api("POST", "/api/v1/auth/mfa/totp", tokMFA, `{"code":"000000"}`), http.StatusUnauthorized, "mfa_failed")
	if p.DetailJA == "" {
		t.Errorf("problem %+v", p)
	}
	rec := h.api("POST", "/api/v1/auth/mfa/totp", tokMFA, `{"code":"`+lockingTOTP+`"}`)
	mustProblem(t, rec, http.StatusLocked, "account_locked")
	if rec.Header().Get("Retry-After") != lockedRetryStr {
		t.Errorf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	mustProblem(t, h.api("POST", "/api/v1/auth/mfa/totp", tokMFA, `{"code":123456}`), http.StatusUnprocessableEntity, "invalid_type")
	mustProblem(t, h.api("POST", "/api/v1/auth/mfa/totp", tokMFA, `{"code":"1","remember":true}`), http.StatusBadRequest, "unknown_field")
	wantSession(t, h, h.api("POST", "/api/v1/auth/mfa/totp", tokMFA, `{"code":"`+goodTOTP+`"}`), tokMFA)
}

func TestAPIMFAStepRecoveryCode(t *testing.T) {
	h := newDefault(t)
	mustProblem(t, h.api("POST", "/api/v1/auth/mfa/recovery", tokMFA, `{"code":"wrong-code"}`), http.StatusUnauthorized, "mfa_failed")
	rec := h.api("POST", "/api/v1/auth/mfa/recovery", tokMFA, `{"code":"`+goodRecovery+`"}`)
	if !strings.Contains(rec.Body.String(), `"notice":"recovery_code_used"`) {
		t.Fatalf("no notice: %s", rec.Body)
	}
	wantSession(t, h, rec, tokMFA)
}

func TestAPIMFAStepWebAuthn(t *testing.T) {
	h := newDefault(t)
	mustProblem(t, h.api("POST", "/api/v1/auth/mfa/webauthn/finish", tokMFA, goodCredential), http.StatusConflict, "no_pending_ceremony")

	rec := h.api("POST", "/api/v1/auth/mfa/webauthn/begin", tokMFA, "")
	mustJSON(t, rec, http.StatusOK, nil)
	if rec.Body.String() != fakeLoginOptions {
		t.Fatalf("options not passed through as they were:\n got %s\nwant %s", rec.Body, fakeLoginOptions)
	}
	mustProblem(t, h.api("POST", "/api/v1/auth/mfa/webauthn/finish", tokMFA, badCredential), http.StatusUnauthorized, "mfa_failed")

	h.api("POST", "/api/v1/auth/mfa/webauthn/begin", tokMFA, "")
	wantSession(t, h, h.api("POST", "/api/v1/auth/mfa/webauthn/finish", tokMFA, goodCredential), tokMFA)
	if h.fake.lastResponse() != goodCredential {
		t.Fatalf("the credential reached the domain altered: %s", h.fake.lastResponse())
	}

	// an account without a key is told so
	e := newDefault(t)
	e.fake.sessions["tok-mfa-nokey"] = e.fake.principal("acc-admin", ports.StageMFA)
	mustProblem(t, e.api("POST", "/api/v1/auth/mfa/webauthn/begin", "tok-mfa-nokey", ""), http.StatusConflict, "no_security_key")
}

func TestAPIMFAManagement(t *testing.T) {
	h := newDefault(t)
	var st mfaStatusBody
	rec := h.api("GET", "/api/v1/me/mfa", tokAdmin, "")
	mustJSON(t, rec, http.StatusOK, &st)
	if st.Enabled || st.TOTP || !st.Required || st.WebAuthn == nil || len(st.WebAuthn) != 0 || !strings.Contains(rec.Body.String(), `"webauthn":[]`) {
		t.Fatalf("status %+v: %s", st, rec.Body)
	}

	pw := `{"current_password":"` + goodPassword + `"}`
	p := mustProblem(t, h.api("POST", "/api/v1/me/mfa/totp", tokAdmin, `{"current_password":"nope"}`), http.StatusUnprocessableEntity, "current_password_incorrect")
	if len(p.Errors) != 1 || p.Errors[0].Field != "current_password" {
		t.Fatalf("errors %+v", p.Errors)
	}
	mustProblem(t, h.api("POST", "/api/v1/me/mfa/totp/confirm", tokAdmin, `{"code":"`+goodTOTP+`"}`), http.StatusConflict, "no_pending_ceremony")

	rec = h.api("POST", "/api/v1/me/mfa/totp", tokAdmin, pw)
	var key struct {
		Secret     string `json:"secret"`
		OTPAuthURL string `json:"otpauth_url"`
	}
	mustJSON(t, rec, http.StatusOK, &key)
	if key.Secret != fakeSecret || key.OTPAuthURL != fakeOTPAuth || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("key %+v, Cache-Control %q", key, rec.Header().Get("Cache-Control"))
	}
	p = mustProblem(t, h.api("POST", "/api/v1/me/mfa/totp/confirm", tokAdmin, `{"code":"000000"}`), http.StatusUnprocessableEntity, "totp_invalid")
	if len(p.Errors) != 1 || p.Errors[0].Field != "code" {
		t.Fatalf("errors %+v", p.Errors)
	}

	var en enrolledBody
	rec = h.api("POST", "/api/v1/me/mfa/totp/confirm", tokAdmin, `{"code":"`+goodTOTP+`"}`)
	mustJSON(t, rec, http.StatusOK, &en)
	if en.RecoveryCodes == nil || !slices.Equal(*en.RecoveryCodes, fakeRecoveryCodes) || en.Token == "" || en.Stage != ports.StageFull ||
		en.ExpiresAt == nil || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("enrolled %+v", en)
	}
	// adding a factor ended the old session; the new one carries on
	mustProblem(t, h.api("GET", "/api/v1/me/mfa", tokAdmin, ""), http.StatusUnauthorized, "session_expired")
	tok := en.Token
	mustProblem(t, h.api("POST", "/api/v1/me/mfa/totp", tok, pw), http.StatusConflict, "totp_exists")

	// a security key as the second factor: no recovery codes this time
	mustProblem(t, h.api("POST", "/api/v1/me/mfa/webauthn/begin", tok, `{"current_password":"x","name":"k"}`), http.StatusUnprocessableEntity, "current_password_incorrect")
	rec = h.api("POST", "/api/v1/me/mfa/webauthn/begin", tok, `{"current_password":"`+goodPassword+`","name":"鍵 1"}`)
	mustJSON(t, rec, http.StatusOK, nil)
	if rec.Body.String() != fakeRegistrationOptions {
		t.Fatalf("options altered: %s", rec.Body)
	}
	mustProblem(t, h.api("POST", "/api/v1/me/mfa/webauthn/finish", tok, badCredential), http.StatusUnprocessableEntity, "webauthn_failed")
	h.api("POST", "/api/v1/me/mfa/webauthn/begin", tok, `{"current_password":"`+goodPassword+`","name":"鍵 1"}`)
	rec = h.api("POST", "/api/v1/me/mfa/webauthn/finish", tok, goodCredential)
	mustJSON(t, rec, http.StatusOK, &en)
	if strings.Contains(rec.Body.String(), "recovery_codes") || en.Token == "" || h.fake.lastResponse() != goodCredential {
		t.Fatalf("second enrolment: %s", rec.Body)
	}
	tok = en.Token

	mustJSON(t, h.api("GET", "/api/v1/me/mfa", tok, ""), http.StatusOK, &st)
	if !st.Enabled || !st.TOTP || len(st.WebAuthn) != 1 || st.WebAuthn[0].Name != "鍵 1" || st.WebAuthn[0].LastUsedAt != nil ||
		st.WebAuthn[0].CreatedAt == nil || st.RecoveryCodesLeft != 10 {
		t.Fatalf("status %+v", st)
	}
	keyID := st.WebAuthn[0].ID

	mustProblem(t, h.api("DELETE", "/api/v1/me/mfa/webauthn/"+keyID, tok, `{"current_password":"x"}`), http.StatusUnprocessableEntity, "current_password_incorrect")
	mustProblem(t, h.api("DELETE", "/api/v1/me/mfa/webauthn/key-unknown", tok, pw), http.StatusNotFound, "not_found")
	mustProblem(t, h.api("DELETE", "/api/v1/me/mfa/webauthn/..%2Fx", tok, pw), http.StatusNotFound, "not_found")
	if rec := h.api("DELETE", "/api/v1/me/mfa/webauthn/"+keyID, tok, pw); rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Fatalf("remove key: %d %s", rec.Code, rec.Body)
	}
	mustProblem(t, h.api("DELETE", "/api/v1/me/mfa/totp", tok, pw), http.StatusConflict, "last_factor_required")
	mustProblem(t, h.api("DELETE", "/api/v1/me/mfa/totp", tok, ""), http.StatusUnsupportedMediaType, "unsupported_media_type")
	mustJSON(t, h.api("GET", "/api/v1/me/mfa", tok, ""), http.StatusOK, &st)
	if !st.TOTP || len(st.WebAuthn) != 0 {
		t.Fatalf("after removals %+v", st)
	}
	h.fake.mfaRequired = false
	if rec := h.api("DELETE", "/api/v1/me/mfa/totp", tok, pw); rec.Code != http.StatusNoContent {
		t.Fatalf("remove app: %d %s", rec.Code, rec.Body)
	}
}

func TestAPITenant(t *testing.T) {
	h := newDefault(t)
	var ten struct {
		Code        string `json:"code"`
		Name        string `json:"name"`
		MFARequired bool   `json:"mfa_required"`
	}
	mustJSON(t, h.api("GET", "/api/v1/tenant", tokAdmin, ""), http.StatusOK, &ten)
	if ten.Code != tenantCode || ten.Name != tenantName || !ten.MFARequired {
		t.Fatalf("tenant %+v", ten)
	}
	mustJSON(t, h.api("PATCH", "/api/v1/tenant", tokAdmin, `{"mfa_required":false}`), http.StatusOK, &ten)
	if ten.MFARequired || h.fake.tenantMFARequired() {
		t.Fatalf("policy not switched off: %+v", ten)
	}
	mustJSON(t, h.api("PATCH", "/api/v1/tenant", tokAdmin, `{}`), http.StatusOK, &ten)
	mustJSON(t, h.api("PATCH", "/api/v1/tenant", tokAdmin, `{"mfa_required":null}`), http.StatusOK, &ten)
	if n := len(slices.DeleteFunc(h.fake.Calls(), func(c string) bool { return c != "SetTenantMFARequired" })); ten.MFARequired || n != 1 {
		t.Fatalf("an empty PATCH changed the policy: %+v %v", ten, h.fake.Calls())
	}
	mustJSON(t, h.api("PATCH", "/api/v1/tenant", tokAdmin, `{"mfa_required":true}`), http.StatusOK, &ten)
	if !ten.MFARequired {
		t.Fatal("policy not switched on")
	}
	mustProblem(t, h.api("PATCH", "/api/v1/tenant", tokAdmin, `{"mfa_required":"no"}`), http.StatusUnprocessableEntity, "invalid_type")
	mustProblem(t, h.api("PATCH", "/api/v1/tenant", tokAdmin, `{"name":"x"}`), http.StatusBadRequest, "unknown_field")
	mustProblem(t, h.api("PATCH", "/api/v1/tenant", tokEmployee, `{"mfa_required":false}`), http.StatusForbidden, "forbidden")
	mustProblem(t, h.api("GET", "/api/v1/tenant", tokEmployee, ""), http.StatusForbidden, "forbidden")
	if !h.fake.tenantMFARequired() {
		t.Fatal("an employee changed the policy")
	}
}

func TestAPIMeMFAState(t *testing.T) {
	h := newDefault(t)
	var me struct {
		MFA struct {
			Enabled  bool `json:"enabled"`
			Required bool `json:"required"`
		} `json:"mfa"`
	}
	mustJSON(t, h.api("GET", "/api/v1/me", tokEmployee, ""), http.StatusOK, &me)
	if !me.MFA.Enabled || !me.MFA.Required {
		t.Fatalf("hanako: %+v", me)
	}
	mustJSON(t, h.api("GET", "/api/v1/me", tokOperator, ""), http.StatusOK, &me)
	if me.MFA.Enabled || !me.MFA.Required {
		t.Fatalf("an operator always needs MFA: %+v", me)
	}
	h.fake.mfaRequired = false
	mustJSON(t, h.api("GET", "/api/v1/me", tokAdmin, ""), http.StatusOK, &me)
	if me.MFA.Enabled || me.MFA.Required {
		t.Fatalf("admin: %+v", me)
	}
}

// TestMFAStageGating: StageMFA opens only the login step and logout; StageMFAEnrol only what adding a factor
// needs; removal needs a full session. A refused request reaches no use case.
func TestMFAStageGating(t *testing.T) {
	pw := `{"current_password":"nope"}`
	code := `{"code":"000000"}`
	key := `{"current_password":"nope","name":"k"}`
	cases := []struct {
		token, method, path, body string
		status                    int
		code                      string
	}{
		{tokMFA, "POST", "/api/v1/auth/mfa/totp", code, 401, "mfa_failed"},
		{tokMFA, "POST", "/api/v1/auth/mfa/recovery", code, 401, "mfa_failed"},
		{tokMFA, "POST", "/api/v1/auth/mfa/webauthn/begin", "", 200, ""},
		{tokMFA, "POST", "/api/v1/auth/mfa/webauthn/finish", goodCredential, 409, "no_pending_ceremony"},
		{tokMFA, "GET", "/api/v1/me/mfa", "", 403, "mfa_required"},
		{tokMFA, "POST", "/api/v1/me/mfa/totp", pw, 403, "mfa_required"},
		{tokMFA, "POST", "/api/v1/me/mfa/webauthn/begin", key, 403, "mfa_required"},
		{tokMFA, "GET", "/api/v1/tenant", "", 403, "mfa_required"},

		{tokEnrol, "POST", "/api/v1/auth/mfa/totp", code, 403, "mfa_enrolment_required"},
		{tokEnrol, "POST", "/api/v1/auth/mfa/webauthn/begin", "", 403, "mfa_enrolment_required"},
		{tokEnrol, "GET", "/api/v1/me/mfa", "", 200, ""},
		{tokEnrol, "POST", "/api/v1/me/mfa/totp", pw, 422, "current_password_incorrect"},
		{tokEnrol, "POST", "/api/v1/me/mfa/totp/confirm", code, 409, "no_pending_ceremony"},
		{tokEnrol, "POST", "/api/v1/me/mfa/webauthn/begin", key, 422, "current_password_incorrect"},
		{tokEnrol, "POST", "/api/v1/me/mfa/webauthn/finish", goodCredential, 409, "no_pending_ceremony"},
		{tokEnrol, "DELETE", "/api/v1/me/mfa/totp", pw, 403, "mfa_enrolment_required"},
		{tokEnrol, "DELETE", "/api/v1/me/mfa/webauthn/key-1", pw, 403, "mfa_enrolment_required"},
		{tokEnrol, "PATCH", "/api/v1/tenant", `{"mfa_required":false}`, 403, "mfa_enrolment_required"},

		{tokPwChange, "GET", "/api/v1/me/mfa", "", 403, "password_change_required"},
		{tokPwChange, "POST", "/api/v1/me/mfa/totp", pw, 403, "password_change_required"},
		{tokPwChange, "POST", "/api/v1/auth/mfa/totp", code, 403, "password_change_required"},

		{tokAdmin, "POST", "/api/v1/auth/mfa/totp", code, 403, "forbidden"},
		{tokAdmin, "POST", "/api/v1/auth/mfa/webauthn/finish", goodCredential, 403, "forbidden"},
		{"", "POST", "/api/v1/auth/mfa/totp", code, 401, "unauthenticated"},
		{"", "GET", "/api/v1/me/mfa", "", 401, "unauthenticated"},
	}
	for _, c := range cases {
		t.Run(c.token+" "+c.method+" "+c.path, func(t *testing.T) {
			h := newDefault(t)
			rec := h.api(c.method, c.path, c.token, c.body)
			if c.code == "" {
				mustJSON(t, rec, c.status, nil)
				return
			}
			mustProblem(t, rec, c.status, c.code)
			if c.status == 403 || c.status == 401 && c.code == "unauthenticated" {
				if uc := h.fake.useCases(); len(uc) != 0 {
					t.Fatalf("use cases reached: %v", uc)
				}
			}
		})
	}
}

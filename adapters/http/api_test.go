package web_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

type sessionBody struct {
	Token       string  `json:"token"`
	MFARequired bool    `json:"mfa_required"`
	Stage       string  `json:"stage"`
	ExpiresAt   *string `json:"expires_at"`
}

type accountBody struct {
	ID                 string   `json:"id"`
	Login              string   `json:"login"`
	Name               string   `json:"name"`
	Roles              []string `json:"roles"`
	Status             string   `json:"status"`
	Locked             bool     `json:"locked"`
	LockedUntil        *string  `json:"locked_until"`
	MustChangePassword bool     `json:"must_change_password"`
	LastLoginAt        *string  `json:"last_login_at"`
	CreatedAt          *string  `json:"created_at"`
	InitialPassword    string   `json:"initial_password"`
}

func loginBody(tenant, login, password string) string {
	return fmt.Sprintf(`{"tenant":%q,"login":%q,"password":%q}`, tenant, login, password)
}

func TestAPILogin(t *testing.T) {
	h := newDefault(t)

	var s sessionBody
	mustJSON(t, h.api("POST", "/api/v1/auth/login", "", loginBody(tenantCode, "admin", goodPassword)), http.StatusOK, &s)
	if s.Token == "" || s.MFARequired || s.Stage != ports.StageFull || s.ExpiresAt == nil || *s.ExpiresAt != "2026-04-01T17:00:00Z" {
		t.Fatalf("login answer %+v", s)
	}
	var me struct {
		Account accountBody `json:"account"`
	}
	mustJSON(t, h.api("GET", "/api/v1/me", s.Token, ""), http.StatusOK, &me)
	if me.Account.Login != "admin" {
		t.Fatalf("new token opens someone else: %+v", me)
	}

	mustJSON(t, h.api("POST", "/api/v1/auth/login", "", loginBody(tenantCode, "mfa-user", goodPassword)), http.StatusOK, &s)
	if !s.MFARequired || s.Stage != ports.StageMFA {
		t.Fatalf("MFA login answer %+v", s)
	}

	p := mustProblem(t, h.api("POST", "/api/v1/auth/login", "", loginBody(tenantCode, "admin", "wrong")), http.StatusUnauthorized, "invalid_credentials")
	if !strings.Contains(p.DetailJA, "正しくありません") {
		t.Errorf("detail_ja %q", p.DetailJA)
	}
	// an unknown tenant is the same answer as a wrong password
	mustProblem(t, h.api("POST", "/api/v1/auth/login", "", loginBody("nobody", "admin", goodPassword)), http.StatusUnauthorized, "invalid_credentials")

	rec := h.api("POST", "/api/v1/auth/login", "", loginBody(tenantCode, "locked", "x"))
	mustProblem(t, rec, http.StatusLocked, "account_locked")
	if got := rec.Header().Get("Retry-After"); got != lockedRetryStr {
		t.Errorf("Retry-After %q, want %q (seconds, rounded up)", got, lockedRetryStr)
	}

	p = mustProblem(t, h.api("POST", "/api/v1/auth/login", "", loginBody("", "", "")), http.StatusUnprocessableEntity, "invalid_request")
	if len(p.Errors) != 3 || p.Errors[0].Field != "login" || p.Errors[0].MessageJA == "" || p.Errors[0].Message == "" {
		t.Errorf("field errors %+v", p.Errors)
	}
}

func TestAPIOperatorLogin(t *testing.T) {
	h := newDefault(t)
	var s sessionBody
	mustJSON(t, h.api("POST", "/api/v1/ops/auth/login", "", `{"login":"root","password":"`+goodPassword+`"}`), http.StatusOK, &s)
	var me struct {
		Account struct{ Kind string } `json:"account"`
		Tenant  *struct{}             `json:"tenant"`
	}
	mustJSON(t, h.api("GET", "/api/v1/me", s.Token, ""), http.StatusOK, &me)
	if me.Account.Kind != ports.KindOperator || me.Tenant != nil {
		t.Fatalf("operator me %+v", me)
	}
	mustProblem(t, h.api("POST", "/api/v1/ops/auth/login", "", `{"login":"root","password":"nope"}`), http.StatusUnauthorized, "invalid_credentials")
	// a member login is not an operator login
	mustProblem(t, h.api("POST", "/api/v1/ops/auth/login", "", `{"login":"admin","password":"`+goodPassword+`"}`), http.StatusUnauthorized, "invalid_credentials")
	// the operator form has no tenant
	mustProblem(t, h.api("POST", "/api/v1/ops/auth/login", "", loginBody("acme", "root", goodPassword)), http.StatusBadRequest, "unknown_field")
}

func TestAPILogout(t *testing.T) {
	h := newDefault(t)
	rec := h.api("POST", "/api/v1/auth/logout", tokEmployee, "")
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Fatalf("logout: %d %s", rec.Code, rec.Body)
	}
	rec = h.api("GET", "/api/v1/me", tokEmployee, "")
	mustProblem(t, rec, http.StatusUnauthorized, "session_expired")
	if !strings.Contains(rec.Header().Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("WWW-Authenticate %q", rec.Header().Get("WWW-Authenticate"))
	}
	// a session in the MFA step may still log out
	if rec := h.api("POST", "/api/v1/auth/logout", tokMFA, ""); rec.Code != http.StatusNoContent {
		t.Fatalf("logout in MFA step: %d", rec.Code)
	}
	h.fake.failNext(ports.ErrUnavailable)
	mustProblem(t, h.api("POST", "/api/v1/auth/logout", tokAdmin, ""), http.StatusServiceUnavailable, "unavailable")
}

func TestAPIMe(t *testing.T) {
	h := newDefault(t)
	var me struct {
		Account accountBody `json:"account"`
		Tenant  struct {
			Code string `json:"code"`
			Name string `json:"name"`
		} `json:"tenant"`
		Roles []string `json:"roles"`
		Stage string   `json:"stage"`
		MFA   struct {
			Enabled  bool `json:"enabled"`
			Required bool `json:"required"`
		} `json:"mfa"`
	}
	rec := h.api("GET", "/api/v1/me", tokAdmin, "")
	mustJSON(t, rec, http.StatusOK, &me)
	if me.Account.Login != "admin" || me.Tenant.Code != tenantCode || me.Tenant.Name != tenantName ||
		!slices.Equal(me.Roles, []string{"admin"}) || me.Stage != "full" || me.MFA.Enabled || !me.MFA.Required {
		t.Fatalf("me %+v", me)
	}
	if me.Account.CreatedAt == nil || *me.Account.CreatedAt != "2026-04-01T09:00:00Z" || me.Account.LastLoginAt != nil {
		t.Errorf("times: created %v, last login %v (never = null)", me.Account.CreatedAt, me.Account.LastLoginAt)
	}
	if strings.Contains(rec.Body.String(), "hash") {
		t.Errorf("me leaks something hash-like: %s", rec.Body)
	}
}

func TestAPIChangePassword(t *testing.T) {
	h := newDefault(t)
	body := `{"current_password":"` + goodPassword + `","new_password":"Brand-New-Pass-7"}`
	var s sessionBody
	mustJSON(t, h.api("POST", "/api/v1/me/password", tokPwChange, body), http.StatusOK, &s)
	if s.Token == "" || s.Stage != ports.StageFull {
		t.Fatalf("answer %+v", s)
	}
	// the old session ended with the change; the new one is complete
	mustProblem(t, h.api("GET", "/api/v1/me", tokPwChange, ""), http.StatusUnauthorized, "")
	mustJSON(t, h.api("GET", "/api/v1/me", s.Token, ""), http.StatusOK, nil)

	p := mustProblem(t, h.api("POST", "/api/v1/me/password", tokAdmin, `{"current_password":"`+goodPassword+`","new_password":"short"}`),
		http.StatusUnprocessableEntity, "password_policy")
	if len(p.Errors) != 2 || p.Errors[0].Field != "new_password" || p.Errors[1].Code != "character_classes" || p.Errors[1].MessageJA == "" {
		t.Fatalf("one entry per rule broken expected: %+v", p.Errors)
	}
	p = mustProblem(t, h.api("POST", "/api/v1/me/password", tokAdmin, `{"current_password":"nope","new_password":"Brand-New-Pass-7"}`),
		http.StatusUnprocessableEntity, "current_password_incorrect")
	if p.Errors[0].Field != "current_password" {
		t.Fatalf("errors %+v", p.Errors)
	}
}

func TestAPIAccounts(t *testing.T) {
	h := newDefault(t)

	var list struct{ Items []accountBody }
	mustJSON(t, h.api("GET", "/api/v1/accounts", tokAdmin, ""), http.StatusOK, &list)
	if len(list.Items) != 6 || list.Items[0].Login != "admin" {
		t.Fatalf("list %+v", list)
	}
	for _, a := range list.Items {
		if a.ID == "acc-other" {
			t.Fatal("another tenant's account listed")
		}
	}

	rec := h.api("POST", "/api/v1/accounts", tokAdmin, `{"login":"taro","name":"佐藤 太郎","roles":["hr","employee"]}`)
	var created accountBody
	mustJSON(t, rec, http.StatusCreated, &created)
	if created.InitialPassword != generatedOTP || !created.MustChangePassword || rec.Header().Get("Location") != "/api/v1/accounts/"+created.ID {
		t.Fatalf("created %+v, Location %q", created, rec.Header().Get("Location"))
	}
	var chosen accountBody
	mustJSON(t, h.api("POST", "/api/v1/accounts", tokAdmin, `{"login":"jiro","name":"次郎","roles":["employee"],"password":"Chosen-Pass-42"}`), http.StatusCreated, &chosen)
	if chosen.InitialPassword != "" || chosen.Login != "jiro" {
		t.Fatalf("a chosen password is echoed back: %+v", chosen)
	}
	mustProblem(t, h.api("POST", "/api/v1/accounts", tokAdmin, `{"login":"taro","name":"x","roles":["hr"]}`), http.StatusConflict, "login_taken")
	p := mustProblem(t, h.api("POST", "/api/v1/accounts", tokAdmin, `{"login":"","name":"x","roles":[]}`), http.StatusUnprocessableEntity, "invalid_account")
	if len(p.Errors) != 2 {
		t.Fatalf("errors %+v", p.Errors)
	}

	var a accountBody
	mustJSON(t, h.api("GET", "/api/v1/accounts/acc-hanako", tokAdmin, ""), http.StatusOK, &a)
	if !a.Locked || a.LockedUntil == nil || *a.LockedUntil != "2026-04-01T09:30:00Z" {
		t.Fatalf("get %+v", a)
	}
	// another tenant's account is not found, not forbidden
	mustProblem(t, h.api("GET", "/api/v1/accounts/acc-other", tokAdmin, ""), http.StatusNotFound, "not_found")

	mustJSON(t, h.api("PATCH", "/api/v1/accounts/acc-hanako", tokAdmin, `{"name":"山田 はなこ","roles":["hr"]}`), http.StatusOK, &a)
	if a.Name != "山田 はなこ" || !slices.Equal(a.Roles, []string{"hr"}) {
		t.Fatalf("patched %+v", a)
	}
	mustJSON(t, h.api("PATCH", "/api/v1/accounts/acc-hanako", tokAdmin, `{"roles":null}`), http.StatusOK, &a)
	if !slices.Equal(a.Roles, []string{"hr"}) {
		t.Fatalf("null roles changed the roles: %+v", a)
	}
	mustProblem(t, h.api("PATCH", "/api/v1/accounts/acc-hanako", tokAdmin, `{"roles":[]}`), http.StatusUnprocessableEntity, "invalid_account")
	mustProblem(t, h.api("PATCH", "/api/v1/accounts/acc-other", tokAdmin, `{"name":"x"}`), http.StatusNotFound, "not_found")

	mustJSON(t, h.api("POST", "/api/v1/accounts/acc-hanako/unlock", tokAdmin, ""), http.StatusOK, &a)
	if a.Locked || a.LockedUntil != nil {
		t.Fatalf("unlocked %+v", a)
	}
	mustJSON(t, h.api("POST", "/api/v1/accounts/acc-hanako/disable", tokAdmin, ""), http.StatusOK, &a)
	if a.Status != ports.AccountDisabled {
		t.Fatalf("disabled %+v", a)
	}
	mustProblem(t, h.api("POST", "/api/v1/accounts/acc-other/disable", tokAdmin, ""), http.StatusNotFound, "not_found")
	if h.fake.account("acc-other").Status != ports.AccountActive {
		t.Fatal("another tenant's account was disabled")
	}
}

func TestAPINonAdminIsForbidden(t *testing.T) {
	h := newDefault(t)
	for _, r := range [][2]string{{"GET", "/api/v1/accounts"}, {"GET", "/api/v1/accounts/acc-admin"},
		{"POST", "/api/v1/accounts/acc-admin/disable"}, {"POST", "/api/v1/accounts/acc-admin/unlock"}} {
		mustProblem(t, h.api(r[0], r[1], tokEmployee, ""), http.StatusForbidden, "forbidden")
	}
	mustProblem(t, h.api("GET", "/api/v1/accounts", tokOperator, ""), http.StatusForbidden, "forbidden")
	if uc := h.fake.useCases(); len(uc) != 0 {
		t.Fatalf("use cases reached: %v", uc)
	}
}

// TestStageGating: a session that owes a step opens only that step's routes and says which step is pending.
func TestStageGating(t *testing.T) {
	h := newDefault(t)
	pw := `{"current_password":"nope","new_password":"x"}` // reaches the fake only where allowed (422 there)
	cases := []struct {
		token, method, path, body string
		status                    int
		code                      string
	}{
		{tokPwChange, "GET", "/api/v1/me", "", 200, ""},
		{tokPwChange, "POST", "/api/v1/me/password", pw, 422, "current_password_incorrect"},
		{tokPwChange, "GET", "/api/v1/accounts", "", 403, "password_change_required"},
		{tokMFA, "GET", "/api/v1/me", "", 403, "mfa_required"},
		{tokMFA, "POST", "/api/v1/me/password", pw, 403, "mfa_required"},
		{tokMFA, "GET", "/api/v1/accounts", "", 403, "mfa_required"},
		{tokEnrol, "GET", "/api/v1/me", "", 200, ""},
		{tokEnrol, "POST", "/api/v1/me/password", pw, 403, "mfa_enrolment_required"},
		{tokEnrol, "GET", "/api/v1/accounts/acc-admin", "", 403, "mfa_enrolment_required"},
		{tokAdmin, "GET", "/api/v1/accounts", "", 200, ""},
	}
	for _, c := range cases {
		t.Run(c.token+" "+c.method+" "+c.path, func(t *testing.T) {
			rec := h.api(c.method, c.path, c.token, c.body)
			if c.code == "" {
				mustJSON(t, rec, c.status, nil)
				return
			}
			mustProblem(t, rec, c.status, c.code)
		})
	}
	for _, tok := range []string{tokPwChange, tokMFA, tokEnrol} {
		if rec := h.api("POST", "/api/v1/auth/logout", tok, ""); rec.Code != http.StatusNoContent {
			t.Errorf("logout with %s: %d", tok, rec.Code)
		}
	}
}

// TestErrorMapping: every port error kind becomes its status, code and Retry-After; unknown errors a generic 500.
func TestErrorMapping(t *testing.T) {
	withRetry := func(kind error, code string, d time.Duration) error {
		e := ports.NewError(kind, code, "Try later.", "後でお試しください。")
		e.RetryAfter = d
		return e
	}
	cases := []struct {
		err    error
		status int
		code   string
		retry  string
	}{
		{ports.Invalid("bad", "Bad.", "不正です。", ports.FieldError{Field: "name", Code: "length", MessageEN: "too long", MessageJA: "長すぎます"}), 422, "bad", ""},
		{ports.ErrInvalid, 422, "invalid", ""},
		{ports.ErrNotFound, 404, "not_found", ""},
		{ports.NewError(ports.ErrConflict, "login_taken", "Taken.", "使用済みです。"), 409, "login_taken", ""},
		{ports.ErrConflict, 409, "conflict", ""},
		{ports.ErrForbidden, 403, "forbidden", ""},
		{ports.NewError(ports.ErrForbidden, "ip_not_allowed", "Not from here.", "この場所からは使用できません。"), 403, "ip_not_allowed", ""},
		{ports.ErrUnauthenticated, 401, "unauthenticated", ""},
		{ports.ErrPreconditionFailed, 412, "precondition_failed", ""},
		{withRetry(ports.ErrLocked, "account_locked", lockedRetry), 423, "account_locked", lockedRetryStr},
		{withRetry(ports.ErrRateLimited, "rate_limited", 1500*time.Millisecond), 429, "rate_limited", "2"},
		{withRetry(ports.ErrUnavailable, "maintenance", time.Hour), 503, "maintenance", "3600"},
		{ports.ErrUnavailable, 503, "unavailable", ""},
		{fmt.Errorf("loading: %w", ports.NewError(ports.ErrNotFound, "gone", "Gone.", "ありません。")), 404, "gone", ""},
		{errors.New("pq: connection to host=db password=hunter2 failed"), 500, "internal_error", ""},
		{&ports.Error{Code: "kindless", MessageEN: "secret-kindless"}, 500, "internal_error", ""},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			h := newDefault(t)
			h.fake.failNext(c.err)
			rec := h.api("GET", "/api/v1/accounts/acc-admin", tokAdmin, "")
			p := mustProblem(t, rec, c.status, c.code)
			if got := rec.Header().Get("Retry-After"); got != c.retry {
				t.Errorf("Retry-After %q, want %q", got, c.retry)
			}
			if c.status == 500 {
				if strings.Contains(rec.Body.String(), "hunter2") || strings.Contains(rec.Body.String(), "secret") {
					t.Fatalf("internal error text reached the client: %s", rec.Body)
				}
				if !strings.Contains(h.logs.String(), "request failed") {
					t.Errorf("internal error not logged: %s", h.logs)
				}
			}
			if c.status == 422 && len(p.Errors) == 0 && c.err != ports.ErrInvalid {
				t.Errorf("no field errors: %+v", p)
			}
		})
	}
}

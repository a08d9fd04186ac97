package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/roumu/roumu/test/testenv"
)

// problem is the RFC 7807 document every API error is.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	DetailJA  string `json:"detail_ja"`
	Code      string `json:"code"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field     string `json:"field"`
		Code      string `json:"code"`
		Message   string `json:"message"`
		MessageJA string `json:"message_ja"`
	} `json:"errors"`
}

// decodeProblem checks that res is a complete problem document with a code, whatever its status.
func decodeProblem(res response) (problem, error) {
	var p problem
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		return p, fmt.Errorf("content type %q, want application/problem+json", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(res.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("problem body: %v", err)
	}
	switch {
	case p.Status != res.status:
		return p, fmt.Errorf("status member %d, response status %d", p.Status, res.status)
	case p.Code == "" || p.Title == "" || p.Type == "" || p.Detail == "" || p.DetailJA == "":
		return p, fmt.Errorf("incomplete problem %+v", p)
	case p.RequestID == "" || p.RequestID != res.header.Get("X-Request-Id"):
		return p, fmt.Errorf("request_id %q, X-Request-Id %q", p.RequestID, res.header.Get("X-Request-Id"))
	}
	return p, nil
}

// wantProblem fails unless res is a problem document with the given status and code.
func wantProblem(t testing.TB, res response, status int, code string) problem {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d: %s", res.status, status, res)
	}
	p, err := decodeProblem(res)
	if err != nil {
		t.Fatalf("%v: %s", err, res)
	}
	if p.Code != code {
		t.Fatalf("code %q, want %q: %s", p.Code, code, res)
	}
	return p
}

// wantJSON fails unless res is a JSON answer with the given status, and decodes it into v (when not nil).
func wantJSON(t testing.TB, res response, status int, v any) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d: %s", res.status, status, res)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("content type %q: %s", ct, res)
	}
	if v != nil {
		if err := json.Unmarshal(res.body, v); err != nil {
			t.Fatalf("decoding %T: %v: %s", v, err, res)
		}
	}
}

// jsonBody encodes v as a request body.
func jsonBody(t testing.TB, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// session is the answer to a login, a password change or a second factor.
type session struct {
	Token       string `json:"token"`
	MFARequired bool   `json:"mfa_required"`
	Stage       string `json:"stage"`
	ExpiresAt   string `json:"expires_at"`
}

// account is an account as the API shows it.
type account struct {
	ID                 string   `json:"id"`
	Kind               string   `json:"kind"`
	Login              string   `json:"login"`
	Name               string   `json:"name"`
	Roles              []string `json:"roles"`
	Status             string   `json:"status"`
	Locked             bool     `json:"locked"`
	LockedUntil        *string  `json:"locked_until"`
	MustChangePassword bool     `json:"must_change_password"`
	InitialPassword    string   `json:"initial_password"`
}

// me is the answer of GET /api/v1/me.
type me struct {
	Account account `json:"account"`
	Tenant  *struct {
		ID          string `json:"id"`
		Code        string `json:"code"`
		MFARequired bool   `json:"mfa_required"`
	} `json:"tenant"`
	Roles []string `json:"roles"`
	Stage string   `json:"stage"`
	MFA   struct {
		Enabled  bool `json:"enabled"`
		Required bool `json:"required"`
	} `json:"mfa"`
}

func loginBody(t testing.TB, tenant, login, password string) string {
	return jsonBody(t, map[string]string{"tenant": tenant, "login": login, "password": password})
}

// tryLogin is a member login through the API, whatever its outcome.
func (a *app) tryLogin(tenant, login, password string) response {
	a.t.Helper()
	return a.api(http.MethodPost, "/api/v1/auth/login", "", loginBody(a.t, tenant, login, password))
}

// login logs a member in through the API and expects a session at the given stage.
func (a *app) login(tenant, login, password, stage string) session {
	a.t.Helper()
	var s session
	wantJSON(a.t, a.tryLogin(tenant, login, password), http.StatusOK, &s)
	if s.Token == "" || s.Stage != stage || s.MFARequired != (stage == "mfa") || s.ExpiresAt == "" {
		a.t.Fatalf("login of %s/%s: %+v, want stage %s", tenant, login, s, stage)
	}
	return s
}

// me asks who the token belongs to.
func (a *app) me(token string) me {
	a.t.Helper()
	var m me
	wantJSON(a.t, a.api(http.MethodGet, "/api/v1/me", token, ""), http.StatusOK, &m)
	return m
}

// changePassword changes the caller's password through the API and returns the new session.
func (a *app) changePassword(token, current, next string) session {
	a.t.Helper()
	var s session
	res := a.api(http.MethodPost, "/api/v1/me/password", token,
		jsonBody(a.t, map[string]string{"current_password": current, "new_password": next}))
	wantJSON(a.t, res, http.StatusOK, &s)
	return s
}

// createAccount has an admin create a member with a generated one-time password.
func (a *app) createAccount(adminToken, login, name string, roles ...string) account {
	a.t.Helper()
	var acct account
	res := a.api(http.MethodPost, "/api/v1/accounts", adminToken,
		jsonBody(a.t, map[string]any{"login": login, "name": name, "roles": roles}))
	wantJSON(a.t, res, http.StatusCreated, &acct)
	if acct.ID == "" || acct.InitialPassword == "" || !acct.MustChangePassword {
		a.t.Fatalf("created account %+v", acct)
	}
	if loc := res.header.Get("Location"); loc != "/api/v1/accounts/"+acct.ID {
		a.t.Fatalf("Location %q for account %s", loc, acct.ID)
	}
	return acct
}

// activate logs a new member in with the one-time password and sets testenv.Password, as the person would,
// and returns the full session.
func (a *app) activate(tenant string, acct account) session {
	a.t.Helper()
	first := a.login(tenant, acct.Login, acct.InitialPassword, "password_change")
	s := a.changePassword(first.Token, acct.InitialPassword, testenv.Password)
	if s.Stage != "full" {
		a.t.Fatalf("after the first password change: %+v", s)
	}
	return s
}

// startWithNewcomer serves a fresh environment with tenant acme, logs its admin in and has the admin create
// tanaka (田中 花子) with the given roles, who has not logged in yet.
func startWithNewcomer(t *testing.T, roles ...string) (a *app, adminToken string, newcomer account) {
	t.Helper()
	a = startApp(t)
	_, adminToken = a.tenant("acme")
	return a, adminToken, a.createAccount(adminToken, "tanaka", "田中 花子", roles...)
}

// tenant creates a tenant through the domain (its admin's first password change done) and logs the admin in
// through the API; the admin's password is testenv.NewPassword.
func (a *app) tenant(code string) (adminID, adminToken string) {
	a.t.Helper()
	_, admin := a.env.Tenant(a.t, code)
	return admin.AccountID, a.login(code, "admin", testenv.NewPassword, "full").Token
}

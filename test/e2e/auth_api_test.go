package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

func TestAPIMemberLoginMeAndLogout(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	adminID, token := a.tenant("acme")

	m := a.me(token)
	if m.Account.ID != adminID || m.Account.Login != "admin" || m.Account.Name != "管理 太郎" || m.Account.Kind != "member" ||
		m.Stage != "full" || m.Tenant == nil || m.Tenant.Code != "acme" || !slices.Equal(m.Roles, []string{"admin"}) {
		t.Fatalf("me: %+v", m)
	}

	res := a.api(http.MethodPost, "/api/v1/auth/logout", token, "")
	if res.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", res.status, res)
	}
	wantProblem(t, a.api(http.MethodGet, "/api/v1/me", token, ""), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, a.api(http.MethodPost, "/api/v1/auth/logout", token, ""), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, a.api(http.MethodGet, "/api/v1/accounts", token, ""), http.StatusUnauthorized, "unauthenticated")
}

func TestAPIOperatorLogin(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	a.tenant("acme")
	op, err := a.env.Accounts.CreateOperator(t.Context(), ports.CreateOperatorCommand{
		Login: "ops.suzuki", Name: "運用 鈴木", Password: testenv.Password})
	if err != nil {
		t.Fatal(err)
	}
	operatorLogin := func(login, password string) response {
		return a.api(http.MethodPost, "/api/v1/ops/auth/login", "",
			jsonBody(t, map[string]string{"login": login, "password": password}))
	}

	// Operators always need a second factor; this one has none yet, so the session only opens enrolment.
	var s session
	wantJSON(t, operatorLogin("ops.suzuki", testenv.Password), http.StatusOK, &s)
	if s.Token == "" || s.Stage != "mfa_enrol" {
		t.Fatalf("operator session %+v", s)
	}
	m := a.me(s.Token)
	if m.Account.ID != op.ID || m.Account.Kind != "operator" || m.Tenant != nil || m.Stage != "mfa_enrol" || !m.MFA.Required {
		t.Fatalf("operator me: %+v", m)
	}
	wantProblem(t, a.api(http.MethodGet, "/api/v1/accounts", s.Token, ""), http.StatusForbidden, "mfa_enrolment_required")

	// Neither login form opens the other kind of account.
	wantProblem(t, operatorLogin("ops.suzuki", "Wrong-password-1"), http.StatusUnauthorized, "invalid_credentials")
	wantProblem(t, operatorLogin("admin", testenv.NewPassword), http.StatusUnauthorized, "invalid_credentials")
	wantProblem(t, a.tryLogin("acme", "ops.suzuki", testenv.Password), http.StatusUnauthorized, "invalid_credentials")

	res := a.api(http.MethodPost, "/api/v1/auth/logout", s.Token, "")
	if res.status != http.StatusNoContent {
		t.Fatalf("operator logout: %s", res)
	}
	wantProblem(t, a.api(http.MethodGet, "/api/v1/me", s.Token, ""), http.StatusUnauthorized, "unauthenticated")
}

func TestAPIForcedFirstPasswordChange(t *testing.T) {
	t.Parallel()
	// An admin, so that every refusal below is about the pending step and not about roles.
	a, _, newcomer := startWithNewcomer(t, "admin")

	first := a.login("acme", "tanaka", newcomer.InitialPassword, "password_change")
	if m := a.me(first.Token); m.Stage != "password_change" || !m.Account.MustChangePassword {
		t.Fatalf("me before the change: %+v", m)
	}
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/accounts", ""},
		{http.MethodPost, "/api/v1/accounts", `{"login":"other","name":"他","roles":["hr"]}`},
		{http.MethodGet, "/api/v1/accounts/" + newcomer.ID, ""},
		{http.MethodPatch, "/api/v1/accounts/" + newcomer.ID, `{"name":"改名"}`},
		{http.MethodPost, "/api/v1/accounts/" + newcomer.ID + "/unlock", ""},
		{http.MethodPost, "/api/v1/accounts/" + newcomer.ID + "/disable", ""},
	} {
		wantProblem(t, a.api(r.method, r.path, first.Token, r.body), http.StatusForbidden, "password_change_required")
	}

	// The policy is applied, with one entry per rule broken.
	res := a.api(http.MethodPost, "/api/v1/me/password", first.Token,
		jsonBody(t, map[string]string{"current_password": newcomer.InitialPassword, "new_password": "short"}))
	if p := wantProblem(t, res, http.StatusUnprocessableEntity, "password_policy"); len(p.Errors) == 0 {
		t.Fatalf("password_policy without field errors: %s", res)
	}

	// Logout is open at this stage too.
	second := a.login("acme", "tanaka", newcomer.InitialPassword, "password_change")
	if res := a.api(http.MethodPost, "/api/v1/auth/logout", second.Token, ""); res.status != http.StatusNoContent {
		t.Fatalf("logout at password_change: %s", res)
	}
	wantProblem(t, a.api(http.MethodGet, "/api/v1/me", second.Token, ""), http.StatusUnauthorized, "unauthenticated")

	full := a.changePassword(first.Token, newcomer.InitialPassword, testenv.Password)
	if full.Stage != "full" {
		t.Fatalf("after the change: %+v", full)
	}
	wantProblem(t, a.api(http.MethodGet, "/api/v1/me", first.Token, ""), http.StatusUnauthorized, "unauthenticated")
	if m := a.me(full.Token); m.Stage != "full" || m.Account.MustChangePassword {
		t.Fatalf("me after the change: %+v", m)
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/accounts", full.Token, ""), http.StatusOK, nil)
	wantProblem(t, a.tryLogin("acme", "tanaka", newcomer.InitialPassword), http.StatusUnauthorized, "invalid_credentials")
	a.login("acme", "tanaka", testenv.Password, "full")
}

func TestAPISessionIdleExpiry(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, token := a.tenant("acme")

	// Use keeps a session alive: 29 minutes of idleness twice over is fine.
	for range 2 {
		a.env.Clock.Advance(29 * time.Minute)
		a.me(token)
	}
	a.env.Clock.Advance(30 * time.Minute)
	wantProblem(t, a.api(http.MethodGet, "/api/v1/me", token, ""), http.StatusUnauthorized, "session_expired")
	wantProblem(t, a.api(http.MethodGet, "/api/v1/me", token, ""), http.StatusUnauthorized, "unauthenticated")
}

func TestAPIPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, first := a.tenant("acme")
	second := a.login("acme", "admin", testenv.NewPassword, "full").Token

	wrong := a.api(http.MethodPost, "/api/v1/me/password", first,
		jsonBody(t, map[string]string{"current_password": "Not-the-password-9", "new_password": "Brand-new-pass-7"}))
	wantProblem(t, wrong, http.StatusUnprocessableEntity, "current_password_incorrect")
	a.me(second) // a refused change ends nothing

	fresh := a.changePassword(first, testenv.NewPassword, "Brand-new-pass-7")
	for _, old := range []string{first, second} {
		wantProblem(t, a.api(http.MethodGet, "/api/v1/me", old, ""), http.StatusUnauthorized, "unauthenticated")
	}
	if m := a.me(fresh.Token); m.Stage != "full" {
		t.Fatalf("new session: %+v", m)
	}
	wantProblem(t, a.tryLogin("acme", "admin", testenv.NewPassword), http.StatusUnauthorized, "invalid_credentials")
	a.login("acme", "admin", "Brand-new-pass-7", "full")
}

func TestAPIAccountsAdministration(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	adminID, admin := a.tenant("acme")

	var list struct{ Items []account }
	wantJSON(t, a.api(http.MethodGet, "/api/v1/accounts", admin, ""), http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ID != adminID {
		t.Fatalf("initial list %+v", list)
	}

	created := a.createAccount(admin, "sato", "佐藤 一郎", "employee")
	if created.Login != "sato" || created.Status != "active" || !slices.Equal(created.Roles, []string{"employee"}) {
		t.Fatalf("created %+v", created)
	}
	// An initial password chosen by the admin is not echoed back.
	var chosen account
	wantJSON(t, a.api(http.MethodPost, "/api/v1/accounts", admin, jsonBody(t, map[string]any{
		"login": "kato", "name": "加藤 三郎", "roles": []string{"hr"}, "password": "Chosen-by-admin-4"})), http.StatusCreated, &chosen)
	if chosen.InitialPassword != "" || !chosen.MustChangePassword {
		t.Fatalf("account with a chosen password: %+v", chosen)
	}

	var got account
	wantJSON(t, a.api(http.MethodGet, "/api/v1/accounts/"+created.ID, admin, ""), http.StatusOK, &got)
	if got.ID != created.ID || got.Name != "佐藤 一郎" || got.InitialPassword != "" || got.Locked {
		t.Fatalf("get %+v", got)
	}
	wantJSON(t, a.api(http.MethodPatch, "/api/v1/accounts/"+created.ID, admin, `{"name":"佐藤 一朗","roles":["hr","employee"]}`),
		http.StatusOK, &got)
	if got.Name != "佐藤 一朗" || !slices.Equal(got.Roles, []string{"hr", "employee"}) {
		t.Fatalf("patched %+v", got)
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/accounts", admin, ""), http.StatusOK, &list)
	if len(list.Items) != 3 {
		t.Fatalf("list after creating two: %+v", list)
	}

	person := a.activate("acme", created)
	if m := a.me(person.Token); !slices.Equal(m.Roles, []string{"hr", "employee"}) {
		t.Fatalf("the person's roles: %+v", m)
	}
	wantProblem(t, a.api(http.MethodGet, "/api/v1/accounts", person.Token, ""), http.StatusForbidden, "forbidden")

	// Five failures lock; the admin sees the lock and lifts it.
	lockOut(t, a, "acme", "sato")
	wantJSON(t, a.api(http.MethodGet, "/api/v1/accounts/"+created.ID, admin, ""), http.StatusOK, &got)
	if !got.Locked || got.LockedUntil == nil {
		t.Fatalf("locked account shown as %+v", got)
	}
	wantJSON(t, a.api(http.MethodPost, "/api/v1/accounts/"+created.ID+"/unlock", admin, ""), http.StatusOK, &got)
	if got.Locked || got.LockedUntil != nil {
		t.Fatalf("unlocked account shown as %+v", got)
	}
	a.login("acme", "sato", testenv.Password, "full")

	// Disabling ends the person's sessions and refuses their logins.
	wantJSON(t, a.api(http.MethodPost, "/api/v1/accounts/"+created.ID+"/disable", admin, ""), http.StatusOK, &got)
	if got.Status != "disabled" {
		t.Fatalf("disabled account shown as %+v", got)
	}
	wantProblem(t, a.api(http.MethodGet, "/api/v1/me", person.Token, ""), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, a.tryLogin("acme", "sato", testenv.Password), http.StatusForbidden, "account_disabled")
}

// lockOut fails five logins in a row and checks that the fifth locks the identifier for 30 minutes.
func lockOut(t *testing.T, a *app, tenant, login string) {
	t.Helper()
	for i := 1; i < 5; i++ {
		wantProblem(t, a.tryLogin(tenant, login, "Wrong-password-"+strconv.Itoa(i)), http.StatusUnauthorized, "invalid_credentials")
	}
	wantLocked(t, a.tryLogin(tenant, login, "Wrong-password-5"), 30*time.Minute)
}

// wantLocked fails unless res is 423 account_locked with Retry-After equal to retry (to the second).
func wantLocked(t *testing.T, res response, retry time.Duration) {
	t.Helper()
	wantProblem(t, res, http.StatusLocked, "account_locked")
	if got, want := res.header.Get("Retry-After"), strconv.Itoa(int(retry.Seconds())); got != want {
		t.Fatalf("Retry-After %q, want %q", got, want)
	}
}

func TestAPILockoutIsNotExtendedByFailuresWhileLocked(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	a.activate("acme", a.createAccount(admin, "sato", "佐藤 一郎", "employee"))

	lockOut(t, a, "acme", "sato")
	wantLocked(t, a.tryLogin("acme", "sato", testenv.Password), 30*time.Minute) // the right password too
	lockedUntil := func() string {
		var list struct{ Items []account }
		wantJSON(t, a.api(http.MethodGet, "/api/v1/accounts", admin, ""), http.StatusOK, &list)
		for _, acct := range list.Items {
			if acct.Login == "sato" && acct.LockedUntil != nil {
				return *acct.LockedUntil
			}
		}
		t.Fatalf("sato is not locked: %+v", list)
		return ""
	}
	until := lockedUntil()

	a.env.Clock.Advance(10 * time.Minute)
	for i := range 3 {
		wantLocked(t, a.tryLogin("acme", "sato", "Still-wrong-"+strconv.Itoa(i)), 20*time.Minute)
	}
	wantLocked(t, a.tryLogin("acme", "sato", testenv.Password), 20*time.Minute)
	if got := lockedUntil(); got != until {
		t.Fatalf("failures while locked moved the lock from %s to %s", until, got)
	}

	// Other identifiers are not affected, and the lock ends on time.
	a.login("acme", "admin", testenv.NewPassword, "full")
	a.env.Clock.Advance(20*time.Minute - time.Second)
	wantLocked(t, a.tryLogin("acme", "sato", testenv.Password), time.Second)
	a.env.Clock.Advance(time.Second)
	a.login("acme", "sato", testenv.Password, "full")
}

func TestAPIInvalidCredentialsAreIndistinguishable(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	a.tenant("acme")
	a.tenant("beta")

	answers := map[string]response{
		"unknown tenant":          a.tryLogin("nosuch", "admin", testenv.NewPassword),
		"unknown login":           a.tryLogin("acme", "nobody", testenv.NewPassword),
		"wrong password":          a.tryLogin("acme", "admin", "Wrong-password-1"),
		"other tenant's password": a.tryLogin("beta", "admin", "Wrong-password-2"),
	}
	var want []byte
	for name, res := range answers {
		p := wantProblem(t, res, http.StatusUnauthorized, "invalid_credentials")
		body := withoutRequestID(t, res.body, p.RequestID)
		if want == nil {
			want = body
		}
		if !bytes.Equal(body, want) {
			t.Errorf("%s answered\n%s\nothers\n%s", name, body, want)
		}
		for _, h := range []string{"Retry-After", "WWW-Authenticate", "Set-Cookie"} {
			if v := res.header.Get(h); v != "" {
				t.Errorf("%s: %s %q", name, h, v)
			}
		}
	}
}

// withoutRequestID returns a JSON body with its request_id member, which differs on every request, removed.
func withoutRequestID(t *testing.T, body []byte, id string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m["request_id"] != id {
		t.Fatalf("request_id %v, want %s", m["request_id"], id)
	}
	delete(m, "request_id")
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

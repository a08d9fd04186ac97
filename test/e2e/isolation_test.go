package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// TestTenantIsolation has tenant A's admin try every account route on tenant B's accounts: each answer must be
// the very 404 an ID that exists nowhere gets, A's list never shows B's accounts, and B is left as it was.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, adminA := a.tenant("alpha")
	a.createAccount(adminA, "yamada", "山田 太郎", "employee")
	bAdminID, adminB := a.tenant("beta")
	bMember := a.createAccount(adminB, "suzuki", "鈴木 次郎", "hr")
	lockOut(t, a, "beta", "suzuki") // so that an unlock would show

	tenantB, err := a.env.Store.TenantByCode(t.Context(), "beta")
	if err != nil {
		t.Fatal(err)
	}
	bAccounts := func() []ports.AccountRecord {
		recs, err := a.env.Store.ListAccounts(t.Context(), tenantB.ID)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	before := bAccounts()

	nowhere := "0195f3c2-0000-7000-8000-000000000000"
	routes := []struct{ method, suffix, body string }{
		{http.MethodGet, "", ""},
		{http.MethodPatch, "", `{"name":"乗っ取り","roles":["employee"]}`},
		{http.MethodPatch, "", `{"roles":["admin"]}`},
		{http.MethodPost, "/unlock", ""},
		{http.MethodPost, "/disable", ""},
	}
	for _, r := range routes {
		want := a.api(r.method, "/api/v1/accounts/"+nowhere+r.suffix, adminA, r.body)
		wantBody := withoutRequestID(t, want.body, wantProblem(t, want, http.StatusNotFound, "not_found").RequestID)
		for _, id := range []string{bAdminID, bMember.ID} {
			res := a.api(r.method, "/api/v1/accounts/"+id+r.suffix, adminA, r.body)
			p := wantProblem(t, res, http.StatusNotFound, "not_found")
			if got := withoutRequestID(t, res.body, p.RequestID); !bytes.Equal(got, wantBody) {
				t.Errorf("%s %s of tenant B answered\n%s\nunlike an unknown ID\n%s", r.method, r.suffix, got, wantBody)
			}
		}
	}

	var list struct{ Items []account }
	wantJSON(t, a.api(http.MethodGet, "/api/v1/accounts", adminA, ""), http.StatusOK, &list)
	if len(list.Items) != 2 {
		t.Errorf("tenant A lists %d accounts, want its own 2: %+v", len(list.Items), list.Items)
	}
	for _, acct := range list.Items {
		if acct.ID == bAdminID || acct.ID == bMember.ID || acct.Login == "suzuki" || strings.Contains(acct.Name, "鈴木") {
			t.Errorf("tenant A's list shows tenant B's account %+v", acct)
		}
	}

	assertUnchanged(t, before, bAccounts())
	wantLocked(t, a.tryLogin("beta", "suzuki", bMember.InitialPassword), 30*time.Minute)
	a.me(adminB)
	a.login("beta", "admin", testenv.NewPassword, "full")
}

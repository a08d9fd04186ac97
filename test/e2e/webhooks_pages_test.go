package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/roumu/roumu/domain/webhooks"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// TestPagesWebhooks: an admin adds a webhook in the browser and sees its secret once, sends a test event
// that the receiver verifies with it, reads the delivery log, pauses (the reason shows), resumes, rotates
// the secret and deletes; a refused destination comes back as the form with the error; an employee is
// refused the pages.
func TestPagesWebhooks(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	a.activate("acme", a.createAccount(admin, "tanaka", "田中 花子", "employee"))
	rcv := newReceiver(t)

	b := a.browser()
	b.logIn("acme", "admin", testenv.NewPassword, "/")
	wantPage(t, b.get("/admin/webhooks"), http.StatusOK, `action="/admin/webhooks"`, `value="employee.hired"`,
		"Webhook はまだ登録されていません。")
	refused := b.submit("/admin/webhooks", url.Values{"url": {"https://10.1.2.3/hook"}, "event_types": {"employee.hired"}})
	wantPage(t, refused, http.StatusUnprocessableEntity, "インターネット上の宛先を指定してください", `value="https://10.1.2.3/hook"`,
		`aria-invalid="true"`)

	created := b.submit("/admin/webhooks", url.Values{"url": {rcv.URL + "/hook"}, "description": {"給与連携"},
		"event_types": {"employee.hired", "employee.separated"}})
	wantPage(t, created, http.StatusCreated, `id="webhook-secret"`, "給与連携", "配信中")
	secret := regexp.MustCompile(`whsec_[A-Za-z0-9_-]+`).FindString(string(created.body))
	if secret == "" || created.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("no secret shown, or cacheable: %s", created.header)
	}
	subs, err := a.env.Webhooks.ListSubscriptions(t.Context(), a.principal(t, admin))
	if err != nil || len(subs) != 1 {
		t.Fatalf("subscriptions %v %+v", err, subs)
	}
	detail := "/admin/webhooks/" + subs[0].ID
	list := b.get("/admin/webhooks")
	wantPage(t, list, http.StatusOK, `href="`+detail+`"`)
	if strings.Contains(string(list.body), secret) {
		t.Fatal("the secret shows a second time")
	}

	wantPage(t, b.get(detail), http.StatusOK, `id="send-test"`, "配信はまだありません。")
	wantRedirect(t, b.submit(detail+"/test", url.Values{}), detail+"?notice=test")
	a.runWebhooks()
	got := rcv.received()
	if len(got) != 1 || webhooks.VerifySignature(secret, got[0].header.Get(webhooks.HeaderSignature), got[0].body,
		a.env.Clock.Now(), webhooks.DefaultTolerance) != nil {
		t.Fatalf("the test event did not arrive signed with the secret shown: %d", len(got))
	}
	wantPage(t, b.get(detail+"?notice=test"), http.StatusOK, `id="deliveries"`, "webhook.test", "成功", "HTTP 200")

	wantRedirect(t, b.submit(detail+"/pause", url.Values{}), detail+"?notice=paused")
	wantPage(t, b.get(detail), http.StatusOK, "停止中", "管理者が配信を停止しました。", "An administrator paused deliveries.", `id="resume"`)
	wantRedirect(t, b.submit(detail+"/resume", url.Values{}), detail+"?notice=resumed")
	rotated := b.submit(detail+"/rotate-secret", url.Values{})
	wantPage(t, rotated, http.StatusOK, `id="webhook-secret"`)
	if s := regexp.MustCompile(`whsec_[A-Za-z0-9_-]+`).FindString(string(rotated.body)); s == "" || s == secret {
		t.Fatalf("rotation showed %q", s)
	}
	wantRedirect(t, b.submit(detail+"/delete", url.Values{}), "/admin/webhooks?notice=deleted")
	if res := b.get(detail); res.status != http.StatusNotFound {
		t.Fatalf("deleted subscription: %d", res.status)
	}

	e := a.browser()
	e.logIn("acme", "tanaka", testenv.Password, "/")
	if res := e.get("/admin/webhooks"); res.status != http.StatusForbidden {
		t.Fatalf("employee on /admin/webhooks: %d", res.status)
	}
}

// principal is the principal a token stands for, to read through the module what a page did.
func (a *app) principal(t *testing.T, token string) ports.Principal {
	t.Helper()
	p, err := a.env.Accounts.Authenticate(t.Context(), token, ports.Source{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

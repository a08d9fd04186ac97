package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	web "github.com/roumu/roumu/adapters/http"
	"github.com/roumu/roumu/domain/webhooks"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// webhook is a subscription as the API shows it.
type webhook struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	Description    string   `json:"description"`
	EventTypes     []string `json:"event_types"`
	Status         string   `json:"status"`
	PausedAt       *string  `json:"paused_at"`
	PauseReason    string   `json:"pause_reason"`
	PauseMessageJA string   `json:"pause_message_ja"`
	PauseMessageEN string   `json:"pause_message_en"`
	Version        int64    `json:"version"`
	Secret         string   `json:"secret"`
}

// delivery is one entry of a subscription's delivery log.
type delivery struct {
	ID             string  `json:"id"`
	EventID        string  `json:"event_id"`
	EventType      string  `json:"event_type"`
	Status         string  `json:"status"`
	Attempts       int     `json:"attempts"`
	LastStatusCode int     `json:"last_status_code"`
	LastError      string  `json:"last_error"`
	NextAttemptAt  *string `json:"next_attempt_at"`
}

// received is one POST a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is an httptest server standing for a partner's webhook endpoint: it records every POST and
// answers with status (200 unless set).
type receiver struct {
	*httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	got    []received
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.status.Store(http.StatusOK)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// createWebhook subscribes url to the event types and returns the subscription with its secret.
func (a *app) createWebhook(token, url string, types ...string) webhook {
	a.t.Helper()
	var w webhook
	res := a.api(http.MethodPost, "/api/v1/webhooks", token,
		jsonBody(a.t, map[string]any{"url": url, "description": "給与システム連携", "event_types": types}))
	wantJSON(a.t, res, http.StatusCreated, &w)
	if w.ID == "" || w.Status != ports.WebhookActive || !strings.HasPrefix(w.Secret, "whsec_") {
		a.t.Fatalf("created %+v", w)
	}
	if loc := res.header.Get("Location"); loc != "/api/v1/webhooks/"+w.ID {
		a.t.Fatalf("Location %q", loc)
	}
	return w
}

func (a *app) getWebhook(token, id string) webhook {
	a.t.Helper()
	var w webhook
	wantJSON(a.t, a.api(http.MethodGet, "/api/v1/webhooks/"+id, token, ""), http.StatusOK, &w)
	if w.Secret != "" {
		a.t.Fatal("GET shows the secret")
	}
	return w
}

func (a *app) deliveries(token, id string) []delivery {
	a.t.Helper()
	var page struct {
		Items []delivery `json:"items"`
	}
	wantJSON(a.t, a.api(http.MethodGet, "/api/v1/webhooks/"+id+"/deliveries", token, ""), http.StatusOK, &page)
	return page.Items
}

// runWebhooks runs the module's periodic jobs once each, as serve does every few seconds.
func (a *app) runWebhooks() (queued, attempts int) {
	a.t.Helper()
	queued, err := a.env.Webhooks.ConsumeEvents(a.t.Context())
	if err != nil {
		a.t.Fatalf("ConsumeEvents: %v", err)
	}
	if attempts, err = a.env.Webhooks.ProcessDue(a.t.Context()); err != nil {
		a.t.Fatalf("ProcessDue: %v", err)
	}
	return queued, attempts
}

// TestWebhookDeliversSignedEvent: a hire through the API reaches a subscribed receiver, signed with the
// secret shown at creation; the same hire with skip_webhooks=true reaches no one.
func TestWebhookDeliversSignedEvent(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	rcv := newReceiver(t)
	w := a.createWebhook(admin, rcv.URL+"/hooks/roumu", "employee.hired", "employee.changed")

	emp := a.createEmployee(admin, "W001", nil)
	a.runWebhooks()
	got := rcv.received()
	if len(got) != 1 {
		t.Fatalf("receiver got %d deliveries, want 1", len(got))
	}
	d := got[0]
	if err := webhooks.VerifySignature(w.Secret, d.header.Get(webhooks.HeaderSignature), d.body, a.env.Clock.Now(),
		webhooks.DefaultTolerance); err != nil {
		t.Fatalf("signature: %v (%s)", err, d.header.Get(webhooks.HeaderSignature))
	}
	if err := webhooks.VerifySignature("whsec_wrong", d.header.Get(webhooks.HeaderSignature), d.body, a.env.Clock.Now(),
		webhooks.DefaultTolerance); err == nil {
		t.Fatal("a wrong secret verified")
	}
	var env struct {
		ID   string         `json:"id"`
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(d.body, &env); err != nil || env.Type != "employee.hired" ||
		d.header.Get(webhooks.HeaderEventType) != "employee.hired" || d.header.Get(webhooks.HeaderEventID) != env.ID {
		t.Fatalf("delivery %v %s: %s", err, d.header, d.body)
	}
	if !strings.Contains(string(d.body), emp.ID) {
		t.Fatalf("the delivery does not name the employee %s: %s", emp.ID, d.body)
	}
	if strings.Contains(string(d.body), "123456789018") {
		t.Fatal("the delivery carries the My Number")
	}
	log := a.deliveries(admin, w.ID)
	if len(log) != 1 || log[0].Status != ports.DeliverySucceeded || log[0].Attempts != 1 || log[0].LastStatusCode != 200 {
		t.Fatalf("delivery log %+v", log)
	}

	// A partner writing back with skip_webhooks=true hears nothing of its own write.
	res := a.api(http.MethodPost, "/api/v1/employees?skip_webhooks=true", admin, jsonBody(t, newEmployeeBody("W002", nil)))
	wantJSON(t, res, http.StatusCreated, nil)
	a.runWebhooks()
	if n := len(rcv.received()); n != 1 {
		t.Fatalf("skip_webhooks=true: the receiver got %d deliveries, want still 1", n)
	}
	// skip_webhooks=false is an ordinary write; a value that is not a boolean is refused.
	wantJSON(t, a.api(http.MethodPost, "/api/v1/employees?skip_webhooks=false", admin, jsonBody(t, newEmployeeBody("W003", nil))),
		http.StatusCreated, nil)
	wantProblem(t, a.api(http.MethodPost, "/api/v1/employees?skip_webhooks=maybe", admin, jsonBody(t, newEmployeeBody("W004", nil))),
		http.StatusUnprocessableEntity, "validation_failed")
	a.runWebhooks()
	if n := len(rcv.received()); n != 2 {
		t.Fatalf("skip_webhooks=false: the receiver got %d deliveries, want 2", n)
	}
}

// TestWebhookRetriesThenPausesOnGone: a receiver answering 500 gets the delivery again later (the fake
// clock advances) and the log shows each attempt; one answering 410 pauses the subscription with a reason
// the admin reads through GET; resuming and a test event deliver again.
func TestWebhookRetriesThenPausesOnGone(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	rcv := newReceiver(t)
	rcv.status.Store(http.StatusInternalServerError)
	w := a.createWebhook(admin, rcv.URL, "employee.hired")

	a.createEmployee(admin, "R001", nil)
	if _, attempts := a.runWebhooks(); attempts != 1 {
		t.Fatalf("%d attempts, want 1", attempts)
	}
	log := a.deliveries(admin, w.ID)
	if len(log) != 1 || log[0].Status != ports.DeliveryPending || log[0].Attempts != 1 || log[0].LastStatusCode != 500 ||
		log[0].NextAttemptAt == nil {
		t.Fatalf("after a 500: %+v", log)
	}
	// Not due yet: nothing is sent.
	if _, attempts := a.runWebhooks(); attempts != 0 {
		t.Fatalf("retried before it was due: %d attempts", attempts)
	}
	a.env.Clock.Advance(2 * time.Minute) // the first retry waits at most a minute
	if _, attempts := a.runWebhooks(); attempts != 1 {
		t.Fatalf("%d attempts after the wait, want 1", attempts)
	}
	if log = a.deliveries(admin, w.ID); log[0].Attempts != 2 || log[0].Status != ports.DeliveryPending {
		t.Fatalf("after the retry: %+v", log)
	}
	if n := len(rcv.received()); n != 2 {
		t.Fatalf("receiver got %d attempts, want 2", n)
	}
	first, second := rcv.received()[0], rcv.received()[1]
	if first.header.Get(webhooks.HeaderEventID) != second.header.Get(webhooks.HeaderEventID) || string(first.body) != string(second.body) {
		t.Fatal("a retry is not the same delivery")
	}

	// 410 Gone pauses the subscription at once.
	rcv.status.Store(http.StatusGone)
	a.env.Clock.Advance(5 * time.Minute)
	a.runWebhooks()
	got := a.getWebhook(admin, w.ID)
	if got.Status != ports.WebhookPaused || got.PauseReason != ports.WebhookPausedGone || got.PausedAt == nil ||
		!strings.Contains(got.PauseMessageJA, "410") || !strings.Contains(got.PauseMessageEN, "410 Gone") {
		t.Fatalf("after 410: %+v", got)
	}
	if log = a.deliveries(admin, w.ID); log[0].Status != ports.DeliveryFailed || log[0].Attempts != 3 || log[0].LastStatusCode != 410 {
		t.Fatalf("after 410: %+v", log)
	}
	// A paused subscription takes no test event; new events are not queued for it.
	wantProblem(t, a.api(http.MethodPost, "/api/v1/webhooks/"+w.ID+"/test", admin, ""), http.StatusConflict, "subscription_paused")
	a.createEmployee(admin, "R002", nil)
	a.runWebhooks()
	if n := len(a.deliveries(admin, w.ID)); n != 1 {
		t.Fatalf("a paused subscription queued %d deliveries", n)
	}

	// Resumed, the test event is accepted (202) and delivered.
	rcv.status.Store(http.StatusNoContent)
	var resumed webhook
	wantJSON(t, a.api(http.MethodPost, "/api/v1/webhooks/"+w.ID+"/resume", admin, ""), http.StatusOK, &resumed)
	if resumed.Status != ports.WebhookActive || resumed.PauseReason != "" {
		t.Fatalf("resumed %+v", resumed)
	}
	var test delivery
	wantJSON(t, a.api(http.MethodPost, "/api/v1/webhooks/"+w.ID+"/test", admin, ""), http.StatusAccepted, &test)
	if test.EventType != ports.WebhookTestEvent || test.Status != ports.DeliveryPending {
		t.Fatalf("test delivery %+v", test)
	}
	before := len(rcv.received())
	a.runWebhooks()
	all := rcv.received()
	if len(all) != before+1 || all[len(all)-1].header.Get(webhooks.HeaderEventType) != ports.WebhookTestEvent {
		t.Fatalf("the test event was not delivered: %d → %d", before, len(all))
	}
	if err := webhooks.VerifySignature(w.Secret, all[len(all)-1].header.Get(webhooks.HeaderSignature), all[len(all)-1].body,
		a.env.Clock.Now(), webhooks.DefaultTolerance); err != nil {
		t.Fatalf("test event signature: %v", err)
	}
}

// TestWebhookManagement: edit with If-Match, pause by the admin, secret rotation (the new one signs, the
// old one still does for a day), the catalogue, deletion.
func TestWebhookManagement(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	rcv := newReceiver(t)
	w := a.createWebhook(admin, rcv.URL, "employee.hired")
	path := "/api/v1/webhooks/" + w.ID

	var types struct {
		Items []struct {
			Type          string `json:"type"`
			DescriptionJA string `json:"description_ja"`
		} `json:"items"`
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/webhooks/event-types", admin, ""), http.StatusOK, &types)
	if len(types.Items) == 0 || types.Items[0].Type != "employee.hired" || types.Items[0].DescriptionJA == "" {
		t.Fatalf("catalogue %+v", types)
	}

	edit := jsonBody(t, map[string]any{"description": "人事連携", "event_types": []string{"employee.hired", "employee.separated"}})
	wantProblem(t, a.withHeaders(http.MethodPatch, path, admin, edit, "If-Match", `"9"`), http.StatusPreconditionFailed, "stale_version")
	var edited webhook
	res := a.withHeaders(http.MethodPatch, path, admin, edit, "If-Match", `"1"`)
	wantJSON(t, res, http.StatusOK, &edited)
	if edited.Description != "人事連携" || len(edited.EventTypes) != 2 || edited.Version != 2 || res.header.Get("ETag") != `"2"` {
		t.Fatalf("edited %+v %s", edited, res.header.Get("ETag"))
	}
	var list struct {
		Items []webhook `json:"items"`
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/webhooks", admin, ""), http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ID != w.ID || list.Items[0].Secret != "" {
		t.Fatalf("list %+v", list)
	}

	var paused webhook
	wantJSON(t, a.api(http.MethodPost, path+"/pause", admin, ""), http.StatusOK, &paused)
	if paused.Status != ports.WebhookPaused || paused.PauseReason != ports.WebhookPausedByAdmin || paused.PauseMessageEN == "" {
		t.Fatalf("paused %+v", paused)
	}
	wantJSON(t, a.api(http.MethodPost, path+"/resume", admin, ""), http.StatusOK, nil)

	var rotated webhook
	res = a.api(http.MethodPost, path+"/rotate-secret", admin, "")
	wantJSON(t, res, http.StatusOK, &rotated)
	if !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == w.Secret || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("rotated %+v", rotated)
	}
	wantJSON(t, a.api(http.MethodPost, path+"/test", admin, ""), http.StatusAccepted, nil)
	a.runWebhooks()
	got := rcv.received()
	if len(got) != 1 {
		t.Fatalf("receiver got %d", len(got))
	}
	for _, secret := range []string{rotated.Secret, w.Secret} {
		if err := webhooks.VerifySignature(secret, got[0].header.Get(webhooks.HeaderSignature), got[0].body, a.env.Clock.Now(),
			webhooks.DefaultTolerance); err != nil {
			t.Fatalf("signature after the rotation: %v", err)
		}
	}

	if res := a.api(http.MethodDelete, path, admin, ""); res.status != http.StatusNoContent {
		t.Fatalf("delete: %s", res)
	}
	wantProblem(t, a.api(http.MethodGet, path, admin, ""), http.StatusNotFound, "not_found")
	wantProblem(t, a.api(http.MethodGet, path+"/deliveries", admin, ""), http.StatusNotFound, "not_found")
}

// TestWebhookDestinationsRefused: with the production policy (https to public addresses only), loopback,
// private, link-local and plain-http destinations are refused when the subscription is created (422).
func TestWebhookDestinationsRefused(t *testing.T) {
	t.Parallel()
	a := startAppWith(t, testenv.New(t, testenv.WithWebhookDestinations(ports.WebhookDestinations{})),
		web.Config{PublicURL: testenv.PublicURL})
	_, admin := a.tenant("acme")
	for url, code := range map[string]string{
		"http://127.0.0.1:8080/hook":               "https_required",
		"https://127.0.0.1/hook":                   "destination_not_public",
		"https://10.0.0.5/hook":                    "destination_not_public",
		"https://192.168.1.10/hook":                "destination_not_public",
		"https://169.254.169.254/latest/meta-data": "destination_not_public",
		"https://[::1]/hook":                       "destination_not_public",
		"https://[::ffff:127.0.0.1]/hook":          "destination_not_public",
		"https://localhost/hook":                   "destination_not_public",
		"https://payroll.internal/hook":            "destination_not_public",
		"https://user:pass@example.com/hook":       "credentials_in_url",
		"ftp://example.com/hook":                   "https_required",
	} {
		p := wantProblem(t, a.api(http.MethodPost, "/api/v1/webhooks", admin,
			jsonBody(t, map[string]any{"url": url, "event_types": []string{"employee.hired"}})),
			http.StatusUnprocessableEntity, "validation_failed")
		if len(p.Errors) != 1 || p.Errors[0].Field != "url" || p.Errors[0].Code != code {
			t.Errorf("%s: %+v, want url %s", url, p.Errors, code)
		}
	}
	var list struct {
		Items []webhook `json:"items"`
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/webhooks", admin, ""), http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Fatalf("refused subscriptions were stored: %+v", list.Items)
	}
	a.createWebhook(admin, "https://hooks.example.com/roumu", "employee.hired") // a public https URL is fine
}

// TestWebhooksAreTenantsAndAdminsOnly: tenant B sees nothing of tenant A's subscriptions or deliveries, and
// members who are not admins are refused.
func TestWebhooksAreTenantsAndAdminsOnly(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, adminA := a.tenant("acme")
	_, adminB := a.tenant("beta")
	hr := a.activate("acme", a.createAccount(adminA, "sato", "佐藤 一郎", "hr")).Token
	self := a.activate("acme", a.createAccount(adminA, "tanaka", "田中 花子", "employee")).Token
	rcv := newReceiver(t)
	w := a.createWebhook(adminA, rcv.URL, "employee.hired")
	wantJSON(t, a.api(http.MethodPost, "/api/v1/webhooks/"+w.ID+"/test", adminA, ""), http.StatusAccepted, nil)
	a.runWebhooks()

	path := "/api/v1/webhooks/" + w.ID
	for _, r := range [][2]string{{"GET", path}, {"PATCH", path}, {"DELETE", path}, {"GET", path + "/deliveries"},
		{"POST", path + "/test"}, {"POST", path + "/pause"}, {"POST", path + "/resume"}, {"POST", path + "/rotate-secret"}} {
		body := ""
		if r[0] == "PATCH" {
			body = `{"description":"奪取"}`
		}
		wantProblem(t, a.api(r[0], r[1], adminB, body), http.StatusNotFound, "not_found")
		for name, token := range map[string]string{"hr": hr, "employee": self} {
			if res := a.api(r[0], r[1], token, body); res.status != http.StatusForbidden && res.status != http.StatusNotFound {
				t.Errorf("%s %s by %s: %d", r[0], r[1], name, res.status)
			}
		}
	}
	var list struct {
		Items []webhook `json:"items"`
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/webhooks", adminB, ""), http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Fatalf("tenant B lists %+v", list.Items)
	}
	wantProblem(t, a.api(http.MethodGet, "/api/v1/webhooks", self, ""), http.StatusForbidden, "forbidden")
	wantProblem(t, a.api(http.MethodPost, "/api/v1/webhooks", hr,
		jsonBody(t, map[string]any{"url": rcv.URL, "event_types": []string{"employee.hired"}})), http.StatusForbidden, "forbidden")
	// Tenant A's subscription is untouched and its log intact.
	if got := a.getWebhook(adminA, w.ID); got.Status != ports.WebhookActive || got.Version != 1 {
		t.Fatalf("after the attempts of others: %+v", got)
	}
	if log := a.deliveries(adminA, w.ID); len(log) != 1 || log[0].Status != ports.DeliverySucceeded {
		t.Fatalf("log %+v", log)
	}
}

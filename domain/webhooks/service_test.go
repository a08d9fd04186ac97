package webhooks_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/webhooks"
	"github.com/roumu/roumu/ports"
)

const hookURL = "https://hooks.example.com/roumu?token=partner-credential"

func TestCreateSubscriptionShowsTheSecretOnceAndAuditsWithoutIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub, secret := e.subscribe(t, e.admin, hookURL, "employee.separated", "employee.hired", "employee.hired")
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 {
		t.Errorf("secret %q: want whsec_ and 32 random bytes", secret)
	}
	if !slices.Equal(sub.EventTypes, []string{"employee.hired", "employee.separated"}) || sub.Status != ports.WebhookActive || sub.Version != 1 {
		t.Errorf("subscription = %+v", sub)
	}
	got, err := e.svc.GetSubscription(t.Context(), e.admin, sub.ID)
	if err != nil || fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", sub) {
		t.Errorf("GetSubscription = %+v, %v", got, err)
	}
	stored, _ := e.mem.SubscriptionByID(t.Context(), "t1", sub.ID)
	if strings.Contains(string(stored.SealedSecret), secret) || len(stored.SealedSecret) == 0 {
		t.Error("the secret is not sealed in the store")
	}
	recs, _ := e.mem.ListAudit(t.Context(), ports.AuditFilter{})
	if len(recs) != 1 || recs[0].Event.Action != "webhook.subscription.create" || recs[0].Event.Detail["host"] != "hooks.example.com" {
		t.Fatalf("audit = %+v", recs)
	}
	if b, _ := json.Marshal(recs[0]); strings.Contains(string(b), secret) || strings.Contains(string(b), "partner-credential") {
		t.Errorf("audit entry holds the secret or the URL: %s", b)
	}
	_, again, err := e.svc.RotateSecret(t.Context(), e.admin, sub.ID)
	if err != nil || again == secret || !strings.HasPrefix(again, "whsec_") {
		t.Errorf("RotateSecret = %q, %v", again, err)
	}
}

func TestSubscriptionAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub, _ := e.subscribe(t, e.admin, hookURL, "employee.hired")
	in := ports.WebhookSubscriptionInput{URL: hookURL, EventTypes: []string{"employee.hired"}}
	if _, _, err := e.svc.CreateSubscription(t.Context(), e.hr, in); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("hr creates: %v, want forbidden", err)
	}
	if _, err := e.svc.ListSubscriptions(t.Context(), e.hr); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("hr lists: %v, want forbidden", err)
	}
	half := e.admin
	half.Stage = ports.StageMFA
	if _, err := e.svc.ListSubscriptions(t.Context(), half); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("admin before MFA lists: %v, want forbidden", err)
	}
	other := e.other
	for name, err := range map[string]error{
		"get": func() error { _, err := e.svc.GetSubscription(t.Context(), other, sub.ID); return err }(),
		"update": func() error {
			_, err := e.svc.UpdateSubscription(t.Context(), other, sub.ID, ports.WebhookSubscriptionEdit{URL: hookURL})
			return err
		}(),
		"delete": e.svc.DeleteSubscription(t.Context(), other, sub.ID),
		"rotate": func() error { _, _, err := e.svc.RotateSecret(t.Context(), other, sub.ID); return err }(),
		"pause":  func() error { _, err := e.svc.PauseSubscription(t.Context(), other, sub.ID); return err }(),
		"resume": func() error { _, err := e.svc.ResumeSubscription(t.Context(), other, sub.ID); return err }(),
		"test":   func() error { _, err := e.svc.SendTestEvent(t.Context(), other, sub.ID); return err }(),
		"log": func() error {
			_, err := e.svc.ListDeliveries(t.Context(), other, sub.ID, ports.WebhookDeliveryFilter{})
			return err
		}(),
	} {
		if errCode(err) != "not_found" || !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("another tenant's admin: %s = %v, want not_found", name, err)
		}
	}
	if list, err := e.svc.ListSubscriptions(t.Context(), other); err != nil || len(list) != 0 {
		t.Errorf("another tenant lists %v, %v", list, err)
	}
}

func TestDestinationPolicyAtSubscriptionTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for url, code := range map[string]string{
		"":                                        "required",
		"http://hooks.example.com/":               "https_required",
		"ftp://hooks.example.com/":                "https_required",
		"hooks.example.com/path":                  "invalid_url",
		"https://user:pass@hooks.example.com/":    "credentials_in_url",
		"https://hooks.example.com/#frag":         "invalid_url",
		"https://hooks.example.com/a b":           "invalid_url",
		"https://localhost/":                      "destination_not_public",
		"https://LOCALHOST./":                     "destination_not_public",
		"https://api.localhost/":                  "destination_not_public",
		"https://printer.local/":                  "destination_not_public",
		"https://metadata.google.internal/":       "destination_not_public",
		"https://intranet/":                       "destination_not_public",
		"https://127.0.0.1/":                      "destination_not_public",
		"https://127.1/":                          "destination_not_public",
		"https://0x7f.1/":                         "destination_not_public",
		"https://2130706433/":                     "destination_not_public",
		"https://0177.0.0.1/":                     "destination_not_public",
		"https://10.0.0.8:8443/":                  "destination_not_public",
		"https://172.16.5.4/":                     "destination_not_public",
		"https://192.168.0.1/":                    "destination_not_public",
		"https://100.64.1.1/":                     "destination_not_public",
		"https://169.254.169.254/latest/":         "destination_not_public",
		"https://0.0.0.0/":                        "destination_not_public",
		"https://224.0.0.1/":                      "destination_not_public",
		"https://[::1]/":                          "destination_not_public",
		"https://[::ffff:127.0.0.1]/":             "destination_not_public",
		"https://[::ffff:a9fe:a9fe]/":             "destination_not_public",
		"https://[fd00::1]/":                      "destination_not_public",
		"https://[fe80::1%25eth0]/":               "destination_not_public",
		"https://" + strings.Repeat("a", 2050):    "invalid_url",
		"https://hooks.example.com/ok":            "",
		"https://93.184.216.34/hook":              "",
		"https://[2606:4700:4700::1111]:8443/h":   "",
		"https://xn--r8jz45g.example.jp/webhooks": "",
	} {
		_, _, err := e.svc.CreateSubscription(t.Context(), e.admin, ports.WebhookSubscriptionInput{URL: url, EventTypes: []string{"employee.hired"}})
		if got := fieldCodes(err)["url"]; got != code || (code != "" && errCode(err) != "validation_failed") {
			t.Errorf("%q: url error %q (%v), want %q", url, got, err, code)
		}
	}
	for _, types := range [][]string{nil, {}, {"employee.hired", "employee.promoted"}, {"webhook.test"}, {"employee.*"}} {
		_, _, err := e.svc.CreateSubscription(t.Context(), e.admin, ports.WebhookSubscriptionInput{URL: hookURL, EventTypes: types})
		if code := fieldCodes(err)["event_types"]; code == "" {
			t.Errorf("event types %q accepted: %v", types, err)
		}
	}
	_, _, err := e.svc.CreateSubscription(t.Context(), e.admin, ports.WebhookSubscriptionInput{URL: hookURL,
		EventTypes: []string{"employee.hired"}, Description: "a\x00b"})
	if fieldCodes(err)["description"] != "control_character" {
		t.Errorf("control character in description: %v", err)
	}

	allowed, err := ports.ParseWebhookDestinations(true, []string{"127.0.0.1/32", "10.20.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	onPrem := newEnv(t, func(d *webhooks.Deps) { d.Destinations = allowed })
	for url, ok := range map[string]bool{
		"http://127.0.0.1:8080/hook":   true,
		"https://10.20.3.4/hook":       true,
		"https://10.21.3.4/hook":       false,
		"http://127.0.0.2/hook":        false,
		"http://hooks.example.com/":    true,
		"https://localhost:8080/hook":  false, // names are judged when resolved: use the address
		"http://[::ffff:127.0.0.1]/ok": true,
	} {
		_, _, err := onPrem.svc.CreateSubscription(t.Context(), onPrem.admin, ports.WebhookSubscriptionInput{URL: url, EventTypes: []string{"employee.hired"}})
		if (err == nil) != ok {
			t.Errorf("with the allow-list, %q: %v, want allowed=%v", url, err, ok)
		}
	}
}

func TestTooManySubscriptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 20 {
		e.subscribe(t, e.admin, fmt.Sprintf("https://hooks.example.com/%d", i), "employee.hired")
	}
	_, _, err := e.svc.CreateSubscription(t.Context(), e.admin, ports.WebhookSubscriptionInput{URL: hookURL, EventTypes: []string{"employee.hired"}})
	if errCode(err) != "too_many_subscriptions" || !errors.Is(err, ports.ErrConflict) {
		t.Errorf("21st subscription: %v", err)
	}
	e.subscribe(t, e.other, hookURL, "employee.hired") // another tenant has its own limit
}

func TestUpdateSubscription(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub, _ := e.subscribe(t, e.admin, hookURL, "employee.hired")
	desc := "  勤怠システム  "
	got, err := e.svc.UpdateSubscription(t.Context(), e.admin, sub.ID, ports.WebhookSubscriptionEdit{
		URL: "https://other.example.com/h", Description: &desc, EventTypes: []string{"dependent.added", "employee.changed"}, IfVersion: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != "https://other.example.com/h" || got.Description != "勤怠システム" ||
		!slices.Equal(got.EventTypes, []string{"employee.changed", "dependent.added"}) || got.Version != 2 {
		t.Errorf("updated = %+v", got)
	}
	if _, err := e.svc.UpdateSubscription(t.Context(), e.admin, sub.ID, ports.WebhookSubscriptionEdit{URL: hookURL, IfVersion: 1}); errCode(err) != "stale_version" || !errors.Is(err, ports.ErrPreconditionFailed) {
		t.Errorf("stale If-Match: %v", err)
	}
	if _, err := e.svc.UpdateSubscription(t.Context(), e.admin, sub.ID, ports.WebhookSubscriptionEdit{URL: "https://192.168.1.1/"}); fieldCodes(err)["url"] != "destination_not_public" {
		t.Errorf("private URL on update: %v", err)
	}
	if _, err := e.svc.UpdateSubscription(t.Context(), e.admin, sub.ID, ports.WebhookSubscriptionEdit{EventTypes: []string{}}); fieldCodes(err)["event_types"] != "required" {
		t.Errorf("empty event types on update: %v", err)
	}
	after, _ := e.svc.GetSubscription(t.Context(), e.admin, sub.ID)
	if after.Version != 2 || after.URL != "https://other.example.com/h" {
		t.Errorf("a refused update changed the subscription: %+v", after)
	}
	if got := e.auditActions(t); !slices.Equal(got, []string{"webhook.subscription.create", "webhook.subscription.update"}) {
		t.Errorf("audit = %v", got)
	}
}

func TestFanOutQueuesEachEventOncePerMatchingActiveSubscription(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hired, _ := e.subscribe(t, e.admin, "https://a.example.com/", "employee.hired")
	both, _ := e.subscribe(t, e.admin, "https://b.example.com/", "employee.hired", "employee.changed")
	paused, _ := e.subscribe(t, e.admin, "https://c.example.com/", "employee.hired")
	if _, err := e.svc.PauseSubscription(t.Context(), e.admin, paused.ID); err != nil {
		t.Fatal(err)
	}
	foreign, _ := e.subscribe(t, e.other, "https://d.example.com/", "employee.hired")

	ev := e.emit(t, "t1", "employee.hired", `{"employee_id":"emp-1","hire_date":"2026-04-01"}`)
	e.emit(t, "t1", "employee.changed", `{"employee_id":"emp-1","fields":["email"]}`)
	e.emit(t, "t1", "employees.imported", `{"created":3}`)
	e.emit(t, "t1", "procedure.created", `{"procedure_id":"p-1"}`)
	e.emit(t, "t1", "something.internal", `{}`)
	if n := e.consume(t); n != 4 {
		t.Errorf("consumed %d events, want the 4 subscribable ones", n)
	}
	if n := e.consume(t); n != 0 {
		t.Errorf("second round consumed %d", n)
	}
	if again, err := e.svc.HandleEvent(t.Context(), ev); again || err != nil {
		t.Errorf("HandleEvent of a consumed event = %v, %v", again, err)
	}
	count := map[string]int{}
	for _, s := range []ports.WebhookSubscription{hired, both, paused} {
		count[s.ID] = len(e.deliveries(t, e.admin, s.ID))
	}
	if count[hired.ID] != 1 || count[both.ID] != 2 || count[paused.ID] != 0 {
		t.Errorf("deliveries per subscription: hired %d (want 1), both %d (want 2), paused %d (want 0)",
			count[hired.ID], count[both.ID], count[paused.ID])
	}
	if n := len(e.deliveries(t, e.other, foreign.ID)); n != 0 {
		t.Errorf("another tenant's subscription got %d deliveries of t1's events", n)
	}
	d := e.deliveries(t, e.admin, hired.ID)[0]
	if d.EventID != ev.ID || d.EventType != "employee.hired" || d.Status != ports.DeliveryPending || d.Attempts != 0 ||
		!d.NextAttemptAt.Equal(start) {
		t.Errorf("delivery = %+v", d)
	}
}

func TestANewSubscriptionGetsNoOlderEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.emit(t, "t1", "employee.hired", `{"employee_id":"emp-old"}`)
	e.clock.Advance(time.Second)
	sub, _ := e.subscribe(t, e.admin, hookURL, "employee.hired")
	fresh := e.emit(t, "t1", "employee.hired", `{"employee_id":"emp-new"}`)
	if n := e.consume(t); n != 2 {
		t.Errorf("consumed %d, want 2", n)
	}
	if ds := e.deliveries(t, e.admin, sub.ID); len(ds) != 1 || ds[0].EventID != fresh.ID {
		t.Errorf("deliveries = %+v, want only the event after the subscription", ds)
	}
}

func TestFanOutHonoursSkipWebhooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub, _ := e.subscribe(t, e.admin, hookURL, "employee.changed")
	e.emit(t, "t1", "employee.changed", `{"employee_id":"emp-1","skip_webhooks":true}`)
	kept := e.emit(t, "t1", "employee.changed", `{"employee_id":"emp-2","skip_webhooks":false}`)
	if n := e.consume(t); n != 2 {
		t.Errorf("consumed %d, want both (the skipped one too, so it is not read again)", n)
	}
	ds := e.deliveries(t, e.admin, sub.ID)
	if len(ds) != 1 || ds[0].EventID != kept.ID {
		t.Fatalf("deliveries = %+v, want only the event without skip_webhooks", ds)
	}
	e.process(t)
	var body map[string]any
	if err := json.Unmarshal(e.sender.sent()[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if data := body["data"].(map[string]any); data["skip_webhooks"] != nil || data["employee_id"] != "emp-2" {
		t.Errorf("delivered data = %v, want the payload without the internal marker", data)
	}
}

func TestRacingConsumersQueueEachPairOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, _ := e.subscribe(t, e.admin, "https://a.example.com/", "employee.hired")
	b, _ := e.subscribe(t, e.admin, "https://b.example.com/", "employee.hired")
	const events = 30
	for i := range events {
		e.emit(t, "t1", "employee.hired", fmt.Sprintf(`{"employee_id":"emp-%d"}`, i))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 8 {
		wg.Go(func() {
			n, err := e.svc.ConsumeEvents(t.Context())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != events {
		t.Errorf("8 racing consumers consumed %d events in all, want %d", total, events)
	}
	for _, s := range []ports.WebhookSubscription{a, b} {
		seen := map[string]bool{}
		for _, d := range e.deliveries(t, e.admin, s.ID) {
			if seen[d.EventID] {
				t.Errorf("event %s queued twice for %s", d.EventID, s.ID)
			}
			seen[d.EventID] = true
		}
		if len(seen) != events {
			t.Errorf("subscription %s has %d events, want %d", s.ID, len(seen), events)
		}
	}
}

func TestDeliveryIsSignedAndCarriesTheEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub, secret := e.subscribe(t, e.admin, hookURL, "employee.hired")
	ev := e.emit(t, "t1", "employee.hired", `{"employee_id":"emp-1","hire_date":"2026-04-01"}`)
	e.consume(t)
	if n := e.process(t); n != 1 {
		t.Fatalf("ProcessDue attempted %d, want 1", n)
	}
	reqs := e.sender.sent()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.URL != hookURL || r.Headers["Content-Type"] != "application/json" || r.Headers[webhooks.HeaderEventID] != ev.ID ||
		r.Headers[webhooks.HeaderEventType] != "employee.hired" || r.Headers[webhooks.HeaderDeliveryID] == "" {
		t.Errorf("request = %+v", r)
	}
	if err := webhooks.VerifySignature(secret, r.Headers[webhooks.HeaderSignature], r.Body, start.Add(time.Minute), webhooks.DefaultTolerance); err != nil {
		t.Errorf("signature does not verify: %v (%s)", err, r.Headers[webhooks.HeaderSignature])
	}
	want := `{"id":"` + ev.ID + `","type":"employee.hired","tenant_id":"t1","occurred_at":"2026-04-01T00:00:00Z","data":{"employee_id":"emp-1","hire_date":"2026-04-01"}}`
	if string(r.Body) != want {
		t.Errorf("body = %s\nwant %s", r.Body, want)
	}
	d := e.deliveries(t, e.admin, sub.ID)[0]
	if d.Status != ports.DeliverySucceeded || d.Attempts != 1 || d.LastStatusCode != 200 || !d.CompletedAt.Equal(start) ||
		!d.NextAttemptAt.IsZero() {
		t.Errorf("delivery = %+v", d)
	}
	if n := e.process(t); n != 0 {
		t.Errorf("a delivered event was attempted again (%d)", n)
	}
}

func TestRetriesUntilTheReceiverRecovers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	answers := []error{nil, errNetwork, nil, nil}
	codes := []int{500, 0, 302, 204}
	e.sender.respond = func(n int, _ ports.WebhookRequest) (int, error) { return codes[n-1], answers[n-1] }
	sub, secret := e.subscribe(t, e.admin, hookURL, "employee.hired")
	e.emit(t, "t1", "employee.hired", `{}`)
	e.consume(t)
	var log []ports.WebhookDelivery
	for range 4 {
		e.process(t)
		d := e.deliveries(t, e.admin, sub.ID)[0]
		log = append(log, d)
		if d.Status == ports.DeliveryPending {
			if n := e.process(t); n != 0 {
				t.Errorf("attempted %d before the next attempt was due", n)
			}
			e.clock.Set(d.NextAttemptAt)
		}
	}
	// With a jitter draw of 0.5 the waits are half the ceilings 1, 2, 4 minutes (but at least 30 s).
	wantWaits := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute}
	for i, w := range wantWaits {
		if got := log[i].NextAttemptAt.Sub(log[i].LastAttemptAt); got != w {
			t.Errorf("wait after attempt %d = %v, want %v", i+1, got, w)
		}
	}
	if log[0].LastStatusCode != 500 || log[1].LastStatusCode != 0 || !strings.Contains(log[1].LastError, "connection refused") ||
		log[2].LastStatusCode != 302 {
		t.Errorf("log = %+v", log)
	}
	final := log[3]
	if final.Status != ports.DeliverySucceeded || final.Attempts != 4 || final.LastStatusCode != 204 || final.LastError != "" {
		t.Errorf("final = %+v", final)
	}
	reqs := e.sender.sent()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4", len(reqs))
	}
	for i, r := range reqs {
		if string(r.Body) != string(reqs[0].Body) || r.Headers[webhooks.HeaderEventID] != reqs[0].Headers[webhooks.HeaderEventID] {
			t.Errorf("attempt %d sent other bytes or another event ID", i+1)
		}
	}
	// Each attempt is signed when it is made, so a retry days later is still inside the replay window.
	last := reqs[3]
	if err := webhooks.VerifySignature(secret, last.Headers[webhooks.HeaderSignature], last.Body, e.clock.Now(), webhooks.DefaultTolerance); err != nil {
		t.Errorf("retry signature: %v", err)
	}
	if s, _ := e.svc.GetSubscription(t.Context(), e.admin, sub.ID); s.Status != ports.WebhookActive {
		t.Errorf("subscription %s after a recovered delivery", s.Status)
	}
}

func TestGoneAnswerPausesAtOnceAndResumeSendsTheRest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	gone := true
	e.sender.respond = func(int, ports.WebhookRequest) (int, error) {
		if gone {
			return 410, nil
		}
		return 200, nil
	}
	sub, _ := e.subscribe(t, e.admin, hookURL, "employee.hired")
	e.emit(t, "t1", "employee.hired", `{"n":1}`)
	e.emit(t, "t1", "employee.hired", `{"n":2}`)
	e.consume(t)
	e.svc.Concurrency = 1 // the first delivery pauses the subscription before the second is sent
	if n := e.process(t); n != 1 {
		t.Errorf("attempted %d, want 1 (the second belongs to a paused subscription by then)", n)
	}
	s, _ := e.svc.GetSubscription(t.Context(), e.admin, sub.ID)
	if s.Status != ports.WebhookPaused || s.PauseReason != ports.WebhookPausedGone || !strings.Contains(s.PauseMessageEN, "410") ||
		!strings.Contains(s.PauseMessageJA, "410") {
		t.Errorf("after 410: %+v", s)
	}
	recs, _ := e.mem.ListAudit(t.Context(), ports.AuditFilter{Action: "webhook.subscription.pause"})
	if len(recs) != 1 || recs[0].Event.ActorKind != "system" || recs[0].Event.Detail["reason"] != ports.WebhookPausedGone ||
		recs[0].Event.TenantID != "t1" {
		t.Errorf("pause audit = %+v", recs)
	}
	e.emit(t, "t1", "employee.hired", `{"n":3}`)
	e.consume(t)
	e.clock.Advance(time.Hour)
	if n := e.process(t); n != 0 {
		t.Errorf("a paused subscription was sent %d deliveries", n)
	}
	if _, err := e.svc.SendTestEvent(t.Context(), e.admin, sub.ID); errCode(err) != "subscription_paused" {
		t.Errorf("test event to a paused subscription: %v", err)
	}
	gone = false
	resumed, err := e.svc.ResumeSubscription(t.Context(), e.admin, sub.ID)
	if err != nil || resumed.Status != ports.WebhookActive || resumed.PauseReason != "" || resumed.PauseMessageEN != "" {
		t.Fatalf("resume = %+v, %v", resumed, err)
	}
	if n := e.process(t); n != 1 {
		t.Errorf("after resuming, attempted %d, want the waiting one", n)
	}
	byStatus := map[string]int{}
	for _, d := range e.deliveries(t, e.admin, sub.ID) {
		byStatus[d.Status]++
	}
	if byStatus[ports.DeliveryFailed] != 1 || byStatus[ports.DeliverySucceeded] != 1 || len(byStatus) != 2 {
		t.Errorf("deliveries by status = %v (the event during the pause is not queued)", byStatus)
	}
}

func TestGivingUpAfterThreeDaysPausesWithAReason(t *testing.T) {
	t.Parallel()
	for _, draw := range []float64{0, 0.5, 0.999999} {
		t.Run(fmt.Sprintf("jitter draw %v", draw), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(d *webhooks.Deps) { d.Rand = func() float64 { return draw } })
			e.sender.respond = func(int, ports.WebhookRequest) (int, error) { return 503, nil }
			sub, _ := e.subscribe(t, e.admin, hookURL, "employee.hired")
			e.emit(t, "t1", "employee.hired", `{}`)
			e.consume(t)
			var d ports.WebhookDelivery
			for range 10000 {
				e.process(t)
				d = e.deliveries(t, e.admin, sub.ID)[0]
				if d.Status != ports.DeliveryPending {
					break
				}
				e.clock.Set(d.NextAttemptAt)
			}
			span := d.LastAttemptAt.Sub(d.CreatedAt)
			t.Logf("draw %v: %d attempts over %v", draw, d.Attempts, span)
			if d.Status != ports.DeliveryFailed || span < 72*time.Hour || span > 72*time.Hour+time.Minute {
				t.Errorf("gave up as %s after %v (%d attempts), want failed after 72h", d.Status, span, d.Attempts)
			}
			s, _ := e.svc.GetSubscription(t.Context(), e.admin, sub.ID)
			if s.Status != ports.WebhookPaused || s.PauseReason != ports.WebhookPausedRetriesExhausted ||
				!strings.Contains(s.PauseMessageEN, "72 hours") || !strings.Contains(s.PauseMessageEN, "HTTP 503") ||
				!strings.Contains(s.PauseMessageJA, "72時間") {
				t.Errorf("subscription = %+v", s)
			}
			recs, _ := e.mem.ListAudit(t.Context(), ports.AuditFilter{Action: "webhook.subscription.pause"})
			if len(recs) != 1 || recs[0].Event.Detail["reason"] != ports.WebhookPausedRetriesExhausted || recs[0].Event.Detail["last_answer"] != "HTTP 503" {
				t.Errorf("pause audit = %+v", recs)
			}
		})
	}
}

func TestSendTestEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub, secret := e.subscribe(t, e.admin, hookURL, "employee.hired")
	d, err := e.svc.SendTestEvent(t.Context(), e.admin, sub.ID)
	if err != nil || d.EventType != ports.WebhookTestEvent || d.Status != ports.DeliveryPending {
		t.Fatalf("SendTestEvent = %+v, %v", d, err)
	}
	e.process(t)
	r := e.sender.sent()[0]
	if r.Headers[webhooks.HeaderEventType] != "webhook.test" || !strings.Contains(string(r.Body), sub.ID) {
		t.Errorf("test request = %+v %s", r.Headers, r.Body)
	}
	if err := webhooks.VerifySignature(secret, r.Headers[webhooks.HeaderSignature], r.Body, start, time.Minute); err != nil {
		t.Errorf("test event signature: %v", err)
	}
	if got := e.auditActions(t); !slices.Contains(got, "webhook.subscription.test") {
		t.Errorf("audit = %v", got)
	}
}

func TestRotatedSecretSignsAlongsideTheOldOneForADay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub, old := e.subscribe(t, e.admin, hookURL, "employee.hired")
	rotated, fresh, err := e.svc.RotateSecret(t.Context(), e.admin, sub.ID)
	if err != nil || !rotated.PreviousSecretUntil.Equal(start.Add(24*time.Hour)) {
		t.Fatalf("RotateSecret = %+v, %v", rotated, err)
	}
	send := func() ports.WebhookRequest {
		if _, err := e.svc.SendTestEvent(t.Context(), e.admin, sub.ID); err != nil {
			t.Fatal(err)
		}
		e.process(t)
		reqs := e.sender.sent()
		return reqs[len(reqs)-1]
	}
	r := send()
	for name, secret := range map[string]string{"new": fresh, "old": old} {
		if err := webhooks.VerifySignature(secret, r.Headers[webhooks.HeaderSignature], r.Body, e.clock.Now(), time.Minute); err != nil {
			t.Errorf("within a day of rotation, the %s secret does not verify: %v", name, err)
		}
	}
	e.clock.Advance(24 * time.Hour)
	r = send()
	if err := webhooks.VerifySignature(old, r.Headers[webhooks.HeaderSignature], r.Body, e.clock.Now(), time.Minute); !errors.Is(err, webhooks.ErrSignatureMismatch) {
		t.Errorf("a day after rotation the old secret: %v, want a mismatch", err)
	}
	if err := webhooks.VerifySignature(fresh, r.Headers[webhooks.HeaderSignature], r.Body, e.clock.Now(), time.Minute); err != nil {
		t.Errorf("new secret: %v", err)
	}
	if s, _ := e.svc.GetSubscription(t.Context(), e.admin, sub.ID); !s.PreviousSecretUntil.IsZero() {
		t.Errorf("PreviousSecretUntil shown after it passed: %v", s.PreviousSecretUntil)
	}
}

func TestRacingProcessorsSendEachDeliveryOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	subs := []ports.WebhookSubscription{}
	for i := range 3 {
		s, _ := e.subscribe(t, e.admin, fmt.Sprintf("https://h%d.example.com/", i), "employee.hired")
		subs = append(subs, s)
	}
	const events = 70 // 210 deliveries: more than one claim batch
	for i := range events {
		e.emit(t, "t1", "employee.hired", fmt.Sprintf(`{"n":%d}`, i))
	}
	e.consume(t)
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if _, err := e.svc.ProcessDue(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for _, r := range e.sender.sent() {
		seen[r.Headers[webhooks.HeaderDeliveryID]]++
	}
	if len(seen) != 3*events {
		t.Errorf("%d deliveries sent, want %d", len(seen), 3*events)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("delivery %s sent %d times", id, n)
		}
	}
	for _, s := range subs {
		for _, d := range e.deliveries(t, e.admin, s.ID) {
			if d.Status != ports.DeliverySucceeded || d.Attempts != 1 {
				t.Errorf("delivery %+v", d)
			}
		}
	}
}

func TestACrashedSendersLeaseRunsOutAndTheDeliveryGoesAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub, _ := e.subscribe(t, e.admin, hookURL, "employee.hired")
	e.emit(t, "t1", "employee.hired", `{}`)
	e.consume(t)
	// Another instance claims the delivery and dies before sending it.
	claimed, err := e.mem.ClaimDueDeliveries(t.Context(), ports.WebhookClaim{Now: start, Limit: 10, LeaseID: "crashed",
		LeaseUntil: start.Add(2 * time.Minute)})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	if n := e.process(t); n != 0 {
		t.Errorf("a leased delivery was sent (%d)", n)
	}
	e.clock.Advance(2 * time.Minute)
	if n := e.process(t); n != 1 {
		t.Errorf("after the lease ran out, attempted %d, want 1", n)
	}
	if d := e.deliveries(t, e.admin, sub.ID)[0]; d.Status != ports.DeliverySucceeded {
		t.Errorf("delivery %+v", d)
	}
}

func TestDeliveryLogPagesAndDeletion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub, _ := e.subscribe(t, e.admin, hookURL, "employee.hired")
	for i := range 5 {
		e.emit(t, "t1", "employee.hired", fmt.Sprintf(`{"n":%d}`, i))
		e.consume(t)
		e.clock.Advance(time.Second)
	}
	var ids []string
	f := ports.WebhookDeliveryFilter{Limit: 2}
	for range 5 {
		page, err := e.svc.ListDeliveries(t.Context(), e.admin, sub.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Items {
			ids = append(ids, d.ID)
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	all := e.deliveries(t, e.admin, sub.ID)
	if len(ids) != 5 || len(all) != 5 || !all[0].CreatedAt.After(all[4].CreatedAt) {
		t.Errorf("pages %v, all %d (newest first)", ids, len(all))
	}
	for i := range all {
		if all[i].ID != ids[i] {
			t.Errorf("paged order differs at %d", i)
		}
	}
	for _, bad := range []ports.WebhookDeliveryFilter{{Cursor: "!!"}, {Limit: 201}, {Limit: -1}, {Status: "lost"}} {
		if _, err := e.svc.ListDeliveries(t.Context(), e.admin, sub.ID, bad); !errors.Is(err, ports.ErrInvalid) {
			t.Errorf("filter %+v: %v, want invalid", bad, err)
		}
	}
	if err := e.svc.DeleteSubscription(t.Context(), e.admin, sub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ListDeliveries(t.Context(), e.admin, sub.ID, ports.WebhookDeliveryFilter{}); errCode(err) != "not_found" {
		t.Errorf("log of a deleted subscription: %v", err)
	}
	if n := e.process(t); n != 0 {
		t.Errorf("deliveries of a deleted subscription were sent (%d)", n)
	}
	if got := e.auditActions(t); got[len(got)-1] != "webhook.subscription.delete" {
		t.Errorf("audit = %v", got)
	}
}

func TestManualPauseIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub, _ := e.subscribe(t, e.admin, hookURL, "employee.hired")
	for range 2 {
		s, err := e.svc.PauseSubscription(t.Context(), e.admin, sub.ID)
		if err != nil || s.Status != ports.WebhookPaused || s.PauseReason != ports.WebhookPausedByAdmin || s.PauseMessageJA == "" {
			t.Errorf("pause = %+v, %v", s, err)
		}
	}
	if got := e.auditActions(t); !slices.Equal(got, []string{"webhook.subscription.create", "webhook.subscription.pause"}) {
		t.Errorf("audit = %v (a second pause changes nothing)", got)
	}
}

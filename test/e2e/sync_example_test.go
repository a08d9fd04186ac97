package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/webhooks"
	"github.com/roumu/roumu/examples/roumusync"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// These tests run examples/roumusync, the client partners copy, against the service: a sync by
// updated_since that reads only what changed, and a webhook receiver that verifies real deliveries.

// syncClient is the example's client with an employees:read token of the admin's tenant, two records a page.
func (a *app) syncClient(adminToken string) *roumusync.Client {
	a.t.Helper()
	return &roumusync.Client{BaseURL: a.base, Token: a.createToken(adminToken, ports.ScopeEmployeesRead).Token,
		HTTP: a.client, PageSize: 2}
}

// patchEmployee changes an employee through the API with the If-Match of its current version.
func (a *app) patchEmployee(token, id, body string) employee {
	a.t.Helper()
	_, tag := a.getEmployee(token, id)
	var e employee
	wantJSON(a.t, a.withHeaders(http.MethodPatch, "/api/v1/employees/"+id, token, body, "If-Match", tag), http.StatusOK, &e)
	return e
}

// TestSyncExampleReadsOnlyChanges: the first sync reads the register, later ones what changed since: also
// what was written in the mark's own second, and a write stamped before the mark that committed after the
// sync (a slow transaction); nothing twice. A revoked token is a typed error that leaves the replica as it
// was.
func TestSyncExampleReadsOnlyChanges(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	client := a.syncClient(admin)
	var replica roumusync.Replica
	wantSync := func(step string, read int, changed ...string) {
		t.Helper()
		res, err := client.Sync(t.Context(), &replica)
		if err != nil {
			t.Fatalf("%s: sync: %v", step, err)
		}
		var got []string
		for _, e := range res.Changed {
			got = append(got, e.EmployeeNumber)
		}
		slices.Sort(got)
		if res.Read != read || !slices.Equal(got, changed) {
			t.Fatalf("%s: read %d, changed %v; want %d and %v", step, res.Read, got, read, changed)
		}
	}

	ids := map[string]string{}
	for _, n := range []string{"S001", "S002", "S003", "S004", "S005"} {
		ids[n] = a.createEmployee(admin, n, nil).ID
	}
	wantSync("first sync", 5, "S001", "S002", "S003", "S004", "S005")
	if !replica.Mark.Equal(a.env.Clock.Now()) {
		t.Fatalf("mark %s, want %s", replica.Mark, a.env.Clock.Now())
	}
	// Written in the mark's second, after the sync: the next sync reads the second again and keeps only it.
	ids["S006"] = a.createEmployee(admin, "S006", nil).ID
	wantSync("same second", 6, "S006")

	// Twenty minutes on (less than the admin session's idle timeout), a change: the sync reads the overlap
	// before the mark again, the six written at the mark, and keeps the one change.
	a.env.Clock.Advance(20 * time.Minute)
	a.patchEmployee(admin, ids["S002"], `{"family_name":"佐藤"}`)
	wantSync("a change", 6, "S002")
	// Twenty minutes more, two changes: now the overlap holds only S002, the mark's record.
	a.env.Clock.Advance(20 * time.Minute)
	a.patchEmployee(admin, ids["S004"], `{"position":"課長"}`)
	a.patchEmployee(admin, ids["S005"], `{"position":"係長"}`)
	wantSync("two changes", 3, "S004", "S005")
	if got := replica.Employees[ids["S002"]]; got.FamilyName != "佐藤" || got.Version < 2 ||
		!strings.Contains(string(replica.Employees[ids["S004"]].Record), `"課長"`) {
		t.Fatalf("replica after the changes: %+v %s", got, replica.Employees[ids["S004"]].Record)
	}
	wantSync("nothing new", 2) // the mark's second again; the versions show nothing new

	// A write stamped 30 seconds before the mark that commits only now, after the sync that set the mark.
	mark := replica.Mark
	a.env.Clock.Set(mark.Add(-30 * time.Second))
	a.patchEmployee(admin, ids["S003"], `{"position":"主任補佐"}`)
	a.env.Clock.Set(mark.Add(time.Minute))
	wantSync("slow write", 3, "S003")
	if len(replica.Employees) != 6 || !replica.Mark.Equal(mark) {
		t.Fatalf("replica holds %d employees, mark %s (want 6, %s)", len(replica.Employees), replica.Mark, mark)
	}

	// The API's side of the recipe: updated_since is inclusive.
	at := url.QueryEscape(mark.Format(time.RFC3339))
	if page := a.listEmployees(admin, "updated_since="+at); len(page.Items) != 2 {
		t.Fatalf("updated_since=%s lists %d employees, want the 2 written at that instant", at, len(page.Items))
	}

	// Revoked, the token is refused with a problem the client reads; the replica keeps what it has.
	tok := a.createToken(admin, ports.ScopeEmployeesRead)
	client.Token = tok.Token
	if res := a.api(http.MethodDelete, "/api/v1/api-tokens/"+tok.ID, admin, ""); res.status != http.StatusNoContent {
		t.Fatalf("revoking: %s", res)
	}
	_, err := client.Sync(t.Context(), &replica)
	var apiErr *roumusync.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != "token_revoked" ||
		apiErr.Detail == "" || apiErr.DetailJA == "" {
		t.Fatalf("sync with a revoked token: %v", err)
	}
	if len(replica.Employees) != 6 || !replica.Mark.Equal(mark) {
		t.Fatal("a failed sync changed the replica")
	}
}

// exampleReceiver serves the example's WebhookHandler on the service's clock. It keeps every request as
// sent, to replay, and every event its Handle accepted; Handle fails the first failFirst calls.
type exampleReceiver struct {
	*httptest.Server
	mu        sync.Mutex
	requests  []received
	handled   int
	failFirst int
	accepted  []roumusync.Event
}

// subscribeExample subscribes an exampleReceiver to the event types and serves it with the secret the
// subscription was given.
func (a *app) subscribeExample(adminToken string, failFirst int, types ...string) (*exampleReceiver, webhook) {
	a.t.Helper()
	rcv := &exampleReceiver{Server: httptest.NewUnstartedServer(nil), failFirst: failFirst}
	w := a.createWebhook(adminToken, "http://"+rcv.Listener.Addr().String()+"/roumu/webhooks", types...)
	handler := &roumusync.WebhookHandler{Secret: w.Secret, Now: a.env.Clock.Now, Handle: rcv.handle}
	rcv.Config.Handler = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		rcv.mu.Lock()
		rcv.requests = append(rcv.requests, received{header: r.Header.Clone(), body: body})
		rcv.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		handler.ServeHTTP(rw, r)
	})
	rcv.Start()
	a.t.Cleanup(rcv.Close)
	return rcv, w
}

func (rcv *exampleReceiver) handle(_ context.Context, ev roumusync.Event) error {
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	rcv.handled++
	if rcv.handled <= rcv.failFirst {
		return fmt.Errorf("the partner's database is down (call %d)", rcv.handled)
	}
	rcv.accepted = append(rcv.accepted, ev)
	return nil
}

// state returns the requests received, the events accepted so far and how many verified events Handle got.
func (rcv *exampleReceiver) state() ([]received, []roumusync.Event, int) {
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	return slices.Clone(rcv.requests), slices.Clone(rcv.accepted), rcv.handled
}

// replay posts a request again, as an attacker who captured it would, and returns the answer's status.
func (rcv *exampleReceiver) replay(t *testing.T, method string, header http.Header, body []byte) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, rcv.URL+"/roumu/webhooks", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	res, err := rcv.Client().Do(req)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestSyncExampleVerifiesWebhooks: the example's handler accepts real deliveries of a hire and a change,
// and refuses the same delivery tampered with, signed with another secret, unsigned, or replayed after the
// five-minute window. Its VerifySignature agrees with the module's on every variant.
func TestSyncExampleVerifiesWebhooks(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	rcv, w := a.subscribeExample(admin, 0, "employee.hired", "employee.changed")

	emp := a.createEmployee(admin, "H001", nil)
	a.runWebhooks()
	a.env.Clock.Advance(20 * time.Minute)
	a.patchEmployee(admin, emp.ID, `{"position":"課長"}`)
	a.runWebhooks()
	requests, accepted, _ := rcv.state()
	if len(requests) != 2 || len(accepted) != 2 {
		t.Fatalf("%d requests, %d accepted; want 2 and 2", len(requests), len(accepted))
	}
	for i, want := range []string{"employee.hired", "employee.changed"} {
		ev := accepted[i]
		var data struct {
			EmployeeID string `json:"employee_id"`
		}
		if err := json.Unmarshal(ev.Data, &data); err != nil || ev.Type != want || data.EmployeeID != emp.ID ||
			requests[i].header.Get(roumusync.EventIDHeader) != ev.ID || requests[i].header.Get(roumusync.EventTypeHeader) != want {
			t.Fatalf("event %d: %+v (%v), want %s of %s", i, ev, err, want, emp.ID)
		}
	}

	last := requests[1]
	signature := last.header.Get(roumusync.SignatureHeader)
	stamp, v1, _ := strings.Cut(signature, ",")
	var unix int64
	if _, err := fmt.Sscanf(stamp, "t=%d", &unix); err != nil || !strings.HasPrefix(v1, "v1=") || strings.Contains(v1, ",") {
		t.Fatalf("Roumu-Signature %q is not t=…,v1=…", signature)
	}
	foreign := "v1=" + strings.Repeat("ab", 32)
	tampered := bytes.Replace(last.body, []byte(emp.ID), []byte(strings.Repeat("0", len(emp.ID))), 1)
	now := a.env.Clock.Now()
	for _, tc := range []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"as delivered", signature, last.body, now, nil},
		{"within the window", signature, last.body, now.Add(roumusync.DefaultTolerance), nil},
		{"body tampered with", signature, tampered, now, roumusync.ErrSignatureMismatch},
		{"another secret's signature", stamp + "," + foreign, last.body, now, roumusync.ErrSignatureMismatch},
		{"the right one after a foreign one", stamp + "," + foreign + "," + v1, last.body, now, nil},
		{"replayed after the window", signature, last.body, now.Add(roumusync.DefaultTolerance + time.Second), roumusync.ErrSignatureTooOld},
		{"from the future", signature, last.body, now.Add(-roumusync.DefaultTolerance - time.Second), roumusync.ErrSignatureTooOld},
		{"timestamp moved a second", fmt.Sprintf("t=%d,%s", unix+1, v1), last.body, now, roumusync.ErrSignatureMismatch},
		{"no signature", "", last.body, now, roumusync.ErrMalformedSignature},
		{"timestamp only", stamp, last.body, now, roumusync.ErrMalformedSignature},
		{"signature only", v1, last.body, now, roumusync.ErrMalformedSignature},
	} {
		got := roumusync.VerifySignature(w.Secret, tc.header, tc.body, tc.now, roumusync.DefaultTolerance)
		module := webhooks.VerifySignature(w.Secret, tc.header, tc.body, tc.now, webhooks.DefaultTolerance)
		if !errors.Is(got, tc.want) || (got == nil) != (tc.want == nil) || (module == nil) != (got == nil) {
			t.Errorf("%s: example %v, module %v; want %v", tc.name, got, module, tc.want)
		}
	}

	// Over HTTP: every refusal is 401 (or 405), and nothing reaches Handle.
	unsigned := last.header.Clone()
	unsigned.Del(roumusync.SignatureHeader)
	for _, tc := range []struct {
		name   string
		method string
		header http.Header
		body   []byte
		want   int
	}{
		{"tampered with", http.MethodPost, last.header, tampered, http.StatusUnauthorized},
		{"unsigned", http.MethodPost, unsigned, last.body, http.StatusUnauthorized},
		{"not a POST", http.MethodGet, last.header, nil, http.StatusMethodNotAllowed},
	} {
		if got := rcv.replay(t, tc.method, tc.header, tc.body); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	a.env.Clock.Advance(roumusync.DefaultTolerance + time.Second)
	if got := rcv.replay(t, http.MethodPost, last.header, last.body); got != http.StatusUnauthorized {
		t.Errorf("replayed after the window: %d, want 401", got)
	}
	if _, after, _ := rcv.state(); len(after) != 2 {
		t.Fatalf("refused requests reached Handle: %d events accepted, want 2", len(after))
	}
}

// TestWebhookRetriedUntilAcceptedArrivesOnce: a receiver that fails its first three deliveries (500) gets
// the event again, signed afresh each time so that the signature verifies hours later, and once it has
// taken the event it hears of it no more: one event accepted, four attempts, the log says succeeded.
func TestWebhookRetriedUntilAcceptedArrivesOnce(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	const failures = 3
	rcv, w := a.subscribeExample(admin, failures, "employee.hired")

	emp := a.createEmployee(admin, "R001", nil)
	for round := 0; ; round++ {
		_, attempts := a.runWebhooks()
		if _, accepted, _ := rcv.state(); len(accepted) > 0 {
			break
		}
		if attempts != 1 || round > failures {
			t.Fatalf("round %d: %d attempts, nothing accepted", round, attempts)
		}
		a.env.Clock.Advance(webhooks.DefaultRetryPolicy.Cap) // the longest a retry waits
	}
	a.env.Clock.Advance(24 * time.Hour)
	if _, attempts := a.runWebhooks(); attempts != 0 {
		t.Fatalf("%d attempts after the receiver took the event", attempts)
	}

	requests, accepted, handled := rcv.state()
	if len(requests) != failures+1 || len(accepted) != 1 || handled != failures+1 {
		t.Fatalf("%d requests, %d verified, %d accepted; want %d, %d and 1", len(requests), handled, len(accepted),
			failures+1, failures+1)
	}
	if !strings.Contains(string(accepted[0].Data), emp.ID) || accepted[0].Type != "employee.hired" {
		t.Fatalf("accepted %+v", accepted[0])
	}
	for i, r := range requests {
		if r.header.Get(roumusync.EventIDHeader) != accepted[0].ID || !bytes.Equal(r.body, requests[0].body) {
			t.Fatalf("attempt %d is not the same event: %s %s", i+1, r.header, r.body)
		}
	}
	admin = a.login("acme", "admin", testenv.NewPassword, "full").Token // the first session has timed out
	if log := a.deliveries(admin, w.ID); len(log) != 1 || log[0].Status != ports.DeliverySucceeded ||
		log[0].Attempts != failures+1 || log[0].LastStatusCode != http.StatusNoContent {
		t.Fatalf("delivery log %+v", log)
	}
}

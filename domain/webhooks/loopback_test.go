package webhooks_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/webhooksender"
	"github.com/roumu/roumu/domain/webhooks"
	"github.com/roumu/roumu/ports"
)

// partner is a receiver on loopback that does what the documented recipe says: it verifies the signature
// within the replay window (on the test's clock), counts what it accepts by event ID (a real receiver
// would dedupe on it), and answers 503 to the first failFirst requests.
type partner struct {
	mu        sync.Mutex
	secret    string
	now       func() time.Time
	failFirst int
	requests  int
	accepted  map[string]int // event ID → times accepted with a valid signature
	bad       []error
}

func (p *partner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	if p.requests <= p.failFirst {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if err := webhooks.VerifySignature(p.secret, r.Header.Get(webhooks.HeaderSignature), body, p.now(), webhooks.DefaultTolerance); err != nil {
		p.bad = append(p.bad, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	p.accepted[r.Header.Get(webhooks.HeaderEventID)]++
	w.WriteHeader(http.StatusNoContent)
}

func TestDeliveryToALoopbackReceiverThatFailsAtFirst(t *testing.T) {
	t.Parallel()
	const failFirst = 3
	dest, err := ports.ParseWebhookDestinations(true, []string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	rcv := &partner{failFirst: failFirst, accepted: map[string]int{}}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	e := newEnv(t, func(d *webhooks.Deps) {
		d.Destinations = dest
		d.Sender = webhooksender.New(webhooksender.Config{Destinations: dest})
	})
	rcv.now = e.clock.Now
	sub, secret := e.subscribe(t, e.admin, srv.URL+"/roumu", "employee.hired")
	rcv.mu.Lock()
	rcv.secret = secret
	rcv.mu.Unlock()

	ev := e.emit(t, "t1", "employee.hired", `{"employee_id":"emp-1"}`)
	e.consume(t)
	for range failFirst + 1 {
		e.process(t)
		d := e.deliveries(t, e.admin, sub.ID)[0]
		if d.Status != ports.DeliveryPending {
			break
		}
		e.clock.Set(d.NextAttemptAt)
	}
	d := e.deliveries(t, e.admin, sub.ID)[0]
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.requests != failFirst+1 || rcv.accepted[ev.ID] != 1 || len(rcv.accepted) != 1 || len(rcv.bad) != 0 {
		t.Errorf("receiver: %d requests, accepted %v, bad signatures %v", rcv.requests, rcv.accepted, rcv.bad)
	}
	if d.Status != ports.DeliverySucceeded || d.Attempts != failFirst+1 || d.LastStatusCode != http.StatusNoContent {
		t.Errorf("delivery = %+v", d)
	}
}

func TestAnInstanceThatDiesMidSendLeavesTheDeliveryToAnother(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub, _ := e.subscribe(t, e.admin, hookURL, "employee.hired")
	e.emit(t, "t1", "employee.hired", `{}`)
	e.consume(t)
	// The first instance claims the delivery and dies while sending it: the sender never returns.
	dying := blockingSender{sending: make(chan struct{}, 1), release: make(chan struct{})}
	first := *e.svc
	first.Sender = dying
	done := make(chan error, 1)
	go func() {
		_, err := first.ProcessDue(t.Context())
		done <- err
	}()
	<-dying.sending
	// A second instance, started on the same database, sends it once the lease has run out.
	second, err := webhooks.New(e.svc.Deps)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := second.ProcessDue(t.Context()); n != 0 || err != nil {
		t.Errorf("within the lease: %d, %v", n, err)
	}
	e.clock.Advance(2 * time.Minute)
	if n, err := second.ProcessDue(t.Context()); n != 1 || err != nil {
		t.Errorf("after the lease: %d, %v", n, err)
	}
	close(dying.release) // the dead instance's outcome, if it ever came, is dropped: the lease is no longer its own
	<-done
	d := e.deliveries(t, e.admin, sub.ID)[0]
	if d.Status != ports.DeliverySucceeded || d.Attempts != 1 || len(e.sender.sent()) != 1 {
		t.Errorf("delivery = %+v, %d requests", d, len(e.sender.sent()))
	}
}

// blockingSender tells when it is sending, then hangs until released, and reports a network error.
type blockingSender struct{ sending, release chan struct{} }

func (b blockingSender) Send(context.Context, ports.WebhookRequest) (int, error) {
	b.sending <- struct{}{}
	<-b.release
	return 0, errNetwork
}

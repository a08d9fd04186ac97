package fault

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/webhooks"
)

// partner is a partner's webhook endpoint done right: it verifies each delivery's signature, processes an
// event the first time it sees its ID and acknowledges repeats without processing them again. When hold
// is set it processes the next delivery but keeps its answer back (the test then kills the sender).
type partner struct {
	*httptest.Server
	secret string
	mu     sync.Mutex
	// processed counts each event's processing, received each delivery request (repeats included).
	processed map[string]int
	received  int
	forged    int
	hold      bool
	held      chan string // the event ID of a held delivery
	arrived   chan struct{}
}

func newPartner(t *testing.T) *partner {
	p := &partner{processed: map[string]int{}, held: make(chan string, 1), arrived: make(chan struct{}, 16)}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

func (p *partner) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	p.received++
	if webhooks.VerifySignature(p.secret, r.Header.Get(webhooks.HeaderSignature), body, time.Now(),
		webhooks.DefaultTolerance) != nil {
		p.forged++
		p.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &ev)
	if p.processed[ev.ID] == 0 {
		p.processed[ev.ID]++
	}
	hold := p.hold
	p.hold = false
	p.mu.Unlock()
	p.arrived <- struct{}{}
	if hold {
		p.held <- ev.ID
		<-r.Context().Done() // the sender dies with the request open
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// counts returns how often each event was processed, and the delivery requests and forged ones received.
func (p *partner) counts() (processed map[string]int, received, forged int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.processed), p.received, p.forged
}

// waitProcessed waits until the partner has processed n events. The service sends every 5 seconds; the
// bound only keeps a lost event from hanging the test.
func (p *partner) waitProcessed(t *testing.T, n int) map[string]int {
	t.Helper()
	deadline := time.After(45 * time.Second)
	for {
		if got, _, _ := p.counts(); len(got) >= n {
			return got
		}
		select {
		case <-p.arrived:
		case <-deadline:
			got, received, forged := p.counts()
			t.Fatalf("the partner processed %d events (%d requests, %d forged), want %d", len(got), received, forged, n)
		}
	}
}

// TestWebhookSurvivesKill: the process is killed with SIGKILL right after the write that emits an event
// commits, and again while a delivery is on the wire; after each restart the event is delivered, signed,
// and the partner, deduplicating by event ID, processes each event exactly once.
func TestWebhookSurvivesKill(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db database) {
		svc := newService(t, db)
		svc.start()
		token := svc.adminToken()
		rcv := newPartner(t)
		var sub struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}
		svc.call(http.MethodPost, "/api/v1/webhooks", token, map[string]any{"url": rcv.URL + "/hooks",
			"event_types": []string{"employee.hired"}}, http.StatusCreated, &sub)
		rcv.secret = sub.Secret

		// Killed after the commit, before any delivery: the event waits in the outbox, which the service
		// reads every 5 seconds, so the kill a moment after the 201 lands before it is even queued.
		svc.call(http.MethodPost, "/api/v1/employees", token, employee("W001"), http.StatusCreated, nil)
		svc.kill()
		if _, received, _ := rcv.counts(); received != 0 {
			t.Logf("a delivery went out before the kill; the restart below still must not repeat its processing")
		}
		svc.start()
		rcv.waitProcessed(t, 1)

		// Killed mid-delivery: the partner has the request (and processes it) but the answer never comes.
		rcv.mu.Lock()
		rcv.hold = true
		rcv.mu.Unlock()
		svc.call(http.MethodPost, "/api/v1/employees", token, employee("W002"), http.StatusCreated, nil)
		second := <-rcv.held
		svc.kill()
		// The killed sender's lease (2 minutes) keeps the delivery from other senders; end it as if those
		// minutes had passed, instead of waiting for them.
		if _, err := db.open(t).Exec("UPDATE webhook_deliveries SET lease_until = NULL WHERE event_id = '" + second + "'"); err != nil {
			t.Fatal(err)
		}
		svc.start()
		deadline := time.After(45 * time.Second)
		for {
			if _, received, _ := rcv.counts(); received >= 3 {
				break
			}
			select {
			case <-rcv.arrived:
			case <-deadline:
				t.Fatal("the delivery cut by the kill was not sent again")
			}
		}
		processed, received, forged := rcv.counts()
		if len(processed) != 2 || processed[second] != 1 || forged != 0 {
			t.Fatalf("processed %v from %d requests (%d forged), want 2 events once each", processed, received, forged)
		}
		var log struct {
			Items []struct {
				EventID string `json:"event_id"`
				Status  string `json:"status"`
			} `json:"items"`
		}
		svc.call(http.MethodGet, "/api/v1/webhooks/"+sub.ID+"/deliveries", token, nil, http.StatusOK, &log)
		for _, d := range log.Items {
			if d.Status != "succeeded" {
				t.Errorf("delivery of %s: %s", d.EventID, d.Status)
			}
		}
		t.Logf("%s: 2 events, %d delivery requests, each event processed once", db.driver, received)
	})
}

package webhooks_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/keyring"
	"github.com/roumu/roumu/adapters/memory"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/webhooks"
	"github.com/roumu/roumu/ports"
)

var start = time.Date(2026, time.April, 1, 0, 0, 0, 0, time.UTC)

// fakeSender records requests and answers them with respond (200 when nil).
type fakeSender struct {
	mu       sync.Mutex
	requests []ports.WebhookRequest
	respond  func(n int, r ports.WebhookRequest) (int, error) // n counts requests from 1
}

func (f *fakeSender) Send(_ context.Context, r ports.WebhookRequest) (int, error) {
	f.mu.Lock()
	f.requests = append(f.requests, r)
	n, respond := len(f.requests), f.respond
	f.mu.Unlock()
	if respond == nil {
		return 200, nil
	}
	return respond(n, r)
}

func (f *fakeSender) sent() []ports.WebhookRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ports.WebhookRequest(nil), f.requests...)
}

type env struct {
	svc    *webhooks.Service
	clock  *kernel.FakeClock
	mem    *memory.Store
	sender *fakeSender
	admin  ports.Principal // admin of t1
	hr     ports.Principal // hr of t1
	other  ports.Principal // admin of t2
}

func member(tenant string, roles ...string) ports.Principal {
	return ports.Principal{AccountID: kernel.NewID(), TenantID: tenant, TenantCode: tenant, Kind: ports.KindMember,
		Login: "user", Stage: ports.StageFull, Roles: roles, Source: ports.Source{IP: "192.0.2.1", UserAgent: "test"}}
}

// newEnv wires the module with the memory store (webhooks, outbox and audit log), a fake sender and a
// fixed jitter draw of 0.5; change deps before the service is built with adjust.
func newEnv(t testing.TB, adjust ...func(*webhooks.Deps)) *env {
	t.Helper()
	clock := kernel.NewFakeClock(start)
	mem := memory.New()
	keys, err := keyring.Open(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{clock: clock, mem: mem, sender: &fakeSender{},
		admin: member("t1", ports.RoleAdmin), hr: member("t1", ports.RoleHR), other: member("t2", ports.RoleAdmin)}
	deps := webhooks.Deps{Store: mem, Outbox: mem, Sender: e.sender, Tx: mem, Cipher: keys,
		Audit: audit.New(mem, clock), Clock: clock, Rand: func() float64 { return 0.5 }}
	for _, fn := range adjust {
		fn(&deps)
	}
	if e.svc, err = webhooks.New(deps); err != nil {
		t.Fatal(err)
	}
	return e
}

// subscribe creates a subscription of p's tenant and returns it with its secret.
func (e *env) subscribe(t testing.TB, p ports.Principal, url string, types ...string) (ports.WebhookSubscription, string) {
	t.Helper()
	sub, secret, err := e.svc.CreateSubscription(t.Context(), p, ports.WebhookSubscriptionInput{URL: url, EventTypes: types})
	if err != nil {
		t.Fatalf("CreateSubscription(%s): %v", url, err)
	}
	return sub, secret
}

// emit appends an outbox event as a module would.
func (e *env) emit(t testing.TB, tenantID, typ, payload string) ports.OutboxEvent {
	t.Helper()
	ev := ports.OutboxEvent{ID: kernel.NewID(), TenantID: tenantID, Type: typ, SubjectID: "emp-1",
		Payload: []byte(payload), OccurredAt: e.clock.Now()}
	if err := e.mem.AppendEvents(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func (e *env) consume(t testing.TB) int {
	t.Helper()
	n, err := e.svc.ConsumeEvents(t.Context())
	if err != nil {
		t.Fatalf("ConsumeEvents: %v", err)
	}
	return n
}

func (e *env) process(t testing.TB) int {
	t.Helper()
	n, err := e.svc.ProcessDue(t.Context())
	if err != nil {
		t.Fatalf("ProcessDue: %v", err)
	}
	return n
}

func (e *env) deliveries(t testing.TB, p ports.Principal, subID string) []ports.WebhookDelivery {
	t.Helper()
	page, err := e.svc.ListDeliveries(t.Context(), p, subID, ports.WebhookDeliveryFilter{Limit: 200})
	if err != nil {
		t.Fatalf("ListDeliveries: %v", err)
	}
	return page.Items
}

func (e *env) auditActions(t testing.TB) []string {
	t.Helper()
	recs, err := e.mem.ListAudit(t.Context(), ports.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Event.Action)
	}
	return out
}

func errCode(err error) string {
	if e, ok := ports.AsError(err); ok {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return "untyped: " + err.Error()
}

func fieldCodes(err error) map[string]string {
	out := map[string]string{}
	if e, ok := ports.AsError(err); ok {
		for _, f := range e.Fields {
			out[f.Field] = f.Code
		}
	}
	return out
}

var errNetwork = errors.New("dial tcp 203.0.113.9:443: connect: connection refused")

package idempotency_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/keyring"
	"github.com/roumu/roumu/adapters/memory"
	"github.com/roumu/roumu/domain/idempotency"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

var start = time.Date(2026, 4, 1, 9, 0, 0, 0, kernel.Tokyo)

type env struct {
	svc   *idempotency.Service
	clock *kernel.FakeClock
	store *memory.Store
}

func newEnv(t *testing.T) env {
	t.Helper()
	keys, err := keyring.Open(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	e := env{clock: kernel.NewFakeClock(start), store: memory.New()}
	if e.svc, err = idempotency.New(e.store, keys, e.clock); err != nil {
		t.Fatal(err)
	}
	return e
}

var (
	admin = ports.Principal{TenantID: "t1", AccountID: "a1", Kind: ports.KindMember, Stage: ports.StageFull, SessionID: "s1"}
	hire  = ports.IdempotentRequest{Method: "POST", Path: "/api/v1/employees", Body: []byte(`{"employee_number":"E1","my_number":"123456789018"}`)}
	hired = ports.IdempotentResponse{Status: 201, Header: map[string]string{"Content-Type": "application/json; charset=utf-8",
		"Location": "/api/v1/employees/e1", "ETag": `"1"`}, Body: []byte(`{"id":"e1","basic_pension_number":"1234-567890"}` + "\n")}
)

// begin expects Begin to claim the key.
func (e env) begin(t *testing.T, p ports.Principal, key string, req ports.IdempotentRequest) ports.IdempotencyClaim {
	t.Helper()
	replay, c, err := e.svc.Begin(t.Context(), p, key, req)
	if err != nil || replay != nil || c.ID == "" {
		t.Fatalf("Begin = %+v, %+v, %v; want a claim", replay, c, err)
	}
	return c
}

// replay expects Begin to return res to replay.
func (e env) replay(t *testing.T, p ports.Principal, key string, req ports.IdempotentRequest, res ports.IdempotentResponse) {
	t.Helper()
	replay, c, err := e.svc.Begin(t.Context(), p, key, req)
	if err != nil || replay == nil || c != (ports.IdempotencyClaim{}) {
		t.Fatalf("Begin = %+v, %+v, %v; want a replay", replay, c, err)
	}
	if !reflect.DeepEqual(*replay, res) {
		t.Fatalf("replay = %+v, want %+v", *replay, res)
	}
}

// refuse expects Begin to fail with kind and code.
func (e env) refuse(t *testing.T, p ports.Principal, key string, req ports.IdempotentRequest, kind error, code string) {
	t.Helper()
	replay, c, err := e.svc.Begin(t.Context(), p, key, req)
	pe, ok := ports.AsError(err)
	if replay != nil || c != (ports.IdempotencyClaim{}) || !ok || !errors.Is(err, kind) || pe.Code != code {
		t.Fatalf("Begin = %+v, %+v, %v; want %v %s", replay, c, err, kind, code)
	}
}

func (e env) complete(t *testing.T, c ports.IdempotencyClaim, res ports.IdempotentResponse) {
	t.Helper()
	if err := e.svc.Complete(t.Context(), c, res); err != nil {
		t.Fatalf("Complete: %v", err)
	}
}

func TestReplayOfTheSameRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.complete(t, e.begin(t, admin, "k1", hire), hired)
	e.replay(t, admin, "k1", hire, hired)
	// Another session of the same account is the same principal.
	other := admin
	other.SessionID = "s2"
	e.replay(t, other, "k1", hire, hired)
}

func TestKeyReusedForAnotherRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.complete(t, e.begin(t, admin, "k1", hire), hired)
	for name, req := range map[string]ports.IdempotentRequest{
		"body":   {Method: hire.Method, Path: hire.Path, Body: []byte(`{"employee_number":"E2"}`)},
		"method": {Method: "PUT", Path: hire.Path, Body: hire.Body},
		"path":   {Method: hire.Method, Path: "/api/v1/departments", Body: hire.Body},
		"query":  {Method: hire.Method, Path: hire.Path, Query: "skip_webhooks=true", Body: hire.Body},
		"split":  {Method: hire.Method, Path: hire.Path[:len(hire.Path)-1], Query: "s", Body: hire.Body},
	} {
		t.Run(name, func(t *testing.T) {
			e.refuse(t, admin, "k1", req, ports.ErrInvalid, "idempotency_key_reused")
		})
	}
}

func TestInProgress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.begin(t, admin, "k1", hire)
	e.refuse(t, admin, "k1", hire, ports.ErrConflict, "idempotency_in_progress")
	e.refuse(t, admin, "k1", ports.IdempotentRequest{Method: "POST", Path: hire.Path}, ports.ErrInvalid, "idempotency_key_reused")
	e.complete(t, c, hired)
	e.replay(t, admin, "k1", hire, hired)
}

func TestFailuresAreNotKept(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A server error releases the key: the retry runs.
	e.complete(t, e.begin(t, admin, "k1", hire), ports.IdempotentResponse{Status: 503, Body: []byte("{}")})
	c := e.begin(t, admin, "k1", hire)
	// So does a release (a panic in the handler).
	if err := e.svc.Release(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	c = e.begin(t, admin, "k1", hire)
	// A client error is an answer like any other.
	invalid := ports.IdempotentResponse{Status: 422, Header: map[string]string{"Content-Type": "application/problem+json; charset=utf-8"},
		Body: []byte(`{"code":"invalid"}`)}
	e.complete(t, c, invalid)
	e.replay(t, admin, "k1", hire, invalid)
	if err := e.svc.Complete(t.Context(), c, hired); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("completing twice: %v", err)
	}
	if err := e.svc.Complete(t.Context(), e.begin(t, admin, "k2", hire), ports.IdempotentResponse{}); err == nil {
		t.Fatal("Complete accepted status 0")
	}
}

func TestKeysBelongToTheirPrincipal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.complete(t, e.begin(t, admin, "k1", hire), hired)
	otherTenant := admin
	otherTenant.TenantID = "t2"
	token := admin
	token.TokenID = "tok1" // a token created by the same admin
	otherAccount := admin
	otherAccount.AccountID = "a2"
	for _, p := range []ports.Principal{otherTenant, token, otherAccount} {
		e.begin(t, p, "k1", hire)
	}
	if _, _, err := e.svc.Begin(t.Context(), ports.Principal{TenantID: "t1"}, "k1", hire); !errors.Is(err, ports.ErrUnauthenticated) {
		t.Fatalf("Begin without a principal: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A claim whose request never finished (its instance died) holds the key for the lease.
	lost := e.begin(t, admin, "lost", hire)
	e.clock.Advance(idempotency.Lease - time.Microsecond)
	e.refuse(t, admin, "lost", hire, ports.ErrConflict, "idempotency_in_progress")
	e.clock.Advance(time.Microsecond)
	retry := e.begin(t, admin, "lost", hire)
	if err := e.svc.Complete(t.Context(), lost, hired); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("the lost request completing after its lease: %v", err)
	}
	e.complete(t, retry, hired)

	// An answer is replayed for Retention after it was given.
	e.clock.Advance(idempotency.Retention - time.Microsecond)
	e.replay(t, admin, "lost", hire, hired)
	if n, err := e.svc.Sweep(t.Context()); err != nil || n != 0 {
		t.Fatalf("Sweep before expiry = %d, %v", n, err)
	}
	e.clock.Advance(time.Microsecond)
	if n, err := e.svc.Sweep(t.Context()); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	e.begin(t, admin, "lost", ports.IdempotentRequest{Method: "POST", Path: "/api/v1/departments"})
}

// TestAnswersAreSealed: the stored body is sealed (no plain personal data), bound to its record.
func TestAnswersAreSealed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.begin(t, admin, "k1", hire)
	e.complete(t, c, hired)
	rec, won, err := e.store.ClaimIdempotencyKey(t.Context(), ports.IdempotencyRecord{IdempotencyClaim: c}, e.clock.Now())
	if err != nil || won {
		t.Fatalf("reading the record: %v %v", won, err)
	}
	if len(rec.Body) == 0 || bytes.Contains(rec.Body, []byte("1234-567890")) || bytes.Contains(rec.Body, []byte(`"id"`)) {
		t.Fatalf("stored body %q is not sealed", rec.Body)
	}
	if bytes.Contains([]byte(rec.Fingerprint), []byte("123456789018")) || len(rec.Fingerprint) != 64 {
		t.Fatalf("fingerprint %q is not a digest", rec.Fingerprint)
	}
	// Moved to another principal's record, the sealed answer no longer opens.
	other := admin
	other.AccountID = "a2"
	moved := e.begin(t, other, "k1", hire)
	if err := e.store.CompleteIdempotencyKey(t.Context(), ports.IdempotencyRecord{IdempotencyClaim: moved, Status: 201,
		Body: rec.Body, ExpiresAt: e.clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if replay, _, err := e.svc.Begin(t.Context(), other, "k1", hire); err == nil {
		t.Fatalf("a moved answer was replayed: %+v", replay)
	}
}

func TestNewRequiresItsPorts(t *testing.T) {
	t.Parallel()
	if _, err := idempotency.New(nil, nil, nil); err == nil {
		t.Fatal("New without ports succeeded")
	}
}

// Package testenv wires the domain modules on the in-memory adapters with a fake clock, for tests of the
// domain and of the whole service ("testers via in-memory adapters").
package testenv

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"maps"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/clamav"
	"github.com/roumu/roumu/adapters/egov"
	"github.com/roumu/roumu/adapters/keyring"
	"github.com/roumu/roumu/adapters/memory"
	"github.com/roumu/roumu/adapters/pdf"
	"github.com/roumu/roumu/adapters/totp"
	"github.com/roumu/roumu/adapters/webauthn"
	"github.com/roumu/roumu/adapters/webhooksender"
	"github.com/roumu/roumu/domain/accounts"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/domain/employees"
	"github.com/roumu/roumu/domain/idempotency"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/notices"
	"github.com/roumu/roumu/domain/operations"
	"github.com/roumu/roumu/domain/procedures"
	"github.com/roumu/roumu/domain/ratelimit"
	"github.com/roumu/roumu/domain/webhooks"
	"github.com/roumu/roumu/ports"
)

// Start is where every test clock starts: a Wednesday morning in Tokyo.
var Start = time.Date(2026, 4, 1, 9, 0, 0, 0, kernel.Tokyo)

// PublicURL is the service address the tests' relying party and emulated browsers use.
const PublicURL = "http://localhost:8080"

// Env is a wired service on memory stores.
type Env struct {
	Clock    *kernel.FakeClock
	Store    *memory.Store
	Hasher   *FastHasher
	Audit    *audit.Log
	Accounts *accounts.Service
	// Employees is the employee register on the same store, keyring, audit log and clock.
	Employees *employees.Service
	// Procedures is the procedures module on the same store, register, audit log and clock, filing
	// electronically through Gateway. Its periodic jobs (ConsumeEvents, PollFilings) run only when a test
	// calls them.
	Procedures *procedures.Service
	// Gateway is the fake e-Gov the procedures are filed with; filings progress with Clock.
	Gateway *egov.Gateway
	// Webhooks is the webhooks module on the same store, keyring, audit log and clock. Its sender posts for
	// real, by default to http:// and 127.0.0.1 too (WebhookDestinations), so that httptest receivers get
	// the deliveries; its periodic jobs (ConsumeEvents, ProcessDue) run only when a test calls them.
	Webhooks *webhooks.Service
	// Notices, Operations (with the accounts module's handlers, key rotation's, and restore as a server-side
	// kind) and AuditSearch are the provider's side.
	Notices     *notices.Service
	Operations  *operations.Service
	AuditSearch *audit.Search
	// Keys is the keyring every module seals with (a file in the test's temporary directory); KeyRotation
	// executes OpKeyRotation over every module's sealed data, its jobs run only when a test calls RunJobs.
	Keys        *keyring.Keyring
	KeyRotation *operations.KeyRotation
	// RateLimits are the service's limits (ratelimit.DefaultPolicy) counted in Store by Clock.
	RateLimits *ratelimit.Limiter
	// Idempotency keeps the API's answers to requests with an Idempotency-Key in Store, sealed with the
	// keyring.
	Idempotency *idempotency.Service
}

// WebhookDestinations is the tests' policy: plain http to loopback allowed, as httptest servers listen.
var WebhookDestinations = ports.WebhookDestinations{AllowHTTP: true,
	Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}

// Option changes how New wires the environment.
type Option func(*options)

type options struct {
	hasher       ports.PasswordHasher
	destinations ports.WebhookDestinations
}

// WithHasher replaces the fast test hasher, e.g. with argon2id for benchmarks.
func WithHasher(h ports.PasswordHasher) Option { return func(o *options) { o.hasher = h } }

// WithWebhookDestinations replaces WebhookDestinations, e.g. with the production default (the zero value).
func WithWebhookDestinations(d ports.WebhookDestinations) Option {
	return func(o *options) { o.destinations = d }
}

// New wires a fresh environment.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	clock := kernel.NewFakeClock(Start)
	store := memory.New()
	log := audit.New(store, clock)
	hasher := &FastHasher{}
	o := options{hasher: hasher, destinations: WebhookDestinations}
	for _, opt := range opts {
		opt(&o)
	}
	keys, err := keyring.Open(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	rp, err := webauthn.New(webauthn.Config{RPDisplayName: "Roumu", PublicURL: PublicURL})
	if err != nil {
		t.Fatalf("relying party: %v", err)
	}
	svc, err := accounts.New(context.Background(), accounts.Deps{
		Tenants: store, Accounts: store, Throttle: store, Sessions: store, MFA: store, APITokens: store, Tx: store,
		Hasher: o.hasher, Audit: log, Clock: clock, OperationRecords: store, Cipher: keys, TOTP: totp.Generator{}, WebAuthn: rp,
	}, accounts.DefaultSessionPolicy)
	if err != nil {
		t.Fatalf("wiring accounts: %v", err)
	}
	register, err := employees.New(employees.Deps{Employees: store, Departments: store, Accounts: store, Outbox: store, Jobs: store,
		Tx: store, Cipher: keys, Audit: log, Clock: clock})
	if err != nil {
		t.Fatalf("wiring employees: %v", err)
	}
	gateway := egov.New(clock)
	procs, err := procedures.New(procedures.Deps{Procedures: store, Outbox: store, Employees: register, Tx: store,
		Audit: log, Clock: clock, Renderer: pdf.Renderer{Producer: "Roumu test"}, Gateway: gateway,
		Scanner: clamav.EICARScanner{MaxSize: ports.AttachmentMaxBytes}, Attachments: store})
	if err != nil {
		t.Fatalf("wiring procedures: %v", err)
	}
	hooks, err := webhooks.New(webhooks.Deps{Store: store, Outbox: store, Tx: store, Cipher: keys, Audit: log,
		Clock: clock, Destinations: o.destinations,
		Sender: webhooksender.New(webhooksender.Config{Destinations: o.destinations})})
	if err != nil {
		t.Fatalf("wiring webhooks: %v", err)
	}
	notes, err := notices.New(notices.Deps{Notices: store, Tx: store, Audit: log, Clock: clock})
	if err != nil {
		t.Fatalf("wiring notices: %v", err)
	}
	replays, err := idempotency.New(store, keys, clock)
	if err != nil {
		t.Fatalf("wiring idempotency: %v", err)
	}
	rotation, err := operations.NewKeyRotation(operations.KeyDeps{Keyring: keys, Jobs: store, Tx: store, Audit: log, Clock: clock,
		Data: append([]ports.SealedData{register.SealedData(), svc.SealedData(store), replays.SealedData(store)},
			hooks.SealedData(store)...)})
	if err != nil {
		t.Fatalf("wiring key rotation: %v", err)
	}
	handlers := svc.OperationHandlers()
	maps.Copy(handlers, rotation.Handlers())
	ops, err := operations.New(operations.Deps{Requests: store, Tx: store, Audit: log, Clock: clock, Handlers: handlers,
		OnServer: operations.ServerSide()})
	if err != nil {
		t.Fatalf("wiring operations: %v", err)
	}
	limits, err := ratelimit.New(store, clock, ratelimit.DefaultPolicy)
	if err != nil {
		t.Fatalf("wiring rate limits: %v", err)
	}
	return &Env{Clock: clock, Store: store, Hasher: hasher, Audit: log, Accounts: svc, Employees: register,
		Procedures: procs, Gateway: gateway, Webhooks: hooks, Notices: notes, Operations: ops, AuditSearch: audit.NewSearch(store, log),
		RateLimits: limits, Idempotency: replays, Keys: keys, KeyRotation: rotation}
}

// Password is a policy-compliant password used throughout the tests.
const Password = "Kx7#mq2!zpW9"

// NewPassword is another compliant password, for changes.
const NewPassword = "Vt4$hr8@LmQ2"

// Tenant creates a tenant with an admin whose password is already their own (the forced change done), and
// returns the tenant and the admin's full principal.
func (e *Env) Tenant(t testing.TB, code string) (ports.TenantView, ports.Principal) {
	t.Helper()
	ctx := context.Background()
	tv, admin, err := e.Accounts.CreateTenant(ctx, ports.CreateTenantCommand{Code: code, Name: code + " 株式会社",
		AdminLogin: "admin", AdminName: "管理 太郎", AdminPassword: Password})
	if err != nil {
		t.Fatalf("create tenant %s: %v", code, err)
	}
	res, err := e.Accounts.Login(ctx, ports.LoginCommand{Tenant: code, Login: "admin", Password: Password})
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	p, err := e.Accounts.Authenticate(ctx, res.Token, ports.Source{})
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	res, err = e.Accounts.ChangePassword(ctx, p, Password, NewPassword)
	if err != nil {
		t.Fatalf("first password change: %v", err)
	}
	p, err = e.Accounts.Authenticate(ctx, res.Token, ports.Source{})
	if err != nil || p.Stage != ports.StageFull || p.AccountID != admin.ID {
		t.Fatalf("admin session after change: %+v %v", p, err)
	}
	return tv, p
}

// FastHasher stands in for argon2id in tests: a salted SHA-256 that keeps tests fast. Cost is the number the
// hash carries; Verify asks for a rehash when it is below MinCost.
type FastHasher struct {
	MinCost int
}

// Hash implements ports.PasswordHasher.
func (h *FastHasher) Hash(_ context.Context, password string) (string, error) {
	salt := kernel.RandomToken(8)
	cost := string(rune('0' + h.MinCost))
	return "fast$" + cost + "$" + salt + "$" + digest(salt, password), nil
}

// Verify implements ports.PasswordHasher.
func (h *FastHasher) Verify(_ context.Context, encoded, password string) (bool, bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 || parts[0] != "fast" || len(parts[1]) != 1 {
		return false, false, errors.New("testenv: malformed hash")
	}
	ok := subtle.ConstantTimeCompare([]byte(parts[3]), []byte(digest(parts[2], password))) == 1
	return ok, ok && int(parts[1][0]-'0') < h.MinCost, nil
}

func digest(salt, password string) string {
	sum := sha256.Sum256([]byte(salt + "\x00" + password))
	return hex.EncodeToString(sum[:])
}

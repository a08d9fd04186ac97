// Package memory implements every store port in process memory, for tests and for `database.driver:
// memory`. It keeps the same contract as the SQL stores (the ports/porttest suites run against both), so
// tests of the domain that use it say something about production.
//
// One store-wide mutex serialises every call, which makes each call atomic and InTx serialisable: a
// transaction holds the mutex from start to end, and the calls made with its context know they already
// hold it. Values are copied in and out, never aliased, and instants are kept in UTC at microsecond
// precision, as the SQL stores keep them.
package memory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/roumu/roumu/ports"
)

// Store is the in-memory implementation of ports.TenantStore, AccountStore, ThrottleStore, SessionStore,
// MFAStore, AuditStore, EmployeeStore, DepartmentStore, Outbox, JobStore, ProcedureStore, AttachmentStore, NoticeStore,
// OperationRequestStore, ResealJobStore, SealedValueStore, WebhookStore, APITokenStore, RateLimitStore,
// IdempotencyStore, Transactor and Pinger. Its zero value is not usable; call New.
type Store struct {
	mu sync.Mutex
	st state
	// rates are the rate-limit counters (ratelimit.go): kept outside state, so a transaction that rolls back
	// never undoes a counted request.
	rates map[rateWindowKey]rateWindow
}

var (
	_ ports.TenantStore   = (*Store)(nil)
	_ ports.AccountStore  = (*Store)(nil)
	_ ports.ThrottleStore = (*Store)(nil)
	_ ports.SessionStore  = (*Store)(nil)
	_ ports.MFAStore      = (*Store)(nil)
	_ ports.AuditStore    = (*Store)(nil)
	_ ports.Transactor    = (*Store)(nil)
	_ ports.Pinger        = (*Store)(nil)

	_ ports.EmployeeStore   = (*Store)(nil)
	_ ports.DepartmentStore = (*Store)(nil)
	_ ports.Outbox          = (*Store)(nil)
	_ ports.JobStore        = (*Store)(nil)

	_ ports.ProcedureStore = (*Store)(nil)

	_ ports.NoticeStore           = (*Store)(nil)
	_ ports.OperationRequestStore = (*Store)(nil)

	_ ports.WebhookStore   = (*Store)(nil)
	_ ports.RateLimitStore = (*Store)(nil)
	_ ports.APITokenStore  = (*Store)(nil)

	_ ports.IdempotencyStore = (*Store)(nil)
)

// state is everything the store holds. Values in its maps are never modified in place (an update stores a
// new value, and slices inside values are copied on write), so a shallow copy of the maps is a snapshot.
type state struct {
	tenants     map[string]ports.TenantRecord  // by ID
	tenantCodes map[string]string              // code → tenant ID
	accounts    map[string]ports.AccountRecord // by ID
	logins      map[loginKey]string            // (tenant ID, login key) → account ID
	throttle    map[string]ports.ThrottleState // by key
	sessions    map[string]ports.SessionRecord // by token hash
	totp        map[owner]ports.TOTPRecord
	webauthn    map[string]ports.WebAuthnCredentialRecord // by ID
	credIDs     map[string]string                         // string(CredentialID) → ID
	recovery    map[owner]map[string]bool                 // hash → used
	challenges  map[string]ports.ChallengeRecord          // by ID
	audit       []ports.AuditRecord                       // append-only, by Seq

	// The employee register (employees.go, departments.go, outbox.go, jobs.go).
	employees    map[string]ports.EmployeeRecord         // by ID
	empNumbers   map[tenantKey]string                    // (tenant ID, employee number) → employee ID
	changes      map[string][]ports.EmployeeChangeRecord // employee ID → its changes, replaced on every write
	changeOwners map[string]string                       // change ID → employee ID
	departments  map[string]ports.DepartmentRecord       // by ID
	deptCodes    map[tenantKey]string                    // (tenant ID, code) → department ID
	outbox       map[string]outboxEntry                  // by event ID
	outboxSeq    int64                                   // the last append's number, PendingEvents' tie-breaker
	consumed     map[consumption]time.Time               // (consumer, event ID) → when it was handled
	jobs         map[string]ports.JobRecord              // by ID

	// Procedures (procedures.go).
	procedures map[string]ports.ProcedureRecord // by ID
	procDedup  map[tenantKey]string             // (tenant ID, dedup key) → procedure ID
	// attachments.go: procedures' files, by ID.
	attachments map[string]ports.AttachmentRecord

	// The operators' records, of no tenant (notices.go, operations.go).
	notices    map[string]ports.NoticeRecord     // by ID
	operations map[string]ports.OperationRequest // by ID
	resealJobs map[string]ports.ResealJob        // by ID (keys.go)

	// Webhooks (webhooks.go).
	webhookSubs   map[string]ports.WebhookSubscriptionRecord // by ID
	deliveries    map[string]ports.WebhookDeliveryRecord     // by ID
	deliveryPairs map[deliveryPair]string                    // (subscription ID, event ID) → delivery ID

	apiTokens map[string]ports.APITokenRecord // by ID (apitokens.go)

	idempotency map[idempotencyKey]ports.IdempotencyRecord // Idempotency-Key records (idempotency.go)
}

type loginKey struct{ tenantID, loginKey string }

// owner names an account within its tenant: the key of every tenant-scoped MFA record.
type owner struct{ tenantID, accountID string }

// New returns an empty store.
func New() *Store {
	return &Store{st: state{
		tenants:     map[string]ports.TenantRecord{},
		tenantCodes: map[string]string{},
		accounts:    map[string]ports.AccountRecord{},
		logins:      map[loginKey]string{},
		throttle:    map[string]ports.ThrottleState{},
		sessions:    map[string]ports.SessionRecord{},
		totp:        map[owner]ports.TOTPRecord{},
		webauthn:    map[string]ports.WebAuthnCredentialRecord{},
		credIDs:     map[string]string{},
		recovery:    map[owner]map[string]bool{},
		challenges:  map[string]ports.ChallengeRecord{},

		employees:    map[string]ports.EmployeeRecord{},
		empNumbers:   map[tenantKey]string{},
		changes:      map[string][]ports.EmployeeChangeRecord{},
		changeOwners: map[string]string{},
		departments:  map[string]ports.DepartmentRecord{},
		deptCodes:    map[tenantKey]string{},
		outbox:       map[string]outboxEntry{},
		consumed:     map[consumption]time.Time{},
		jobs:         map[string]ports.JobRecord{},

		procedures:  map[string]ports.ProcedureRecord{},
		procDedup:   map[tenantKey]string{},
		attachments: map[string]ports.AttachmentRecord{},

		notices:    map[string]ports.NoticeRecord{},
		operations: map[string]ports.OperationRequest{},
		resealJobs: map[string]ports.ResealJob{},

		webhookSubs:   map[string]ports.WebhookSubscriptionRecord{},
		deliveries:    map[string]ports.WebhookDeliveryRecord{},
		deliveryPairs: map[deliveryPair]string{},

		apiTokens: map[string]ports.APITokenRecord{},

		idempotency: map[idempotencyKey]ports.IdempotencyRecord{},
	}}
}

// snapshot returns a copy of the state that later writes do not affect (see state).
func (st *state) snapshot() state {
	return state{
		tenants:     maps.Clone(st.tenants),
		tenantCodes: maps.Clone(st.tenantCodes),
		accounts:    maps.Clone(st.accounts),
		logins:      maps.Clone(st.logins),
		throttle:    maps.Clone(st.throttle),
		sessions:    maps.Clone(st.sessions),
		totp:        maps.Clone(st.totp),
		webauthn:    maps.Clone(st.webauthn),
		credIDs:     maps.Clone(st.credIDs),
		recovery:    maps.Clone(st.recovery),
		challenges:  maps.Clone(st.challenges),
		// The chain is append-only: later appends write only past the snapshot's length, so the slice
		// header is a snapshot and restoring it cuts the chain back.
		audit: st.audit,

		employees:    maps.Clone(st.employees),
		empNumbers:   maps.Clone(st.empNumbers),
		changes:      maps.Clone(st.changes),
		changeOwners: maps.Clone(st.changeOwners),
		departments:  maps.Clone(st.departments),
		deptCodes:    maps.Clone(st.deptCodes),
		outbox:       maps.Clone(st.outbox),
		outboxSeq:    st.outboxSeq,
		consumed:     maps.Clone(st.consumed),
		jobs:         maps.Clone(st.jobs),

		procedures:  maps.Clone(st.procedures),
		procDedup:   maps.Clone(st.procDedup),
		attachments: maps.Clone(st.attachments),

		notices:    maps.Clone(st.notices),
		operations: maps.Clone(st.operations),
		resealJobs: maps.Clone(st.resealJobs),

		webhookSubs:   maps.Clone(st.webhookSubs),
		deliveries:    maps.Clone(st.deliveries),
		deliveryPairs: maps.Clone(st.deliveryPairs),

		apiTokens: maps.Clone(st.apiTokens),

		idempotency: maps.Clone(st.idempotency),
	}
}

// txKey marks a context as running inside a transaction of the store it holds.
type txKey struct{}

// inTx reports whether ctx belongs to a transaction of s, i.e. whether the caller already holds s.mu.
func (s *Store) inTx(ctx context.Context) bool {
	tx, _ := ctx.Value(txKey{}).(*Store)
	return tx == s
}

// lock takes the store mutex unless ctx's transaction already holds it, and returns the matching unlock.
func (s *Store) lock(ctx context.Context) func() {
	if s.inTx(ctx) {
		return func() {}
	}
	s.mu.Lock()
	return s.mu.Unlock
}

// InTx runs fn holding the store for its whole duration, so the transaction is serialisable. When fn
// returns an error or panics, the state is restored to what it was before. A nested InTx (called with a
// transaction context) behaves like a savepoint: its failure undoes only its own writes. As with a
// database transaction, the context fn receives belongs to fn's goroutine: calls made with it skip the
// lock that InTx holds, so they must not run concurrently, and calls made inside fn with any other context
// wait for the transaction to end (a deadlock, if fn waits for them).
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if !s.inTx(ctx) {
		s.mu.Lock()
		defer s.mu.Unlock()
		ctx = context.WithValue(ctx, txKey{}, s)
	}
	saved := s.st.snapshot()
	committed := false
	defer func() {
		if !committed {
			s.st = saved
		}
	}()
	if err := fn(ctx); err != nil {
		return err
	}
	committed = true
	return nil
}

// Ping always succeeds: there is nothing to reach.
func (s *Store) Ping(context.Context) error { return nil }

// norm keeps an instant the way the SQL stores do: UTC, microsecond precision. The zero time stays zero.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// keyLayout writes an instant (in UTC, at microseconds) so that byte order is time order, which lets every
// sort compare plain strings.
const keyLayout = "2006-01-02T15:04:05.000000Z"

// instantKey is an instant as a sort key.
func instantKey(t time.Time) string { return norm(t).Format(keyLayout) }

// updatedSince reports whether updated is at or after since, compared at the stored precision as the SQL
// stores compare it (since truncated to microseconds); a zero since selects everything.
func updatedSince(updated, since time.Time) bool {
	return since.IsZero() || !norm(updated).Before(norm(since))
}

// keyset is where a keyset page continues: after the row with this sort key and ID, when id is set.
type keyset struct{ key, id string }

// instant makes the cursor's key, an RFC 3339 instant in any zone, a sort key as instantKey writes it.
func (k *keyset) instant() error {
	if k.id == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, k.key)
	if err != nil {
		return fmt.Errorf("memory: cursor key %q is not an instant: %w", k.key, ports.ErrInvalid)
	}
	k.key = instantKey(t)
	return nil
}

// page sorts recs by (key, id), keeps those after the cursor and returns at most limit of them (all when 0).
func page[R any](recs []R, key, id func(R) string, after keyset, limit int) []R {
	order := func(k, i string, r R) int { return cmp.Or(strings.Compare(key(r), k), strings.Compare(id(r), i)) }
	if after.id != "" {
		recs = slices.DeleteFunc(recs, func(r R) bool { return order(after.key, after.id, r) <= 0 })
	}
	slices.SortFunc(recs, func(a, b R) int { return order(key(b), id(b), a) })
	if limit > 0 && len(recs) > limit {
		recs = recs[:limit]
	}
	return recs
}

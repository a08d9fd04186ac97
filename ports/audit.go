package ports

import (
	"context"
	"time"
)

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
)

// AuditEvent is one security or data event. It never holds a password, token, secret or My Number.
type AuditEvent struct {
	At        time.Time
	TenantID  string // "" for provider-level events
	ActorID   string // "" when unknown (e.g. a failed login of an unknown identifier)
	ActorKind string // member, operator, token, system
	Action    string // e.g. auth.login, account.create
	Target    string // what was acted on, e.g. account:ID
	IP        string
	UserAgent string
	Outcome   string
	Detail    map[string]string
}

// AuditRecord is an event as kept in the hash chain.
type AuditRecord struct {
	Seq      int64 // 1, 2, 3 … without gaps
	Event    AuditEvent
	PrevHash string
	Hash     string
}

// AuditFilter selects audit records; zero fields do not filter.
type AuditFilter struct {
	TenantID string
	ActorID  string
	Action   string
	Since    time.Time
	Until    time.Time
	AfterSeq int64
	Limit    int
}

// AuditStore keeps the append-only chain. The store serialises appends: build receives the current head
// (zero record when the chain is empty) and returns the next record, which the store inserts in the same
// transaction, so concurrent appends still form one chain. There is no update and no delete.
type AuditStore interface {
	AppendAudit(ctx context.Context, build func(head AuditRecord) (AuditRecord, error)) (AuditRecord, error)
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditRecord, error)
}

// AuditLog is what modules call to record an event.
type AuditLog interface {
	Record(ctx context.Context, e AuditEvent) error
}

// AuditCheckpoint is a signed statement of the chain's head (its Seq and Hash) at a moment, kept outside the
// database: someone who can rewrite the whole chain in the database cannot rewrite the checkpoints, so a
// rewritten or truncated chain no longer matches them.
type AuditCheckpoint struct {
	Seq   int64
	Hash  string
	At    time.Time
	KeyID string // names the signing key
}

// AuditCheckpoints keeps signed checkpoints, append-only, outside the database.
type AuditCheckpoints interface {
	// AppendCheckpoint signs and appends a checkpoint.
	AppendCheckpoint(ctx context.Context, c AuditCheckpoint) error
	// Checkpoints returns every checkpoint in the order written; a checkpoint whose signature does not verify
	// or that cannot be read is an error naming it.
	Checkpoints(ctx context.Context) ([]AuditCheckpoint, error)
}

package ports

import (
	"context"
	"time"
)

// DataKey describes one data-encryption key of the keyring behind the Cipher, never its material.
type DataKey struct {
	ID        uint32
	CreatedAt time.Time
	// RetiredAt is when the key was retired: its material is destroyed, and what it sealed no longer opens.
	// Zero for a key in use.
	RetiredAt time.Time
}

// DataKeys is the keyring behind the Cipher: the newest key seals, every key not retired opens what it
// sealed. A rotation adds a key that seals from then on; a key rotation job (OpKeyRotation) then seals every
// stored value again under it, and retires the older keys once nothing is sealed under them.
type DataKeys interface {
	Cipher
	// Keys lists the keys, oldest first, retired ones included; the last one seals.
	Keys(ctx context.Context) ([]DataKey, error)
	// Rotate adds a fresh key, which seals everything from now on (on every instance sharing the keyring).
	Rotate(ctx context.Context) (DataKey, error)
	// Retire destroys the material of key id, which must not be the newest: values it sealed can no longer
	// be opened. Retiring a retired key changes nothing. ErrNotFound for an unknown id.
	Retire(ctx context.Context, id uint32) (DataKey, error)
	// SealedBy returns the id of the key that sealed a value, read from its header without opening it; an
	// error when the value is not one this keyring sealed.
	SealedBy(sealed []byte) (uint32, error)
}

// SealedData is one kind of sealed value a module keeps, as a key rotation job walks it: the employee
// register's sensitive fields, accounts' TOTP secrets, webhook signing secrets.
type SealedData interface {
	// SealedName names the data in progress reports, e.g. "employees".
	SealedName() string
	// ResealBatch visits at most limit records after the cursor after ("" starts the walk), in a fixed order,
	// and seals again under the Cipher's newest key each of their values that stale reports, each record
	// atomically. A record whose value does not open is passed by and reported in Failures. An error is the
	// store's: records before it may be done, and the batch is simply run again.
	ResealBatch(ctx context.Context, after string, limit int, stale func(sealed []byte) bool) (ResealBatch, error)
	// CountSealed walks every record and counts the values that stale reports.
	CountSealed(ctx context.Context, stale func(sealed []byte) bool) (int, error)
}

// ResealBatch is what one ResealBatch call did.
type ResealBatch struct {
	Next     string // the cursor to go on from; "" when the walk is over
	Resealed int    // values sealed again
	Failures []ResealFailure
}

// ResealFailure is a record a re-seal passed by. Reason says what failed, never a value.
type ResealFailure struct {
	Record string // e.g. "TENANT_ID/EMPLOYEE_ID"
	Reason string
}

// Kinds of the single sealed values a SealedValueStore keeps.
const (
	SealedTOTPSecret            = "totp_secret"             // an account's TOTP secret; ID is the account's
	SealedWebhookSecret         = "webhook_secret"          // a subscription's signing secret; ID is the subscription's
	SealedWebhookPreviousSecret = "webhook_previous_secret" // the secret it replaced, while it still signs
	// SealedIdempotencyAnswer is the answer kept under an Idempotency-Key; ID is its claim's, Names its
	// principal and key.
	SealedIdempotencyAnswer = "idempotency_answer"
)

// SealedRef names the record that holds a sealed value. Operators' records have TenantID "".
type SealedRef struct {
	TenantID string
	ID       string
}

// SealedValue is one stored sealed value and the record that holds it.
type SealedValue struct {
	SealedRef
	// Names are the rest of the record's identity, for a kind whose records are named by more than an ID
	// (see the kinds); nil for the others.
	Names  []string
	Sealed []byte
}

// SealedValueStore walks and replaces the sealed values that are single columns of other stores' records
// (the Sealed* kinds), for a key rotation job. Replacing a value changes nothing else of its record (no
// version moves): sealing it again under another key is not a change anyone made.
type SealedValueStore interface {
	// SealedValues returns at most limit values of kind (all when 0), across tenants, ordered by
	// (TenantID, ID), after the record after (the zero ref starts the walk). Records without such a value
	// are left out. An unknown kind is an error.
	SealedValues(ctx context.Context, kind string, after SealedRef, limit int) ([]SealedValue, error)
	// ReplaceSealedValue stores next as the value of kind of old's record only while the stored value is
	// still old.Sealed, in one atomic statement, and reports whether it did: false when the value changed
	// meanwhile or the record is gone.
	ReplaceSealedValue(ctx context.Context, kind string, old SealedValue, next []byte) (bool, error)
}

// Key rotation job statuses: running until the walk ends, then succeeded (every value is under the job's
// key and the older keys are retired) or failed (Error says why; values remain under older keys, which are
// kept).
const (
	ResealRunning   = "running"
	ResealSucceeded = "succeeded"
	ResealFailed    = "failed"
)

// ResealJob is the progress of the background job that seals every stored value again under a new key
// after a rotation. Its ID is the ID of the work record (OperationRequest) that ordered the rotation.
type ResealJob struct {
	ID     string
	KeyID  uint32 // the key every value is brought under
	Status string
	// Total is how many values were under other keys when the job started (recounted when it resumes, plus
	// the ones done by then); Done of them are sealed again, Failed could not be (they did not open).
	Total  int
	Done   int
	Failed int
	// Cursor is where the walk goes on after a restart: the SealedData's name and its cursor.
	Cursor string
	// Failures are the first failures, for operators to look into (bounded).
	Failures []ResealFailure
	// RetiredKeys are the keys the job retired when it succeeded.
	RetiredKeys []uint32
	Error       string
	// LeaseOwner and LeaseUntil: while LeaseUntil is in the future the job belongs to the worker LeaseOwner
	// and no other takes it; a job whose worker stopped is taken over once its lease lapses.
	LeaseOwner string
	LeaseUntil time.Time
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
	UpdatedAt  time.Time
}

// Remaining is how many values the job has still to seal again.
func (j ResealJob) Remaining() int { return max(j.Total-j.Done-j.Failed, 0) }

// ResealJobFilter selects key rotation jobs; zero fields do not filter.
type ResealJobFilter struct {
	Status string
	Limit  int // 0 = no limit
}

// ResealJobStore keeps key rotation jobs, which belong to no tenant.
type ResealJobStore interface {
	// CreateResealJob stores a new job; ErrConflict when the ID is taken.
	CreateResealJob(ctx context.Context, j ResealJob) error
	// ResealJob returns one job; ErrNotFound for an unknown ID.
	ResealJob(ctx context.Context, id string) (ResealJob, error)
	// ListResealJobs returns the jobs f selects, newest StartedAt first, then by ID.
	ListResealJobs(ctx context.Context, f ResealJobFilter) ([]ResealJob, error)
	// UpdateResealJob locks the job, applies fn and stores the result, atomically (changes to the ID are
	// ignored). An error from fn changes nothing and is returned. ErrNotFound for an unknown ID.
	UpdateResealJob(ctx context.Context, id string, fn func(*ResealJob) error) (ResealJob, error)
}

// KeyRotations is what the operator console shows of the data keys: the keys and the key rotation jobs with
// their progress. Rotations themselves are requested through Operations (OpKeyRotation). Every method needs
// a fully logged-in operator.
type KeyRotations interface {
	Keys(ctx context.Context, p Principal) ([]DataKey, error)
	ResealJobs(ctx context.Context, p Principal, limit int) ([]ResealJob, error)
	// ResealJob is the job its rotation's work record started; ErrNotFound when there is none.
	ResealJob(ctx context.Context, p Principal, id string) (ResealJob, error)
}

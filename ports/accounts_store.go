package ports

import (
	"context"
	"time"
)

// Tenant statuses.
const (
	TenantActive    = "active"
	TenantSuspended = "suspended"
)

// TenantRecord is a customer company as stored.
type TenantRecord struct {
	ID            string
	Code          string // unique, lower-case ASCII, chosen at creation
	Name          string
	Status        string
	MFARequired   bool
	IPRestriction bool     // the paid contract option
	AllowedCIDRs  []string // enforced only when IPRestriction is on
	Seats         int      // 0 = unlimited
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Account kinds: tenant members and the provider's own operators (who belong to no tenant).
const (
	KindMember   = "member"
	KindOperator = "operator"
)

// Account statuses.
const (
	AccountActive   = "active"
	AccountDisabled = "disabled"
)

// Roles of tenant members.
const (
	RoleAdmin    = "admin"
	RoleHR       = "hr"
	RoleEmployee = "employee"
)

// AccountRecord is one person's account as stored. Operators have an empty TenantID.
type AccountRecord struct {
	ID                 string
	TenantID           string
	Kind               string
	Login              string // as the person typed it, NFKC-normalised
	LoginKey           string // the uniqueness key: NFKC + case folding; unique per TenantID
	Name               string
	Roles              []string
	Status             string
	PasswordHash       string // encoded with its parameters; never leaves the accounts module
	MustChangePassword bool
	PasswordChangedAt  time.Time
	LastLoginAt        time.Time // zero when never
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// TenantStore keeps tenants.
type TenantStore interface {
	// CreateTenant stores a new tenant; ErrConflict when the code is taken.
	CreateTenant(ctx context.Context, t TenantRecord) error
	TenantByID(ctx context.Context, id string) (TenantRecord, error)
	TenantByCode(ctx context.Context, code string) (TenantRecord, error)
	ListTenants(ctx context.Context) ([]TenantRecord, error)
	// UpdateTenant applies fn to the current record atomically (no lost update) and stores the result.
	UpdateTenant(ctx context.Context, id string, fn func(*TenantRecord) error) (TenantRecord, error)
}

// AccountStore keeps accounts. Every call is scoped by tenant: an account of another tenant is
// ErrNotFound. Operators are addressed with tenantID "".
type AccountStore interface {
	// CreateAccount stores a new account; ErrConflict when (TenantID, LoginKey) is taken.
	CreateAccount(ctx context.Context, a AccountRecord) error
	AccountByID(ctx context.Context, tenantID, id string) (AccountRecord, error)
	AccountByLogin(ctx context.Context, tenantID, loginKey string) (AccountRecord, error)
	// ListAccounts lists one tenant's members (or, with tenantID "", the operators) by login.
	ListAccounts(ctx context.Context, tenantID string) ([]AccountRecord, error)
	// UpdateAccount applies fn to the current record atomically and stores the result. ID, TenantID and
	// Kind cannot change.
	UpdateAccount(ctx context.Context, tenantID, id string, fn func(*AccountRecord) error) (AccountRecord, error)
}

// ThrottleState is the failure counter of one login identifier.
type ThrottleState struct {
	Key         string
	Failures    int
	LockedUntil time.Time // zero when not locked
}

// ThrottleStore keeps login failure counters. Counting is atomic in the store (one statement, never a
// read-modify-write in the caller), so parallel failures are never lost.
type ThrottleStore interface {
	// AddFailure counts one failure for key and returns the new state. A lock that has expired by now is
	// cleared and counting starts again at 1; a failure while locked is counted but never moves the lock.
	AddFailure(ctx context.Context, key string, now time.Time) (ThrottleState, error)
	// LockUntil locks key until the given instant unless it is already locked at now; it returns the state
	// after the call, so the first lock wins and is never extended.
	LockUntil(ctx context.Context, key string, until, now time.Time) (ThrottleState, error)
	// Throttle returns the state of key; a key never seen has a zero state (not ErrNotFound).
	Throttle(ctx context.Context, key string) (ThrottleState, error)
	// ResetThrottle forgets key (after a success or an admin unlock).
	ResetThrottle(ctx context.Context, key string) error
}

// Session stages: what a session may open.
const (
	StageFull           = "full"            // everything the roles allow
	StagePasswordChange = "password_change" // only the password change
	StageMFA            = "mfa"             // only the second-factor step
	StageMFAEnrol       = "mfa_enrol"       // only enrolling a second factor (tenant requires MFA)
)

// SessionRecord is a login session. The token itself is never stored: only its SHA-256.
type SessionRecord struct {
	TokenHash  string
	AccountID  string
	TenantID   string
	Stage      string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // the absolute limit
	IP         string
	UserAgent  string
}

// SessionStore keeps sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s SessionRecord) error
	SessionByHash(ctx context.Context, tokenHash string) (SessionRecord, error)
	TouchSession(ctx context.Context, tokenHash string, seen time.Time) error
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteAccountSessions ends every session of the account except the one named (may be "").
	DeleteAccountSessions(ctx context.Context, accountID, exceptTokenHash string) (int, error)
	// DeleteSessionsBefore removes sessions idle since before idleBefore or created before createdBefore.
	DeleteSessionsBefore(ctx context.Context, idleBefore, createdBefore time.Time) (int, error)
}

// PasswordHasher hashes and verifies passwords (argon2id in production). The encoded hash carries its
// parameters, so raising the cost needs no migration: Verify reports needsRehash for older hashes.
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, encoded, password string) (match, needsRehash bool, err error)
}

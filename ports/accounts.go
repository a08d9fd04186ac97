package ports

import (
	"context"
	"time"
)

// Source says where a request came from, for audit and IP restriction.
type Source struct {
	IP        string
	UserAgent string
	RequestID string
}

// Principal is an authenticated caller, as the adapters see it.
type Principal struct {
	AccountID  string
	TenantID   string // "" for operators
	TenantCode string
	Kind       string // KindMember or KindOperator
	Login      string
	Name       string
	Roles      []string
	Stage      string // what the session may open (Stage* constants)
	SessionID  string // the stored hash of the session token (never the token): names the session's ceremonies
	Source     Source
}

// HasRole tells whether the principal holds role.
func (p Principal) HasRole(role string) bool {
	for _, r := range p.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// LoginCommand is a password login. Tenant names the tenant by code; OperatorLogin ignores it.
type LoginCommand struct {
	Tenant   string
	Login    string
	Password string
	Source   Source
}

// LoginResult carries a new session. Stage tells whether the session is complete or only opens a
// further step (password change, second factor, MFA enrolment).
type LoginResult struct {
	Token     string
	Stage     string
	ExpiresAt time.Time
	Notice    string // something the person must be told, e.g. NoticeRecoveryCodeUsed
}

// NoticeRecoveryCodeUsed tells that a recovery code was spent: the person should enrol a new factor.
const NoticeRecoveryCodeUsed = "recovery_code_used"

// CreateTenantCommand creates a tenant with its first admin.
type CreateTenantCommand struct {
	Code          string
	Name          string
	AdminLogin    string
	AdminName     string
	AdminPassword string
	Source        Source
}

// CreateOperatorCommand creates a provider operator account.
type CreateOperatorCommand struct {
	Login    string
	Name     string
	Password string
	Source   Source
}

// CreateAccountCommand creates a tenant member. With an empty Password a one-time password is generated.
// Either way the person must choose their own password at first login.
type CreateAccountCommand struct {
	Login    string
	Name     string
	Roles    []string
	Password string
}

// UpdateAccountCommand changes an account; nil fields stay as they are.
type UpdateAccountCommand struct {
	Name  *string
	Roles []string // nil = unchanged
}

// TenantView is a tenant as shown to callers.
type TenantView struct {
	ID            string
	Code          string
	Name          string
	Status        string
	MFARequired   bool
	IPRestriction bool
	AllowedCIDRs  []string
	Seats         int
	CreatedAt     time.Time
}

// AccountView is an account as shown to callers: never the password hash.
type AccountView struct {
	ID                 string
	TenantID           string
	Kind               string
	Login              string
	Name               string
	Roles              []string
	Status             string
	Locked             bool
	LockedUntil        time.Time
	MustChangePassword bool
	MFAEnabled         bool
	LastLoginAt        time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Accounts is the driving port of the accounts module.
type Accounts interface {
	// Login checks a password and opens a session (possibly a restricted one, see LoginResult.Stage).
	// Unknown tenant, unknown login and wrong password are one error, ErrUnauthenticated
	// "invalid_credentials"; a locked identifier is ErrLocked "account_locked" with RetryAfter.
	Login(ctx context.Context, cmd LoginCommand) (LoginResult, error)
	// OperatorLogin is Login for provider operators, under the same policies.
	OperatorLogin(ctx context.Context, cmd LoginCommand) (LoginResult, error)
	// Authenticate resolves a session token; expired or unknown tokens are ErrUnauthenticated.
	Authenticate(ctx context.Context, token string, src Source) (Principal, error)
	Logout(ctx context.Context, token string, src Source) error
	// ChangePassword checks the current password, applies the password policy, ends every session of the
	// account and returns a fresh full session.
	ChangePassword(ctx context.Context, p Principal, current, next string) (LoginResult, error)
	Me(ctx context.Context, p Principal) (AccountView, TenantView, error)

	CreateTenant(ctx context.Context, cmd CreateTenantCommand) (TenantView, AccountView, error)
	CreateOperator(ctx context.Context, cmd CreateOperatorCommand) (AccountView, error)

	// Tenant administration: the principal must be an admin of its tenant; other tenants' accounts are
	// ErrNotFound.
	ListAccounts(ctx context.Context, p Principal) ([]AccountView, error)
	GetAccount(ctx context.Context, p Principal, id string) (AccountView, error)
	CreateAccount(ctx context.Context, p Principal, cmd CreateAccountCommand) (AccountView, string, error)
	UpdateAccount(ctx context.Context, p Principal, id string, cmd UpdateAccountCommand) (AccountView, error)
	UnlockAccount(ctx context.Context, p Principal, id string) (AccountView, error)
	DisableAccount(ctx context.Context, p Principal, id string) (AccountView, error)
}

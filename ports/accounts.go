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
	// TokenID names the API token the request authenticated with ("" for a session); Scopes are the token's
	// (see Allows). A token's principal has the roles its creator holds now and Stage StageFull.
	TokenID string
	Scopes  []string
	Source  Source
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

// IsOperator tells whether the principal is a fully logged-in provider operator (operators belong to no
// tenant; MFA is enforced for them at login).
func (p Principal) IsOperator() bool {
	return p.Kind == KindOperator && p.AccountID != "" && p.TenantID == "" && p.Stage == StageFull
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

// TenantDeleted is a tenant the provider removed (soft: the records stay, for the retention the law asks):
// its members cannot log in and nothing of it is readable. Deletion is final. (TenantActive and
// TenantSuspended are in accounts_store.go.)
const TenantDeleted = "deleted"

// OpTenantReactivate lifts a suspension through the two-person rule, like the other operations in
// operations.go.
const OpTenantReactivate = "tenant.reactivate"

// IPRestrictionView is a tenant's IP restriction as its admin sees it.
type IPRestrictionView struct {
	Enabled      bool     // the contract option, switched by the provider
	AllowedCIDRs []string // in normal form
	ClientIP     string   // the address the request came from ("" when unknown), so the admin sees what to allow
}

// TenantOverview is a tenant as provider operators see it, with its account counts.
type TenantOverview struct {
	TenantView
	Accounts       int
	ActiveAccounts int
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
	// "invalid_credentials"; a locked identifier is ErrLocked "account_locked" with RetryAfter. A deleted
	// tenant is an unknown one. When the tenant restricts IP addresses and cmd.Source.IP is not allowed, the
	// answer is ErrForbidden "ip_not_allowed" before anything else: no password is checked and no failure
	// counted, so outsiders can neither guess passwords nor lock members out. This tells a caller outside
	// the allowed networks that the company code exists; company codes are not secrets (every employee types
	// one), while answering invalid_credentials instead would send members on a wrong network looking for a
	// password fault, and could not be made indistinguishable anyway (an unknown tenant locks after five
	// failures, a refused address never does).
	Login(ctx context.Context, cmd LoginCommand) (LoginResult, error)
	// OperatorLogin is Login for provider operators, under the same policies.
	OperatorLogin(ctx context.Context, cmd LoginCommand) (LoginResult, error)
	// Authenticate resolves a session token or an API token (APITokenPrefix); expired, revoked or unknown
	// tokens are ErrUnauthenticated, and so are sessions and API tokens of a disabled account or a suspended
	// or deleted tenant. An API token's principal carries its TokenID and Scopes. A member's request from an
	// address the tenant's allow-list (as it is now) does not allow is ErrForbidden "ip_not_allowed" and
	// audited, for sessions and API tokens alike; the session stays, for when the member is back on an allowed
	// network.
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

	// IPRestriction shows the tenant admin the allow-list and the address they connect from.
	IPRestriction(ctx context.Context, p Principal) (IPRestrictionView, error)
	// SetAllowedCIDRs replaces the allow-list with lines (one range or address each, blank lines skipped). It
	// is ErrForbidden "ip_restriction_not_contracted" while the contract option is off, and ErrInvalid with
	// one field error per bad line, or "would_lock_out" when the new list would not allow the admin's own
	// address. The change applies to every request from then on, sessions included.
	SetAllowedCIDRs(ctx context.Context, p Principal, lines []string) (IPRestrictionView, error)

	// Provider operators (fully logged in; anyone else is ErrForbidden). Privileged changes to tenants and
	// operator rights go through the two-person rule (see accounts.Service.OperationHandlers), not here.
	ListTenants(ctx context.Context, p Principal) ([]TenantOverview, error)
	GetTenant(ctx context.Context, p Principal, id string) (TenantOverview, error)
	// OperatorCreateTenant is CreateTenant done by an operator, audited as theirs.
	OperatorCreateTenant(ctx context.Context, p Principal, cmd CreateTenantCommand) (TenantView, AccountView, error)
	ListOperators(ctx context.Context, p Principal) ([]AccountView, error)
	// IssueOperatorPassword gives an operator account created by an approved OpGrantOperator request its
	// one-time password, returned once; the person must change it and enrol a second factor at first login.
	// Neither the requester of the grant nor the new operator may call it (so one person cannot obtain a
	// second operator identity), and only until the account's first login; a new call replaces the password.
	IssueOperatorPassword(ctx context.Context, p Principal, accountID string) (string, error)
}

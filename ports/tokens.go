package ports

import (
	"context"
	"slices"
	"time"
)

// API token scopes: what an integration token may do. A resource's read scope opens its GET routes, its write
// scope the others; webhooks:manage opens the webhook subscriptions whole. The roles of the admin who made the
// token still apply on top (a token never does more than its creator could).
const (
	ScopeEmployeesRead   = "employees:read"   // employees, departments, import/export jobs
	ScopeEmployeesWrite  = "employees:write"  //
	ScopeProceduresRead  = "procedures:read"  // procedures and their workflow
	ScopeProceduresWrite = "procedures:write" //
	ScopeWebhooksManage  = "webhooks:manage"  // webhook subscriptions
	ScopeAccountsRead    = "accounts:read"    // the tenant's accounts (provisioning from an identity system)
	ScopeAccountsWrite   = "accounts:write"   //
)

// Scopes lists every scope, in the order pages show them.
var Scopes = []string{ScopeEmployeesRead, ScopeEmployeesWrite, ScopeProceduresRead, ScopeProceduresWrite,
	ScopeWebhooksManage, ScopeAccountsRead, ScopeAccountsWrite}

// APITokenPrefix starts every API token, so a leaked one is recognisable (secret scanners, log filters) and
// Authenticate can tell it from a session token without a lookup.
const APITokenPrefix = "roumu_"

// Allows tells whether the principal may use scope. Sessions carry no scopes and have the full rights of their
// roles; an API token has only the scopes it was given.
func (p Principal) Allows(scope string) bool {
	return p.TokenID == "" || slices.Contains(p.Scopes, scope)
}

// IsAPIToken tells whether the principal authenticated with an API token rather than a session.
func (p Principal) IsAPIToken() bool { return p.TokenID != "" }

// APITokenRecord is an integration token as stored. The token itself is never stored: only the SHA-256 of
// the whole token string.
type APITokenRecord struct {
	ID         string // short, not secret: part of the token, so Authenticate looks the record up by it
	TenantID   string
	Name       string
	Scopes     []string
	SecretHash string    // hex SHA-256 of the token
	CreatedBy  string    // the admin's account ID: the token acts with that account's roles
	CreatedAt  time.Time //
	ExpiresAt  time.Time // required: a token never lives for ever
	LastUsedAt time.Time // zero when never; refreshed at most once a minute
	LastUsedIP string
	RevokedAt  time.Time // zero while not revoked
	RevokedBy  string    // account ID of the admin who revoked it
}

// APITokenStore keeps API tokens. Calls other than APITokenByID are scoped by tenant: another tenant's token
// is ErrNotFound.
type APITokenStore interface {
	// CreateAPIToken stores a new token; ErrConflict when its ID is taken.
	CreateAPIToken(ctx context.Context, r APITokenRecord) error
	// APITokenByID returns the token with that ID, of whichever tenant (the caller authenticates it); ErrNotFound
	// when there is none.
	APITokenByID(ctx context.Context, id string) (APITokenRecord, error)
	// ListAPITokens lists the tenant's tokens, revoked ones included, newest first (then by ID).
	ListAPITokens(ctx context.Context, tenantID string) ([]APITokenRecord, error)
	// RevokeAPIToken marks the token revoked at at by accountID, atomically, and returns the record after the
	// call. A token revoked already keeps its first revocation and revoked is false; ErrNotFound when the
	// tenant has no such token.
	RevokeAPIToken(ctx context.Context, tenantID, id, accountID string, at time.Time) (r APITokenRecord, revoked bool, err error)
	// TouchAPIToken records a use at at from ip. LastUsedAt never moves back: an older at (a slower
	// concurrent request) changes nothing. ErrNotFound when the tenant has no such token.
	TouchAPIToken(ctx context.Context, tenantID, id string, at time.Time, ip string) error
}

// APITokenView is a token as its tenant's admins see it: never the secret nor its hash.
type APITokenView struct {
	ID         string
	Name       string
	Scopes     []string
	Hint       string // the recognisable start of the token ("roumu_<id>_…"), to match it with a client's config
	CreatedBy  string // account ID
	CreatedAt  time.Time
	ExpiresAt  time.Time
	Expired    bool
	LastUsedAt time.Time // zero when never
	LastUsedIP string
}

// CreateAPITokenCommand creates an API token. The expiry is required, at most a year ahead (see
// accounts.MaxAPITokenLifetime): either ExpiresAt, or ExpiresIn from now when ExpiresAt is zero.
type CreateAPITokenCommand struct {
	Name      string
	Scopes    []string
	ExpiresAt time.Time
	ExpiresIn time.Duration
}

// APITokens is the driving port of integration tokens (the accounts module implements it). Only a tenant admin
// logged in with a session may call it: a token cannot manage tokens. Another tenant's token is ErrNotFound.
type APITokens interface {
	// ListAPITokens lists the tenant's tokens that are not revoked, expired ones included, newest first.
	ListAPITokens(ctx context.Context, p Principal) ([]APITokenView, error)
	// CreateAPIToken creates a token and returns it with the token string, which is shown this once.
	CreateAPIToken(ctx context.Context, p Principal, cmd CreateAPITokenCommand) (APITokenView, string, error)
	// RevokeAPIToken revokes the token at once; a token revoked already is ErrNotFound.
	RevokeAPIToken(ctx context.Context, p Principal, id string) error
}

// Package accounts is the accounts module: tenants, one account per person, the password and lockout policies,
// sessions, second factors and integration API tokens. It implements ports.Accounts and reaches the world only
// through driven ports.
package accounts

import (
	"context"
	"fmt"

	"github.com/roumu/roumu/ports"
)

// Deps are the driven ports the module needs.
type Deps struct {
	Tenants  ports.TenantStore
	Accounts ports.AccountStore
	Throttle ports.ThrottleStore
	Sessions ports.SessionStore
	MFA      ports.MFAStore
	// APITokens keeps integration tokens (apitokens.go).
	APITokens ports.APITokenStore
	Tx        ports.Transactor
	Hasher    ports.PasswordHasher
	Audit     ports.AuditLog
	Clock     ports.Clock
	Cipher    ports.Cipher // seals TOTP secrets at rest
	TOTP      ports.TOTPGenerator
	WebAuthn  ports.WebAuthn
	// OperationRecords is read (never written) to find the work record of an operator grant; without it
	// IssueOperatorPassword is unavailable.
	OperationRecords ports.OperationRequestStore
}

// Service implements ports.Accounts (and ports.MFA and ports.APITokens).
type Service struct {
	Deps
	lockout  Lockout
	sessions SessionPolicy
	// dummyHash is verified against when the identifier is unknown, so that unknown logins spend the same
	// time as known ones and timing does not reveal which accounts exist.
	dummyHash string
}

var (
	_ ports.Accounts  = (*Service)(nil)
	_ ports.APITokens = (*Service)(nil)
)

// New builds the accounts service. It hashes one throw-away password at the configured cost (for dummyHash).
func New(ctx context.Context, deps Deps, sessions SessionPolicy) (*Service, error) {
	if sessions.IdleTimeout <= 0 || sessions.AbsoluteTimeout <= 0 || sessions.StepTimeout <= 0 {
		return nil, fmt.Errorf("accounts: session timeouts must be positive")
	}
	if deps.APITokens == nil {
		return nil, fmt.Errorf("accounts: Deps.APITokens is required")
	}
	dummy, err := deps.Hasher.Hash(ctx, "dummy password that no account has: "+newOneTimePassword())
	if err != nil {
		return nil, fmt.Errorf("accounts: preparing the dummy hash: %w", err)
	}
	return &Service{Deps: deps, lockout: DefaultLockout, sessions: sessions, dummyHash: dummy}, nil
}

// record appends an audit event. The audit log is part of the control, so a failure to record fails the
// operation that wanted it recorded.
func (s *Service) record(ctx context.Context, e ports.AuditEvent) error {
	e.At = s.Clock.Now()
	if e.Outcome == "" {
		e.Outcome = ports.OutcomeSuccess
	}
	if err := s.Audit.Record(ctx, e); err != nil {
		return fmt.Errorf("accounts: audit: %w", err)
	}
	return nil
}

// event starts an audit event for an action of principal p.
func event(p ports.Principal, action, target string) ports.AuditEvent {
	return ports.AuditEvent{TenantID: p.TenantID, ActorID: p.AccountID, ActorKind: p.Kind, Action: action,
		Target: target, IP: p.Source.IP, UserAgent: p.Source.UserAgent}
}

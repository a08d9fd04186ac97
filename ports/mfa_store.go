package ports

import (
	"context"
	"time"
)

// TOTPRecord is an account's TOTP authenticator. The shared secret is stored sealed by the Cipher, never in
// clear. LastStep is the last accepted RFC 6238 time step: a code for it or an earlier step is refused.
type TOTPRecord struct {
	TenantID     string
	AccountID    string
	SecretSealed []byte
	Confirmed    bool // false while enrolment waits for the first valid code
	LastStep     int64
	CreatedAt    time.Time
}

// WebAuthnCredentialRecord is one registered WebAuthn authenticator (passkey, security key).
type WebAuthnCredentialRecord struct {
	ID              string // our identifier, for listing and removal
	TenantID        string
	AccountID       string
	Name            string // chosen by the person, e.g. "YubiKey 5"
	CredentialID    []byte // the authenticator's credential ID; unique across the system
	PublicKey       []byte // COSE-encoded
	AttestationType string
	AAGUID          []byte
	SignCount       uint32
	CloneWarning    bool
	BackupEligible  bool
	BackupState     bool
	UserPresent     bool
	UserVerified    bool
	Transports      []string
	CreatedAt       time.Time
	LastUsedAt      time.Time // zero when never
}

// ChallengeRecord is server-side state of one WebAuthn ceremony, single use.
type ChallengeRecord struct {
	ID        string // the SHA-256 of the session token and the ceremony, so one pending ceremony per session
	TenantID  string
	AccountID string
	Purpose   string // "register" or "login"
	Data      []byte // the library's session data, opaque to the store
	ExpiresAt time.Time
}

// MFAStore keeps second factors. Every call is scoped by tenant (operators: tenantID ""); another tenant's
// records are ErrNotFound, and so is a missing one for calls on a single record (TOTPByAccount, ConfirmTOTP,
// AdvanceTOTPStep, DeleteTOTP, UpdateWebAuthnCredential, DeleteWebAuthnCredential).
type MFAStore interface {
	// PutTOTP stores the account's TOTP authenticator, replacing any earlier one.
	PutTOTP(ctx context.Context, r TOTPRecord) error
	TOTPByAccount(ctx context.Context, tenantID, accountID string) (TOTPRecord, error)
	// ConfirmTOTP marks the authenticator confirmed and records step as used.
	ConfirmTOTP(ctx context.Context, tenantID, accountID string, step int64) error
	// AdvanceTOTPStep sets LastStep to step only when step is greater, in one atomic statement, and reports
	// whether it did: of two concurrent uses of one code exactly one gets true.
	AdvanceTOTPStep(ctx context.Context, tenantID, accountID string, step int64) (bool, error)
	DeleteTOTP(ctx context.Context, tenantID, accountID string) error

	// AddWebAuthnCredential stores a credential; ErrConflict when its CredentialID is registered already.
	AddWebAuthnCredential(ctx context.Context, c WebAuthnCredentialRecord) error
	// WebAuthnCredentials lists the account's credentials, oldest first.
	WebAuthnCredentials(ctx context.Context, tenantID, accountID string) ([]WebAuthnCredentialRecord, error)
	// UpdateWebAuthnCredential applies fn to the current record atomically (no lost update of the counter).
	UpdateWebAuthnCredential(ctx context.Context, tenantID, accountID, id string, fn func(*WebAuthnCredentialRecord) error) (WebAuthnCredentialRecord, error)
	DeleteWebAuthnCredential(ctx context.Context, tenantID, accountID, id string) error

	// ReplaceRecoveryCodes discards the account's recovery codes and stores these hashes, all unused.
	ReplaceRecoveryCodes(ctx context.Context, tenantID, accountID string, hashes []string, at time.Time) error
	// UseRecoveryCode marks an unused code with that hash used, atomically, and reports whether one was.
	UseRecoveryCode(ctx context.Context, tenantID, accountID, hash string, at time.Time) (bool, error)
	// RemainingRecoveryCodes counts the unused codes.
	RemainingRecoveryCodes(ctx context.Context, tenantID, accountID string) (int, error)

	// PutChallenge stores a ceremony, replacing one with the same ID.
	PutChallenge(ctx context.Context, c ChallengeRecord) error
	// TakeChallenge deletes the ceremony and returns it, atomically, so it can be used once; ErrNotFound
	// when absent. Expiry is the caller's rule (it compares ExpiresAt with its clock).
	TakeChallenge(ctx context.Context, id string) (ChallengeRecord, error)
	// DeleteMFA removes every factor, recovery code and challenge of the account.
	DeleteMFA(ctx context.Context, tenantID, accountID string) error
}

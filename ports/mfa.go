package ports

import (
	"context"
	"time"
)

// TOTPKey is a new TOTP secret, shown once during enrolment: the base32 secret for typing in and the otpauth://
// URL for the QR code.
type TOTPKey struct {
	Secret string
	URL    string
}

// TOTPGenerator is RFC 6238 TOTP (30-second steps, 6 digits, SHA-1, as authenticator apps expect).
type TOTPGenerator interface {
	NewKey(issuer, accountName string) (TOTPKey, error)
	// MatchStep returns the time step within ±window steps of at whose code equals code, comparing in
	// constant time; ok is false when none does. The caller refuses steps it has accepted before.
	MatchStep(secret, code string, at time.Time, window int) (step int64, ok bool)
}

// WebAuthnUser is the account as a WebAuthn relying party sees it.
type WebAuthnUser struct {
	ID          []byte // the user handle: the account ID, never personal data
	Name        string // the login
	DisplayName string
	Credentials []WebAuthnCredentialRecord
}

// WebAuthnAssertion is what a verified login assertion tells.
type WebAuthnAssertion struct {
	CredentialID []byte
	SignCount    uint32
	CloneWarning bool // the library saw a signature counter that did not increase
	UserPresent  bool
	UserVerified bool
	BackupState  bool
}

// WebAuthn is the relying party (go-webauthn in production). Options go to the browser as JSON; session data
// stays on the server (in the MFAStore) until the ceremony finishes. Verification failures are *Error of kind
// ErrInvalid with code "webauthn_failed".
type WebAuthn interface {
	BeginRegistration(ctx context.Context, u WebAuthnUser) (options, session []byte, err error)
	// FinishRegistration verifies an attestation and returns the new credential with the authenticator's
	// fields filled in; the caller sets ID, TenantID, AccountID, Name and CreatedAt.
	FinishRegistration(ctx context.Context, u WebAuthnUser, session, response []byte) (WebAuthnCredentialRecord, error)
	// BeginLogin returns assertion options whose allowCredentials lists u.Credentials.
	BeginLogin(ctx context.Context, u WebAuthnUser) (options, session []byte, err error)
	FinishLogin(ctx context.Context, u WebAuthnUser, session, response []byte) (WebAuthnAssertion, error)
}

// WebAuthnCredentialView is a registered authenticator as shown to its owner.
type WebAuthnCredentialView struct {
	ID         string
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// MFAStatus is the second-factor state of the caller.
type MFAStatus struct {
	Required          bool // by the tenant's policy, or always for operators
	TOTP              bool
	WebAuthn          []WebAuthnCredentialView
	RecoveryCodesLeft int
}

// MFAEnrolled is the result of adding a factor. RecoveryCodes are shown once, on the first enrolment only.
// Adding a factor ends the account's other sessions and replaces the caller's with Session.
type MFAEnrolled struct {
	RecoveryCodes []string
	Session       LoginResult
}

// MFA is the driving port for second factors. Enrolment and removal need the current password
// (re-authentication). The login step needs a session at StageMFA and returns the next session, which replaces
// it; failed second factors count toward the login lockout.
type MFA interface {
	MFAStatus(ctx context.Context, p Principal) (MFAStatus, error)

	BeginTOTP(ctx context.Context, p Principal, currentPassword string) (TOTPKey, error)
	ConfirmTOTP(ctx context.Context, p Principal, code string) (MFAEnrolled, error)
	RemoveTOTP(ctx context.Context, p Principal, currentPassword string) error

	BeginWebAuthnRegistration(ctx context.Context, p Principal, currentPassword, name string) (options []byte, err error)
	FinishWebAuthnRegistration(ctx context.Context, p Principal, response []byte) (MFAEnrolled, error)
	RemoveWebAuthn(ctx context.Context, p Principal, id, currentPassword string) error

	VerifyTOTP(ctx context.Context, p Principal, code string) (LoginResult, error)
	BeginWebAuthnLogin(ctx context.Context, p Principal) (options []byte, err error)
	FinishWebAuthnLogin(ctx context.Context, p Principal, response []byte) (LoginResult, error)
	UseRecoveryCode(ctx context.Context, p Principal, code string) (LoginResult, error)

	// SetTenantMFARequired is the tenant admin's policy switch.
	SetTenantMFARequired(ctx context.Context, p Principal, required bool) (TenantView, error)
}

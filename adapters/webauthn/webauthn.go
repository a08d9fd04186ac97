// Package webauthn implements ports.WebAuthn, the relying party for passkeys and security keys, with
// github.com/go-webauthn/webauthn.
//
// The ceremony state (the library's SessionData) is handed to the caller as JSON to keep server-side until the
// browser answers; it holds the challenge, the user handle, the allowed credentials and the expiry. The library
// checks the expiry against the wall clock (time.Now), independently of the caller's own clock.
package webauthn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/roumu/roumu/ports"
)

// DefaultTimeout is the ceremony timeout when Config.Timeout is zero: the WebAuthn recommendation for ceremonies
// that may ask for user verification (a PIN or biometrics), which takes longer than a touch.
const DefaultTimeout = 5 * time.Minute

// Config configures the relying party.
type Config struct {
	// RPDisplayName is the service name that authenticators show, e.g. "Roumu".
	RPDisplayName string
	// PublicURL is the address the browser uses, e.g. "https://roumu.example.jp". Its host is the RP ID, which
	// every credential is bound to: changing it orphans all registered credentials.
	PublicURL string
	// Timeout bounds each ceremony, both in the browser and, via the session's expiry, on the server.
	Timeout time.Duration
}

// RelyingParty is the WebAuthn relying party. It is safe for concurrent use.
type RelyingParty struct {
	wa *gowebauthn.WebAuthn
}

var _ ports.WebAuthn = (*RelyingParty)(nil)

// New builds the relying party from cfg. The RP ID is the host of PublicURL without the port and the only
// accepted origin is scheme://host[:port] of PublicURL. PublicURL must be https, except http://localhost for
// development, because browsers offer WebAuthn only in secure contexts.
func New(cfg Config) (*RelyingParty, error) {
	if cfg.RPDisplayName == "" {
		return nil, errors.New("webauthn: RPDisplayName is required")
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("webauthn: Timeout must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	rpID, origin, err := parsePublicURL(cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	// Enforce makes the library stamp each session with an expiry and refuse it afterwards; without it a stored
	// challenge would stay valid for ever. TimeoutUVD (used when verification is "discouraged") is set too so
	// that no library default applies.
	timeout := gowebauthn.TimeoutConfig{Enforce: true, Timeout: cfg.Timeout, TimeoutUVD: cfg.Timeout}
	wa, err := gowebauthn.New(&gowebauthn.Config{
		RPID:                  rpID,
		RPDisplayName:         cfg.RPDisplayName,
		RPOrigins:             []string{origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			UserVerification: protocol.VerificationPreferred,
		},
		Timeouts: gowebauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn: %w", err)
	}
	return &RelyingParty{wa: wa}, nil
}

// parsePublicURL derives the RP ID and the origin from the public URL. Browsers send origins in lower case, so
// both are lowered; the path, if any, plays no part in WebAuthn.
func parsePublicURL(raw string) (rpID, origin string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("webauthn: PublicURL: %w", err)
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	switch {
	case host == "":
		return "", "", fmt.Errorf("webauthn: PublicURL %q has no host", raw)
	case u.User != nil:
		return "", "", fmt.Errorf("webauthn: PublicURL %q must not contain user information", raw)
	case !validPort(u.Port()):
		return "", "", fmt.Errorf("webauthn: PublicURL %q has an invalid port", raw)
	case scheme == "https", scheme == "http" && host == "localhost":
	default:
		return "", "", fmt.Errorf("webauthn: PublicURL %q must be https (or http://localhost)", raw)
	}
	if err := protocol.ValidateRPID(host); err != nil {
		return "", "", fmt.Errorf("webauthn: PublicURL %q: host is not a valid RP ID: %w", raw, err)
	}
	return host, scheme + "://" + strings.ToLower(u.Host), nil
}

// validPort reports whether port is empty or 1-65535; url.Parse accepts any digits.
func validPort(port string) bool {
	if port == "" {
		return true
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

// BeginRegistration starts registering a new authenticator for u. It asks for a discoverable credential
// (passkey) and user verification where the authenticator can, no attestation (we trust no vendor list, and
// attestation would reveal the device model), and excludes u's registered credentials so that one
// authenticator is not registered twice.
func (rp *RelyingParty) BeginRegistration(_ context.Context, u ports.WebAuthnUser) (options, session []byte, err error) {
	wu := newUser(u)
	creation, data, err := rp.wa.BeginRegistration(wu,
		gowebauthn.WithExclusions(gowebauthn.Credentials(wu.creds).CredentialDescriptors()),
		gowebauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("webauthn: begin registration: %w", err)
	}
	return encode(creation, data)
}

// FinishRegistration verifies the browser's attestation response against the session from BeginRegistration.
func (rp *RelyingParty) FinishRegistration(_ context.Context, u ports.WebAuthnUser, session, response []byte) (ports.WebAuthnCredentialRecord, error) {
	data, err := decodeSession(session)
	if err != nil {
		return ports.WebAuthnCredentialRecord{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return ports.WebAuthnCredentialRecord{}, failed(err)
	}
	cred, err := rp.wa.CreateCredential(newUser(u), data, parsed)
	if err != nil {
		return ports.WebAuthnCredentialRecord{}, failed(err)
	}
	return toRecord(cred), nil
}

// BeginLogin starts an assertion limited to u's registered credentials. A user without credentials cannot log
// in with WebAuthn; that is a precondition, not a verification failure.
func (rp *RelyingParty) BeginLogin(_ context.Context, u ports.WebAuthnUser) (options, session []byte, err error) {
	if len(u.Credentials) == 0 {
		return nil, nil, ports.NewError(ports.ErrPreconditionFailed, "webauthn_no_credentials",
			"No security key is registered.", "セキュリティキーが登録されていません。")
	}
	assertion, data, err := rp.wa.BeginLogin(newUser(u))
	if err != nil {
		return nil, nil, fmt.Errorf("webauthn: begin login: %w", err)
	}
	return encode(assertion, data)
}

// FinishLogin verifies the browser's assertion response against the session from BeginLogin and u's
// credentials, which must carry their stored SignCount: the library compares the authenticator's counter with it
// and sets CloneWarning (without failing) when the counter did not increase. CloneWarning is also reported when
// the stored credential already carries it, since the library treats the flag as part of the credential.
func (rp *RelyingParty) FinishLogin(_ context.Context, u ports.WebAuthnUser, session, response []byte) (ports.WebAuthnAssertion, error) {
	data, err := decodeSession(session)
	if err != nil {
		return ports.WebAuthnAssertion{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return ports.WebAuthnAssertion{}, failed(err)
	}
	cred, err := rp.wa.ValidateLogin(newUser(u), data, parsed)
	if err != nil {
		return ports.WebAuthnAssertion{}, failed(err)
	}
	// The flags come from this assertion: the library's updated credential flags keep the UV bit of the stored
	// credential instead.
	flags := parsed.Response.AuthenticatorData.Flags
	return ports.WebAuthnAssertion{
		CredentialID: cred.ID,
		SignCount:    cred.Authenticator.SignCount,
		CloneWarning: cred.Authenticator.CloneWarning,
		UserPresent:  flags.HasUserPresent(),
		UserVerified: flags.HasUserVerified(),
		BackupState:  flags.HasBackupState(),
	}, nil
}

// encode serialises the options for the browser and the session data for the server.
func encode(options any, data *gowebauthn.SessionData) ([]byte, []byte, error) {
	o, err := json.Marshal(options)
	if err != nil {
		return nil, nil, fmt.Errorf("webauthn: encode options: %w", err)
	}
	s, err := json.Marshal(data)
	if err != nil {
		return nil, nil, fmt.Errorf("webauthn: encode session: %w", err)
	}
	return o, s, nil
}

// decodeSession reads back the session data. The bytes are our own, kept server-side, so undecodable data is an
// internal fault, not the user's. A session without expiry is refused although New always sets one, because
// the library would silently skip the expiry check for it.
func decodeSession(session []byte) (gowebauthn.SessionData, error) {
	var data gowebauthn.SessionData
	if err := json.Unmarshal(session, &data); err != nil {
		return data, fmt.Errorf("webauthn: decode session: %w", err)
	}
	if data.Expires.IsZero() {
		return data, failed(errors.New("session has no expiry"))
	}
	return data, nil
}

// user presents a ports.WebAuthnUser to the library.
type user struct {
	u     ports.WebAuthnUser
	creds []gowebauthn.Credential
}

func newUser(u ports.WebAuthnUser) *user {
	creds := make([]gowebauthn.Credential, len(u.Credentials))
	for i, r := range u.Credentials {
		creds[i] = fromRecord(r)
	}
	return &user{u: u, creds: creds}
}

func (w *user) WebAuthnID() []byte                           { return w.u.ID }
func (w *user) WebAuthnName() string                         { return w.u.Name }
func (w *user) WebAuthnDisplayName() string                  { return w.u.DisplayName }
func (w *user) WebAuthnCredentials() []gowebauthn.Credential { return w.creds }

// toRecord maps a newly verified credential to the port record.
func toRecord(c *gowebauthn.Credential) ports.WebAuthnCredentialRecord {
	transports := make([]string, len(c.Transport))
	for i, t := range c.Transport {
		transports[i] = string(t)
	}
	return ports.WebAuthnCredentialRecord{
		CredentialID:    c.ID,
		PublicKey:       c.PublicKey,
		AttestationType: c.AttestationType,
		AAGUID:          c.Authenticator.AAGUID,
		SignCount:       c.Authenticator.SignCount,
		CloneWarning:    c.Authenticator.CloneWarning,
		BackupEligible:  c.Flags.BackupEligible,
		BackupState:     c.Flags.BackupState,
		UserPresent:     c.Flags.UserPresent,
		UserVerified:    c.Flags.UserVerified,
		Transports:      transports,
	}
}

// fromRecord rebuilds the library's credential from a stored record. SignCount and the backup-eligible flag
// matter: the library checks the counter against the first and refuses an assertion whose BE flag differs from
// the second.
func fromRecord(r ports.WebAuthnCredentialRecord) gowebauthn.Credential {
	transports := make([]protocol.AuthenticatorTransport, len(r.Transports))
	for i, t := range r.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	var flags protocol.AuthenticatorFlags
	for _, f := range []struct {
		set  bool
		flag protocol.AuthenticatorFlags
	}{
		{r.UserPresent, protocol.FlagUserPresent},
		{r.UserVerified, protocol.FlagUserVerified},
		{r.BackupEligible, protocol.FlagBackupEligible},
		{r.BackupState, protocol.FlagBackupState},
	} {
		if f.set {
			flags |= f.flag
		}
	}
	return gowebauthn.Credential{
		ID:              r.CredentialID,
		PublicKey:       r.PublicKey,
		AttestationType: r.AttestationType,
		Transport:       transports,
		Flags:           gowebauthn.NewCredentialFlags(flags),
		Authenticator: gowebauthn.Authenticator{
			AAGUID:       r.AAGUID,
			SignCount:    r.SignCount,
			CloneWarning: r.CloneWarning,
		},
	}
}

// failure is a verification failure. It is, for errors.Is and errors.As, the public *ports.Error
// ("webauthn_failed") and its message is that error's; the library's reason is a second branch of the chain,
// reachable with errors.As (e.g. *protocol.Error) and logged by slog through LogValue, so that it reaches the
// server logs but never a response.
type failure struct {
	public *ports.Error
	reason error
}

// failed wraps a library error as the public verification failure.
func failed(reason error) error {
	return &failure{
		public: ports.NewError(ports.ErrInvalid, "webauthn_failed",
			"The security key could not be verified.", "セキュリティキーを確認できませんでした。"),
		reason: reason,
	}
}

func (f *failure) Error() string   { return f.public.Error() }
func (f *failure) Unwrap() []error { return []error{f.public, f.reason} }

// LogValue gives slog the code and the library's reason, including the debug detail that *protocol.Error keeps
// out of its Error string.
func (f *failure) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("code", f.public.Code), slog.String("reason", f.reason.Error())}
	var pe *protocol.Error
	if errors.As(f.reason, &pe) {
		attrs = append(attrs, slog.String("type", pe.Type), slog.String("debug", pe.DevInfo))
	}
	return slog.GroupValue(attrs...)
}

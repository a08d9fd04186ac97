package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// The second-factor rules.
const (
	totpIssuer        = "Roumu"
	totpWindow        = 1 // ±1 step (±30 s) for clock drift, as RFC 6238 advises
	recoveryCodeCount = 10
	ceremonyTimeout   = 5 * time.Minute // a WebAuthn ceremony must finish within this, enforced here
	defaultKeyName    = "セキュリティキー"
	keyNameMaxLen     = 50
)

var _ ports.MFA = (*Service)(nil)

func mfaFailed() error {
	return ports.NewError(ports.ErrUnauthenticated, "mfa_failed",
		"The second factor could not be verified.", "2要素目の認証に失敗しました。")
}

func noCeremony() error {
	return ports.NewError(ports.ErrConflict, "no_pending_ceremony",
		"There is no pending registration or login to finish; start again.", "進行中の登録・認証がありません。最初からやり直してください。")
}

// MFAStatus implements ports.MFA.
func (s *Service) MFAStatus(ctx context.Context, p ports.Principal) (ports.MFAStatus, error) {
	c, err := s.loadCaller(ctx, p, ports.StageFull, ports.StageMFAEnrol)
	if err != nil {
		return ports.MFAStatus{}, err
	}
	st := ports.MFAStatus{Required: mfaRequired(c.acct, c.tenant)}
	totp, err := s.MFA.TOTPByAccount(ctx, c.acct.TenantID, c.acct.ID)
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return st, err
	}
	st.TOTP = err == nil && totp.Confirmed
	creds, err := s.MFA.WebAuthnCredentials(ctx, c.acct.TenantID, c.acct.ID)
	if err != nil {
		return st, err
	}
	for _, cr := range creds {
		st.WebAuthn = append(st.WebAuthn, ports.WebAuthnCredentialView{ID: cr.ID, Name: cr.Name, CreatedAt: cr.CreatedAt, LastUsedAt: cr.LastUsedAt})
	}
	st.RecoveryCodesLeft, err = s.MFA.RemainingRecoveryCodes(ctx, c.acct.TenantID, c.acct.ID)
	return st, err
}

func totpAD(accountID string) []byte { return []byte("totp:" + accountID) }

// BeginTOTP implements ports.MFA: it stores a new, unconfirmed secret sealed at rest and returns it once.
func (s *Service) BeginTOTP(ctx context.Context, p ports.Principal, currentPassword string) (ports.TOTPKey, error) {
	c, err := s.reauthenticate(ctx, p, currentPassword, event(p, "mfa.totp.begin", "account:"+p.AccountID), ports.StageFull, ports.StageMFAEnrol)
	if err != nil {
		return ports.TOTPKey{}, err
	}
	if existing, err := s.MFA.TOTPByAccount(ctx, c.acct.TenantID, c.acct.ID); err == nil && existing.Confirmed {
		return ports.TOTPKey{}, ports.NewError(ports.ErrConflict, "totp_exists",
			"An authenticator app is already registered; remove it first.", "認証アプリは登録済みです。先に削除してください。")
	}
	label := c.acct.Login
	if c.tenant.Code != "" {
		label += "@" + c.tenant.Code
	}
	key, err := s.TOTP.NewKey(totpIssuer, label)
	if err != nil {
		return ports.TOTPKey{}, err
	}
	sealed, err := s.Cipher.Seal(ctx, []byte(key.Secret), totpAD(c.acct.ID))
	if err != nil {
		return ports.TOTPKey{}, err
	}
	err = s.MFA.PutTOTP(ctx, ports.TOTPRecord{TenantID: c.acct.TenantID, AccountID: c.acct.ID, SecretSealed: sealed, CreatedAt: s.Clock.Now()})
	return key, err
}

// matchTOTP checks code against the account's secret and returns the step it belongs to.
func (s *Service) matchTOTP(ctx context.Context, rec ports.TOTPRecord, code string) (int64, bool, error) {
	secret, err := s.Cipher.Open(ctx, rec.SecretSealed, totpAD(rec.AccountID))
	if err != nil {
		return 0, false, err
	}
	step, ok := s.TOTP.MatchStep(string(secret), strings.TrimSpace(code), s.Clock.Now(), totpWindow)
	return step, ok, nil
}

// ConfirmTOTP implements ports.MFA: the first valid code proves the app holds the secret.
func (s *Service) ConfirmTOTP(ctx context.Context, p ports.Principal, code string) (ports.MFAEnrolled, error) {
	c, err := s.loadCaller(ctx, p, ports.StageFull, ports.StageMFAEnrol)
	if err != nil {
		return ports.MFAEnrolled{}, err
	}
	rec, err := s.MFA.TOTPByAccount(ctx, c.acct.TenantID, c.acct.ID)
	if errors.Is(err, ports.ErrNotFound) || err == nil && rec.Confirmed {
		return ports.MFAEnrolled{}, noCeremony()
	}
	if err != nil {
		return ports.MFAEnrolled{}, err
	}
	step, ok, err := s.matchTOTP(ctx, rec, code)
	if err != nil {
		return ports.MFAEnrolled{}, err
	}
	if !ok {
		return ports.MFAEnrolled{}, ports.Invalid("totp_invalid", "The code is not valid; check the app's clock and try the current code.",
			"確認コードが正しくありません。端末の時刻を確認し、表示中のコードを入力してください。",
			ports.FieldError{Field: "code", Code: "invalid", MessageEN: "is not valid", MessageJA: "正しくありません"})
	}
	if err := s.MFA.ConfirmTOTP(ctx, c.acct.TenantID, c.acct.ID, step); err != nil {
		return ports.MFAEnrolled{}, err
	}
	return s.enrolled(ctx, p, c, "totp")
}

// enrolled finishes adding a factor: recovery codes on the first enrolment, every session of the account
// ended and a fresh one issued, and the audit entry.
func (s *Service) enrolled(ctx context.Context, p ports.Principal, c caller, method string) (ports.MFAEnrolled, error) {
	var out ports.MFAEnrolled
	left, err := s.MFA.RemainingRecoveryCodes(ctx, c.acct.TenantID, c.acct.ID)
	if err != nil {
		return out, err
	}
	if left == 0 {
		if out.RecoveryCodes, err = s.newRecoveryCodes(ctx, c.acct); err != nil {
			return out, err
		}
	}
	if _, err := s.Sessions.DeleteAccountSessions(ctx, c.acct.ID, ""); err != nil {
		return out, err
	}
	stage := ports.StageFull
	if p.Stage == ports.StageMFAEnrol {
		stage = stageAfterFactors(c.acct, mfaRequired(c.acct, c.tenant), true)
	}
	if out.Session, err = s.openSession(ctx, c.acct, stage, p.Source); err != nil {
		return out, err
	}
	e := event(p, "mfa.enrol", "account:"+c.acct.ID)
	e.Detail = map[string]string{"method": method, "recovery_codes_issued": boolText(out.RecoveryCodes != nil)}
	return out, s.record(ctx, e)
}

// recoveryAlphabet is Crockford-style base32 without confusable letters.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// newRecoveryCodes issues fresh codes of 80 random bits each, stores only their hashes, and returns them.
func (s *Service) newRecoveryCodes(ctx context.Context, acct ports.AccountRecord) ([]string, error) {
	codes := make([]string, recoveryCodeCount)
	hashes := make([]string, recoveryCodeCount)
	for i := range codes {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		var sb strings.Builder
		for j, c := range b {
			if j > 0 && j%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(recoveryAlphabet[c%32])
		}
		codes[i] = sb.String()
		hashes[i] = recoveryHash(acct.ID, codes[i])
	}
	return codes, s.MFA.ReplaceRecoveryCodes(ctx, acct.TenantID, acct.ID, hashes, s.Clock.Now())
}

// recoveryHash is the stored form of a recovery code. The codes carry 80 random bits, so a fast hash keyed by
// the account is enough; hyphens, spaces and case do not matter when typed.
func recoveryHash(accountID, code string) string {
	code = strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(code)))
	sum := sha256.Sum256([]byte(accountID + ":" + code))
	return hex.EncodeToString(sum[:])
}

// removeFactor deletes a factor after re-authentication, unless it is the last one of an account that must
// have one. Other sessions end; the caller's stays.
func (s *Service) removeFactor(ctx context.Context, p ports.Principal, currentPassword, method string, remove func(c caller) error) error {
	audit := event(p, "mfa.remove", "account:"+p.AccountID)
	c, err := s.reauthenticate(ctx, p, currentPassword, audit, ports.StageFull)
	if err != nil {
		return err
	}
	st, err := s.MFAStatus(ctx, p)
	if err != nil {
		return err
	}
	factors := len(st.WebAuthn)
	if st.TOTP {
		factors++
	}
	if st.Required && factors <= 1 {
		return ports.NewError(ports.ErrConflict, "last_factor_required",
			"Second-factor authentication is required: register another authenticator before removing this one.",
			"2要素認証が必須のため、別の認証器を登録してから削除してください。")
	}
	if err := remove(c); err != nil {
		return err
	}
	if factors <= 1 {
		if err := s.MFA.ReplaceRecoveryCodes(ctx, c.acct.TenantID, c.acct.ID, nil, s.Clock.Now()); err != nil {
			return err
		}
	}
	if _, err := s.Sessions.DeleteAccountSessions(ctx, c.acct.ID, p.SessionID); err != nil {
		return err
	}
	audit.Detail = map[string]string{"method": method}
	return s.record(ctx, audit)
}

// RemoveTOTP implements ports.MFA.
func (s *Service) RemoveTOTP(ctx context.Context, p ports.Principal, currentPassword string) error {
	return s.removeFactor(ctx, p, currentPassword, "totp", func(c caller) error {
		return s.MFA.DeleteTOTP(ctx, c.acct.TenantID, c.acct.ID)
	})
}

// RemoveWebAuthn implements ports.MFA.
func (s *Service) RemoveWebAuthn(ctx context.Context, p ports.Principal, id, currentPassword string) error {
	return s.removeFactor(ctx, p, currentPassword, "webauthn", func(c caller) error {
		return s.MFA.DeleteWebAuthnCredential(ctx, c.acct.TenantID, c.acct.ID, id)
	})
}

// ceremony is what is kept server-side between the two halves of a WebAuthn ceremony.
type ceremony struct {
	Session []byte `json:"session"`
	Name    string `json:"name,omitempty"`
}

// ceremonyID ties a ceremony to one session and purpose.
func ceremonyID(sessionID, purpose string) string {
	sum := sha256.Sum256([]byte(sessionID + ":" + purpose))
	return hex.EncodeToString(sum[:])
}

func (s *Service) webAuthnUser(ctx context.Context, acct ports.AccountRecord) (ports.WebAuthnUser, error) {
	creds, err := s.MFA.WebAuthnCredentials(ctx, acct.TenantID, acct.ID)
	return ports.WebAuthnUser{ID: []byte(acct.ID), Name: acct.Login, DisplayName: acct.Name, Credentials: creds}, err
}

func (s *Service) putCeremony(ctx context.Context, p ports.Principal, acct ports.AccountRecord, purpose string, c ceremony) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.MFA.PutChallenge(ctx, ports.ChallengeRecord{ID: ceremonyID(p.SessionID, purpose), TenantID: acct.TenantID,
		AccountID: acct.ID, Purpose: purpose, Data: data, ExpiresAt: s.Clock.Now().Add(ceremonyTimeout)})
}

// takeCeremony removes the pending ceremony before anything is validated, so it can be tried only once.
func (s *Service) takeCeremony(ctx context.Context, p ports.Principal, acct ports.AccountRecord, purpose string) (ceremony, error) {
	rec, err := s.MFA.TakeChallenge(ctx, ceremonyID(p.SessionID, purpose))
	if errors.Is(err, ports.ErrNotFound) {
		return ceremony{}, noCeremony()
	}
	if err != nil {
		return ceremony{}, err
	}
	if rec.AccountID != acct.ID || rec.Purpose != purpose || !s.Clock.Now().Before(rec.ExpiresAt) {
		return ceremony{}, ports.NewError(ports.ErrInvalid, "ceremony_expired",
			"The security key prompt timed out; start again.", "セキュリティキーの操作が時間切れになりました。最初からやり直してください。")
	}
	var c ceremony
	return c, json.Unmarshal(rec.Data, &c)
}

// BeginWebAuthnRegistration implements ports.MFA.
func (s *Service) BeginWebAuthnRegistration(ctx context.Context, p ports.Principal, currentPassword, name string) ([]byte, error) {
	c, err := s.reauthenticate(ctx, p, currentPassword, event(p, "mfa.webauthn.begin", "account:"+p.AccountID), ports.StageFull, ports.StageMFAEnrol)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(name) == "" {
		name = defaultKeyName
	}
	name, fields := normalizeName("name", name)
	if len([]rune(name)) > keyNameMaxLen {
		fields = append(fields, ports.FieldError{Field: "name", Code: "length", MessageEN: "must be at most 50 characters", MessageJA: "50文字以内で入力してください"})
	}
	if len(fields) > 0 {
		return nil, invalid(fields)
	}
	user, err := s.webAuthnUser(ctx, c.acct)
	if err != nil {
		return nil, err
	}
	options, session, err := s.WebAuthn.BeginRegistration(ctx, user)
	if err != nil {
		return nil, err
	}
	return options, s.putCeremony(ctx, p, c.acct, "register", ceremony{Session: session, Name: name})
}

// FinishWebAuthnRegistration implements ports.MFA.
func (s *Service) FinishWebAuthnRegistration(ctx context.Context, p ports.Principal, response []byte) (ports.MFAEnrolled, error) {
	c, err := s.loadCaller(ctx, p, ports.StageFull, ports.StageMFAEnrol)
	if err != nil {
		return ports.MFAEnrolled{}, err
	}
	cer, err := s.takeCeremony(ctx, p, c.acct, "register")
	if err != nil {
		return ports.MFAEnrolled{}, err
	}
	user, err := s.webAuthnUser(ctx, c.acct)
	if err != nil {
		return ports.MFAEnrolled{}, err
	}
	cred, err := s.WebAuthn.FinishRegistration(ctx, user, cer.Session, response)
	if err != nil {
		return ports.MFAEnrolled{}, err
	}
	cred.ID, cred.TenantID, cred.AccountID, cred.Name, cred.CreatedAt = kernel.NewID(), c.acct.TenantID, c.acct.ID, cer.Name, s.Clock.Now()
	if err := s.MFA.AddWebAuthnCredential(ctx, cred); err != nil {
		if errors.Is(err, ports.ErrConflict) {
			return ports.MFAEnrolled{}, ports.NewError(ports.ErrConflict, "credential_exists",
				"This security key is registered already.", "このセキュリティキーは登録済みです。")
		}
		return ports.MFAEnrolled{}, err
	}
	return s.enrolled(ctx, p, c, "webauthn")
}

// secondFactor runs one second-factor attempt of the login step: refused while locked, counted toward the
// lockout when verify fails, and on success replaces the pending session with the next one.
func (s *Service) secondFactor(ctx context.Context, p ports.Principal, method string, verify func(c caller) (bool, error)) (ports.LoginResult, error) {
	c, err := s.loadCaller(ctx, p, ports.StageMFA)
	if err != nil {
		return ports.LoginResult{}, err
	}
	audit := event(p, "auth.mfa", "account:"+c.acct.ID)
	audit.Detail = map[string]string{"method": method}
	if err := s.checkNotLocked(ctx, c.key); err != nil {
		return ports.LoginResult{}, s.refuse(ctx, withReason(audit, "locked"), err)
	}
	ok, err := verify(c)
	if err != nil && !errors.Is(err, ports.ErrInvalid) {
		return ports.LoginResult{}, err
	}
	if !ok {
		retry, err := s.countFailure(ctx, c.key, audit)
		switch {
		case err != nil:
			return ports.LoginResult{}, err
		case retry > 0:
			return ports.LoginResult{}, lockedError(retry)
		}
		return ports.LoginResult{}, mfaFailed()
	}
	if err := s.Throttle.ResetThrottle(ctx, c.key); err != nil {
		return ports.LoginResult{}, err
	}
	if err := s.Sessions.DeleteSession(ctx, p.SessionID); err != nil {
		return ports.LoginResult{}, err
	}
	res, err := s.openSession(ctx, c.acct, stageAfterFactors(c.acct, mfaRequired(c.acct, c.tenant), true), p.Source)
	if err != nil {
		return res, err
	}
	return res, s.record(ctx, audit)
}

// VerifyTOTP implements ports.MFA. A code is accepted once: its time step must be later than the last
// accepted one, which the store advances atomically, so two concurrent uses of one code cannot both pass.
func (s *Service) VerifyTOTP(ctx context.Context, p ports.Principal, code string) (ports.LoginResult, error) {
	return s.secondFactor(ctx, p, "totp", func(c caller) (bool, error) {
		rec, err := s.MFA.TOTPByAccount(ctx, c.acct.TenantID, c.acct.ID)
		if errors.Is(err, ports.ErrNotFound) || err == nil && !rec.Confirmed {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		step, ok, err := s.matchTOTP(ctx, rec, code)
		if err != nil || !ok || step <= rec.LastStep {
			return false, err
		}
		return s.MFA.AdvanceTOTPStep(ctx, c.acct.TenantID, c.acct.ID, step)
	})
}

// BeginWebAuthnLogin implements ports.MFA. allowCredentials is revealed only here, after the password step.
func (s *Service) BeginWebAuthnLogin(ctx context.Context, p ports.Principal) ([]byte, error) {
	c, err := s.loadCaller(ctx, p, ports.StageMFA)
	if err != nil {
		return nil, err
	}
	user, err := s.webAuthnUser(ctx, c.acct)
	if err != nil {
		return nil, err
	}
	if len(user.Credentials) == 0 {
		return nil, ports.NewError(ports.ErrConflict, "no_security_key", "No security key is registered.", "セキュリティキーが登録されていません。")
	}
	options, session, err := s.WebAuthn.BeginLogin(ctx, user)
	if err != nil {
		return nil, err
	}
	return options, s.putCeremony(ctx, p, c.acct, "login", ceremony{Session: session})
}

// FinishWebAuthnLogin implements ports.MFA. Besides the library's checks (origin, RP ID, challenge, user
// presence, signature), an assertion whose signature counter does not increase is refused when the
// authenticator keeps a counter: a cloned key gives itself away that way. The new counter is stored with an
// atomic compare, so a replay racing the original cannot pass either.
func (s *Service) FinishWebAuthnLogin(ctx context.Context, p ports.Principal, response []byte) (ports.LoginResult, error) {
	return s.secondFactor(ctx, p, "webauthn", func(c caller) (bool, error) {
		cer, err := s.takeCeremony(ctx, p, c.acct, "login")
		if err != nil {
			return false, err
		}
		user, err := s.webAuthnUser(ctx, c.acct)
		if err != nil {
			return false, err
		}
		a, err := s.WebAuthn.FinishLogin(ctx, user, cer.Session, response)
		if err != nil || a.CloneWarning || !a.UserPresent {
			return false, err
		}
		for _, cred := range user.Credentials {
			if string(cred.CredentialID) != string(a.CredentialID) {
				continue
			}
			_, err := s.MFA.UpdateWebAuthnCredential(ctx, c.acct.TenantID, c.acct.ID, cred.ID, func(r *ports.WebAuthnCredentialRecord) error {
				if (a.SignCount != 0 || r.SignCount != 0) && a.SignCount <= r.SignCount {
					return errCounterNotIncreasing
				}
				r.SignCount, r.LastUsedAt, r.BackupState, r.UserVerified = a.SignCount, s.Clock.Now(), a.BackupState, a.UserVerified
				return nil
			})
			if errors.Is(err, errCounterNotIncreasing) {
				return false, nil
			}
			return err == nil, err
		}
		return false, nil
	})
}

var errCounterNotIncreasing = errors.New("signature counter did not increase")

// UseRecoveryCode implements ports.MFA. Each code works once; the person is told to enrol a new factor.
func (s *Service) UseRecoveryCode(ctx context.Context, p ports.Principal, code string) (ports.LoginResult, error) {
	res, err := s.secondFactor(ctx, p, "recovery_code", func(c caller) (bool, error) {
		if len(code) > 64 {
			return false, nil
		}
		return s.MFA.UseRecoveryCode(ctx, c.acct.TenantID, c.acct.ID, recoveryHash(c.acct.ID, code), s.Clock.Now())
	})
	if err == nil {
		res.Notice = ports.NoticeRecoveryCodeUsed
	}
	return res, err
}

// SetTenantMFARequired implements ports.MFA: accounts without a factor are taken to enrolment at next login.
func (s *Service) SetTenantMFARequired(ctx context.Context, p ports.Principal, required bool) (ports.TenantView, error) {
	if err := requireAdmin(p); err != nil {
		return ports.TenantView{}, err
	}
	var t ports.TenantRecord
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		t, err = s.Tenants.UpdateTenant(ctx, p.TenantID, func(t *ports.TenantRecord) error {
			t.MFARequired, t.UpdatedAt = required, s.Clock.Now()
			return nil
		})
		if err != nil {
			return err
		}
		e := event(p, "tenant.mfa_required", "tenant:"+p.TenantID)
		e.Detail = map[string]string{"required": boolText(required)}
		return s.record(ctx, e)
	})
	return tenantView(t), err
}

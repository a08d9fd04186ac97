package web_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/roumu/roumu/ports"
)

// The fake's second factors: a TOTP app, security keys and recovery codes per account, enough to drive every
// MFA route and page. Codes and credentials are fixed strings rather than real cryptography; the adapter
// passes them on without looking inside.
const (
	goodTOTP      = "123456"
	lockingTOTP   = "999999" // answers account_locked, as the domain does once the failures reach the limit
	goodRecovery  = "abcd-efgh-jkmn-pqrs"
	fakeSecret    = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	fakeOTPAuth   = "otpauth://totp/Roumu:admin@acme?secret=" + fakeSecret + "&issuer=Roumu"
	hanakoKeyID   = "key-hanako"
	hanakoKeyName = "YubiKey <5>"
	// The options exactly as a relying party returns them: the adapter must pass the bytes through.
	fakeRegistrationOptions = `{"publicKey":{"challenge":"Y2hhbGxlbmdl","rp":{"name":"Roumu","id":"localhost"},` +
		`"user":{"id":"YWNjLWFkbWlu","name":"admin","displayName":"管理 太郎"},"pubKeyCredParams":[{"type":"public-key","alg":-7}],` +
		`"excludeCredentials":[{"type":"public-key","id":"a2V5LTE"}],"timeout":300000}}`
	fakeLoginOptions = `{"publicKey":{"challenge":"bG9naW4tY2hhbGxlbmdl","rpId":"localhost",` +
		`"allowCredentials":[{"type":"public-key","id":"a2V5LTE"}],"userVerification":"preferred","timeout":300000}}`
	// goodCredential is a browser's PublicKeyCredential JSON; the fake accepts anything of type public-key.
	goodCredential = `{"id":"a2V5LTE","rawId":"a2V5LTE","type":"public-key","clientExtensionResults":{"credProps":{"rk":true}},` +
		`"response":{"clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0","attestationObject":"o2NmbXRkbm9uZQ","transports":["usb"]}}`
	badCredential = `{"id":"a2V5LTE","rawId":"a2V5LTE","type":"password","response":{}}`
)

var fakeRecoveryCodes = []string{"rc01-aaaa", "rc02-bbbb", "rc03-cccc", "rc04-dddd", "rc05-eeee",
	"rc06-ffff", "rc07-gggg", "rc08-hhhh", "rc09-jjjj", "rc10-kkkk"}

// fakeFactors is one account's second factors and pending ceremonies.
type fakeFactors struct {
	totp, totpPending        bool
	keyPending, loginPending bool
	keyName                  string
	keys                     []ports.WebAuthnCredentialView
	recoveryLeft             int
}

func (ff *fakeFactors) count() int {
	n := len(ff.keys)
	if ff.totp {
		n++
	}
	return n
}

// newFakeFactors: the MFA user and Hanako have an app, a key and recovery codes; everyone else nothing yet.
func newFakeFactors() map[string]*fakeFactors {
	key := func(id, name string) []ports.WebAuthnCredentialView {
		return []ports.WebAuthnCredentialView{{ID: id, Name: name, CreatedAt: epoch, LastUsedAt: epoch.Add(time.Hour)}}
	}
	return map[string]*fakeFactors{
		"acc-mfa":    {totp: true, keys: key("key-mfa", "USB key"), recoveryLeft: 10},
		"acc-hanako": {totp: true, keys: key(hanakoKeyID, hanakoKeyName), recoveryLeft: 9},
	}
}

func sessionID(token string) string { return "sid:" + token }

// factorsOf returns an account's factors, creating the empty set. The caller holds f.mu.
func (f *fakeAccounts) factorsOf(accountID string) *fakeFactors {
	ff := f.factors[accountID]
	if ff == nil {
		ff = &fakeFactors{}
		f.factors[accountID] = ff
	}
	return ff
}

// mfaCall records a use-case call and hands fn the caller's factors under the lock.
func (f *fakeAccounts) mfaCall(name string, p ports.Principal, fn func(ff *fakeFactors) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call(name); err != nil {
		return err
	}
	return fn(f.factorsOf(p.AccountID))
}

// replaceSession ends the principal's session and opens one at the stage that follows. The caller holds f.mu.
func (f *fakeAccounts) replaceSession(p ports.Principal) ports.LoginResult {
	delete(f.sessions, strings.TrimPrefix(p.SessionID, "sid:"))
	p.Stage, p.SessionID = ports.StageFull, ""
	return f.newSession(p)
}

func factorFailed() error {
	return ports.NewError(ports.ErrUnauthenticated, "mfa_failed", "The second factor could not be verified.", "2要素目の認証に失敗しました。")
}

func noCeremony() error {
	return ports.NewError(ports.ErrConflict, "no_pending_ceremony", "There is no pending registration or login to finish; start again.",
		"進行中の登録・認証がありません。最初からやり直してください。")
}

func lockedOut() error {
	e := ports.NewError(ports.ErrLocked, "account_locked", "Too many failed attempts: the account is locked for 30 minutes.",
		"失敗が続いたため、アカウントを30分間ロックしました。")
	e.RetryAfter = lockedRetry
	return e
}

func checkCredential(response []byte) error {
	if !bytes.Contains(response, []byte(`"type":"public-key"`)) {
		return ports.NewError(ports.ErrInvalid, "webauthn_failed", "The security key response could not be verified.",
			"セキュリティキーの応答を検証できませんでした。")
	}
	return nil
}

// secondFactor is one attempt of the login step: ok tells whether the factor matched.
func (f *fakeAccounts) secondFactor(name string, p ports.Principal, ok func(ff *fakeFactors) (bool, error)) (ports.LoginResult, error) {
	var res ports.LoginResult
	err := f.mfaCall(name, p, func(ff *fakeFactors) error {
		matched, err := ok(ff)
		if err != nil {
			return err
		}
		if !matched {
			return factorFailed()
		}
		res = f.replaceSession(p)
		return nil
	})
	return res, err
}

func (f *fakeAccounts) VerifyTOTP(_ context.Context, p ports.Principal, code string) (ports.LoginResult, error) {
	return f.secondFactor("VerifyTOTP", p, func(ff *fakeFactors) (bool, error) {
		if code == lockingTOTP {
			return false, lockedOut()
		}
		return ff.totp && code == goodTOTP, nil
	})
}

func (f *fakeAccounts) UseRecoveryCode(_ context.Context, p ports.Principal, code string) (ports.LoginResult, error) {
	res, err := f.secondFactor("UseRecoveryCode", p, func(ff *fakeFactors) (bool, error) {
		if ff.recoveryLeft == 0 || code != goodRecovery {
			return false, nil
		}
		ff.recoveryLeft--
		return true, nil
	})
	if err == nil {
		res.Notice = ports.NoticeRecoveryCodeUsed
	}
	return res, err
}

func (f *fakeAccounts) BeginWebAuthnLogin(_ context.Context, p ports.Principal) ([]byte, error) {
	err := f.mfaCall("BeginWebAuthnLogin", p, func(ff *fakeFactors) error {
		if len(ff.keys) == 0 {
			return ports.NewError(ports.ErrConflict, "no_security_key", "No security key is registered.", "セキュリティキーが登録されていません。")
		}
		ff.loginPending = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return []byte(fakeLoginOptions), nil
}

func (f *fakeAccounts) FinishWebAuthnLogin(_ context.Context, p ports.Principal, response []byte) (ports.LoginResult, error) {
	return f.secondFactor("FinishWebAuthnLogin", p, func(ff *fakeFactors) (bool, error) {
		f.lastBody = slices.Clone(response)
		if !ff.loginPending {
			return false, noCeremony()
		}
		ff.loginPending = false
		return checkCredential(response) == nil, nil
	})
}

func (f *fakeAccounts) MFAStatus(_ context.Context, p ports.Principal) (ports.MFAStatus, error) {
	var st ports.MFAStatus
	err := f.mfaCall("MFAStatus", p, func(ff *fakeFactors) error {
		st = ports.MFAStatus{Required: f.mfaRequired || p.Kind == ports.KindOperator, TOTP: ff.totp,
			WebAuthn: slices.Clone(ff.keys), RecoveryCodesLeft: ff.recoveryLeft}
		return nil
	})
	return st, err
}

func (f *fakeAccounts) BeginTOTP(_ context.Context, p ports.Principal, currentPassword string) (ports.TOTPKey, error) {
	err := f.mfaCall("BeginTOTP", p, func(ff *fakeFactors) error {
		switch {
		case currentPassword != goodPassword:
			return errWrongPassword
		case ff.totp:
			return ports.NewError(ports.ErrConflict, "totp_exists", "An authenticator app is already registered; remove it first.",
				"認証アプリは登録済みです。先に削除してください。")
		}
		ff.totpPending = true
		return nil
	})
	if err != nil {
		return ports.TOTPKey{}, err
	}
	return ports.TOTPKey{Secret: fakeSecret, URL: fakeOTPAuth}, nil
}

// enrolled adds up a new factor: recovery codes on the first, every session ended and a fresh one opened.
// The caller holds f.mu.
func (f *fakeAccounts) enrolled(p ports.Principal, ff *fakeFactors) ports.MFAEnrolled {
	var out ports.MFAEnrolled
	if ff.recoveryLeft == 0 {
		out.RecoveryCodes, ff.recoveryLeft = slices.Clone(fakeRecoveryCodes), len(fakeRecoveryCodes)
	}
	f.endSessions(p.AccountID)
	out.Session = f.replaceSession(p)
	return out
}

func (f *fakeAccounts) ConfirmTOTP(_ context.Context, p ports.Principal, code string) (ports.MFAEnrolled, error) {
	var out ports.MFAEnrolled
	err := f.mfaCall("ConfirmTOTP", p, func(ff *fakeFactors) error {
		if !ff.totpPending {
			return noCeremony()
		}
		if code != goodTOTP {
			return ports.Invalid("totp_invalid", "The code is not valid; check the app's clock and try the current code.",
				"確認コードが正しくありません。端末の時刻を確認し、表示中のコードを入力してください。",
				ports.FieldError{Field: "code", Code: "invalid", MessageEN: "is not valid", MessageJA: "正しくありません"})
		}
		ff.totp, ff.totpPending = true, false
		out = f.enrolled(p, ff)
		return nil
	})
	return out, err
}

func (f *fakeAccounts) BeginWebAuthnRegistration(_ context.Context, p ports.Principal, currentPassword, name string) ([]byte, error) {
	err := f.mfaCall("BeginWebAuthnRegistration", p, func(ff *fakeFactors) error {
		f.lastKeyName = name
		switch {
		case currentPassword != goodPassword:
			return errWrongPassword
		case len([]rune(name)) > 50:
			return ports.Invalid("invalid_request", "Some fields are invalid.", "入力内容に誤りがあります。",
				ports.FieldError{Field: "name", Code: "length", MessageEN: "must be at most 50 characters", MessageJA: "50文字以内で入力してください"})
		}
		ff.keyPending, ff.keyName = true, name
		return nil
	})
	if err != nil {
		return nil, err
	}
	return []byte(fakeRegistrationOptions), nil
}

func (f *fakeAccounts) FinishWebAuthnRegistration(_ context.Context, p ports.Principal, response []byte) (ports.MFAEnrolled, error) {
	var out ports.MFAEnrolled
	err := f.mfaCall("FinishWebAuthnRegistration", p, func(ff *fakeFactors) error {
		f.lastBody = slices.Clone(response)
		if !ff.keyPending {
			return noCeremony()
		}
		ff.keyPending = false
		if err := checkCredential(response); err != nil {
			return err
		}
		f.seq++
		ff.keys = append(ff.keys, ports.WebAuthnCredentialView{ID: fmt.Sprintf("key-%d", f.seq), Name: ff.keyName, CreatedAt: epoch})
		out = f.enrolled(p, ff)
		return nil
	})
	return out, err
}

// removeFactor checks the password and keeps the last factor of an account that must have one.
func (f *fakeAccounts) removeFactor(name string, p ports.Principal, currentPassword string, remove func(ff *fakeFactors) bool) error {
	return f.mfaCall(name, p, func(ff *fakeFactors) error {
		if currentPassword != goodPassword {
			return errWrongPassword
		}
		if f.mfaRequired && ff.count() <= 1 {
			return ports.NewError(ports.ErrConflict, "last_factor_required",
				"Second-factor authentication is required: register another authenticator before removing this one.",
				"2要素認証が必須のため、別の認証器を登録してから削除してください。")
		}
		if !remove(ff) {
			return ports.NewError(ports.ErrNotFound, "not_found", "The authenticator was not found.", "認証器が見つかりません。")
		}
		return nil
	})
}

func (f *fakeAccounts) RemoveTOTP(_ context.Context, p ports.Principal, currentPassword string) error {
	return f.removeFactor("RemoveTOTP", p, currentPassword, func(ff *fakeFactors) bool {
		had := ff.totp
		ff.totp = false
		return had
	})
}

func (f *fakeAccounts) RemoveWebAuthn(_ context.Context, p ports.Principal, id, currentPassword string) error {
	return f.removeFactor("RemoveWebAuthn", p, currentPassword, func(ff *fakeFactors) bool {
		n := len(ff.keys)
		ff.keys = slices.DeleteFunc(ff.keys, func(k ports.WebAuthnCredentialView) bool { return k.ID == id })
		return len(ff.keys) < n
	})
}

func (f *fakeAccounts) SetTenantMFARequired(_ context.Context, p ports.Principal, required bool) (ports.TenantView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("SetTenantMFARequired"); err != nil {
		return ports.TenantView{}, err
	}
	if !p.HasRole(ports.RoleAdmin) {
		return ports.TenantView{}, ports.ErrForbidden
	}
	f.mfaRequired = required
	return f.tenant(), nil
}

// tenantMFARequired reads the policy for assertions.
func (f *fakeAccounts) tenantMFARequired() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mfaRequired
}

// lastResponse is the last WebAuthn response body the fake was given.
func (f *fakeAccounts) lastResponse() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.lastBody)
}

var _ ports.MFA = (*fakeAccounts)(nil)

package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/roumu/roumu/ports"
)

// Login implements ports.Accounts.
func (s *Service) Login(ctx context.Context, cmd ports.LoginCommand) (ports.LoginResult, error) {
	return s.passwordLogin(ctx, ports.KindMember, NormalizeTenantCode(cmd.Tenant), cmd)
}

// OperatorLogin implements ports.Accounts: operators log in under the same password and lockout policies.
func (s *Service) OperatorLogin(ctx context.Context, cmd ports.LoginCommand) (ports.LoginResult, error) {
	return s.passwordLogin(ctx, ports.KindOperator, "", cmd)
}

func requireLoginFields(kind, tenantCode string, cmd ports.LoginCommand) error {
	var fields []ports.FieldError
	required := func(field, value string) {
		if value == "" {
			fields = append(fields, ports.FieldError{Field: field, Code: "required",
				MessageEN: "is required", MessageJA: "入力してください"})
		}
	}
	if kind == ports.KindMember {
		required("tenant", tenantCode)
	}
	required("login", cmd.Login)
	required("password", cmd.Password)
	if fields == nil {
		return nil
	}
	return ports.Invalid("invalid_request", "Some fields are missing.", "未入力の項目があります。", fields...)
}

func (s *Service) passwordLogin(ctx context.Context, kind, tenantCode string, cmd ports.LoginCommand) (ports.LoginResult, error) {
	if err := requireLoginFields(kind, tenantCode, cmd); err != nil {
		return ports.LoginResult{}, err
	}
	display, loginKey := NormalizeLogin(cmd.Login)
	key := throttleKey(kind, tenantCode, loginKey)
	now := s.Clock.Now()
	audit := ports.AuditEvent{ActorKind: kind, Action: "auth.login", Target: "login:" + display,
		IP: cmd.Source.IP, UserAgent: cmd.Source.UserAgent}
	if kind == ports.KindMember {
		audit.Detail = map[string]string{"tenant": tenantCode}
	}

	var tenant ports.TenantRecord
	tenantKnown := kind == ports.KindOperator
	var err error
	if kind == ports.KindMember {
		if tenant, tenantKnown, err = s.loginTenant(ctx, tenantCode); err != nil {
			return ports.LoginResult{}, err
		}
	}
	// The IP restriction comes before anything about the account: from a refused address no password is
	// checked, no failure counted (so outsiders cannot lock members out) and no lock state shown.
	if refused := CheckSourceIP(tenant, cmd.Source.IP); tenantKnown && refused != nil {
		audit.TenantID = tenant.ID
		return ports.LoginResult{}, s.refuse(ctx, withReason(audit, "ip_not_allowed"), refused)
	}

	state, err := s.Throttle.Throttle(ctx, key)
	if err != nil {
		return ports.LoginResult{}, err
	}
	if retry := s.lockout.RetryAfter(state, now); retry > 0 {
		return ports.LoginResult{}, s.refuse(ctx, withReason(audit, "locked"), lockedError(retry))
	}

	var acct ports.AccountRecord
	found := false
	if tenantKnown {
		if acct, found, err = s.lookup(ctx, kind, tenant.ID, loginKey); err != nil {
			return ports.LoginResult{}, err
		}
	}
	password := normalizePassword(cmd.Password)
	match := false
	if len(password) <= passwordMaxBytes {
		hash := s.dummyHash
		if found {
			hash = acct.PasswordHash
		}
		var rehash bool
		match, rehash, err = s.Hasher.Verify(ctx, hash, password)
		if err != nil {
			return ports.LoginResult{}, err
		}
		if found && match && rehash {
			// The configured cost has risen since this hash was made: upgrade it now that we hold the password.
			if acct, err = s.setPassword(ctx, acct, password, acct.MustChangePassword); err != nil {
				return ports.LoginResult{}, err
			}
		}
	}
	if !found || !match {
		if found {
			audit.TenantID, audit.ActorID = acct.TenantID, acct.ID
		}
		retry, err := s.countFailure(ctx, key, audit)
		if err != nil {
			return ports.LoginResult{}, err
		}
		if retry > 0 {
			return ports.LoginResult{}, lockedError(retry)
		}
		return ports.LoginResult{}, invalidCredentials()
	}

	audit.TenantID, audit.ActorID, audit.Target = acct.TenantID, acct.ID, "account:"+acct.ID
	if acct.Status != ports.AccountActive || (kind == ports.KindMember && tenant.Status != ports.TenantActive) {
		err := ports.NewError(ports.ErrForbidden, "account_disabled",
			"This account or company is disabled. Please contact your administrator.",
			"このアカウントまたは企業は利用停止中です。管理者にお問い合わせください。")
		return ports.LoginResult{}, s.refuse(ctx, withReason(audit, "disabled"), err)
	}
	if err := s.Throttle.ResetThrottle(ctx, key); err != nil {
		return ports.LoginResult{}, err
	}
	if acct, err = s.Accounts.UpdateAccount(ctx, acct.TenantID, acct.ID, func(a *ports.AccountRecord) error {
		a.LastLoginAt = now
		return nil
	}); err != nil {
		return ports.LoginResult{}, err
	}
	stage, err := s.stageAfterPassword(ctx, acct, tenant)
	if err != nil {
		return ports.LoginResult{}, err
	}
	res, err := s.openSession(ctx, acct, stage, cmd.Source)
	if err != nil {
		return ports.LoginResult{}, err
	}
	audit.Detail = map[string]string{"stage": stage}
	return res, s.record(ctx, audit)
}

// countFailure counts a failed attempt for key, locks the identifier when the policy says so, records the
// failure, and returns how long the identifier is now locked (zero when it is not).
func (s *Service) countFailure(ctx context.Context, key string, audit ports.AuditEvent) (time.Duration, error) {
	now := s.Clock.Now()
	state, err := s.Throttle.AddFailure(ctx, key, now)
	if err != nil {
		return 0, err
	}
	audit.Outcome = ports.OutcomeFailure
	audit.Detail = mergeDetail(audit.Detail, map[string]string{"failures": fmt.Sprint(state.Failures)})
	if s.lockout.ShouldLock(state, now) {
		if state, err = s.Throttle.LockUntil(ctx, key, now.Add(s.lockout.Duration), now); err != nil {
			return 0, err
		}
		audit.Detail["locked_until"] = state.LockedUntil.Format(time.RFC3339)
	}
	return s.lockout.RetryAfter(state, now), s.record(ctx, audit)
}

// refuse records a refused attempt and returns the refusal, unless the audit log failed.
func (s *Service) refuse(ctx context.Context, audit ports.AuditEvent, refusal error) error {
	audit.Outcome = ports.OutcomeDenied
	if err := s.record(ctx, audit); err != nil {
		return err
	}
	return refusal
}

// loginTenant resolves the tenant code typed at login; known is false for an unknown or deleted tenant,
// which log-ins cannot tell apart.
func (s *Service) loginTenant(ctx context.Context, code string) (tenant ports.TenantRecord, known bool, err error) {
	tenant, err = s.Tenants.TenantByCode(ctx, code)
	if errors.Is(err, ports.ErrNotFound) {
		return tenant, false, nil
	}
	return tenant, err == nil && tenant.Status != ports.TenantDeleted, err
}

// lookup finds the account of kind behind a login key in a tenant ("" for operators); found is false when
// there is none.
func (s *Service) lookup(ctx context.Context, kind, tenantID, loginKey string) (acct ports.AccountRecord, found bool, err error) {
	acct, err = s.Accounts.AccountByLogin(ctx, tenantID, loginKey)
	if errors.Is(err, ports.ErrNotFound) {
		return acct, false, nil
	}
	if err != nil {
		return acct, false, err
	}
	return acct, acct.Kind == kind, nil
}

// hasFactor reports whether the account has a confirmed second factor.
func (s *Service) hasFactor(ctx context.Context, acct ports.AccountRecord) (bool, error) {
	totp, err := s.MFA.TOTPByAccount(ctx, acct.TenantID, acct.ID)
	switch {
	case err == nil && totp.Confirmed:
		return true, nil
	case err != nil && !errors.Is(err, ports.ErrNotFound):
		return false, err
	}
	creds, err := s.MFA.WebAuthnCredentials(ctx, acct.TenantID, acct.ID)
	return len(creds) > 0, err
}

// mfaRequired tells whether the account must have a second factor: operators always, members when their
// tenant requires it.
func mfaRequired(acct ports.AccountRecord, tenant ports.TenantRecord) bool {
	return acct.Kind == ports.KindOperator || tenant.MFARequired
}

// stageAfterPassword decides what a correct password opens: the second-factor step when the account has a
// factor, else what stageAfterFactors says.
func (s *Service) stageAfterPassword(ctx context.Context, acct ports.AccountRecord, tenant ports.TenantRecord) (string, error) {
	has, err := s.hasFactor(ctx, acct)
	if err != nil || has {
		return ports.StageMFA, err
	}
	return stageAfterFactors(acct, mfaRequired(acct, tenant), false), nil
}

// stageAfterFactors orders the remaining login steps: first the password change an administrator asked for,
// then enrolment of a second factor where one is required, then the full session.
func stageAfterFactors(acct ports.AccountRecord, required, hasFactor bool) string {
	switch {
	case acct.MustChangePassword:
		return ports.StagePasswordChange
	case required && !hasFactor:
		return ports.StageMFAEnrol
	default:
		return ports.StageFull
	}
}

// openSession issues a new session token for the account at the given stage.
func (s *Service) openSession(ctx context.Context, acct ports.AccountRecord, stage string, src ports.Source) (ports.LoginResult, error) {
	token, hash := newSessionToken()
	now := s.Clock.Now()
	rec := ports.SessionRecord{TokenHash: hash, AccountID: acct.ID, TenantID: acct.TenantID, Stage: stage,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.sessions.lifetime(stage)),
		IP: src.IP, UserAgent: src.UserAgent}
	if err := s.Sessions.CreateSession(ctx, rec); err != nil {
		return ports.LoginResult{}, err
	}
	return ports.LoginResult{Token: token, Stage: stage, ExpiresAt: rec.ExpiresAt}, nil
}

func unauthenticated(code string) error {
	return ports.NewError(ports.ErrUnauthenticated, code,
		"Please log in again.", "再度ログインしてください。")
}

// maxTokenLength bounds tokens before hashing; ours are 43 characters.
const maxTokenLength = 128

// Authenticate implements ports.Accounts.
func (s *Service) Authenticate(ctx context.Context, token string, src ports.Source) (ports.Principal, error) {
	if token == "" || len(token) > maxTokenLength {
		return ports.Principal{}, unauthenticated("unauthenticated")
	}
	if strings.HasPrefix(token, ports.APITokenPrefix) {
		return s.authenticateAPIToken(ctx, token, src)
	}
	hash := hashToken(token)
	sess, err := s.Sessions.SessionByHash(ctx, hash)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.Principal{}, unauthenticated("unauthenticated")
	}
	if err != nil {
		return ports.Principal{}, err
	}
	now := s.Clock.Now()
	if s.sessions.Expired(sess, now) {
		if err := s.Sessions.DeleteSession(ctx, hash); err != nil {
			return ports.Principal{}, err
		}
		return ports.Principal{}, unauthenticated("session_expired")
	}
	acct, err := s.Accounts.AccountByID(ctx, sess.TenantID, sess.AccountID)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.Principal{}, unauthenticated("unauthenticated")
	}
	if err != nil {
		return ports.Principal{}, err
	}
	var tenant ports.TenantRecord
	if acct.Kind == ports.KindMember {
		if tenant, err = s.Tenants.TenantByID(ctx, acct.TenantID); err != nil {
			return ports.Principal{}, err
		}
	}
	if acct.Status != ports.AccountActive || (acct.Kind == ports.KindMember && tenant.Status != ports.TenantActive) {
		return ports.Principal{}, unauthenticated("account_disabled")
	}
	// The tenant's allow-list as it is now, against the address of this request: a change applies at once
	// to sessions already open. Operators belong to no tenant, so no tenant's list restricts them.
	if err := CheckSourceIP(tenant, src.IP); acct.Kind == ports.KindMember && err != nil {
		e := ports.AuditEvent{TenantID: acct.TenantID, ActorID: acct.ID, ActorKind: acct.Kind, Action: "auth.session",
			Target: "account:" + acct.ID, IP: src.IP, UserAgent: src.UserAgent,
			Detail: map[string]string{"reason": "ip_not_allowed"}}
		return ports.Principal{}, s.refuse(ctx, e, err)
	}
	if now.Sub(sess.LastSeenAt) >= touchInterval {
		if err := s.Sessions.TouchSession(ctx, hash, now); err != nil {
			return ports.Principal{}, err
		}
	}
	return ports.Principal{AccountID: acct.ID, TenantID: acct.TenantID, TenantCode: tenant.Code, Kind: acct.Kind,
		Login: acct.Login, Name: acct.Name, Roles: acct.Roles, Stage: sess.Stage, SessionID: hash, Source: src}, nil
}

// Logout implements ports.Accounts. An unknown or expired token is not an error: the session is gone either way.
func (s *Service) Logout(ctx context.Context, token string, src ports.Source) error {
	if token == "" || len(token) > maxTokenLength {
		return nil
	}
	hash := hashToken(token)
	sess, err := s.Sessions.SessionByHash(ctx, hash)
	if errors.Is(err, ports.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.Sessions.DeleteSession(ctx, hash); err != nil {
		return err
	}
	return s.record(ctx, ports.AuditEvent{TenantID: sess.TenantID, ActorID: sess.AccountID, Action: "auth.logout",
		Target: "account:" + sess.AccountID, IP: src.IP, UserAgent: src.UserAgent})
}

// ChangePassword implements ports.Accounts.
func (s *Service) ChangePassword(ctx context.Context, p ports.Principal, current, next string) (ports.LoginResult, error) {
	audit := event(p, "auth.password_change", "account:"+p.AccountID)
	c, err := s.reauthenticate(ctx, p, current, audit, ports.StageFull, ports.StagePasswordChange)
	if err != nil {
		return ports.LoginResult{}, err
	}
	acct, tenant := c.acct, c.tenant
	current, next = normalizePassword(current), normalizePassword(next)
	fields := CheckPassword("new_password", next, PasswordContext{Login: acct.Login, Name: acct.Name,
		TenantCode: tenant.Code, TenantName: tenant.Name})
	if next == current {
		fields = append(fields, ports.FieldError{Field: "new_password", Code: "unchanged",
			MessageEN: "must differ from the current password", MessageJA: "現在のパスワードと異なるものにしてください"})
	}
	if len(fields) > 0 {
		return ports.LoginResult{}, passwordPolicyError(fields)
	}
	if acct, err = s.setPassword(ctx, acct, next, false); err != nil {
		return ports.LoginResult{}, err
	}
	if _, err := s.Sessions.DeleteAccountSessions(ctx, acct.ID, ""); err != nil {
		return ports.LoginResult{}, err
	}
	stage := ports.StageFull
	if p.Stage == ports.StagePasswordChange {
		has, err := s.hasFactor(ctx, acct)
		if err != nil {
			return ports.LoginResult{}, err
		}
		stage = stageAfterFactors(acct, mfaRequired(acct, tenant), has)
	}
	res, err := s.openSession(ctx, acct, stage, p.Source)
	if err != nil {
		return ports.LoginResult{}, err
	}
	return res, s.record(ctx, audit)
}

func passwordPolicyError(fields []ports.FieldError) error {
	return ports.Invalid("password_policy", "The password does not meet the password policy.",
		"パスワードがパスワードポリシーを満たしていません。", fields...)
}

// setPassword stores a new hash of password (already normalised).
func (s *Service) setPassword(ctx context.Context, acct ports.AccountRecord, password string, mustChange bool) (ports.AccountRecord, error) {
	hash, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return acct, err
	}
	now := s.Clock.Now()
	return s.Accounts.UpdateAccount(ctx, acct.TenantID, acct.ID, func(a *ports.AccountRecord) error {
		a.PasswordHash, a.MustChangePassword, a.PasswordChangedAt, a.UpdatedAt = hash, mustChange, now, now
		return nil
	})
}

func withReason(e ports.AuditEvent, reason string) ports.AuditEvent {
	e.Detail = mergeDetail(e.Detail, map[string]string{"reason": reason})
	return e
}

func mergeDetail(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// caller is the account behind a principal, with its tenant (zero for operators) and lockout key.
type caller struct {
	acct   ports.AccountRecord
	tenant ports.TenantRecord
	key    string
}

// loadCaller loads the principal's account when its session stage is one of stages. API tokens are refused:
// what needs the account itself (its password, its second factors) belongs to the person, not to an
// integration.
func (s *Service) loadCaller(ctx context.Context, p ports.Principal, stages ...string) (caller, error) {
	if p.IsAPIToken() || !slices.Contains(stages, p.Stage) {
		return caller{}, forbidden()
	}
	var c caller
	var err error
	if c.acct, err = s.Accounts.AccountByID(ctx, p.TenantID, p.AccountID); err != nil {
		return c, err
	}
	if c.acct.Kind == ports.KindMember {
		if c.tenant, err = s.Tenants.TenantByID(ctx, c.acct.TenantID); err != nil {
			return c, err
		}
	}
	c.key = throttleKey(c.acct.Kind, c.tenant.Code, c.acct.LoginKey)
	return c, nil
}

// checkNotLocked refuses everything while the caller's login identifier is locked.
func (s *Service) checkNotLocked(ctx context.Context, key string) error {
	state, err := s.Throttle.Throttle(ctx, key)
	if err != nil {
		return err
	}
	if retry := s.lockout.RetryAfter(state, s.Clock.Now()); retry > 0 {
		return lockedError(retry)
	}
	return nil
}

// reauthenticate checks the caller's current password before a sensitive change. A wrong password counts
// toward the lockout like a failed login, so re-authentication cannot be used to guess passwords.
func (s *Service) reauthenticate(ctx context.Context, p ports.Principal, password string, audit ports.AuditEvent, stages ...string) (caller, error) {
	c, err := s.loadCaller(ctx, p, stages...)
	if err != nil {
		return c, err
	}
	if err := s.checkNotLocked(ctx, c.key); err != nil {
		return c, err
	}
	password = normalizePassword(password)
	match := false
	if len(password) <= passwordMaxBytes {
		if match, _, err = s.Hasher.Verify(ctx, c.acct.PasswordHash, password); err != nil {
			return c, err
		}
	}
	if match {
		return c, s.Throttle.ResetThrottle(ctx, c.key)
	}
	retry, err := s.countFailure(ctx, c.key, audit)
	switch {
	case err != nil:
		return c, err
	case retry > 0:
		return c, lockedError(retry)
	}
	return c, ports.Invalid("current_password_incorrect", "The current password is incorrect.",
		"現在のパスワードが正しくありません。", ports.FieldError{Field: "current_password", Code: "incorrect",
			MessageEN: "is incorrect", MessageJA: "正しくありません"})
}

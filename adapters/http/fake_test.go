package web_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/roumu/roumu/ports"
)

// The fake accounts module: just enough behaviour to drive every route, and a record of every call so the
// tests can tell that a refused request reached no use case.
const (
	goodPassword   = "Correct-Horse-9"
	tenantID       = "t1"
	tenantCode     = "acme"
	tenantName     = "株式会社アクメ"
	generatedOTP   = "Gen-Pass-1234!"
	tokAdmin       = "tok-admin"
	tokEmployee    = "tok-employee"
	tokPwChange    = "tok-pwchange"
	tokMFA         = "tok-mfa"
	tokEnrol       = "tok-enrol"
	tokOperator    = "tok-operator"
	tokOperatorMFA = "tok-operator-mfa"
	tokPanic       = "tok-panic"
	lockedRetry    = 90*time.Second + 200*time.Millisecond
	lockedRetryStr = "91"
)

var epoch = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

type fakeAccounts struct {
	mu         sync.Mutex
	sessions   map[string]ports.Principal
	accounts   map[string]ports.AccountView
	calls      []string
	fail       error // returned once by the next use-case call (not Authenticate)
	lastSource ports.Source
	seq        int

	// second factors (fake_mfa_test.go)
	factors     map[string]*fakeFactors
	mfaRequired bool
	lastBody    []byte // the last WebAuthn response the fake was given
	lastKeyName string
}

func newFake() *fakeAccounts {
	f := &fakeAccounts{sessions: map[string]ports.Principal{}, accounts: map[string]ports.AccountView{},
		factors: newFakeFactors(), mfaRequired: true}
	add := func(id, tenant, kind, login, name string, roles ...string) {
		f.accounts[id] = ports.AccountView{ID: id, TenantID: tenant, Kind: kind, Login: login, Name: name,
			Roles: roles, Status: ports.AccountActive, CreatedAt: epoch, UpdatedAt: epoch}
	}
	add("acc-admin", tenantID, ports.KindMember, "admin", "管理 太郎", ports.RoleAdmin)
	add("acc-hanako", tenantID, ports.KindMember, "hanako", "山田 花子", ports.RoleEmployee)
	add("acc-newbie", tenantID, ports.KindMember, "newbie", "新人 一郎", ports.RoleEmployee)
	add("acc-mfa", tenantID, ports.KindMember, "mfa-user", "二要素 次郎", ports.RoleHR)
	add("acc-enrol", tenantID, ports.KindMember, "enrol-user", "登録 三郎", ports.RoleHR)
	add("acc-panic", tenantID, ports.KindMember, "panic", "パニック", ports.RoleEmployee)
	add("acc-other", "t2", ports.KindMember, "admin", "Other tenant", ports.RoleAdmin)
	add("op-root", "", ports.KindOperator, "root", "運用 担当")
	h := f.accounts["acc-hanako"]
	h.Locked, h.LockedUntil = true, epoch.Add(30*time.Minute)
	f.accounts["acc-hanako"] = h

	f.sessions[tokAdmin] = f.principal("acc-admin", ports.StageFull)
	f.sessions[tokEmployee] = f.principal("acc-hanako", ports.StageFull)
	f.sessions[tokPwChange] = f.principal("acc-newbie", ports.StagePasswordChange)
	f.sessions[tokMFA] = f.principal("acc-mfa", ports.StageMFA)
	f.sessions[tokEnrol] = f.principal("acc-enrol", ports.StageMFAEnrol)
	f.sessions[tokOperator] = f.principal("op-root", ports.StageFull)
	f.sessions[tokOperatorMFA] = f.principal("op-root", ports.StageMFA)
	f.sessions[tokPanic] = f.principal("acc-panic", ports.StageFull)
	return f
}

func (f *fakeAccounts) principal(id, stage string) ports.Principal {
	a := f.accounts[id]
	p := ports.Principal{AccountID: a.ID, TenantID: a.TenantID, Kind: a.Kind, Login: a.Login, Name: a.Name,
		Roles: a.Roles, Stage: stage}
	if a.TenantID != "" {
		p.TenantCode = tenantCode
	}
	return p
}

// call records a use-case call and returns the pending failure, if any. The caller holds f.mu.
func (f *fakeAccounts) call(name string) error {
	f.calls = append(f.calls, name)
	err := f.fail
	f.fail = nil
	return err
}

// Calls returns the names of the port methods called so far.
func (f *fakeAccounts) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeAccounts) failNext(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

func (f *fakeAccounts) account(id string) ports.AccountView {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accounts[id]
}

func (f *fakeAccounts) source() ports.Source {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastSource
}

func (f *fakeAccounts) newSession(p ports.Principal) ports.LoginResult {
	f.seq++
	token := fmt.Sprintf("tok-new-%d", f.seq)
	f.sessions[token] = p
	return ports.LoginResult{Token: token, Stage: p.Stage, ExpiresAt: epoch.Add(8 * time.Hour)}
}

var errInvalidCredentials = ports.NewError(ports.ErrUnauthenticated, "invalid_credentials",
	"The company code, login ID or password is incorrect.", "企業コード、ログインID、またはパスワードが正しくありません。")

func (f *fakeAccounts) login(kind string, cmd ports.LoginCommand) (ports.LoginResult, error) {
	var missing []ports.FieldError
	for field, v := range map[string]string{"tenant": cmd.Tenant, "login": cmd.Login, "password": cmd.Password} {
		if v == "" && (field != "tenant" || kind == ports.KindMember) {
			missing = append(missing, ports.FieldError{Field: field, Code: "required", MessageEN: "is required", MessageJA: "入力してください"})
		}
	}
	if missing != nil {
		slices.SortFunc(missing, func(a, b ports.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return ports.LoginResult{}, ports.Invalid("invalid_request", "Some fields are missing.", "未入力の項目があります。", missing...)
	}
	if cmd.Login == "locked" {
		e := ports.NewError(ports.ErrLocked, "account_locked", "The account is locked.", "アカウントはロックされています。")
		e.RetryAfter = lockedRetry
		return ports.LoginResult{}, e
	}
	stages := map[string]string{"newbie": ports.StagePasswordChange, "mfa-user": ports.StageMFA, "enrol-user": ports.StageMFAEnrol}
	for id, a := range f.accounts {
		if a.Kind != kind || a.Login != cmd.Login || cmd.Password != goodPassword {
			continue
		}
		if kind == ports.KindMember && (a.TenantID != tenantID || cmd.Tenant != tenantCode) {
			continue
		}
		stage := stages[a.Login]
		if stage == "" {
			stage = ports.StageFull
		}
		return f.newSession(f.principal(id, stage)), nil
	}
	return ports.LoginResult{}, errInvalidCredentials
}

func (f *fakeAccounts) Login(_ context.Context, cmd ports.LoginCommand) (ports.LoginResult, error) {
	return f.recordLogin("Login", ports.KindMember, cmd)
}

func (f *fakeAccounts) OperatorLogin(_ context.Context, cmd ports.LoginCommand) (ports.LoginResult, error) {
	return f.recordLogin("OperatorLogin", ports.KindOperator, cmd)
}

func (f *fakeAccounts) recordLogin(name, kind string, cmd ports.LoginCommand) (ports.LoginResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastSource = cmd.Source
	if err := f.call(name); err != nil {
		return ports.LoginResult{}, err
	}
	return f.login(kind, cmd)
}

func (f *fakeAccounts) Authenticate(_ context.Context, token string, src ports.Source) (ports.Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "Authenticate")
	f.lastSource = src
	p, ok := f.sessions[token]
	if !ok {
		return ports.Principal{}, ports.NewError(ports.ErrUnauthenticated, "session_expired",
			"The session has expired.", "セッションの有効期限が切れました。")
	}
	p.Source = src
	p.SessionID = sessionID(token)
	return p, nil
}

func (f *fakeAccounts) Logout(_ context.Context, token string, _ ports.Source) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Logout"); err != nil {
		return err
	}
	delete(f.sessions, token)
	return nil
}

func (f *fakeAccounts) ChangePassword(_ context.Context, p ports.Principal, current, next string) (ports.LoginResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ChangePassword"); err != nil {
		return ports.LoginResult{}, err
	}
	if current != goodPassword {
		return ports.LoginResult{}, errWrongPassword
	}
	if len(next) < 10 {
		return ports.LoginResult{}, ports.Invalid("password_policy", "The password does not meet the password policy.",
			"パスワードがポリシーを満たしていません。",
			ports.FieldError{Field: "new_password", Code: "too_short", MessageEN: "must be at least 10 characters", MessageJA: "10文字以上にしてください"},
			ports.FieldError{Field: "new_password", Code: "character_classes", MessageEN: "must contain at least 3 of: upper-case letters, lower-case letters, digits, symbols", MessageJA: "英大文字・英小文字・数字・記号のうち3種類以上を含めてください"})
	}
	f.endSessions(p.AccountID)
	p.Stage = ports.StageFull
	return f.newSession(p), nil
}

var errWrongPassword = ports.Invalid("current_password_incorrect", "The current password is incorrect.",
	"現在のパスワードが正しくありません。", ports.FieldError{Field: "current_password", Code: "incorrect",
		MessageEN: "is incorrect", MessageJA: "正しくありません"})

// endSessions ends every session of an account. The caller holds f.mu.
func (f *fakeAccounts) endSessions(accountID string) {
	for tok, s := range f.sessions {
		if s.AccountID == accountID {
			delete(f.sessions, tok)
		}
	}
}

func (f *fakeAccounts) Me(_ context.Context, p ports.Principal) (ports.AccountView, ports.TenantView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Me"); err != nil {
		return ports.AccountView{}, ports.TenantView{}, err
	}
	if p.Login == "panic" {
		panic("fake: secret-panic-detail")
	}
	a := f.accounts[p.AccountID]
	a.MFAEnabled = f.factorsOf(a.ID).count() > 0
	if a.TenantID == "" {
		return a, ports.TenantView{}, nil
	}
	return a, f.tenant(), nil
}

// tenant is the one tenant's view. The caller holds f.mu.
func (f *fakeAccounts) tenant() ports.TenantView {
	return ports.TenantView{ID: tenantID, Code: tenantCode, Name: tenantName, Status: ports.TenantActive, MFARequired: f.mfaRequired}
}

func (f *fakeAccounts) CreateTenant(context.Context, ports.CreateTenantCommand) (ports.TenantView, ports.AccountView, error) {
	return ports.TenantView{}, ports.AccountView{}, ports.ErrForbidden
}

func (f *fakeAccounts) CreateOperator(context.Context, ports.CreateOperatorCommand) (ports.AccountView, error) {
	return ports.AccountView{}, ports.ErrForbidden
}

func (f *fakeAccounts) ListAccounts(_ context.Context, p ports.Principal) ([]ports.AccountView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListAccounts"); err != nil {
		return nil, err
	}
	var list []ports.AccountView
	for _, a := range f.accounts {
		if a.TenantID == p.TenantID {
			list = append(list, a)
		}
	}
	slices.SortFunc(list, func(a, b ports.AccountView) int { return strings.Compare(a.Login, b.Login) })
	return list, nil
}

var errAccountNotFound = ports.NewError(ports.ErrNotFound, "not_found", "The account was not found.", "アカウントが見つかりません。")

// change records the use case name and applies fn to one of the principal's tenant's accounts.
func (f *fakeAccounts) change(name string, p ports.Principal, id string, fn func(*ports.AccountView) error) (ports.AccountView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call(name); err != nil {
		return ports.AccountView{}, err
	}
	a, ok := f.accounts[id]
	if !ok || a.TenantID != p.TenantID {
		return ports.AccountView{}, errAccountNotFound
	}
	if err := fn(&a); err != nil {
		return ports.AccountView{}, err
	}
	f.accounts[id] = a
	return a, nil
}

func (f *fakeAccounts) GetAccount(_ context.Context, p ports.Principal, id string) (ports.AccountView, error) {
	return f.change("GetAccount", p, id, func(*ports.AccountView) error { return nil })
}

func (f *fakeAccounts) CreateAccount(_ context.Context, p ports.Principal, cmd ports.CreateAccountCommand) (ports.AccountView, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateAccount"); err != nil {
		return ports.AccountView{}, "", err
	}
	var fields []ports.FieldError
	if cmd.Login == "" {
		fields = append(fields, ports.FieldError{Field: "login", Code: "required", MessageEN: "is required", MessageJA: "入力してください"})
	}
	if len(cmd.Roles) == 0 {
		fields = append(fields, ports.FieldError{Field: "roles", Code: "required", MessageEN: "choose at least one role", MessageJA: "権限を1つ以上選んでください"})
	}
	if fields != nil {
		return ports.AccountView{}, "", ports.Invalid("invalid_account", "The account is invalid.", "アカウントの内容に誤りがあります。", fields...)
	}
	for _, a := range f.accounts {
		if a.TenantID == p.TenantID && a.Login == cmd.Login {
			return ports.AccountView{}, "", ports.NewError(ports.ErrConflict, "login_taken",
				"The login ID is already in use.", "このログインIDは既に使われています。")
		}
	}
	f.seq++
	a := ports.AccountView{ID: fmt.Sprintf("acc-%d", f.seq), TenantID: p.TenantID, Kind: ports.KindMember,
		Login: cmd.Login, Name: cmd.Name, Roles: cmd.Roles, Status: ports.AccountActive, MustChangePassword: true,
		CreatedAt: epoch, UpdatedAt: epoch}
	f.accounts[a.ID] = a
	initial := cmd.Password
	if initial == "" {
		initial = generatedOTP
	}
	return a, initial, nil
}

func (f *fakeAccounts) UpdateAccount(_ context.Context, p ports.Principal, id string, cmd ports.UpdateAccountCommand) (ports.AccountView, error) {
	return f.change("UpdateAccount", p, id, func(a *ports.AccountView) error {
		if cmd.Roles != nil && len(cmd.Roles) == 0 {
			return ports.Invalid("invalid_account", "The account is invalid.", "アカウントの内容に誤りがあります。",
				ports.FieldError{Field: "roles", Code: "required", MessageEN: "choose at least one role", MessageJA: "権限を1つ以上選んでください"})
		}
		if cmd.Name != nil {
			a.Name = *cmd.Name
		}
		if cmd.Roles != nil {
			a.Roles = cmd.Roles
		}
		return nil
	})
}

func (f *fakeAccounts) UnlockAccount(_ context.Context, p ports.Principal, id string) (ports.AccountView, error) {
	return f.change("UnlockAccount", p, id, func(a *ports.AccountView) error {
		a.Locked, a.LockedUntil = false, time.Time{}
		return nil
	})
}

func (f *fakeAccounts) DisableAccount(_ context.Context, p ports.Principal, id string) (ports.AccountView, error) {
	return f.change("DisableAccount", p, id, func(a *ports.AccountView) error {
		a.Status = ports.AccountDisabled
		return nil
	})
}

var _ ports.Accounts = (*fakeAccounts)(nil)

// The IP restriction and operator use cases are not served by this adapter yet: the fake refuses them.

func (f *fakeAccounts) IPRestriction(context.Context, ports.Principal) (ports.IPRestrictionView, error) {
	return ports.IPRestrictionView{}, ports.ErrForbidden
}

func (f *fakeAccounts) SetAllowedCIDRs(context.Context, ports.Principal, []string) (ports.IPRestrictionView, error) {
	return ports.IPRestrictionView{}, ports.ErrForbidden
}

func (f *fakeAccounts) ListTenants(context.Context, ports.Principal) ([]ports.TenantOverview, error) {
	return nil, ports.ErrForbidden
}

func (f *fakeAccounts) GetTenant(context.Context, ports.Principal, string) (ports.TenantOverview, error) {
	return ports.TenantOverview{}, ports.ErrForbidden
}

func (f *fakeAccounts) OperatorCreateTenant(context.Context, ports.Principal, ports.CreateTenantCommand) (ports.TenantView, ports.AccountView, error) {
	return ports.TenantView{}, ports.AccountView{}, ports.ErrForbidden
}

func (f *fakeAccounts) ListOperators(context.Context, ports.Principal) ([]ports.AccountView, error) {
	return nil, ports.ErrForbidden
}

func (f *fakeAccounts) IssueOperatorPassword(context.Context, ports.Principal, string) (string, error) {
	return "", ports.ErrForbidden
}

package accounts

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

func forbidden() error {
	return ports.NewError(ports.ErrForbidden, "forbidden",
		"You are not allowed to do this.", "この操作を行う権限がありません。")
}

func accountNotFound() error {
	return ports.NewError(ports.ErrNotFound, "not_found", "The account was not found.", "アカウントが見つかりません。")
}

func invalid(fields []ports.FieldError) error {
	return ports.Invalid("validation_failed", "Some fields are invalid.", "入力内容に誤りがあります。", fields...)
}

// requireAdmin lets through only a fully logged-in admin of a tenant.
func requireAdmin(p ports.Principal) error {
	if p.Kind != ports.KindMember || p.TenantID == "" || p.Stage != ports.StageFull || !p.HasRole(ports.RoleAdmin) {
		return forbidden()
	}
	return nil
}

// oneTimeAlphabet leaves out characters that are easily confused when read aloud or copied (0/O, 1/l/I).
const oneTimeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// newOneTimePassword returns a random 16-character password (about 93 bits) that satisfies the policy: four
// groups of four joined by hyphens, with an upper-case letter, a lower-case letter and a digit guaranteed.
func newOneTimePassword() string {
	for {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			panic("accounts: crypto/rand failed: " + err.Error())
		}
		var sb strings.Builder
		for i, c := range b {
			if i > 0 && i%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(oneTimeAlphabet[int(c)%len(oneTimeAlphabet)])
		}
		if p := sb.String(); len(CheckPassword("password", p, PasswordContext{})) == 0 {
			return p
		}
	}
}

// CreateTenant implements ports.Accounts: the tenant and its first admin are created together or not at all.
// The admin's password was typed by the provider, so the admin must choose their own at first login.
func (s *Service) CreateTenant(ctx context.Context, cmd ports.CreateTenantCommand) (ports.TenantView, ports.AccountView, error) {
	return s.createTenant(ctx, ports.AuditEvent{ActorKind: "system", Action: "tenant.create", IP: cmd.Source.IP,
		UserAgent: cmd.Source.UserAgent}, cmd)
}

// createTenant creates the tenant and its first admin, recording audit (its actor) when done.
func (s *Service) createTenant(ctx context.Context, audit ports.AuditEvent, cmd ports.CreateTenantCommand) (ports.TenantView, ports.AccountView, error) {
	code := NormalizeTenantCode(cmd.Code)
	fields := validateTenantCode(code)
	name, errs := normalizeName("name", cmd.Name)
	fields = append(fields, errs...)
	login, loginKey := NormalizeLogin(cmd.AdminLogin)
	fields = append(fields, validateLogin("admin_login", login)...)
	adminName, errs := normalizeName("admin_name", cmd.AdminName)
	fields = append(fields, errs...)
	password := normalizePassword(cmd.AdminPassword)
	fields = append(fields, CheckPassword("admin_password", password,
		PasswordContext{Login: login, Name: adminName, TenantCode: code, TenantName: name})...)
	if len(fields) > 0 {
		return ports.TenantView{}, ports.AccountView{}, invalid(fields)
	}
	hash, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return ports.TenantView{}, ports.AccountView{}, err
	}
	now := s.Clock.Now()
	tenant := ports.TenantRecord{ID: kernel.NewID(), Code: code, Name: name, Status: ports.TenantActive,
		CreatedAt: now, UpdatedAt: now}
	admin := ports.AccountRecord{ID: kernel.NewID(), TenantID: tenant.ID, Kind: ports.KindMember, Login: login,
		LoginKey: loginKey, Name: adminName, Roles: []string{ports.RoleAdmin}, Status: ports.AccountActive,
		PasswordHash: hash, MustChangePassword: true, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Tenants.CreateTenant(ctx, tenant); err != nil {
			if errors.Is(err, ports.ErrConflict) {
				return ports.NewError(ports.ErrConflict, "tenant_code_taken",
					"This company code is already in use.", "この企業コードは既に使われています。")
			}
			return err
		}
		if err := s.Accounts.CreateAccount(ctx, admin); err != nil {
			return err
		}
		audit.TenantID, audit.Target = tenant.ID, "tenant:"+tenant.ID
		audit.Detail = map[string]string{"code": code, "admin": "account:" + admin.ID}
		return s.record(ctx, audit)
	})
	if err != nil {
		return ports.TenantView{}, ports.AccountView{}, err
	}
	return tenantView(tenant), accountView(admin, ports.ThrottleState{}, false, now), nil
}

// CreateOperator implements ports.Accounts. The operator sets their own password, so no change is forced.
func (s *Service) CreateOperator(ctx context.Context, cmd ports.CreateOperatorCommand) (ports.AccountView, error) {
	login, loginKey := NormalizeLogin(cmd.Login)
	fields := validateLogin("login", login)
	name, errs := normalizeName("name", cmd.Name)
	fields = append(fields, errs...)
	password := normalizePassword(cmd.Password)
	fields = append(fields, CheckPassword("password", password, PasswordContext{Login: login, Name: name})...)
	if len(fields) > 0 {
		return ports.AccountView{}, invalid(fields)
	}
	hash, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return ports.AccountView{}, err
	}
	now := s.Clock.Now()
	op := ports.AccountRecord{ID: kernel.NewID(), Kind: ports.KindOperator, Login: login, LoginKey: loginKey,
		Name: name, Status: ports.AccountActive, PasswordHash: hash, PasswordChangedAt: now,
		CreatedAt: now, UpdatedAt: now}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Accounts.CreateAccount(ctx, op); err != nil {
			return loginTaken(err)
		}
		return s.record(ctx, ports.AuditEvent{ActorKind: "system", Action: "operator.create",
			Target: "account:" + op.ID, IP: cmd.Source.IP, UserAgent: cmd.Source.UserAgent})
	})
	if err != nil {
		return ports.AccountView{}, err
	}
	return accountView(op, ports.ThrottleState{}, false, now), nil
}

func loginTaken(err error) error {
	if errors.Is(err, ports.ErrConflict) {
		return ports.NewError(ports.ErrConflict, "login_taken",
			"This login ID is already in use.", "このログインIDは既に使われています。")
	}
	return err
}

// Me implements ports.Accounts.
func (s *Service) Me(ctx context.Context, p ports.Principal) (ports.AccountView, ports.TenantView, error) {
	acct, err := s.Accounts.AccountByID(ctx, p.TenantID, p.AccountID)
	if err != nil {
		return ports.AccountView{}, ports.TenantView{}, err
	}
	view, err := s.view(ctx, acct, "")
	if err != nil || acct.Kind != ports.KindMember {
		return view, ports.TenantView{}, err
	}
	tenant, err := s.Tenants.TenantByID(ctx, acct.TenantID)
	return view, tenantView(tenant), err
}

// view builds the caller-facing view of an account, with its lock and MFA state.
func (s *Service) view(ctx context.Context, acct ports.AccountRecord, tenantCode string) (ports.AccountView, error) {
	if tenantCode == "" && acct.Kind == ports.KindMember {
		t, err := s.Tenants.TenantByID(ctx, acct.TenantID)
		if err != nil {
			return ports.AccountView{}, err
		}
		tenantCode = t.Code
	}
	state, err := s.Throttle.Throttle(ctx, throttleKey(acct.Kind, tenantCode, acct.LoginKey))
	if err != nil {
		return ports.AccountView{}, err
	}
	has, err := s.hasFactor(ctx, acct)
	if err != nil {
		return ports.AccountView{}, err
	}
	return accountView(acct, state, has, s.Clock.Now()), nil
}

// ListAccounts implements ports.Accounts.
func (s *Service) ListAccounts(ctx context.Context, p ports.Principal) ([]ports.AccountView, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	recs, err := s.Accounts.ListAccounts(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	views := make([]ports.AccountView, 0, len(recs))
	for _, r := range recs {
		v, err := s.view(ctx, r, p.TenantCode)
		if err != nil {
			return nil, err
		}
		views = append(views, v)
	}
	return views, nil
}

// GetAccount implements ports.Accounts.
func (s *Service) GetAccount(ctx context.Context, p ports.Principal, id string) (ports.AccountView, error) {
	acct, err := s.memberOf(ctx, p, id)
	if err != nil {
		return ports.AccountView{}, err
	}
	return s.view(ctx, acct, p.TenantCode)
}

// memberOf loads an account of the admin's own tenant; any other is not found.
func (s *Service) memberOf(ctx context.Context, p ports.Principal, id string) (ports.AccountRecord, error) {
	if err := requireAdmin(p); err != nil {
		return ports.AccountRecord{}, err
	}
	acct, err := s.Accounts.AccountByID(ctx, p.TenantID, id)
	if errors.Is(err, ports.ErrNotFound) {
		return acct, accountNotFound()
	}
	return acct, err
}

// CreateAccount implements ports.Accounts. Without a password a one-time password is generated and returned
// once; either way the person must choose their own at first login.
func (s *Service) CreateAccount(ctx context.Context, p ports.Principal, cmd ports.CreateAccountCommand) (ports.AccountView, string, error) {
	if err := requireAdmin(p); err != nil {
		return ports.AccountView{}, "", err
	}
	tenant, err := s.Tenants.TenantByID(ctx, p.TenantID)
	if err != nil {
		return ports.AccountView{}, "", err
	}
	login, loginKey := NormalizeLogin(cmd.Login)
	fields := validateLogin("login", login)
	name, errs := normalizeName("name", cmd.Name)
	fields = append(fields, errs...)
	roles, errs := normalizeRoles(cmd.Roles)
	fields = append(fields, errs...)
	oneTime := ""
	password := normalizePassword(cmd.Password)
	if cmd.Password == "" {
		oneTime = newOneTimePassword()
		password = oneTime
	} else {
		fields = append(fields, CheckPassword("password", password,
			PasswordContext{Login: login, Name: name, TenantCode: tenant.Code, TenantName: tenant.Name})...)
	}
	if len(fields) > 0 {
		return ports.AccountView{}, "", invalid(fields)
	}
	hash, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return ports.AccountView{}, "", err
	}
	now := s.Clock.Now()
	acct := ports.AccountRecord{ID: kernel.NewID(), TenantID: tenant.ID, Kind: ports.KindMember, Login: login,
		LoginKey: loginKey, Name: name, Roles: roles, Status: ports.AccountActive, PasswordHash: hash,
		MustChangePassword: true, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.checkSeats(ctx, tenant.ID); err != nil {
			return err
		}
		if err := s.Accounts.CreateAccount(ctx, acct); err != nil {
			return loginTaken(err)
		}
		e := event(p, "account.create", "account:"+acct.ID)
		e.Detail = map[string]string{"roles": strings.Join(roles, ","), "generated_password": boolText(oneTime != "")}
		return s.record(ctx, e)
	})
	if err != nil {
		return ports.AccountView{}, "", err
	}
	return accountView(acct, ports.ThrottleState{}, false, now), oneTime, nil
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// checkSeats refuses a new account when the tenant's contract seats are all taken by active accounts. It
// runs in the transaction that creates the account and first locks the tenant's row (an update that
// changes nothing), so concurrent creations count one after the other and never pass the limit together;
// the seats read are the contract's as of now.
func (s *Service) checkSeats(ctx context.Context, tenantID string) error {
	tenant, err := s.Tenants.UpdateTenant(ctx, tenantID, func(*ports.TenantRecord) error { return nil })
	if err != nil || tenant.Seats <= 0 {
		return err
	}
	recs, err := s.Accounts.ListAccounts(ctx, tenant.ID)
	if err != nil {
		return err
	}
	if countActive(recs) >= tenant.Seats {
		return ports.NewError(ports.ErrConflict, "seats_exhausted",
			fmt.Sprintf("All %d seats of your contract are in use: disable an account or ask the provider for more seats.", tenant.Seats),
			fmt.Sprintf("契約アカウント数（%d）の上限に達しています。不要なアカウントを無効にするか、運営事業者に追加をご依頼ください。", tenant.Seats))
	}
	return nil
}

// UpdateAccount implements ports.Accounts. An admin cannot take the admin role from themselves, so a tenant
// is never left without the admin who made the change.
func (s *Service) UpdateAccount(ctx context.Context, p ports.Principal, id string, cmd ports.UpdateAccountCommand) (ports.AccountView, error) {
	if _, err := s.memberOf(ctx, p, id); err != nil {
		return ports.AccountView{}, err
	}
	var fields []ports.FieldError
	var name string
	var roles []string
	if cmd.Name != nil {
		var errs []ports.FieldError
		name, errs = normalizeName("name", *cmd.Name)
		fields = append(fields, errs...)
	}
	if cmd.Roles != nil {
		var errs []ports.FieldError
		roles, errs = normalizeRoles(cmd.Roles)
		fields = append(fields, errs...)
		if len(errs) == 0 && id == p.AccountID && !slices.Contains(roles, ports.RoleAdmin) {
			return ports.AccountView{}, ports.NewError(ports.ErrConflict, "cannot_remove_own_admin",
				"You cannot remove your own admin role.", "自分自身の管理者ロールは外せません。")
		}
	}
	if len(fields) > 0 {
		return ports.AccountView{}, invalid(fields)
	}
	return s.changeMember(ctx, p, id, "account.update", func(a *ports.AccountRecord) {
		if cmd.Name != nil {
			a.Name = name
		}
		if cmd.Roles != nil {
			a.Roles = roles
		}
	})
}

// changeMember applies change to an account of the admin's tenant and records action.
func (s *Service) changeMember(ctx context.Context, p ports.Principal, id, action string, change func(*ports.AccountRecord)) (ports.AccountView, error) {
	var acct ports.AccountRecord
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		acct, err = s.Accounts.UpdateAccount(ctx, p.TenantID, id, func(a *ports.AccountRecord) error {
			change(a)
			a.UpdatedAt = s.Clock.Now()
			return nil
		})
		if errors.Is(err, ports.ErrNotFound) {
			return accountNotFound()
		}
		if err != nil {
			return err
		}
		return s.record(ctx, event(p, action, "account:"+id))
	})
	if err != nil {
		return ports.AccountView{}, err
	}
	return s.view(ctx, acct, p.TenantCode)
}

// UnlockAccount implements ports.Accounts: it clears the lockout of the account's login identifier.
func (s *Service) UnlockAccount(ctx context.Context, p ports.Principal, id string) (ports.AccountView, error) {
	acct, err := s.memberOf(ctx, p, id)
	if err != nil {
		return ports.AccountView{}, err
	}
	if err := s.Throttle.ResetThrottle(ctx, throttleKey(acct.Kind, p.TenantCode, acct.LoginKey)); err != nil {
		return ports.AccountView{}, err
	}
	if err := s.record(ctx, event(p, "account.unlock", "account:"+id)); err != nil {
		return ports.AccountView{}, err
	}
	return s.view(ctx, acct, p.TenantCode)
}

// DisableAccount implements ports.Accounts: the account can no longer log in and its sessions end at once.
func (s *Service) DisableAccount(ctx context.Context, p ports.Principal, id string) (ports.AccountView, error) {
	if _, err := s.memberOf(ctx, p, id); err != nil {
		return ports.AccountView{}, err
	}
	if id == p.AccountID {
		return ports.AccountView{}, ports.NewError(ports.ErrConflict, "cannot_disable_self",
			"You cannot disable your own account.", "自分自身のアカウントは無効にできません。")
	}
	view, err := s.changeMember(ctx, p, id, "account.disable", func(a *ports.AccountRecord) {
		a.Status = ports.AccountDisabled
	})
	if err != nil {
		return view, err
	}
	_, err = s.Sessions.DeleteAccountSessions(ctx, id, "")
	return view, err
}

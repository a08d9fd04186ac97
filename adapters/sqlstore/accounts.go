package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

type tenantRow struct {
	ID            string           `gorm:"column:id;primaryKey"`
	Code          string           `gorm:"column:code"`
	Name          string           `gorm:"column:name"`
	Status        string           `gorm:"column:status"`
	MFARequired   bool             `gorm:"column:mfa_required"`
	IPRestriction bool             `gorm:"column:ip_restriction"`
	AllowedCIDRs  jsonOf[[]string] `gorm:"column:allowed_cidrs"`
	Seats         int              `gorm:"column:seats"`
	CreatedAt     instant          `gorm:"column:created_at"`
	UpdatedAt     instant          `gorm:"column:updated_at"`
}

func (tenantRow) TableName() string { return "tenants" }

// tenantColumns are what UpdateTenant may change: everything but the ID.
var tenantColumns = []string{"code", "name", "status", "mfa_required", "ip_restriction", "allowed_cidrs",
	"seats", "created_at", "updated_at"}

func (r *tenantRow) record() ports.TenantRecord {
	return ports.TenantRecord{
		ID: r.ID, Code: r.Code, Name: r.Name, Status: r.Status,
		MFARequired: r.MFARequired, IPRestriction: r.IPRestriction, AllowedCIDRs: r.AllowedCIDRs.V,
		Seats: r.Seats, CreatedAt: time.Time(r.CreatedAt), UpdatedAt: time.Time(r.UpdatedAt),
	}
}

func (r *tenantRow) setRecord(t, stored ports.TenantRecord) {
	t.ID = stored.ID
	*r = tenantRow{
		ID: t.ID, Code: t.Code, Name: t.Name, Status: t.Status,
		MFARequired: t.MFARequired, IPRestriction: t.IPRestriction, AllowedCIDRs: jsonOf[[]string]{t.AllowedCIDRs},
		Seats: t.Seats, CreatedAt: instant(t.CreatedAt), UpdatedAt: instant(t.UpdatedAt),
	}
}

// CreateTenant stores a new tenant; ErrConflict when its ID or code is taken.
func (s *Store) CreateTenant(ctx context.Context, t ports.TenantRecord) error {
	var row tenantRow
	row.setRecord(t, t)
	return s.insert(ctx, "create tenant", &row)
}

// TenantByID returns the tenant; ErrNotFound when there is none.
func (s *Store) TenantByID(ctx context.Context, id string) (ports.TenantRecord, error) {
	return first(ctx, s, "tenant by id", func(db *gorm.DB) *gorm.DB { return db.Where("id = ?", id) }, (*tenantRow).record)
}

// TenantByCode returns the tenant with that code; ErrNotFound when there is none.
func (s *Store) TenantByCode(ctx context.Context, code string) (ports.TenantRecord, error) {
	return first(ctx, s, "tenant by code", func(db *gorm.DB) *gorm.DB { return db.Where("code = ?", code) }, (*tenantRow).record)
}

// ListTenants returns every tenant, ordered by code.
func (s *Store) ListTenants(ctx context.Context) ([]ports.TenantRecord, error) {
	return list(ctx, s, "list tenants", func(db *gorm.DB) *gorm.DB { return db.Order("code") }, (*tenantRow).record)
}

// UpdateTenant applies fn to the tenant with its row locked and stores the result. The ID cannot change;
// a new code must be free (ErrConflict).
func (s *Store) UpdateTenant(ctx context.Context, id string, fn func(*ports.TenantRecord) error) (ports.TenantRecord, error) {
	return update[ports.TenantRecord, tenantRow](ctx, s, "update tenant",
		func(db *gorm.DB) *gorm.DB { return db.Where("id = ?", id) }, tenantColumns, fn)
}

type accountRow struct {
	ID                 string           `gorm:"column:id;primaryKey"`
	TenantID           string           `gorm:"column:tenant_id"`
	Kind               string           `gorm:"column:kind"`
	Login              string           `gorm:"column:login"`
	LoginKey           string           `gorm:"column:login_key"`
	Name               string           `gorm:"column:name"`
	Roles              jsonOf[[]string] `gorm:"column:roles"`
	Status             string           `gorm:"column:status"`
	PasswordHash       string           `gorm:"column:password_hash"`
	MustChangePassword bool             `gorm:"column:must_change_password"`
	PasswordChangedAt  optInstant       `gorm:"column:password_changed_at"`
	LastLoginAt        optInstant       `gorm:"column:last_login_at"`
	CreatedAt          instant          `gorm:"column:created_at"`
	UpdatedAt          instant          `gorm:"column:updated_at"`
}

func (accountRow) TableName() string { return "accounts" }

// accountColumns are what UpdateAccount may change: not ID, TenantID or Kind.
var accountColumns = []string{"login", "login_key", "name", "roles", "status", "password_hash",
	"must_change_password", "password_changed_at", "last_login_at", "created_at", "updated_at"}

func (r *accountRow) record() ports.AccountRecord {
	return ports.AccountRecord{
		ID: r.ID, TenantID: r.TenantID, Kind: r.Kind, Login: r.Login, LoginKey: r.LoginKey, Name: r.Name,
		Roles: r.Roles.V, Status: r.Status, PasswordHash: r.PasswordHash, MustChangePassword: r.MustChangePassword,
		PasswordChangedAt: time.Time(r.PasswordChangedAt), LastLoginAt: time.Time(r.LastLoginAt),
		CreatedAt: time.Time(r.CreatedAt), UpdatedAt: time.Time(r.UpdatedAt),
	}
}

func (r *accountRow) setRecord(a, stored ports.AccountRecord) {
	a.ID, a.TenantID, a.Kind = stored.ID, stored.TenantID, stored.Kind
	*r = accountRow{
		ID: a.ID, TenantID: a.TenantID, Kind: a.Kind, Login: a.Login, LoginKey: a.LoginKey, Name: a.Name,
		Roles: jsonOf[[]string]{a.Roles}, Status: a.Status, PasswordHash: a.PasswordHash,
		MustChangePassword: a.MustChangePassword, PasswordChangedAt: optInstant(a.PasswordChangedAt),
		LastLoginAt: optInstant(a.LastLoginAt), CreatedAt: instant(a.CreatedAt), UpdatedAt: instant(a.UpdatedAt),
	}
}

// CreateAccount stores a new account; ErrConflict when its ID or (TenantID, LoginKey) is taken.
func (s *Store) CreateAccount(ctx context.Context, a ports.AccountRecord) error {
	var row accountRow
	row.setRecord(a, a)
	return s.insert(ctx, "create account", &row)
}

// inTenant scopes a query of a tenant's rows; operators' rows have an empty tenant_id.
func inTenant(tenantID string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB { return db.Where("tenant_id = ?", tenantID) }
}

// AccountByID returns the account of tenantID ("" for operators); another tenant's is ErrNotFound.
func (s *Store) AccountByID(ctx context.Context, tenantID, id string) (ports.AccountRecord, error) {
	return first(ctx, s, "account by id", func(db *gorm.DB) *gorm.DB {
		return inTenant(tenantID)(db).Where("id = ?", id)
	}, (*accountRow).record)
}

// AccountByLogin returns the account of tenantID with that login key; ErrNotFound when there is none.
func (s *Store) AccountByLogin(ctx context.Context, tenantID, loginKey string) (ports.AccountRecord, error) {
	return first(ctx, s, "account by login", func(db *gorm.DB) *gorm.DB {
		return inTenant(tenantID)(db).Where("login_key = ?", loginKey)
	}, (*accountRow).record)
}

// ListAccounts lists the accounts of tenantID ("" for operators) ordered by login.
func (s *Store) ListAccounts(ctx context.Context, tenantID string) ([]ports.AccountRecord, error) {
	return list(ctx, s, "list accounts", func(db *gorm.DB) *gorm.DB {
		return inTenant(tenantID)(db).Order("login").Order("id")
	}, (*accountRow).record)
}

// UpdateAccount applies fn to the account with its row locked and stores the result. Changes fn makes to
// ID, TenantID or Kind are discarded; a new login key must be free in the tenant (ErrConflict).
func (s *Store) UpdateAccount(ctx context.Context, tenantID, id string, fn func(*ports.AccountRecord) error) (ports.AccountRecord, error) {
	return update[ports.AccountRecord, accountRow](ctx, s, "update account", func(db *gorm.DB) *gorm.DB {
		return inTenant(tenantID)(db).Where("id = ?", id)
	}, accountColumns, fn)
}

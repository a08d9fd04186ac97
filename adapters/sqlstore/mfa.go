package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/roumu/roumu/ports"
)

// ofAccount scopes a query to one account of one tenant (operators: tenantID ""), so that another
// tenant's records are never found even with a known account ID.
func ofAccount(tenantID, accountID string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB { return db.Where("tenant_id = ? AND account_id = ?", tenantID, accountID) }
}

type totpRow struct {
	TenantID     string  `gorm:"column:tenant_id;primaryKey"`
	AccountID    string  `gorm:"column:account_id;primaryKey"`
	SecretSealed []byte  `gorm:"column:secret_sealed"`
	Confirmed    bool    `gorm:"column:confirmed"`
	LastStep     int64   `gorm:"column:last_step"`
	CreatedAt    instant `gorm:"column:created_at"`
}

func (totpRow) TableName() string { return "totp_authenticators" }

func (r *totpRow) record() ports.TOTPRecord {
	return ports.TOTPRecord{
		TenantID: r.TenantID, AccountID: r.AccountID, SecretSealed: r.SecretSealed,
		Confirmed: r.Confirmed, LastStep: r.LastStep, CreatedAt: time.Time(r.CreatedAt),
	}
}

// upsert is INSERT … ON CONFLICT DO UPDATE of every column: the "put, replacing" of the ports.
func upsert(keys ...string) clause.OnConflict {
	cols := make([]clause.Column, len(keys))
	for i, k := range keys {
		cols[i] = clause.Column{Name: k}
	}
	return clause.OnConflict{Columns: cols, UpdateAll: true}
}

// PutTOTP stores the account's TOTP authenticator (the sealed secret as given), replacing any earlier one.
func (s *Store) PutTOTP(ctx context.Context, r ports.TOTPRecord) error {
	return s.guard(ctx, "put totp", func(db *gorm.DB) error {
		return db.Clauses(upsert("tenant_id", "account_id")).Create(&totpRow{
			TenantID: r.TenantID, AccountID: r.AccountID, SecretSealed: blob(r.SecretSealed),
			Confirmed: r.Confirmed, LastStep: r.LastStep, CreatedAt: instant(r.CreatedAt),
		}).Error
	})
}

// TOTPByAccount returns the account's TOTP authenticator; ErrNotFound when there is none.
func (s *Store) TOTPByAccount(ctx context.Context, tenantID, accountID string) (ports.TOTPRecord, error) {
	return first(ctx, s, "totp by account", ofAccount(tenantID, accountID), (*totpRow).record)
}

// ConfirmTOTP marks the authenticator confirmed with step used; ErrNotFound when there is none.
func (s *Store) ConfirmTOTP(ctx context.Context, tenantID, accountID string, step int64) error {
	res := ofAccount(tenantID, accountID)(s.writer(ctx).Model(&totpRow{})).
		Updates(map[string]any{"confirmed": true, "last_step": step})
	return affected(res, "confirm totp")
}

// AdvanceTOTPStep moves LastStep forward to step in one conditional UPDATE and reports whether it did, so
// of two concurrent uses of one code exactly one succeeds; ErrNotFound when there is no authenticator.
func (s *Store) AdvanceTOTPStep(ctx context.Context, tenantID, accountID string, step int64) (bool, error) {
	res := ofAccount(tenantID, accountID)(s.writer(ctx).Model(&totpRow{})).
		Where("last_step < ?", step).Update("last_step", step)
	if res.Error != nil {
		return false, translate("advance totp step", res.Error)
	}
	if res.RowsAffected == 1 {
		return true, nil
	}
	// Nothing moved: a used step, or no authenticator at all, which the caller must be told apart.
	if _, err := s.TOTPByAccount(ctx, tenantID, accountID); err != nil {
		return false, err
	}
	return false, nil
}

// DeleteTOTP removes the account's TOTP authenticator; ErrNotFound when there is none.
func (s *Store) DeleteTOTP(ctx context.Context, tenantID, accountID string) error {
	return affected(ofAccount(tenantID, accountID)(s.writer(ctx)).Delete(&totpRow{}), "delete totp")
}

type webauthnRow struct {
	ID              string           `gorm:"column:id;primaryKey"`
	TenantID        string           `gorm:"column:tenant_id"`
	AccountID       string           `gorm:"column:account_id"`
	Name            string           `gorm:"column:name"`
	CredentialID    []byte           `gorm:"column:credential_id"`
	PublicKey       []byte           `gorm:"column:public_key"`
	AttestationType string           `gorm:"column:attestation_type"`
	AAGUID          []byte           `gorm:"column:aaguid"`
	SignCount       uint32           `gorm:"column:sign_count"`
	CloneWarning    bool             `gorm:"column:clone_warning"`
	BackupEligible  bool             `gorm:"column:backup_eligible"`
	BackupState     bool             `gorm:"column:backup_state"`
	UserPresent     bool             `gorm:"column:user_present"`
	UserVerified    bool             `gorm:"column:user_verified"`
	Transports      jsonOf[[]string] `gorm:"column:transports"`
	CreatedAt       instant          `gorm:"column:created_at"`
	LastUsedAt      optInstant       `gorm:"column:last_used_at"`
}

func (webauthnRow) TableName() string { return "webauthn_credentials" }

// webauthnColumns are what UpdateWebAuthnCredential may change: not the identity (ID, TenantID,
// AccountID, CredentialID).
var webauthnColumns = []string{"name", "public_key", "attestation_type", "aaguid", "sign_count",
	"clone_warning", "backup_eligible", "backup_state", "user_present", "user_verified", "transports",
	"created_at", "last_used_at"}

func (r *webauthnRow) record() ports.WebAuthnCredentialRecord {
	return ports.WebAuthnCredentialRecord{
		ID: r.ID, TenantID: r.TenantID, AccountID: r.AccountID, Name: r.Name,
		CredentialID: r.CredentialID, PublicKey: r.PublicKey, AttestationType: r.AttestationType,
		AAGUID: r.AAGUID, SignCount: r.SignCount, CloneWarning: r.CloneWarning,
		BackupEligible: r.BackupEligible, BackupState: r.BackupState, UserPresent: r.UserPresent,
		UserVerified: r.UserVerified, Transports: r.Transports.V,
		CreatedAt: time.Time(r.CreatedAt), LastUsedAt: time.Time(r.LastUsedAt),
	}
}

func (r *webauthnRow) setRecord(c, stored ports.WebAuthnCredentialRecord) {
	c.ID, c.TenantID, c.AccountID, c.CredentialID = stored.ID, stored.TenantID, stored.AccountID, stored.CredentialID
	*r = webauthnRow{
		ID: c.ID, TenantID: c.TenantID, AccountID: c.AccountID, Name: c.Name,
		CredentialID: blob(c.CredentialID), PublicKey: blob(c.PublicKey), AttestationType: c.AttestationType,
		AAGUID: blob(c.AAGUID), SignCount: c.SignCount, CloneWarning: c.CloneWarning,
		BackupEligible: c.BackupEligible, BackupState: c.BackupState, UserPresent: c.UserPresent,
		UserVerified: c.UserVerified, Transports: jsonOf[[]string]{c.Transports},
		CreatedAt: instant(c.CreatedAt), LastUsedAt: optInstant(c.LastUsedAt),
	}
}

// AddWebAuthnCredential stores a credential; ErrConflict when its ID or CredentialID is registered already.
func (s *Store) AddWebAuthnCredential(ctx context.Context, c ports.WebAuthnCredentialRecord) error {
	var row webauthnRow
	row.setRecord(c, c)
	return s.insert(ctx, "add webauthn credential", &row)
}

// WebAuthnCredentials lists the account's credentials, oldest first.
func (s *Store) WebAuthnCredentials(ctx context.Context, tenantID, accountID string) ([]ports.WebAuthnCredentialRecord, error) {
	return list(ctx, s, "webauthn credentials", func(db *gorm.DB) *gorm.DB {
		return ofAccount(tenantID, accountID)(db).Order("created_at").Order("id")
	}, (*webauthnRow).record)
}

func credential(tenantID, accountID, id string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB { return ofAccount(tenantID, accountID)(db).Where("id = ?", id) }
}

// UpdateWebAuthnCredential applies fn to the credential with its row locked and stores the result, so
// the signature counter is never lost. Changes fn makes to the identity are discarded.
func (s *Store) UpdateWebAuthnCredential(ctx context.Context, tenantID, accountID, id string, fn func(*ports.WebAuthnCredentialRecord) error) (ports.WebAuthnCredentialRecord, error) {
	return update[ports.WebAuthnCredentialRecord, webauthnRow](ctx, s, "update webauthn credential",
		credential(tenantID, accountID, id), webauthnColumns, fn)
}

// DeleteWebAuthnCredential removes the credential; ErrNotFound when the account has no such credential.
func (s *Store) DeleteWebAuthnCredential(ctx context.Context, tenantID, accountID, id string) error {
	return affected(credential(tenantID, accountID, id)(s.writer(ctx)).Delete(&webauthnRow{}), "delete webauthn credential")
}

type recoveryCodeRow struct {
	TenantID  string     `gorm:"column:tenant_id;primaryKey"`
	AccountID string     `gorm:"column:account_id;primaryKey"`
	CodeHash  string     `gorm:"column:code_hash;primaryKey"`
	CreatedAt instant    `gorm:"column:created_at"`
	UsedAt    optInstant `gorm:"column:used_at"`
}

func (recoveryCodeRow) TableName() string { return "recovery_codes" }

// ReplaceRecoveryCodes discards the account's recovery codes and stores these hashes, all unused, in one
// transaction. A hash given twice is stored once.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, tenantID, accountID string, hashes []string, at time.Time) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		db := s.writer(ctx)
		if err := ofAccount(tenantID, accountID)(db).Delete(&recoveryCodeRow{}).Error; err != nil {
			return translate("replace recovery codes", err)
		}
		if len(hashes) == 0 {
			return nil
		}
		rows := make([]recoveryCodeRow, len(hashes))
		for i, h := range hashes {
			rows[i] = recoveryCodeRow{TenantID: tenantID, AccountID: accountID, CodeHash: h, CreatedAt: instant(at)}
		}
		return translate("replace recovery codes", db.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error)
	})
}

// UseRecoveryCode marks the unused code with that hash used, in one conditional UPDATE, and reports
// whether there was one: of two concurrent uses of one code exactly one succeeds.
func (s *Store) UseRecoveryCode(ctx context.Context, tenantID, accountID, hash string, at time.Time) (bool, error) {
	// instant, not optInstant: used_at must be set even for a zero time, or the code would stay unused.
	res := ofAccount(tenantID, accountID)(s.writer(ctx).Model(&recoveryCodeRow{})).
		Where("code_hash = ? AND used_at IS NULL", hash).Update("used_at", instant(at))
	return res.RowsAffected == 1, translate("use recovery code", res.Error)
}

// RemainingRecoveryCodes counts the account's unused codes.
func (s *Store) RemainingRecoveryCodes(ctx context.Context, tenantID, accountID string) (int, error) {
	var n int64
	err := ofAccount(tenantID, accountID)(s.reader(ctx).Model(&recoveryCodeRow{})).Where("used_at IS NULL").Count(&n).Error
	return int(n), translate("remaining recovery codes", err)
}

type challengeRow struct {
	ID        string  `gorm:"column:id;primaryKey"`
	TenantID  string  `gorm:"column:tenant_id"`
	AccountID string  `gorm:"column:account_id"`
	Purpose   string  `gorm:"column:purpose"`
	Data      []byte  `gorm:"column:data"`
	ExpiresAt instant `gorm:"column:expires_at"`
}

func (challengeRow) TableName() string { return "webauthn_challenges" }

func (r *challengeRow) record() ports.ChallengeRecord {
	return ports.ChallengeRecord{
		ID: r.ID, TenantID: r.TenantID, AccountID: r.AccountID, Purpose: r.Purpose,
		Data: r.Data, ExpiresAt: time.Time(r.ExpiresAt),
	}
}

// PutChallenge stores a ceremony, replacing one with the same ID.
func (s *Store) PutChallenge(ctx context.Context, c ports.ChallengeRecord) error {
	return s.guard(ctx, "put challenge", func(db *gorm.DB) error {
		return db.Clauses(upsert("id")).Create(&challengeRow{
			ID: c.ID, TenantID: c.TenantID, AccountID: c.AccountID, Purpose: c.Purpose,
			Data: blob(c.Data), ExpiresAt: instant(c.ExpiresAt),
		}).Error
	})
}

// TakeChallenge deletes the ceremony and returns it in one DELETE … RETURNING, so of two concurrent
// takes exactly one gets it; ErrNotFound when absent. Expired ceremonies are returned too.
func (s *Store) TakeChallenge(ctx context.Context, id string) (ports.ChallengeRecord, error) {
	var rows []challengeRow
	err := s.writer(ctx).Clauses(clause.Returning{}).Where("id = ?", id).Delete(&rows).Error
	if err != nil {
		return ports.ChallengeRecord{}, translate("take challenge", err)
	}
	if len(rows) == 0 {
		return ports.ChallengeRecord{}, translate("take challenge", gorm.ErrRecordNotFound)
	}
	return rows[0].record(), nil
}

// DeleteMFA removes every factor, recovery code and challenge of the account, in one transaction; an
// account without any is not an error.
func (s *Store) DeleteMFA(ctx context.Context, tenantID, accountID string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		for _, model := range []any{&totpRow{}, &webauthnRow{}, &recoveryCodeRow{}, &challengeRow{}} {
			if err := ofAccount(tenantID, accountID)(s.writer(ctx)).Delete(model).Error; err != nil {
				return translate("delete mfa", err)
			}
		}
		return nil
	})
}

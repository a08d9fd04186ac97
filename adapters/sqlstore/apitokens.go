package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

type apiTokenRow struct {
	ID         string           `gorm:"column:id;primaryKey"`
	TenantID   string           `gorm:"column:tenant_id"`
	Name       string           `gorm:"column:name"`
	Scopes     jsonOf[[]string] `gorm:"column:scopes"`
	SecretHash string           `gorm:"column:secret_hash"`
	CreatedBy  string           `gorm:"column:created_by"`
	CreatedAt  instant          `gorm:"column:created_at"`
	ExpiresAt  instant          `gorm:"column:expires_at"`
	LastUsedAt optInstant       `gorm:"column:last_used_at"`
	LastUsedIP string           `gorm:"column:last_used_ip"`
	RevokedAt  optInstant       `gorm:"column:revoked_at"`
	RevokedBy  string           `gorm:"column:revoked_by"`
}

func (apiTokenRow) TableName() string { return "api_tokens" }

func (r *apiTokenRow) record() ports.APITokenRecord {
	return ports.APITokenRecord{
		ID: r.ID, TenantID: r.TenantID, Name: r.Name, Scopes: r.Scopes.V, SecretHash: r.SecretHash,
		CreatedBy: r.CreatedBy, CreatedAt: time.Time(r.CreatedAt), ExpiresAt: time.Time(r.ExpiresAt),
		LastUsedAt: time.Time(r.LastUsedAt), LastUsedIP: r.LastUsedIP,
		RevokedAt: time.Time(r.RevokedAt), RevokedBy: r.RevokedBy,
	}
}

// CreateAPIToken stores a new token; ErrConflict when its ID is taken.
func (s *Store) CreateAPIToken(ctx context.Context, r ports.APITokenRecord) error {
	scopes := r.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return s.insert(ctx, "create api token", &apiTokenRow{
		ID: r.ID, TenantID: r.TenantID, Name: r.Name, Scopes: jsonOf[[]string]{scopes}, SecretHash: r.SecretHash,
		CreatedBy: r.CreatedBy, CreatedAt: instant(r.CreatedAt), ExpiresAt: instant(r.ExpiresAt),
		LastUsedAt: optInstant(r.LastUsedAt), LastUsedIP: r.LastUsedIP,
		RevokedAt: optInstant(r.RevokedAt), RevokedBy: r.RevokedBy,
	})
}

// APITokenByID returns the token of any tenant; ErrNotFound when there is none.
func (s *Store) APITokenByID(ctx context.Context, id string) (ports.APITokenRecord, error) {
	return first(ctx, s, "api token by id", func(db *gorm.DB) *gorm.DB { return db.Where("id = ?", id) },
		(*apiTokenRow).record)
}

// tenantAPIToken selects the tenant's token id.
func tenantAPIToken(tenantID, id string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB { return db.Where("tenant_id = ? AND id = ?", tenantID, id) }
}

// ListAPITokens lists the tenant's tokens, newest first, then by ID.
func (s *Store) ListAPITokens(ctx context.Context, tenantID string) ([]ports.APITokenRecord, error) {
	return list(ctx, s, "list api tokens", func(db *gorm.DB) *gorm.DB {
		return db.Where("tenant_id = ?", tenantID).Order("created_at DESC, id")
	}, (*apiTokenRow).record)
}

// RevokeAPIToken revokes the token in one guarded statement (only a token not revoked yet is changed, so of
// concurrent revocations one wins) and returns the record after it.
func (s *Store) RevokeAPIToken(ctx context.Context, tenantID, id, accountID string, at time.Time) (ports.APITokenRecord, bool, error) {
	res := tenantAPIToken(tenantID, id)(s.writer(ctx).Model(&apiTokenRow{})).Where("revoked_at IS NULL").
		Updates(map[string]any{"revoked_at": instant(at), "revoked_by": accountID})
	if res.Error != nil {
		return ports.APITokenRecord{}, false, translate("revoke api token", res.Error)
	}
	r, err := first(ctx, s, "revoke api token", tenantAPIToken(tenantID, id), (*apiTokenRow).record)
	return r, err == nil && res.RowsAffected == 1, err
}

// TouchAPIToken records a use in one guarded statement that never moves last_used_at back.
func (s *Store) TouchAPIToken(ctx context.Context, tenantID, id string, at time.Time, ip string) error {
	res := tenantAPIToken(tenantID, id)(s.writer(ctx).Model(&apiTokenRow{})).
		Where("last_used_at IS NULL OR last_used_at < ?", instant(at)).
		Updates(map[string]any{"last_used_at": instant(at), "last_used_ip": ip})
	if res.Error != nil || res.RowsAffected == 1 {
		return translate("touch api token", res.Error)
	}
	_, err := first(ctx, s, "touch api token", tenantAPIToken(tenantID, id), (*apiTokenRow).record)
	return err
}

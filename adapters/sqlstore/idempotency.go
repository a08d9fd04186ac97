package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

type idempotencyRow struct {
	TenantID    string                    `gorm:"column:tenant_id"`
	Principal   string                    `gorm:"column:principal"`
	Key         string                    `gorm:"column:key"`
	Claim       string                    `gorm:"column:claim"`
	Fingerprint string                    `gorm:"column:fingerprint"`
	Status      int                       `gorm:"column:status"`
	Header      jsonOf[map[string]string] `gorm:"column:header"`
	Body        []byte                    `gorm:"column:body"`
	CreatedAt   instant                   `gorm:"column:created_at"`
	ExpiresAt   instant                   `gorm:"column:expires_at"`
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

func (r *idempotencyRow) record() ports.IdempotencyRecord {
	return ports.IdempotencyRecord{
		IdempotencyClaim: ports.IdempotencyClaim{TenantID: r.TenantID, Principal: r.Principal, Key: r.Key, ID: r.Claim},
		Fingerprint:      r.Fingerprint, Status: r.Status, Header: r.Header.V, Body: r.Body,
		CreatedAt: time.Time(r.CreatedAt), ExpiresAt: time.Time(r.ExpiresAt),
	}
}

// claimIdempotencySQL takes a key in one upsert: a new key is inserted, an expired record replaced, and a live
// one left alone (no row returned). The database serialises concurrent claims on the key's row, so exactly
// one of them gets a row back, on any number of instances.
const claimIdempotencySQL = `INSERT INTO idempotency_keys AS k
	(tenant_id, principal, key, claim, fingerprint, status, header, body, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, 0, '{}', NULL, ?, ?)
ON CONFLICT (tenant_id, principal, key) DO UPDATE SET
	claim = excluded.claim, fingerprint = excluded.fingerprint, status = 0, header = excluded.header,
	body = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at
WHERE k.expires_at <= ?
RETURNING claim`

// claimAttempts bounds the retries of a claim whose holder vanished between the upsert and the read (released
// or deleted in between): each retry finds the key free or held again, so a second attempt all but always
// settles it.
const claimAttempts = 3

// idempotencyKeyOf selects the record of c's key.
func idempotencyKeyOf(c ports.IdempotencyClaim) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		return db.Where("tenant_id = ? AND principal = ? AND key = ?", c.TenantID, c.Principal, c.Key)
	}
}

// ClaimIdempotencyKey stores rec in progress unless a live record holds its key, and returns the holder.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, rec ports.IdempotencyRecord, now time.Time) (ports.IdempotencyRecord, bool, error) {
	for range claimAttempts {
		var won []string
		if err := s.writer(ctx).Raw(claimIdempotencySQL, rec.TenantID, rec.Principal, rec.Key, rec.ID, rec.Fingerprint,
			formatTime(rec.CreatedAt), formatTime(rec.ExpiresAt), formatTime(now)).Scan(&won).Error; err != nil {
			return ports.IdempotencyRecord{}, false, translate("claim idempotency key", err)
		}
		if len(won) == 1 {
			rec.Status, rec.Header, rec.Body = 0, map[string]string{}, nil
			return rec, true, nil
		}
		held, err := first(ctx, s, "idempotency key", idempotencyKeyOf(rec.IdempotencyClaim), (*idempotencyRow).record)
		if !errors.Is(err, ports.ErrNotFound) {
			return held, false, err
		}
	}
	return ports.IdempotencyRecord{}, false, fmt.Errorf("sqlstore: claim idempotency key: held and freed %d times over", claimAttempts)
}

// inProgress selects the record in progress that c holds.
func inProgress(c ports.IdempotencyClaim) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		return idempotencyKeyOf(c)(db).Where("claim = ? AND status = 0", c.ID)
	}
}

// CompleteIdempotencyKey stores the answer on the record in progress that rec's claim holds.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, rec ports.IdempotencyRecord) error {
	header := rec.Header
	if header == nil {
		header = map[string]string{}
	}
	res := inProgress(rec.IdempotencyClaim)(s.writer(ctx).Model(&idempotencyRow{})).Updates(map[string]any{
		"status": rec.Status, "header": jsonOf[map[string]string]{header}, "body": blob(rec.Body),
		"expires_at": instant(rec.ExpiresAt)})
	if res.Error != nil {
		return translate("complete idempotency key", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("sqlstore: complete idempotency key: %w", ports.ErrNotFound)
	}
	return nil
}

// ReleaseIdempotencyKey deletes the record in progress that c holds.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, c ports.IdempotencyClaim) error {
	return translate("release idempotency key", inProgress(c)(s.writer(ctx)).Delete(&idempotencyRow{}).Error)
}

// DeleteIdempotencyKeys deletes the records that expire at or before now.
func (s *Store) DeleteIdempotencyKeys(ctx context.Context, now time.Time) (int, error) {
	res := s.writer(ctx).Exec("DELETE FROM idempotency_keys WHERE expires_at <= ?", formatTime(now))
	return int(res.RowsAffected), translate("delete idempotency keys", res.Error)
}

package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

type throttleRow struct {
	Key         string     `gorm:"column:key;primaryKey"`
	Failures    int        `gorm:"column:failures"`
	LockedUntil optInstant `gorm:"column:locked_until"`
}

func (throttleRow) TableName() string { return "login_throttles" }

func (r *throttleRow) state() ports.ThrottleState {
	return ports.ThrottleState{Key: r.Key, Failures: r.Failures, LockedUntil: time.Time(r.LockedUntil)}
}

// The throttle statements are single upserts, so parallel failures on several instances are never lost
// and the decision (reset an expired lock, keep a running one) is taken by the database on the row it
// writes. "Locked at now" means locked_until > now; NULL is never locked and compares as unknown, which
// the CASEs treat as "not expired".
const (
	addFailureSQL = `INSERT INTO login_throttles AS t (key, failures, locked_until) VALUES (?, 1, NULL)
ON CONFLICT (key) DO UPDATE SET
	failures     = CASE WHEN t.locked_until <= ? THEN 1 ELSE t.failures + 1 END,
	locked_until = CASE WHEN t.locked_until <= ? THEN NULL ELSE t.locked_until END
RETURNING key, failures, locked_until`

	lockUntilSQL = `INSERT INTO login_throttles AS t (key, failures, locked_until) VALUES (?, 0, ?)
ON CONFLICT (key) DO UPDATE SET
	locked_until = CASE WHEN t.locked_until > ? THEN t.locked_until ELSE excluded.locked_until END
RETURNING key, failures, locked_until`
)

// AddFailure counts one failure for key in one statement and returns the new state. A lock that has
// expired by now is cleared and counting restarts at 1; a failure while locked is counted and leaves the
// lock as it is.
func (s *Store) AddFailure(ctx context.Context, key string, now time.Time) (ports.ThrottleState, error) {
	return s.upsertThrottle(ctx, "add failure", addFailureSQL, key, formatTime(now), formatTime(now))
}

// LockUntil locks key until the given instant unless a lock is in force at now, in one statement, and
// returns the state after it: the first lock wins and is never extended.
func (s *Store) LockUntil(ctx context.Context, key string, until, now time.Time) (ports.ThrottleState, error) {
	return s.upsertThrottle(ctx, "lock", lockUntilSQL, key, optInstant(until), formatTime(now))
}

func (s *Store) upsertThrottle(ctx context.Context, op, sql string, args ...any) (ports.ThrottleState, error) {
	var row throttleRow
	if err := s.writer(ctx).Raw(sql, args...).Scan(&row).Error; err != nil {
		return ports.ThrottleState{}, translate(op, err)
	}
	return row.state(), nil
}

// Throttle returns the state of key; a key never seen has zero failures and no lock.
func (s *Store) Throttle(ctx context.Context, key string) (ports.ThrottleState, error) {
	var rows []throttleRow
	if err := s.reader(ctx).Where("key = ?", key).Limit(1).Find(&rows).Error; err != nil {
		return ports.ThrottleState{}, translate("throttle", err)
	}
	if len(rows) == 0 {
		return ports.ThrottleState{Key: key}, nil
	}
	return rows[0].state(), nil
}

// ResetThrottle forgets key; forgetting a key never seen is not an error.
func (s *Store) ResetThrottle(ctx context.Context, key string) error {
	return translate("reset throttle", s.writer(ctx).Where("key = ?", key).Delete(&throttleRow{}).Error)
}

type sessionRow struct {
	TokenHash  string  `gorm:"column:token_hash;primaryKey"`
	AccountID  string  `gorm:"column:account_id"`
	TenantID   string  `gorm:"column:tenant_id"`
	Stage      string  `gorm:"column:stage"`
	CreatedAt  instant `gorm:"column:created_at"`
	LastSeenAt instant `gorm:"column:last_seen_at"`
	ExpiresAt  instant `gorm:"column:expires_at"`
	IP         string  `gorm:"column:ip"`
	UserAgent  string  `gorm:"column:user_agent"`
}

func (sessionRow) TableName() string { return "sessions" }

func (r *sessionRow) record() ports.SessionRecord {
	return ports.SessionRecord{
		TokenHash: r.TokenHash, AccountID: r.AccountID, TenantID: r.TenantID, Stage: r.Stage,
		CreatedAt: time.Time(r.CreatedAt), LastSeenAt: time.Time(r.LastSeenAt), ExpiresAt: time.Time(r.ExpiresAt),
		IP: r.IP, UserAgent: r.UserAgent,
	}
}

// CreateSession stores a new session; ErrConflict when the token hash is taken.
func (s *Store) CreateSession(ctx context.Context, r ports.SessionRecord) error {
	return s.insert(ctx, "create session", &sessionRow{
		TokenHash: r.TokenHash, AccountID: r.AccountID, TenantID: r.TenantID, Stage: r.Stage,
		CreatedAt: instant(r.CreatedAt), LastSeenAt: instant(r.LastSeenAt), ExpiresAt: instant(r.ExpiresAt),
		IP: r.IP, UserAgent: r.UserAgent,
	})
}

func byTokenHash(h string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB { return db.Where("token_hash = ?", h) }
}

// SessionByHash returns the session; ErrNotFound when there is none.
func (s *Store) SessionByHash(ctx context.Context, tokenHash string) (ports.SessionRecord, error) {
	return first(ctx, s, "session by hash", byTokenHash(tokenHash), (*sessionRow).record)
}

// TouchSession records activity; ErrNotFound when the session has ended.
func (s *Store) TouchSession(ctx context.Context, tokenHash string, seen time.Time) error {
	res := byTokenHash(tokenHash)(s.writer(ctx).Model(&sessionRow{})).Update("last_seen_at", instant(seen))
	return affected(res, "touch session")
}

// DeleteSession ends a session; ending one that has already ended is not an error (a double logout).
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	return translate("delete session", byTokenHash(tokenHash)(s.writer(ctx)).Delete(&sessionRow{}).Error)
}

// DeleteAccountSessions ends every session of the account except exceptTokenHash and returns how many.
func (s *Store) DeleteAccountSessions(ctx context.Context, accountID, exceptTokenHash string) (int, error) {
	res := s.writer(ctx).Where("account_id = ? AND token_hash <> ?", accountID, exceptTokenHash).Delete(&sessionRow{})
	return int(res.RowsAffected), translate("delete account sessions", res.Error)
}

// DeleteSessionsBefore removes the sessions last seen before idleBefore or created before createdBefore
// and returns how many.
func (s *Store) DeleteSessionsBefore(ctx context.Context, idleBefore, createdBefore time.Time) (int, error) {
	res := s.writer(ctx).Where("last_seen_at < ? OR created_at < ?", instant(idleBefore), instant(createdBefore)).
		Delete(&sessionRow{})
	return int(res.RowsAffected), translate("delete sessions before", res.Error)
}

// affected translates the result of a write that must hit a row: none is ports.ErrNotFound.
func affected(res *gorm.DB, op string) error {
	if res.Error != nil {
		return translate(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return translate(op, gorm.ErrRecordNotFound)
	}
	return nil
}

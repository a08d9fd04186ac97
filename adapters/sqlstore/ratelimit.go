package sqlstore

import (
	"context"
	"time"
)

// hitRateWindowSQL counts a request in one upsert: the database serialises concurrent hits on the row, so
// each gets its own count, on any number of instances.
const hitRateWindowSQL = `INSERT INTO rate_windows AS w (key, window_start, expires_at, hits) VALUES (?, ?, ?, 1)
ON CONFLICT (key, window_start) DO UPDATE SET
	hits       = w.hits + 1,
	expires_at = CASE WHEN excluded.expires_at > w.expires_at THEN excluded.expires_at ELSE w.expires_at END
RETURNING hits`

// HitRateWindow counts one request for key in the window starting at start and returns the window's count.
func (s *Store) HitRateWindow(ctx context.Context, key string, start, expires time.Time) (int, error) {
	var hits int
	if err := s.writer(ctx).Raw(hitRateWindowSQL, key, formatTime(start), formatTime(expires)).Scan(&hits).Error; err != nil {
		return 0, translate("hit rate window", err)
	}
	return hits, nil
}

// DeleteRateWindows forgets the windows that expire at or before now.
func (s *Store) DeleteRateWindows(ctx context.Context, now time.Time) (int, error) {
	res := s.writer(ctx).Exec("DELETE FROM rate_windows WHERE expires_at <= ?", formatTime(now))
	return int(res.RowsAffected), translate("delete rate windows", res.Error)
}

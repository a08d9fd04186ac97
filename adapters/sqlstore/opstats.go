package sqlstore

import (
	"context"
	"time"

	"github.com/roumu/roumu/ports"
)

var _ ports.StatsReader = (*Store)(nil)

// OperationalStats implements ports.StatsReader with three small aggregate queries, each on a partial
// index of what is pending, so a scrape costs little however large the outbox and the delivery log grow.
func (s *Store) OperationalStats(ctx context.Context, now time.Time) (ports.OperationalStats, error) {
	st := ports.OperationalStats{OutboxPending: map[string]int{}, OutboxOldest: map[string]time.Duration{}}
	db := s.read.WithContext(ctx)
	var lags []struct {
		Consumer string
		Pending  int
		Oldest   instant // SQLite's min() of a text column loses the column's type: scanned as our instant
	}
	if err := db.Raw(`SELECT consumer, count(*) AS pending, min(occurred_at) AS oldest FROM outbox_deliveries
		WHERE consumed_at IS NULL GROUP BY consumer`).Scan(&lags).Error; err != nil {
		return st, translate("operational stats: outbox", err)
	}
	for _, l := range lags {
		st.OutboxPending[l.Consumer], st.OutboxOldest[l.Consumer] = l.Pending, max(0, now.Sub(time.Time(l.Oldest)))
	}
	var hooks struct{ Pending, Failing int }
	if err := db.Raw(`SELECT count(*) AS pending, count(*) FILTER (WHERE attempts > 0) AS failing
		FROM webhook_deliveries WHERE status = ?`, ports.DeliveryPending).Scan(&hooks).Error; err != nil {
		return st, translate("operational stats: webhook deliveries", err)
	}
	st.WebhookDeliveriesPending, st.WebhookDeliveriesFailing = hooks.Pending, hooks.Failing
	var paused int64
	if err := db.Raw(`SELECT count(*) FROM webhook_subscriptions WHERE status = ?`, ports.WebhookPaused).
		Scan(&paused).Error; err != nil {
		return st, translate("operational stats: webhook subscriptions", err)
	}
	st.WebhookSubscriptionsPaused = int(paused)
	if sqlDB, err := s.write.DB(); err == nil {
		ds := sqlDB.Stats()
		st.DBOpenConnections, st.DBInUse, st.DBWaitCount, st.DBWaitDuration = ds.OpenConnections, ds.InUse, ds.WaitCount, ds.WaitDuration
	}
	return st, nil
}

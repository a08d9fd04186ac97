package ports

import (
	"context"
	"time"
)

// OperationalStats are the store's levels that monitoring samples when metrics are scraped: how far each
// outbox consumer lags, how webhook deliveries fare, and the connection pool.
type OperationalStats struct {
	// OutboxPending counts each consumer's unconsumed events; OutboxOldest is the age of its oldest one.
	OutboxPending map[string]int
	OutboxOldest  map[string]time.Duration
	// WebhookDeliveriesPending counts deliveries waiting for a (first or next) attempt; WebhookDeliveriesFailing
	// those among them whose last attempt failed; WebhookSubscriptionsPaused the subscriptions paused.
	WebhookDeliveriesPending   int
	WebhookDeliveriesFailing   int
	WebhookSubscriptionsPaused int
	// The database connection pool (zero for a store without one).
	DBOpenConnections int
	DBInUse           int
	DBWaitCount       int64
	DBWaitDuration    time.Duration
}

// StatsReader gives the store's operational levels at now.
type StatsReader interface {
	OperationalStats(ctx context.Context, now time.Time) (OperationalStats, error)
}

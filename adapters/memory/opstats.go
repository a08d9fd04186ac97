package memory

import (
	"context"
	"time"

	"github.com/roumu/roumu/ports"
)

var _ ports.StatsReader = (*Store)(nil)

// OperationalStats implements ports.StatsReader. A consumer is known once it has consumed an event; its
// pending events are all it has not consumed (the memory store keeps no subscriptions by type).
func (s *Store) OperationalStats(ctx context.Context, now time.Time) (ports.OperationalStats, error) {
	defer s.lock(ctx)()
	st := ports.OperationalStats{OutboxPending: map[string]int{}, OutboxOldest: map[string]time.Duration{}}
	consumers := map[string]bool{}
	for k := range s.st.consumed {
		consumers[k.consumer] = true
	}
	for c := range consumers {
		st.OutboxPending[c] = 0
		for id, e := range s.st.outbox {
			if _, done := s.st.consumed[consumption{c, id}]; done {
				continue
			}
			st.OutboxPending[c]++
			st.OutboxOldest[c] = max(st.OutboxOldest[c], now.Sub(e.ev.OccurredAt))
		}
	}
	for _, d := range s.st.deliveries {
		if d.Status == ports.DeliveryPending {
			st.WebhookDeliveriesPending++
			if d.Attempts > 0 {
				st.WebhookDeliveriesFailing++
			}
		}
	}
	for _, sub := range s.st.webhookSubs {
		if sub.Status == ports.WebhookPaused {
			st.WebhookSubscriptionsPaused++
		}
	}
	return st, nil
}

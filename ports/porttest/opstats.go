package porttest

import (
	"testing"
	"time"
)

// TestStatsReader: the outbox lag a consumer sees (pending events and the age of the oldest), and nothing
// failing on an empty store.
func TestStatsReader(t *testing.T, factory Factory) {
	t.Parallel()
	s := factory(t)
	ctx := t.Context()
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	st, err := s.Stats.OperationalStats(ctx, now)
	must(t, err, "OperationalStats of an empty store")
	if len(st.OutboxPending) != 0 || st.WebhookDeliveriesPending != 0 || st.WebhookSubscriptionsPaused != 0 {
		t.Fatalf("an empty store: %+v", st)
	}
	tenant := newTenant("stats")
	must(t, s.Tenants.CreateTenant(ctx, tenant), "CreateTenant")
	first := newOutboxEvent(tenant.ID, "employee.hired", now.Add(-10*time.Minute))
	appendEvents(t, s, first, newOutboxEvent(tenant.ID, "employee.hired", now.Add(-5*time.Minute)),
		newOutboxEvent(tenant.ID, "employee.hired", now.Add(-time.Minute)))
	if _, err := s.Outbox.PendingEventsFor(ctx, "stats-consumer", nil, 0); err != nil {
		t.Fatalf("PendingEventsFor: %v", err)
	}
	must(t, s.Outbox.MarkConsumed(ctx, "stats-consumer", first.ID, now), "MarkConsumed")
	st, err = s.Stats.OperationalStats(ctx, now)
	must(t, err, "OperationalStats")
	if st.OutboxPending["stats-consumer"] != 2 || st.OutboxOldest["stats-consumer"] != 5*time.Minute {
		t.Fatalf("consumer lag: pending %v, oldest %v", st.OutboxPending, st.OutboxOldest)
	}
}

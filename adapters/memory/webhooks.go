package memory

import (
	"bytes"
	"cmp"
	"context"
	"slices"

	"github.com/roumu/roumu/ports"
)

// subscriptionCopy returns s as the store keeps it: its own slices, normalised instants.
func subscriptionCopy(s ports.WebhookSubscriptionRecord) ports.WebhookSubscriptionRecord {
	s.EventTypes = slices.Clone(s.EventTypes)
	s.SealedSecret, s.PreviousSealedSecret = bytes.Clone(s.SealedSecret), bytes.Clone(s.PreviousSealedSecret)
	s.PreviousSecretUntil, s.PausedAt = norm(s.PreviousSecretUntil), norm(s.PausedAt)
	s.CreatedAt, s.UpdatedAt = norm(s.CreatedAt), norm(s.UpdatedAt)
	return s
}

// deliveryCopy returns d as the store keeps it: its own Body, normalised instants.
func deliveryCopy(d ports.WebhookDeliveryRecord) ports.WebhookDeliveryRecord {
	d.Body = bytes.Clone(d.Body)
	d.LastAttemptAt, d.NextAttemptAt, d.CompletedAt = norm(d.LastAttemptAt), norm(d.NextAttemptAt), norm(d.CompletedAt)
	d.LeaseUntil, d.CreatedAt = norm(d.LeaseUntil), norm(d.CreatedAt)
	return d
}

// deliveryPair is what a delivery is unique by: an event is queued once per subscription.
type deliveryPair struct{ subscriptionID, eventID string }

func (s *Store) subscription(tenantID, id string) (ports.WebhookSubscriptionRecord, error) {
	return ofTenant(s.st.webhookSubs, func(r ports.WebhookSubscriptionRecord) string { return r.TenantID }, "webhook subscription", tenantID, id)
}

// CreateSubscription stores a new subscription; ErrConflict when its ID is taken, in any tenant.
func (s *Store) CreateSubscription(ctx context.Context, sub ports.WebhookSubscriptionRecord) error {
	defer s.lock(ctx)()
	if _, ok := s.st.webhookSubs[sub.ID]; ok {
		return conflict("webhook subscription", sub.ID)
	}
	s.st.webhookSubs[sub.ID] = subscriptionCopy(sub)
	return nil
}

// SubscriptionByID returns the subscription of tenantID; ErrNotFound otherwise.
func (s *Store) SubscriptionByID(ctx context.Context, tenantID, id string) (ports.WebhookSubscriptionRecord, error) {
	defer s.lock(ctx)()
	r, err := s.subscription(tenantID, id)
	return subscriptionCopy(r), err
}

// ListSubscriptions returns the tenant's subscriptions by CreatedAt, then ID.
func (s *Store) ListSubscriptions(ctx context.Context, tenantID string) ([]ports.WebhookSubscriptionRecord, error) {
	out := s.subscriptions(ctx, func(r ports.WebhookSubscriptionRecord) bool { return r.TenantID == tenantID })
	slices.SortFunc(out, func(a, b ports.WebhookSubscriptionRecord) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// ActiveSubscriptionsFor returns the tenant's active subscriptions that name eventType, by ID.
func (s *Store) ActiveSubscriptionsFor(ctx context.Context, tenantID, eventType string) ([]ports.WebhookSubscriptionRecord, error) {
	out := s.subscriptions(ctx, func(r ports.WebhookSubscriptionRecord) bool {
		return r.TenantID == tenantID && r.Status == ports.WebhookActive && slices.Contains(r.EventTypes, eventType)
	})
	slices.SortFunc(out, func(a, b ports.WebhookSubscriptionRecord) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// subscriptions returns copies of the subscriptions keep selects, in no order.
func (s *Store) subscriptions(ctx context.Context, keep func(ports.WebhookSubscriptionRecord) bool) []ports.WebhookSubscriptionRecord {
	defer s.lock(ctx)()
	out := []ports.WebhookSubscriptionRecord{}
	for _, r := range s.st.webhookSubs {
		if keep(r) {
			out = append(out, subscriptionCopy(r))
		}
	}
	return out
}

// UpdateSubscription gives fn a copy of the subscription under the store lock and stores the result with
// the next Version; what fn does to ID and TenantID is discarded.
func (s *Store) UpdateSubscription(ctx context.Context, tenantID, id string, fn func(*ports.WebhookSubscriptionRecord) error) (ports.WebhookSubscriptionRecord, error) {
	defer s.lock(ctx)()
	old, err := s.subscription(tenantID, id)
	if err != nil {
		return ports.WebhookSubscriptionRecord{}, err
	}
	r := subscriptionCopy(old)
	if err := fn(&r); err != nil {
		return ports.WebhookSubscriptionRecord{}, err
	}
	r.ID, r.TenantID, r.Version = old.ID, old.TenantID, old.Version+1
	s.st.webhookSubs[id] = subscriptionCopy(r)
	return subscriptionCopy(r), nil
}

// DeleteSubscription removes the subscription of tenantID and its deliveries; ErrNotFound otherwise.
func (s *Store) DeleteSubscription(ctx context.Context, tenantID, id string) error {
	defer s.lock(ctx)()
	if _, err := s.subscription(tenantID, id); err != nil {
		return err
	}
	delete(s.st.webhookSubs, id)
	for did, d := range s.st.deliveries {
		if d.SubscriptionID == id {
			delete(s.st.deliveries, did)
			delete(s.st.deliveryPairs, deliveryPair{d.SubscriptionID, d.EventID})
		}
	}
	return nil
}

// AddDeliveries stores the deliveries whose (SubscriptionID, EventID) is new, all or none: ErrConflict,
// storing nothing, when a delivery ID is taken.
func (s *Store) AddDeliveries(ctx context.Context, ds ...ports.WebhookDeliveryRecord) (int, error) {
	defer s.lock(ctx)()
	ids := map[string]bool{}
	for _, d := range ds {
		if _, ok := s.st.deliveries[d.ID]; ok || ids[d.ID] {
			return 0, conflict("webhook delivery", d.ID)
		}
		ids[d.ID] = true
	}
	n := 0
	for _, d := range ds {
		pair := deliveryPair{d.SubscriptionID, d.EventID}
		if _, ok := s.st.deliveryPairs[pair]; ok {
			continue
		}
		s.st.deliveryPairs[pair] = d.ID
		s.st.deliveries[d.ID] = deliveryCopy(d)
		n++
	}
	return n, nil
}

// ListDeliveries returns the deliveries of q's subscription in q's tenant, newest first (CreatedAt, then
// ID, descending), before (BeforeCreatedAt, BeforeID) when BeforeID is set, at most q.Limit (all when 0).
func (s *Store) ListDeliveries(ctx context.Context, q ports.WebhookDeliveryQuery) ([]ports.WebhookDeliveryRecord, error) {
	defer s.lock(ctx)()
	newestFirst := func(a, b ports.WebhookDeliveryRecord) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	}
	cursor := ports.WebhookDeliveryRecord{CreatedAt: norm(q.BeforeCreatedAt), ID: q.BeforeID}
	out := []ports.WebhookDeliveryRecord{}
	for _, d := range s.st.deliveries {
		if d.TenantID == q.TenantID && d.SubscriptionID == q.SubscriptionID && (q.Status == "" || d.Status == q.Status) &&
			(q.BeforeID == "" || newestFirst(d, cursor) > 0) {
			out = append(out, deliveryCopy(d))
		}
	}
	slices.SortFunc(out, newestFirst)
	return firstN(out, q.Limit), nil
}

// ClaimDueDeliveries leases the due deliveries of active subscriptions, oldest NextAttemptAt first (then
// by ID), at most c.Limit of them (all when 0): under the store lock, no two claims see the same one free.
func (s *Store) ClaimDueDeliveries(ctx context.Context, c ports.WebhookClaim) ([]ports.WebhookDeliveryRecord, error) {
	defer s.lock(ctx)()
	due := []ports.WebhookDeliveryRecord{}
	for _, d := range s.st.deliveries {
		sub := s.st.webhookSubs[d.SubscriptionID]
		if sub.Status == ports.WebhookActive && d.Status == ports.DeliveryPending &&
			!d.NextAttemptAt.After(c.Now) && !d.LeaseUntil.After(c.Now) {
			due = append(due, d)
		}
	}
	slices.SortFunc(due, func(a, b ports.WebhookDeliveryRecord) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	due = firstN(due, c.Limit)
	for i, d := range due {
		d.LeaseID, d.LeaseUntil = c.LeaseID, norm(c.LeaseUntil)
		s.st.deliveries[d.ID] = d
		due[i] = deliveryCopy(d)
	}
	return due, nil
}

// UpdateDelivery gives fn a copy of the delivery under the store lock and stores the result; what fn does
// to ID, TenantID, SubscriptionID and EventID is discarded.
func (s *Store) UpdateDelivery(ctx context.Context, tenantID, id string, fn func(*ports.WebhookDeliveryRecord) error) (ports.WebhookDeliveryRecord, error) {
	defer s.lock(ctx)()
	old, err := ofTenant(s.st.deliveries, func(r ports.WebhookDeliveryRecord) string { return r.TenantID }, "webhook delivery", tenantID, id)
	if err != nil {
		return ports.WebhookDeliveryRecord{}, err
	}
	d := deliveryCopy(old)
	if err := fn(&d); err != nil {
		return ports.WebhookDeliveryRecord{}, err
	}
	d.ID, d.TenantID, d.SubscriptionID, d.EventID = old.ID, old.TenantID, old.SubscriptionID, old.EventID
	s.st.deliveries[id] = deliveryCopy(d)
	return deliveryCopy(d), nil
}

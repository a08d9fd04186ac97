package webhooks_test

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/roumu/roumu/ports"
)

// fakeWebhooks is an in-test ports.WebhookStore until the memory and SQL adapters implement the port; it
// passes the contract suite in storecontract_test.go, which is meant to move to ports/porttest.
type fakeWebhooks struct {
	mu         sync.Mutex
	subs       map[fakeKey]ports.WebhookSubscriptionRecord
	deliveries map[fakeKey]ports.WebhookDeliveryRecord
}

type fakeKey struct{ tenantID, id string }

func newFakeWebhooks() *fakeWebhooks {
	return &fakeWebhooks{subs: map[fakeKey]ports.WebhookSubscriptionRecord{},
		deliveries: map[fakeKey]ports.WebhookDeliveryRecord{}}
}

func (f *fakeWebhooks) CreateSubscription(_ context.Context, s ports.WebhookSubscriptionRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.subs {
		if k.id == s.ID {
			return ports.ErrConflict
		}
	}
	f.subs[fakeKey{s.TenantID, s.ID}] = normSub(s)
	return nil
}

func (f *fakeWebhooks) SubscriptionByID(_ context.Context, tenantID, id string) (ports.WebhookSubscriptionRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.subs[fakeKey{tenantID, id}]
	if !ok {
		return ports.WebhookSubscriptionRecord{}, ports.ErrNotFound
	}
	return normSub(s), nil
}

func (f *fakeWebhooks) ListSubscriptions(_ context.Context, tenantID string) ([]ports.WebhookSubscriptionRecord, error) {
	out := f.subsWhere(func(s ports.WebhookSubscriptionRecord) bool { return s.TenantID == tenantID })
	slices.SortFunc(out, func(a, b ports.WebhookSubscriptionRecord) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (f *fakeWebhooks) ActiveSubscriptionsFor(_ context.Context, tenantID, eventType string) ([]ports.WebhookSubscriptionRecord, error) {
	out := f.subsWhere(func(s ports.WebhookSubscriptionRecord) bool {
		return s.TenantID == tenantID && s.Status == ports.WebhookActive && slices.Contains(s.EventTypes, eventType)
	})
	slices.SortFunc(out, func(a, b ports.WebhookSubscriptionRecord) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (f *fakeWebhooks) subsWhere(keep func(ports.WebhookSubscriptionRecord) bool) []ports.WebhookSubscriptionRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []ports.WebhookSubscriptionRecord{}
	for _, s := range f.subs {
		if keep(s) {
			out = append(out, normSub(s))
		}
	}
	return out
}

func (f *fakeWebhooks) UpdateSubscription(_ context.Context, tenantID, id string, fn func(*ports.WebhookSubscriptionRecord) error) (ports.WebhookSubscriptionRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := fakeKey{tenantID, id}
	s, ok := f.subs[k]
	if !ok {
		return ports.WebhookSubscriptionRecord{}, ports.ErrNotFound
	}
	s = normSub(s)
	if err := fn(&s); err != nil {
		return ports.WebhookSubscriptionRecord{}, err
	}
	s.ID, s.TenantID, s.Version = id, tenantID, f.subs[k].Version+1
	f.subs[k] = normSub(s)
	return normSub(s), nil
}

func (f *fakeWebhooks) DeleteSubscription(_ context.Context, tenantID, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := fakeKey{tenantID, id}
	if _, ok := f.subs[k]; !ok {
		return ports.ErrNotFound
	}
	delete(f.subs, k)
	for dk, d := range f.deliveries {
		if d.TenantID == tenantID && d.SubscriptionID == id {
			delete(f.deliveries, dk)
		}
	}
	return nil
}

func (f *fakeWebhooks) AddDeliveries(_ context.Context, ds ...ports.WebhookDeliveryRecord) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	type pair struct{ sub, event string }
	taken := map[pair]bool{}
	for _, d := range f.deliveries {
		taken[pair{d.SubscriptionID, d.EventID}] = true
	}
	n := 0
	for _, d := range ds {
		if _, ok := f.deliveries[fakeKey{d.TenantID, d.ID}]; ok {
			return 0, ports.ErrConflict
		}
		if taken[pair{d.SubscriptionID, d.EventID}] {
			continue
		}
		taken[pair{d.SubscriptionID, d.EventID}] = true
		f.deliveries[fakeKey{d.TenantID, d.ID}] = normDelivery(d)
		n++
	}
	return n, nil
}

func (f *fakeWebhooks) ListDeliveries(_ context.Context, q ports.WebhookDeliveryQuery) ([]ports.WebhookDeliveryRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	before := utcMicros(q.BeforeCreatedAt)
	out := []ports.WebhookDeliveryRecord{}
	for _, d := range f.deliveries {
		if d.TenantID != q.TenantID || d.SubscriptionID != q.SubscriptionID || q.Status != "" && d.Status != q.Status {
			continue
		}
		if q.BeforeID != "" && cmp.Or(d.CreatedAt.Compare(before), cmp.Compare(d.ID, q.BeforeID)) >= 0 {
			continue
		}
		out = append(out, normDelivery(d))
	}
	slices.SortFunc(out, func(a, b ports.WebhookDeliveryRecord) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (f *fakeWebhooks) ClaimDueDeliveries(_ context.Context, c ports.WebhookClaim) ([]ports.WebhookDeliveryRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var due []fakeKey
	for k, d := range f.deliveries {
		sub, ok := f.subs[fakeKey{d.TenantID, d.SubscriptionID}]
		if ok && sub.Status == ports.WebhookActive && d.Status == ports.DeliveryPending &&
			!d.NextAttemptAt.After(c.Now) && !d.LeaseUntil.After(c.Now) {
			due = append(due, k)
		}
	}
	slices.SortFunc(due, func(a, b fakeKey) int {
		da, db := f.deliveries[a], f.deliveries[b]
		return cmp.Or(da.NextAttemptAt.Compare(db.NextAttemptAt), cmp.Compare(da.ID, db.ID))
	})
	if c.Limit > 0 && len(due) > c.Limit {
		due = due[:c.Limit]
	}
	out := make([]ports.WebhookDeliveryRecord, 0, len(due))
	for _, k := range due {
		d := f.deliveries[k]
		d.LeaseID, d.LeaseUntil = c.LeaseID, utcMicros(c.LeaseUntil)
		f.deliveries[k] = d
		out = append(out, normDelivery(d))
	}
	return out, nil
}

func (f *fakeWebhooks) UpdateDelivery(_ context.Context, tenantID, id string, fn func(*ports.WebhookDeliveryRecord) error) (ports.WebhookDeliveryRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := fakeKey{tenantID, id}
	d, ok := f.deliveries[k]
	if !ok {
		return ports.WebhookDeliveryRecord{}, ports.ErrNotFound
	}
	d = normDelivery(d)
	if err := fn(&d); err != nil {
		return ports.WebhookDeliveryRecord{}, err
	}
	old := f.deliveries[k]
	d.ID, d.TenantID, d.SubscriptionID, d.EventID = old.ID, old.TenantID, old.SubscriptionID, old.EventID
	f.deliveries[k] = normDelivery(d)
	return normDelivery(d), nil
}

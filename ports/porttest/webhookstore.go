package porttest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// newSubscription returns an active subscription of tenantID to types, with every always-set field set.
func newSubscription(tenantID, id string, types ...string) ports.WebhookSubscriptionRecord {
	return ports.WebhookSubscriptionRecord{ID: id, TenantID: tenantID, URL: "https://hooks.example.com/roumu?k=1",
		Description: "給与システム連携", EventTypes: types, SealedSecret: randomBytes(24),
		Status: ports.WebhookActive, CreatedBy: "acc-1", Version: 1, CreatedAt: at(0), UpdatedAt: at(0)}
}

// newDelivery returns a pending delivery of sub's for eventID, due (and created) at due.
func newDelivery(sub ports.WebhookSubscriptionRecord, id, eventID string, due time.Time) ports.WebhookDeliveryRecord {
	return ports.WebhookDeliveryRecord{ID: id, TenantID: sub.TenantID, SubscriptionID: sub.ID, EventID: eventID,
		EventType: "employee.hired", Body: []byte(`{"id":"` + eventID + `",  "data":{"name":"\u5c71\u7530"}}`),
		Status: ports.DeliveryPending, NextAttemptAt: due, CreatedAt: due}
}

func checkSubscription(t *testing.T, got, want ports.WebhookSubscriptionRecord) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "TenantID", got.TenantID, want.TenantID)
	checkEq(t, "URL", got.URL, want.URL)
	checkEq(t, "Description", got.Description, want.Description)
	checkStrings(t, "EventTypes", got.EventTypes, want.EventTypes)
	checkBytes(t, "SealedSecret", got.SealedSecret, want.SealedSecret)
	checkBytes(t, "PreviousSealedSecret", got.PreviousSealedSecret, want.PreviousSealedSecret)
	checkTime(t, "PreviousSecretUntil", got.PreviousSecretUntil, want.PreviousSecretUntil)
	checkEq(t, "Status", got.Status, want.Status)
	checkTime(t, "PausedAt", got.PausedAt, want.PausedAt)
	checkEq(t, "PauseReason", got.PauseReason, want.PauseReason)
	checkEq(t, "PauseDetail", got.PauseDetail, want.PauseDetail)
	checkEq(t, "CreatedBy", got.CreatedBy, want.CreatedBy)
	checkEq(t, "Version", got.Version, want.Version)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkDelivery(t *testing.T, got, want ports.WebhookDeliveryRecord) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "TenantID", got.TenantID, want.TenantID)
	checkEq(t, "SubscriptionID", got.SubscriptionID, want.SubscriptionID)
	checkEq(t, "EventID", got.EventID, want.EventID)
	checkEq(t, "EventType", got.EventType, want.EventType)
	checkBytes(t, "Body", got.Body, want.Body)
	checkEq(t, "Status", got.Status, want.Status)
	checkEq(t, "Attempts", got.Attempts, want.Attempts)
	checkEq(t, "LastStatusCode", got.LastStatusCode, want.LastStatusCode)
	checkEq(t, "LastError", got.LastError, want.LastError)
	checkTime(t, "LastAttemptAt", got.LastAttemptAt, want.LastAttemptAt)
	checkTime(t, "NextAttemptAt", got.NextAttemptAt, want.NextAttemptAt)
	checkTime(t, "CompletedAt", got.CompletedAt, want.CompletedAt)
	checkEq(t, "LeaseID", got.LeaseID, want.LeaseID)
	checkTime(t, "LeaseUntil", got.LeaseUntil, want.LeaseUntil)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
}

func subscriptionIDs(ss []ports.WebhookSubscriptionRecord) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}

func deliveryIDs(ds []ports.WebhookDeliveryRecord) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// webhookFixture is Stores with the WebhookStore, and two tenants.
type webhookFixture struct {
	s      Stores
	wh     ports.WebhookStore
	t1, t2 string
}

func newWebhookFixture(t *testing.T, factory Factory) webhookFixture {
	t.Helper()
	// Real tenants, so that an SQL store may keep foreign keys to them.
	s := open(t, factory, "Tenants", "Webhooks")
	return webhookFixture{s: s, wh: s.Webhooks, t1: createTenant(t, s, "t"+newID()[:8]).ID, t2: createTenant(t, s, "t"+newID()[:8]).ID}
}

func (f webhookFixture) subscribe(t *testing.T, subs ...ports.WebhookSubscriptionRecord) {
	t.Helper()
	for _, s := range subs {
		must(t, f.wh.CreateSubscription(t.Context(), s), "CreateSubscription "+s.ID)
	}
}

// add stores deliveries that are all new.
func (f webhookFixture) add(t *testing.T, ds ...ports.WebhookDeliveryRecord) {
	t.Helper()
	n, err := f.wh.AddDeliveries(t.Context(), ds...)
	must(t, err, "AddDeliveries")
	checkEq(t, "deliveries added", n, len(ds))
}

// subscribed returns a new active subscription of t1 to employee.hired.
func (f webhookFixture) subscribed(t *testing.T, id string) ports.WebhookSubscriptionRecord {
	t.Helper()
	s := newSubscription(f.t1, id, "employee.hired")
	f.subscribe(t, s)
	return s
}

// deliveries returns every delivery of sub, newest first.
func (f webhookFixture) deliveries(t *testing.T, sub ports.WebhookSubscriptionRecord) []ports.WebhookDeliveryRecord {
	t.Helper()
	list, err := f.wh.ListDeliveries(t.Context(), ports.WebhookDeliveryQuery{TenantID: sub.TenantID, SubscriptionID: sub.ID})
	must(t, err, "ListDeliveries")
	return list
}

func (f webhookFixture) checkStored(t *testing.T, want ports.WebhookSubscriptionRecord) {
	t.Helper()
	got, err := f.wh.SubscriptionByID(t.Context(), want.TenantID, want.ID)
	must(t, err, "SubscriptionByID")
	checkSubscription(t, got, want)
}

func (f webhookFixture) claim(t *testing.T, c ports.WebhookClaim) []string {
	t.Helper()
	got, err := f.wh.ClaimDueDeliveries(t.Context(), c)
	must(t, err, "ClaimDueDeliveries")
	for _, d := range got {
		checkEq(t, d.ID+".LeaseID", d.LeaseID, c.LeaseID)
		checkTime(t, d.ID+".LeaseUntil", d.LeaseUntil, c.LeaseUntil)
	}
	return deliveryIDs(got)
}

// TestWebhookStore is the contract suite of ports.WebhookStore. It uses the TenantStore to create the tenants
// that subscriptions belong to. Interpretations of what the port leaves open:
//   - Subscription IDs are unique across tenants (ErrConflict), and another tenant's subscription or
//     delivery is ErrNotFound for every call.
//   - An update function cannot change a subscription's ID, TenantID or Version, nor a delivery's ID,
//     TenantID, SubscriptionID or EventID.
//   - AddDeliveries with a delivery ID already stored is ErrConflict and stores none of its deliveries.
//   - A claim with Limit 0 claims every due delivery.
func TestWebhookStore(t *testing.T, factory Factory) {
	t.Run("SubscriptionRoundTrip", func(t *testing.T) {
		t.Parallel()
		f := newWebhookFixture(t, factory)
		a := newSubscription(f.t1, "s-a", "employee.hired", "employee.changed")
		a.PausedAt, a.PreviousSealedSecret, a.PreviousSecretUntil = at(time.Hour), randomBytes(24), at(24*time.Hour)
		a.Status, a.PauseReason, a.PauseDetail = ports.WebhookPaused, ports.WebhookPausedGone, "HTTP 410"
		b := newSubscription(f.t1, "s-b", "employee.hired")
		b.CreatedAt = at(-time.Minute)
		c := newSubscription(f.t1, "s-0", "employee.hired")
		c.CreatedAt = at(0) // with s-a: by ID
		f.subscribe(t, a, b, c, newSubscription(f.t2, "s-c", "employee.hired"))
		f.checkStored(t, a)
		f.checkStored(t, b) // no previous secret, pause or types beyond one
		list, err := f.wh.ListSubscriptions(t.Context(), f.t1)
		must(t, err, "ListSubscriptions")
		checkStrings(t, "ListSubscriptions", subscriptionIDs(list), []string{"s-b", "s-0", "s-a"})
		checkSubscription(t, list[2], a)
	})

	t.Run("SubscriptionIDConflict", func(t *testing.T) {
		t.Parallel()
		f := newWebhookFixture(t, factory)
		a := newSubscription(f.t1, "s-a", "employee.hired")
		f.subscribe(t, a)
		for _, tenant := range []string{f.t1, f.t2} {
			checkIs(t, "CreateSubscription(taken ID)", f.wh.CreateSubscription(t.Context(), newSubscription(tenant, "s-a")), ports.ErrConflict)
		}
		f.checkStored(t, a)
	})

	t.Run("SubscriptionTenantScoping", func(t *testing.T) {
		t.Parallel()
		f := newWebhookFixture(t, factory)
		a := newSubscription(f.t1, "s-a", "employee.hired")
		f.subscribe(t, a)
		ctx := t.Context()
		for _, tenant := range []string{f.t2, ""} {
			_, err := f.wh.SubscriptionByID(ctx, tenant, a.ID)
			checkIs(t, "SubscriptionByID(other tenant)", err, ports.ErrNotFound)
			_, err = f.wh.UpdateSubscription(ctx, tenant, a.ID, func(r *ports.WebhookSubscriptionRecord) error {
				r.URL = "https://evil.example.com/"
				return nil
			})
			checkIs(t, "UpdateSubscription(other tenant)", err, ports.ErrNotFound)
			checkIs(t, "DeleteSubscription(other tenant)", f.wh.DeleteSubscription(ctx, tenant, a.ID), ports.ErrNotFound)
			list, err := f.wh.ListSubscriptions(ctx, tenant)
			must(t, err, "ListSubscriptions(other tenant)")
			checkEq(t, "len(ListSubscriptions(other tenant))", len(list), 0)
			active, err := f.wh.ActiveSubscriptionsFor(ctx, tenant, "employee.hired")
			must(t, err, "ActiveSubscriptionsFor(other tenant)")
			checkEq(t, "len(ActiveSubscriptionsFor(other tenant))", len(active), 0)
		}
		checkIs(t, "DeleteSubscription(unknown)", f.wh.DeleteSubscription(ctx, f.t1, newID()), ports.ErrNotFound)
		f.checkStored(t, a)
	})

	t.Run("UpdateSubscription", func(t *testing.T) {
		t.Parallel()
		f := newWebhookFixture(t, factory)
		s := f.subscribed(t, "s-1")
		_, err := f.wh.UpdateSubscription(t.Context(), f.t1, s.ID, func(r *ports.WebhookSubscriptionRecord) error {
			r.URL = "https://changed.example.com/"
			return errBoom
		})
		checkIs(t, "UpdateSubscription(fn fails)", err, errBoom)
		f.checkStored(t, s)
		want := s
		want.EventTypes, want.Status, want.PausedAt, want.Version = []string{"employee.hired", "dependent.added"}, ports.WebhookPaused, at(time.Hour), 2
		want.PreviousSealedSecret, want.PreviousSecretUntil, want.SealedSecret = s.SealedSecret, at(24*time.Hour), randomBytes(24)
		got, err := f.wh.UpdateSubscription(t.Context(), f.t1, s.ID, func(r *ports.WebhookSubscriptionRecord) error {
			checkSubscription(t, *r, s) // fn sees the stored record
			r.EventTypes, r.Status, r.PausedAt = want.EventTypes, want.Status, want.PausedAt
			r.PreviousSealedSecret, r.PreviousSecretUntil, r.SealedSecret = want.PreviousSealedSecret, want.PreviousSecretUntil, want.SealedSecret
			r.ID, r.TenantID, r.Version = newID(), f.t2, 42 // the identity and the version are not fn's to change
			return nil
		})
		must(t, err, "UpdateSubscription")
		checkSubscription(t, got, want)
		f.checkStored(t, want)
	})

	t.Run("ConcurrentUpdateSubscription", func(t *testing.T) {
		t.Parallel()
		f := newWebhookFixture(t, factory)
		s := f.subscribed(t, "s-1")
		const racers = 20
		concurrently(racers, func(int) {
			_, err := f.wh.UpdateSubscription(t.Context(), f.t1, s.ID, func(r *ports.WebhookSubscriptionRecord) error {
				r.Description += "x"
				return nil
			})
			if err != nil {
				t.Errorf("concurrent UpdateSubscription: %v", err)
			}
		})
		got, err := f.wh.SubscriptionByID(t.Context(), f.t1, s.ID)
		must(t, err, "SubscriptionByID")
		checkEq(t, "Description after racing appends", len(got.Description), len(s.Description)+racers)
		checkEq(t, "Version after racing updates", got.Version, s.Version+racers)
	})

	t.Run("ActiveSubscriptionsFor", func(t *testing.T) {
		t.Parallel()
		f := newWebhookFixture(t, factory)
		paused := newSubscription(f.t1, "s-4", "employee.hired")
		paused.Status = ports.WebhookPaused
		f.subscribe(t, newSubscription(f.t1, "s-2", "employee.hired", "employee.separated"),
			newSubscription(f.t1, "s-1", "employee.hired"), newSubscription(f.t1, "s-3", "employee.changed"),
			paused, newSubscription(f.t2, "s-5", "employee.hired"), newSubscription(f.t1, "s-6"))
		for _, tc := range []struct {
			eventType string
			want      []string
		}{
			{"employee.hired", []string{"s-1", "s-2"}},
			{"employee.separated", []string{"s-2"}},
			{"employee", nil}, // a prefix of a type is not the type
			{"", nil},
		} {
			got, err := f.wh.ActiveSubscriptionsFor(t.Context(), f.t1, tc.eventType)
			must(t, err, "ActiveSubscriptionsFor")
			checkStrings(t, "ActiveSubscriptionsFor("+tc.eventType+")", subscriptionIDs(got), tc.want)
		}
	})

	t.Run("DeliveriesUniquePerSubscriptionAndEvent", func(t *testing.T) {
		t.Parallel()
		f := newWebhookFixture(t, factory)
		s1, s2 := newSubscription(f.t1, "s-1", "employee.hired"), newSubscription(f.t1, "s-2", "employee.hired")
		f.subscribe(t, s1, s2)
		d := newDelivery(s1, "d-1", "ev-1", at(0))
		d.Attempts, d.LastStatusCode, d.LastError, d.LastAttemptAt = 2, 503, "HTTP 503", at(time.Minute)
		d.LeaseID, d.LeaseUntil = "lease-0", at(2*time.Minute)
		f.add(t, d, newDelivery(s2, "d-2", "ev-1", at(0)))
		n, err := f.wh.AddDeliveries(t.Context(), newDelivery(s1, "d-3", "ev-1", at(time.Hour)),
			newDelivery(s1, "d-4", "ev-2", at(0)), newDelivery(s1, "d-5", "ev-2", at(0)))
		must(t, err, "AddDeliveries(repeats)")
		checkEq(t, "deliveries added among repeats", n, 1)
		n, err = f.wh.AddDeliveries(t.Context())
		must(t, err, "AddDeliveries()")
		checkEq(t, "deliveries added by none", n, 0)
		_, err = f.wh.AddDeliveries(t.Context(), newDelivery(s1, "d-6", "ev-6", at(0)), newDelivery(s2, "d-1", "ev-7", at(0)))
		checkIs(t, "AddDeliveries(taken delivery ID)", err, ports.ErrConflict)
		list := f.deliveries(t, s1)
		if len(list) != 2 {
			t.Fatalf("deliveries of s-1 = %v, want d-1 and d-4", deliveryIDs(list))
		}
		i := slices.IndexFunc(list, func(r ports.WebhookDeliveryRecord) bool { return r.ID == "d-1" })
		if i < 0 {
			t.Fatalf("d-1 missing from %v", deliveryIDs(list))
		}
		checkDelivery(t, list[i], d)

		const racers = 20
		var mu sync.Mutex
		stored := 0
		concurrently(racers, func(i int) {
			n, err := f.wh.AddDeliveries(t.Context(), newDelivery(s2, fmt.Sprintf("race-%d", i), "ev-race", at(0)))
			if err != nil {
				t.Errorf("racing AddDeliveries: %v", err)
			}
			mu.Lock()
			stored += n
			mu.Unlock()
		})
		checkEq(t, "deliveries stored by racing adds of one event", stored, 1)
	})

	t.Run("ListDeliveries", func(t *testing.T) {
		t.Parallel()
		f := newWebhookFixture(t, factory)
		s := newSubscription(f.t1, "s-1", "employee.hired")
		other := newSubscription(f.t1, "s-2", "employee.hired")
		f.subscribe(t, s, other, newSubscription(f.t2, "s-3", "employee.hired"))
		var all []ports.WebhookDeliveryRecord
		for i := range 7 {
			d := newDelivery(s, fmt.Sprintf("d-%d", i), fmt.Sprintf("ev-%d", i), at(time.Duration(i/2)*time.Second))
			if i == 3 {
				d.Status = ports.DeliveryFailed
			}
			all = append(all, d)
		}
		f.add(t, append(all, newDelivery(other, "d-9", "ev-0", at(time.Hour)))...)
		// Newest first, by CreatedAt then ID, in keyset pages of 3 (the cursor in another zone).
		q := ports.WebhookDeliveryQuery{TenantID: f.t1, SubscriptionID: s.ID, Limit: 3}
		var pages []string
		for range 5 {
			page, err := f.wh.ListDeliveries(t.Context(), q)
			must(t, err, "ListDeliveries")
			if len(page) == 0 {
				break
			}
			pages = append(pages, deliveryIDs(page)...)
			last := page[len(page)-1]
			q.BeforeCreatedAt, q.BeforeID = last.CreatedAt.In(jst), last.ID
		}
		checkStrings(t, "pages", pages, []string{"d-6", "d-5", "d-4", "d-3", "d-2", "d-1", "d-0"})
		failed, err := f.wh.ListDeliveries(t.Context(), ports.WebhookDeliveryQuery{TenantID: f.t1, SubscriptionID: s.ID, Status: ports.DeliveryFailed})
		must(t, err, "ListDeliveries(failed)")
		checkStrings(t, "failed deliveries", deliveryIDs(failed), []string{"d-3"})
		if len(failed) == 1 {
			checkDelivery(t, failed[0], all[3])
		}
		for _, tenant := range []string{f.t2, ""} {
			got, err := f.wh.ListDeliveries(t.Context(), ports.WebhookDeliveryQuery{TenantID: tenant, SubscriptionID: s.ID})
			must(t, err, "ListDeliveries(other tenant)")
			checkStrings(t, "deliveries listed by another tenant", deliveryIDs(got), nil)
			_, err = f.wh.UpdateDelivery(t.Context(), tenant, "d-1", func(*ports.WebhookDeliveryRecord) error { return nil })
			checkIs(t, "UpdateDelivery(other tenant)", err, ports.ErrNotFound)
		}
	})

	t.Run("ClaimDueDeliveries", func(t *testing.T) {
		t.Parallel()
		f := newWebhookFixture(t, factory)
		s := newSubscription(f.t1, "s-1", "employee.hired")
		paused := newSubscription(f.t2, "s-p", "employee.hired")
		paused.Status = ports.WebhookPaused
		f.subscribe(t, s, paused)
		done := newDelivery(s, "d-done", "ev-done", at(-time.Hour))
		done.Status = ports.DeliverySucceeded
		failed := newDelivery(s, "d-failed", "ev-failed", at(-time.Hour))
		failed.Status = ports.DeliveryFailed
		early := newDelivery(s, "d-early", "ev-2", at(-time.Hour))
		f.add(t, newDelivery(s, "d-late", "ev-1", at(-time.Minute)), early, newDelivery(s, "d-now", "ev-3", at(0)),
			newDelivery(s, "d-future", "ev-4", at(time.Second)), newDelivery(paused, "d-paused", "ev-5", at(-time.Hour)),
			done, failed)
		// Oldest NextAttemptAt first, at most Limit.
		claim := ports.WebhookClaim{Now: at(0), Limit: 2, LeaseID: "lease-1", LeaseUntil: at(2 * time.Minute)}
		checkStrings(t, "first claim", f.claim(t, claim), []string{"d-early", "d-late"})
		// Leased, future, paused and finished deliveries are not due; NextAttemptAt == Now is.
		claim.LeaseID, claim.Limit = "lease-2", 10
		checkStrings(t, "second claim", f.claim(t, claim), []string{"d-now"})
		// Once a lease has run out (LeaseUntil == Now), the delivery is claimed again; Limit 0 claims all.
		claim.LeaseID, claim.Now, claim.LeaseUntil, claim.Limit = "lease-3", at(2*time.Minute), at(4*time.Minute), 0
		checkStrings(t, "claim after the leases ran out", f.claim(t, claim), []string{"d-early", "d-late", "d-now", "d-future"})
		// The claim is stored: the delivery's record says who holds it, and nothing else changed.
		want := early
		want.LeaseID, want.LeaseUntil = claim.LeaseID, claim.LeaseUntil
		_, err := f.wh.UpdateDelivery(t.Context(), f.t1, early.ID, func(d *ports.WebhookDeliveryRecord) error {
			checkDelivery(t, *d, want)
			return errBoom
		})
		checkIs(t, "UpdateDelivery(fn fails)", err, errBoom)
		// Resuming a subscription makes its due deliveries claimable.
		_, err = f.wh.UpdateSubscription(t.Context(), f.t2, paused.ID, func(r *ports.WebhookSubscriptionRecord) error {
			r.Status = ports.WebhookActive
			return nil
		})
		must(t, err, "UpdateSubscription(resume)")
		claim.LeaseID = "lease-4"
		checkStrings(t, "claim after resuming", f.claim(t, claim), []string{"d-paused"})
	})

	t.Run("RacingClaims", func(t *testing.T) {
		t.Parallel()
		f := newWebhookFixture(t, factory)
		s := f.subscribed(t, "s-1")
		const due = 40
		var ds []ports.WebhookDeliveryRecord
		for i := range due {
			ds = append(ds, newDelivery(s, fmt.Sprintf("d-%02d", i), fmt.Sprintf("ev-%02d", i), at(time.Duration(-i)*time.Second)))
		}
		f.add(t, ds...)
		var mu sync.Mutex
		leased := map[string]string{}
		// 20 claims of 3 are room for 60: every due delivery is leased, and none twice.
		concurrently(20, func(i int) {
			lease := fmt.Sprintf("lease-%d", i)
			got, err := f.wh.ClaimDueDeliveries(t.Context(), ports.WebhookClaim{Now: at(0), Limit: 3, LeaseID: lease, LeaseUntil: at(time.Minute)})
			if err != nil {
				t.Errorf("racing ClaimDueDeliveries: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, d := range got {
				if prev, dup := leased[d.ID]; dup {
					t.Errorf("%s leased by %s and %s", d.ID, prev, lease)
				}
				leased[d.ID] = lease
			}
		})
		checkEq(t, "deliveries leased by 20 claims of 3", len(leased), due)
	})

	t.Run("UpdateDelivery", func(t *testing.T) {
		t.Parallel()
		f := newWebhookFixture(t, factory)
		s := f.subscribed(t, "s-1")
		d := newDelivery(s, "d-1", "ev-1", at(0))
		f.add(t, d)
		_, err := f.wh.UpdateDelivery(t.Context(), f.t1, newID(), func(*ports.WebhookDeliveryRecord) error { return nil })
		checkIs(t, "UpdateDelivery(unknown)", err, ports.ErrNotFound)
		want := d
		want.Status, want.Attempts, want.LastStatusCode, want.LastError = ports.DeliverySucceeded, 1, 204, ""
		want.LastAttemptAt, want.CompletedAt, want.NextAttemptAt = at(time.Minute), at(time.Minute), time.Time{}
		got, err := f.wh.UpdateDelivery(t.Context(), f.t1, d.ID, func(r *ports.WebhookDeliveryRecord) error {
			checkDelivery(t, *r, d) // fn sees the stored record
			r.Status, r.Attempts, r.LastStatusCode = want.Status, want.Attempts, want.LastStatusCode
			r.LastAttemptAt, r.CompletedAt, r.NextAttemptAt = want.LastAttemptAt, want.CompletedAt, want.NextAttemptAt
			r.ID, r.TenantID, r.SubscriptionID, r.EventID = newID(), f.t2, newID(), newID() // not fn's to change
			return nil
		})
		must(t, err, "UpdateDelivery")
		checkDelivery(t, got, want)
		list := f.deliveries(t, s)
		checkEq(t, "len(ListDeliveries)", len(list), 1)
		checkDelivery(t, list[0], want)
	})

	t.Run("ConcurrentUpdateDelivery", func(t *testing.T) {
		t.Parallel()
		f := newWebhookFixture(t, factory)
		s := f.subscribed(t, "s-1")
		f.add(t, newDelivery(s, "d-1", "ev-1", at(0)))
		const racers = 20
		concurrently(racers, func(int) {
			_, err := f.wh.UpdateDelivery(t.Context(), f.t1, "d-1", func(r *ports.WebhookDeliveryRecord) error {
				r.Attempts++
				r.LastAttemptAt, r.LastStatusCode = at(time.Duration(r.Attempts)*time.Minute), 500
				return nil
			})
			if err != nil {
				t.Errorf("concurrent UpdateDelivery: %v", err)
			}
		})
		list := f.deliveries(t, s)
		if len(list) != 1 {
			t.Fatalf("ListDeliveries = %v, want d-1", deliveryIDs(list))
		}
		checkEq(t, "Attempts after racing updates", list[0].Attempts, racers)
		checkTime(t, "LastAttemptAt", list[0].LastAttemptAt, at(racers*time.Minute))
	})

	t.Run("DeleteSubscription", func(t *testing.T) {
		t.Parallel()
		f := newWebhookFixture(t, factory)
		s1, s2 := newSubscription(f.t1, "s-1", "employee.hired"), newSubscription(f.t1, "s-2", "employee.hired")
		f.subscribe(t, s1, s2)
		f.add(t, newDelivery(s1, "d-1", "ev-1", at(0)), newDelivery(s2, "d-2", "ev-1", at(0)))
		must(t, f.wh.DeleteSubscription(t.Context(), f.t1, s1.ID), "DeleteSubscription")
		_, err := f.wh.SubscriptionByID(t.Context(), f.t1, s1.ID)
		checkIs(t, "SubscriptionByID(deleted)", err, ports.ErrNotFound)
		_, err = f.wh.UpdateDelivery(t.Context(), f.t1, "d-1", func(*ports.WebhookDeliveryRecord) error { return nil })
		checkIs(t, "UpdateDelivery(of a deleted subscription)", err, ports.ErrNotFound)
		checkStrings(t, "claim", f.claim(t, ports.WebhookClaim{Now: at(0), Limit: 10, LeaseID: "l", LeaseUntil: at(time.Minute)}), []string{"d-2"})
		f.checkStored(t, s2)
		// The deleted subscription's IDs and events are free again.
		f.subscribe(t, s1)
		f.add(t, newDelivery(s1, "d-1", "ev-1", at(0)))
	})
}

package webhooks_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// This file is the contract suite of ports.WebhookStore, written in the style of ports/porttest so that it
// can move there (as TestWebhookStore(t, factory)) once the memory and SQL adapters implement the port. Until
// then it runs against the in-test fake (fakestore_test.go).

func TestWebhookStoreContract(t *testing.T) {
	t.Parallel()
	testWebhookStore(t, func(*testing.T) ports.WebhookStore { return newFakeWebhooks() })
}

// contractZone is the zone of the suite's inputs: not UTC, so a store that keeps the wall clock fails.
var contractZone = time.FixedZone("JST", 9*60*60)

var contractT0 = time.Date(2026, time.April, 1, 9, 30, 15, 123456789, contractZone)

func wat(d time.Duration) time.Time { return contractT0.Add(d) }

func sampleSub(tenantID, id string, types ...string) ports.WebhookSubscriptionRecord {
	return ports.WebhookSubscriptionRecord{ID: id, TenantID: tenantID, URL: "https://hooks.example.com/roumu?k=1",
		Description: "給与システム連携", EventTypes: types, SealedSecret: []byte{1, 2, 3, 0, 255},
		Status: ports.WebhookActive, CreatedBy: "acc-1", Version: 1, CreatedAt: wat(0), UpdatedAt: wat(0)}
}

func sampleDelivery(sub ports.WebhookSubscriptionRecord, id, eventID string, due time.Time) ports.WebhookDeliveryRecord {
	return ports.WebhookDeliveryRecord{ID: id, TenantID: sub.TenantID, SubscriptionID: sub.ID, EventID: eventID,
		EventType: "employee.hired", Body: []byte(`{"id":"` + eventID + `"}`), Status: ports.DeliveryPending,
		NextAttemptAt: due, CreatedAt: due}
}

// sameRecord compares records as stored: instants in UTC at microsecond precision, nil and empty alike.
func sameRecord[T any](t *testing.T, got, want T, norm func(T) T) {
	t.Helper()
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Errorf("record = %+v\nwant %+v", g, w)
	}
}

// normSub returns s as a store keeps it: instants in UTC at microsecond precision, slices of its own, nil and
// empty alike.
func normSub(s ports.WebhookSubscriptionRecord) ports.WebhookSubscriptionRecord {
	s.EventTypes = slices.Clone(s.EventTypes)
	s.SealedSecret, s.PreviousSealedSecret = bytes.Clone(s.SealedSecret), bytes.Clone(s.PreviousSealedSecret)
	if len(s.PreviousSealedSecret) == 0 {
		s.PreviousSealedSecret = nil
	}
	if len(s.EventTypes) == 0 {
		s.EventTypes = nil
	}
	for _, t := range []*time.Time{&s.PreviousSecretUntil, &s.PausedAt, &s.CreatedAt, &s.UpdatedAt} {
		*t = utcMicros(*t)
	}
	return s
}

// normDelivery returns d as a store keeps it.
func normDelivery(d ports.WebhookDeliveryRecord) ports.WebhookDeliveryRecord {
	d.Body = bytes.Clone(d.Body)
	if len(d.Body) == 0 {
		d.Body = nil
	}
	for _, t := range []*time.Time{&d.LastAttemptAt, &d.NextAttemptAt, &d.CompletedAt, &d.LeaseUntil, &d.CreatedAt} {
		*t = utcMicros(*t)
	}
	return d
}

func utcMicros(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

func deliveryIDs(ds []ports.WebhookDeliveryRecord) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func subIDs(ss []ports.WebhookSubscriptionRecord) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func mustCreateSub(t *testing.T, st ports.WebhookStore, s ports.WebhookSubscriptionRecord) {
	t.Helper()
	if err := st.CreateSubscription(t.Context(), s); err != nil {
		t.Fatalf("CreateSubscription(%s): %v", s.ID, err)
	}
}

func mustAdd(t *testing.T, st ports.WebhookStore, ds ...ports.WebhookDeliveryRecord) {
	t.Helper()
	if n, err := st.AddDeliveries(t.Context(), ds...); err != nil || n != len(ds) {
		t.Fatalf("AddDeliveries = %d, %v; want %d", n, err, len(ds))
	}
}

func testWebhookStore(t *testing.T, newStore func(*testing.T) ports.WebhookStore) {
	t.Run("subscriptions round-trip, scoped by tenant", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		a := sampleSub("t1", "s-a", "employee.hired", "employee.changed")
		a.PausedAt, a.PreviousSealedSecret, a.PreviousSecretUntil = wat(time.Hour), []byte{9}, wat(24*time.Hour)
		a.Status, a.PauseReason, a.PauseDetail = ports.WebhookPaused, ports.WebhookPausedGone, "HTTP 410"
		mustCreateSub(t, st, a)
		b := sampleSub("t1", "s-b", "employee.hired")
		b.CreatedAt = wat(-time.Minute)
		mustCreateSub(t, st, b)
		mustCreateSub(t, st, sampleSub("t2", "s-c", "employee.hired"))
		if err := st.CreateSubscription(ctx, sampleSub("t2", "s-a")); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("taken ID: %v, want ErrConflict", err)
		}
		got, err := st.SubscriptionByID(ctx, "t1", "s-a")
		if err != nil {
			t.Fatal(err)
		}
		sameRecord(t, got, a, normSub)
		if got.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt in %v, want UTC", got.CreatedAt.Location())
		}
		list, err := st.ListSubscriptions(ctx, "t1")
		if err != nil || !slices.Equal(subIDs(list), []string{"s-b", "s-a"}) {
			t.Errorf("ListSubscriptions(t1) = %v, %v; want [s-b s-a] (by CreatedAt)", subIDs(list), err)
		}
		if _, err := st.SubscriptionByID(ctx, "t2", "s-a"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("other tenant's subscription: %v, want ErrNotFound", err)
		}
		if _, err := st.UpdateSubscription(ctx, "t2", "s-a", func(*ports.WebhookSubscriptionRecord) error { return nil }); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("update of other tenant's subscription: %v, want ErrNotFound", err)
		}
		if err := st.DeleteSubscription(ctx, "t2", "s-a"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("delete of other tenant's subscription: %v, want ErrNotFound", err)
		}
		if _, err := st.SubscriptionByID(ctx, "t1", "s-a"); err != nil {
			t.Errorf("subscription gone after another tenant's delete: %v", err)
		}
	})

	t.Run("update is atomic, versioned, and an error changes nothing", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		s := sampleSub("t1", "s-1", "employee.hired")
		mustCreateSub(t, st, s)
		boom := errors.New("boom")
		if _, err := st.UpdateSubscription(ctx, "t1", "s-1", func(r *ports.WebhookSubscriptionRecord) error {
			r.URL = "https://changed.example.com/"
			return boom
		}); !errors.Is(err, boom) {
			t.Errorf("fn error: %v, want it returned", err)
		}
		got, _ := st.SubscriptionByID(ctx, "t1", "s-1")
		sameRecord(t, got, s, normSub)
		updated, err := st.UpdateSubscription(ctx, "t1", "s-1", func(r *ports.WebhookSubscriptionRecord) error {
			r.EventTypes = []string{"employee.hired", "dependent.added"}
			r.Status, r.PausedAt = ports.WebhookPaused, wat(time.Hour)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := s
		want.EventTypes, want.Status, want.PausedAt, want.Version = []string{"employee.hired", "dependent.added"}, ports.WebhookPaused, wat(time.Hour), 2
		sameRecord(t, updated, want, normSub)
		got, _ = st.SubscriptionByID(ctx, "t1", "s-1")
		sameRecord(t, got, want, normSub)

		const racers = 20
		var wg sync.WaitGroup
		for range racers {
			wg.Go(func() {
				_, err := st.UpdateSubscription(ctx, "t1", "s-1", func(r *ports.WebhookSubscriptionRecord) error {
					r.Description += "x"
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got, _ = st.SubscriptionByID(ctx, "t1", "s-1")
		if len(got.Description) != len(s.Description)+racers || got.Version != 2+racers {
			t.Errorf("after %d racing updates: description %q, version %d (lost updates)", racers, got.Description, got.Version)
		}
	})

	t.Run("active subscriptions for an event type", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		mustCreateSub(t, st, sampleSub("t1", "s-2", "employee.hired", "employee.separated"))
		mustCreateSub(t, st, sampleSub("t1", "s-1", "employee.hired"))
		mustCreateSub(t, st, sampleSub("t1", "s-3", "employee.changed"))
		paused := sampleSub("t1", "s-4", "employee.hired")
		paused.Status = ports.WebhookPaused
		mustCreateSub(t, st, paused)
		mustCreateSub(t, st, sampleSub("t2", "s-5", "employee.hired"))
		got, err := st.ActiveSubscriptionsFor(ctx, "t1", "employee.hired")
		if err != nil || !slices.Equal(subIDs(got), []string{"s-1", "s-2"}) {
			t.Errorf("ActiveSubscriptionsFor = %v, %v; want [s-1 s-2]", subIDs(got), err)
		}
		got, err = st.ActiveSubscriptionsFor(ctx, "t1", "employee")
		if err != nil || len(got) != 0 {
			t.Errorf("a prefix of a type matches %v, %v; want none", subIDs(got), err)
		}
	})

	t.Run("deliveries are unique per subscription and event", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		s1, s2 := sampleSub("t1", "s-1", "employee.hired"), sampleSub("t1", "s-2", "employee.hired")
		mustCreateSub(t, st, s1)
		mustCreateSub(t, st, s2)
		d := sampleDelivery(s1, "d-1", "ev-1", wat(0))
		d.Attempts, d.LastStatusCode, d.LastError, d.LastAttemptAt = 2, 503, "HTTP 503", wat(time.Minute)
		mustAdd(t, st, d, sampleDelivery(s2, "d-2", "ev-1", wat(0)))
		n, err := st.AddDeliveries(ctx, sampleDelivery(s1, "d-3", "ev-1", wat(time.Hour)),
			sampleDelivery(s1, "d-4", "ev-2", wat(0)), sampleDelivery(s1, "d-5", "ev-2", wat(0)))
		if err != nil || n != 1 {
			t.Errorf("AddDeliveries of one new pair among repeats = %d, %v; want 1", n, err)
		}
		if n, err := st.AddDeliveries(ctx); n != 0 || err != nil {
			t.Errorf("AddDeliveries() = %d, %v", n, err)
		}
		list, err := st.ListDeliveries(ctx, ports.WebhookDeliveryQuery{TenantID: "t1", SubscriptionID: "s-1"})
		if err != nil || len(list) != 2 {
			t.Fatalf("deliveries of s-1 = %v, %v; want d-1 and d-4", deliveryIDs(list), err)
		}
		i := slices.IndexFunc(list, func(r ports.WebhookDeliveryRecord) bool { return r.ID == "d-1" })
		if i < 0 {
			t.Fatalf("d-1 missing from %v", deliveryIDs(list))
		}
		sameRecord(t, list[i], d, normDelivery)

		const racers = 20
		var wg sync.WaitGroup
		var mu sync.Mutex
		stored := 0
		for i := range racers {
			wg.Go(func() {
				n, err := st.AddDeliveries(ctx, sampleDelivery(s2, fmt.Sprintf("race-%d", i), "ev-race", wat(0)))
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				stored += n
				mu.Unlock()
			})
		}
		wg.Wait()
		if stored != 1 {
			t.Errorf("%d racing adds of one event stored %d deliveries, want 1", racers, stored)
		}
	})

	t.Run("delivery log: newest first, keyset pages, status filter, tenant scope", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		s := sampleSub("t1", "s-1", "employee.hired")
		mustCreateSub(t, st, s)
		mustCreateSub(t, st, sampleSub("t2", "s-2", "employee.hired"))
		var all []ports.WebhookDeliveryRecord
		for i := range 7 {
			d := sampleDelivery(s, fmt.Sprintf("d-%d", i), fmt.Sprintf("ev-%d", i), wat(time.Duration(i/2)*time.Second))
			if i == 3 {
				d.Status = ports.DeliveryFailed
			}
			all = append(all, d)
		}
		mustAdd(t, st, all...)
		q := ports.WebhookDeliveryQuery{TenantID: "t1", SubscriptionID: "s-1", Limit: 3}
		var pages []string
		for range 5 {
			page, err := st.ListDeliveries(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			pages = append(pages, deliveryIDs(page)...)
			last := page[len(page)-1]
			q.BeforeCreatedAt, q.BeforeID = last.CreatedAt, last.ID
		}
		if want := []string{"d-6", "d-5", "d-4", "d-3", "d-2", "d-1", "d-0"}; !slices.Equal(pages, want) {
			t.Errorf("pages = %v, want %v", pages, want)
		}
		failed, err := st.ListDeliveries(ctx, ports.WebhookDeliveryQuery{TenantID: "t1", SubscriptionID: "s-1", Status: ports.DeliveryFailed})
		if err != nil || !slices.Equal(deliveryIDs(failed), []string{"d-3"}) {
			t.Errorf("failed = %v, %v; want [d-3]", deliveryIDs(failed), err)
		}
		other, err := st.ListDeliveries(ctx, ports.WebhookDeliveryQuery{TenantID: "t2", SubscriptionID: "s-1"})
		if err != nil || len(other) != 0 {
			t.Errorf("another tenant lists %v, %v; want none", deliveryIDs(other), err)
		}
		if _, err := st.UpdateDelivery(ctx, "t2", "d-1", func(*ports.WebhookDeliveryRecord) error { return nil }); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("update of another tenant's delivery: %v, want ErrNotFound", err)
		}
	})

	t.Run("claims lease due deliveries of active subscriptions", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		s := sampleSub("t1", "s-1", "employee.hired")
		paused := sampleSub("t2", "s-p", "employee.hired")
		paused.Status = ports.WebhookPaused
		mustCreateSub(t, st, s)
		mustCreateSub(t, st, paused)
		done := sampleDelivery(s, "d-done", "ev-done", wat(-time.Hour))
		done.Status = ports.DeliverySucceeded
		mustAdd(t, st,
			sampleDelivery(s, "d-late", "ev-1", wat(-time.Minute)),
			sampleDelivery(s, "d-early", "ev-2", wat(-time.Hour)),
			sampleDelivery(s, "d-now", "ev-3", wat(0)),
			sampleDelivery(s, "d-future", "ev-4", wat(time.Second)),
			sampleDelivery(paused, "d-paused", "ev-5", wat(-time.Hour)),
			done)
		claim := ports.WebhookClaim{Now: wat(0), Limit: 2, LeaseID: "lease-1", LeaseUntil: wat(2 * time.Minute)}
		got, err := st.ClaimDueDeliveries(ctx, claim)
		if err != nil || !slices.Equal(deliveryIDs(got), []string{"d-early", "d-late"}) {
			t.Fatalf("first claim = %v, %v; want [d-early d-late]", deliveryIDs(got), err)
		}
		for _, d := range got {
			if d.LeaseID != "lease-1" || !d.LeaseUntil.Equal(utcMicros(wat(2*time.Minute))) {
				t.Errorf("%s leased to %q until %v", d.ID, d.LeaseID, d.LeaseUntil)
			}
		}
		claim.LeaseID, claim.Limit = "lease-2", 10
		got, err = st.ClaimDueDeliveries(ctx, claim)
		if err != nil || !slices.Equal(deliveryIDs(got), []string{"d-now"}) {
			t.Errorf("second claim = %v, %v; want [d-now] (the others are leased, future, paused or done)", deliveryIDs(got), err)
		}
		claim.LeaseID, claim.Now, claim.LeaseUntil = "lease-3", wat(2*time.Minute), wat(4*time.Minute)
		got, err = st.ClaimDueDeliveries(ctx, claim)
		if err != nil || !slices.Equal(deliveryIDs(got), []string{"d-early", "d-late", "d-now", "d-future"}) {
			t.Errorf("claim after the leases ran out = %v, %v; want [d-early d-late d-now d-future]", deliveryIDs(got), err)
		}
		if _, err := st.UpdateSubscription(ctx, "t2", "s-p", func(r *ports.WebhookSubscriptionRecord) error {
			r.Status = ports.WebhookActive
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		claim.LeaseID = "lease-4"
		got, err = st.ClaimDueDeliveries(ctx, claim)
		if err != nil || !slices.Equal(deliveryIDs(got), []string{"d-paused"}) {
			t.Errorf("claim after resuming = %v, %v; want [d-paused]", deliveryIDs(got), err)
		}
	})

	t.Run("racing claims never lease a delivery twice", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		s := sampleSub("t1", "s-1", "employee.hired")
		mustCreateSub(t, st, s)
		const due = 40
		var ds []ports.WebhookDeliveryRecord
		for i := range due {
			ds = append(ds, sampleDelivery(s, fmt.Sprintf("d-%02d", i), fmt.Sprintf("ev-%02d", i), wat(time.Duration(-i)*time.Second)))
		}
		mustAdd(t, st, ds...)
		var mu sync.Mutex
		leased := map[string]string{}
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				lease := fmt.Sprintf("lease-%d", i)
				got, err := st.ClaimDueDeliveries(ctx, ports.WebhookClaim{Now: wat(0), Limit: 3, LeaseID: lease, LeaseUntil: wat(time.Minute)})
				if err != nil {
					t.Error(err)
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
		}
		wg.Wait()
		if len(leased) != due {
			t.Errorf("%d of %d deliveries leased by 20 claims of 3", len(leased), due)
		}
	})

	t.Run("delivery updates are atomic", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		s := sampleSub("t1", "s-1", "employee.hired")
		mustCreateSub(t, st, s)
		mustAdd(t, st, sampleDelivery(s, "d-1", "ev-1", wat(0)))
		boom := errors.New("boom")
		if _, err := st.UpdateDelivery(ctx, "t1", "d-1", func(r *ports.WebhookDeliveryRecord) error {
			r.Status = ports.DeliveryFailed
			return boom
		}); !errors.Is(err, boom) {
			t.Errorf("fn error: %v, want it returned", err)
		}
		const racers = 20
		var wg sync.WaitGroup
		for range racers {
			wg.Go(func() {
				if _, err := st.UpdateDelivery(ctx, "t1", "d-1", func(r *ports.WebhookDeliveryRecord) error {
					r.Attempts++
					r.LastAttemptAt, r.LastStatusCode = wat(time.Duration(r.Attempts)*time.Minute), 500
					return nil
				}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		list, _ := st.ListDeliveries(ctx, ports.WebhookDeliveryQuery{TenantID: "t1", SubscriptionID: "s-1"})
		if len(list) != 1 || list[0].Attempts != racers || list[0].Status != ports.DeliveryPending ||
			!list[0].LastAttemptAt.Equal(utcMicros(wat(racers*time.Minute))) {
			t.Errorf("after %d racing updates: %+v", racers, list)
		}
	})

	t.Run("deleting a subscription deletes its deliveries", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		s1, s2 := sampleSub("t1", "s-1", "employee.hired"), sampleSub("t1", "s-2", "employee.hired")
		mustCreateSub(t, st, s1)
		mustCreateSub(t, st, s2)
		mustAdd(t, st, sampleDelivery(s1, "d-1", "ev-1", wat(0)), sampleDelivery(s2, "d-2", "ev-1", wat(0)))
		if err := st.DeleteSubscription(ctx, "t1", "s-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SubscriptionByID(ctx, "t1", "s-1"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("deleted subscription: %v, want ErrNotFound", err)
		}
		if _, err := st.UpdateDelivery(ctx, "t1", "d-1", func(*ports.WebhookDeliveryRecord) error { return nil }); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("its delivery: %v, want ErrNotFound", err)
		}
		got, err := st.ClaimDueDeliveries(ctx, ports.WebhookClaim{Now: wat(0), Limit: 10, LeaseID: "l", LeaseUntil: wat(time.Minute)})
		if err != nil || !slices.Equal(deliveryIDs(got), []string{"d-2"}) {
			t.Errorf("claim = %v, %v; want only the other subscription's [d-2]", deliveryIDs(got), err)
		}
		mustAdd(t, st, sampleDelivery(s2, "d-3", "ev-again", wat(0)))
	})
}

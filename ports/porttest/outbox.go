package porttest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// newOutboxEvent returns a pending event of tenantID with every field set but DispatchedAt.
func newOutboxEvent(tenantID, typ string, occurred time.Time) ports.OutboxEvent {
	return ports.OutboxEvent{
		ID: newID(), TenantID: tenantID, Type: typ, SubjectID: newID(),
		Payload:    []byte(`{"changes": ["department_id","position"],  "effective_on":"2025-04-01", "note":"\u7570\u52d5"}`),
		OccurredAt: occurred,
	}
}

func checkEvent(t *testing.T, got, want ports.OutboxEvent) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "TenantID", got.TenantID, want.TenantID)
	checkEq(t, "Type", got.Type, want.Type)
	checkEq(t, "SubjectID", got.SubjectID, want.SubjectID)
	checkBytes(t, "Payload", got.Payload, want.Payload)
	checkTime(t, "OccurredAt", got.OccurredAt, want.OccurredAt)
	checkTime(t, "DispatchedAt", got.DispatchedAt, want.DispatchedAt)
}

func appendEvents(t *testing.T, s Stores, events ...ports.OutboxEvent) {
	t.Helper()
	must(t, s.Outbox.AppendEvents(t.Context(), events...), "AppendEvents")
}

// checkPending fails unless PendingEvents(limit) returns want, in that order.
func checkPending(t *testing.T, s Stores, limit int, want ...ports.OutboxEvent) {
	t.Helper()
	got, err := s.Outbox.PendingEvents(t.Context(), limit)
	must(t, err, "PendingEvents")
	types := func(es []ports.OutboxEvent) []string {
		out := []string{}
		for _, e := range es {
			out = append(out, e.Type)
		}
		return out
	}
	if len(got) != len(want) {
		t.Errorf("PendingEvents(%d) = %q, want %q", limit, types(got), types(want))
		return
	}
	for i := range want {
		checkEvent(t, got[i], want[i])
	}
}

// outboxFixture is two tenants, and Stores with the Outbox and whatever else a case needs.
type outboxFixture struct {
	s                   Stores
	tenant, otherTenant string
}

func newOutboxFixture(t *testing.T, factory Factory, need ...string) outboxFixture {
	t.Helper()
	s := open(t, factory, append(need, "Tenants", "Outbox")...)
	// Real tenants, so that an SQL store may keep a foreign key to them.
	return outboxFixture{s: s, tenant: createTenant(t, s, "t"+newID()[:8]).ID, otherTenant: createTenant(t, s, "t"+newID()[:8]).ID}
}

// TestOutbox is the contract suite of ports.Outbox. It uses the TenantStore to create the tenants the events
// belong to, and the Transactor for the cases in transactions. Interpretations of what the port leaves
// open: PendingEvents lists every tenant's events (the dispatcher is one for all), a limit of 0 does not
// limit, and the order of events that occurred at the same instant is not fixed; AppendEvents is all or
// none (ErrConflict when an ID is taken) and appending none is no error; MarkDispatched of an unknown
// event may be ErrNotFound or nothing. DispatchedAt is not readable through the port, so the suite checks
// only that a dispatched event is no longer pending.
func TestOutbox(t *testing.T, factory Factory) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		f := newOutboxFixture(t, factory)
		checkPending(t, f.s, 0)
		hired := newOutboxEvent(f.tenant, "employee.hired", at(0))
		changed := newOutboxEvent(f.tenant, "employee.changed", at(time.Second))
		elsewhere := newOutboxEvent(f.otherTenant, "dependent.added", at(2*time.Second))
		appendEvents(t, f.s, hired, changed, elsewhere)
		bare := ports.OutboxEvent{ID: newID(), TenantID: f.tenant, Type: "employee.separated", Payload: []byte(`{}`), OccurredAt: at(time.Hour)}
		appendEvents(t, f.s, bare)
		checkPending(t, f.s, 0, hired, changed, elsewhere, bare)
		must(t, f.s.Outbox.AppendEvents(t.Context()), "AppendEvents(none)")
		checkPending(t, f.s, 0, hired, changed, elsewhere, bare)
	})

	t.Run("OldestFirst", func(t *testing.T) {
		t.Parallel()
		f := newOutboxFixture(t, factory)
		var e [6]ports.OutboxEvent
		for i := range e {
			// A microsecond apart: the store keeps the instants at that precision.
			e[i] = newOutboxEvent(f.tenant, "employee.changed."+itoa(i), at(time.Duration(i)*time.Microsecond))
		}
		e[4].TenantID = f.otherTenant
		appendEvents(t, f.s, e[3], e[0])
		appendEvents(t, f.s, e[5])
		appendEvents(t, f.s, e[2], e[4], e[1])
		checkPending(t, f.s, 0, e[:]...)
		checkPending(t, f.s, 2, e[0], e[1])
		checkPending(t, f.s, 6, e[:]...)
		checkPending(t, f.s, 100, e[:]...)
	})

	t.Run("IDConflict", func(t *testing.T) {
		t.Parallel()
		f := newOutboxFixture(t, factory)
		first := newOutboxEvent(f.tenant, "employee.hired", at(0))
		appendEvents(t, f.s, first)
		fresh := newOutboxEvent(f.tenant, "employee.changed", at(time.Second))
		dup := newOutboxEvent(f.otherTenant, "employee.changed", at(2*time.Second))
		dup.ID = first.ID
		checkIs(t, "AppendEvents(an ID taken)", f.s.Outbox.AppendEvents(t.Context(), fresh, dup), ports.ErrConflict)
		twice := newOutboxEvent(f.tenant, "employee.changed", at(3*time.Second))
		checkIs(t, "AppendEvents(one ID twice)", f.s.Outbox.AppendEvents(t.Context(), twice, twice), ports.ErrConflict)
		checkPending(t, f.s, 0, first) // all or none
		appendEvents(t, f.s, fresh)
		checkPending(t, f.s, 0, first, fresh)
	})

	t.Run("MarkDispatched", func(t *testing.T) {
		t.Parallel()
		f := newOutboxFixture(t, factory)
		a := newOutboxEvent(f.tenant, "employee.hired", at(0))
		b := newOutboxEvent(f.otherTenant, "employee.hired", at(time.Second))
		c := newOutboxEvent(f.tenant, "employee.changed", at(2*time.Second))
		appendEvents(t, f.s, a, b, c)
		must(t, f.s.Outbox.MarkDispatched(t.Context(), b.ID, at(time.Minute)), "MarkDispatched")
		checkPending(t, f.s, 0, a, c)
		// Dispatchers may deliver an event twice (at least once): marking it again is harmless.
		must(t, f.s.Outbox.MarkDispatched(t.Context(), b.ID, at(time.Hour)), "MarkDispatched(again)")
		checkPending(t, f.s, 0, a, c)
		checkPending(t, f.s, 1, a)
		if err := f.s.Outbox.MarkDispatched(t.Context(), newID(), at(time.Hour)); err != nil && !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("MarkDispatched(unknown): %v, want nil or ErrNotFound", err)
		}
		must(t, f.s.Outbox.MarkDispatched(t.Context(), a.ID, at(time.Hour)), "MarkDispatched(a)")
		must(t, f.s.Outbox.MarkDispatched(t.Context(), c.ID, at(time.Hour)), "MarkDispatched(c)")
		checkPending(t, f.s, 0)
	})

	t.Run("InTx", func(t *testing.T) {
		t.Parallel()
		f := newOutboxFixture(t, factory, "Tx")
		kept := newOutboxEvent(f.tenant, "employee.hired", at(0))
		appendEvents(t, f.s, kept)
		lost := []ports.OutboxEvent{newOutboxEvent(f.tenant, "employee.changed", at(time.Second)), newOutboxEvent(f.tenant, "employee.changed", at(2*time.Second))}
		// Events written by a use case whose transaction fails were never there, nor was its dispatch.
		err := f.s.Tx.InTx(t.Context(), func(ctx context.Context) error {
			must(t, f.s.Outbox.AppendEvents(ctx, lost...), "AppendEvents(in tx)")
			must(t, f.s.Outbox.MarkDispatched(ctx, kept.ID, at(time.Minute)), "MarkDispatched(in tx)")
			pending, err := f.s.Outbox.PendingEvents(ctx, 0)
			must(t, err, "PendingEvents(in tx)")
			checkEq(t, "len(PendingEvents(in tx))", len(pending), 2)
			return errBoom
		})
		checkIs(t, "InTx(fn fails)", err, errBoom)
		checkPending(t, f.s, 0, kept)

		committed := newOutboxEvent(f.tenant, "employee.separated", at(time.Hour))
		must(t, f.s.Tx.InTx(t.Context(), func(ctx context.Context) error {
			return f.s.Outbox.AppendEvents(ctx, committed)
		}), "InTx(commit)")
		checkPending(t, f.s, 0, kept, committed)
		appendEvents(t, f.s, lost...) // the rolled-back IDs are free
	})

	t.Run("ConcurrentAppendEvents", func(t *testing.T) {
		t.Parallel()
		f := newOutboxFixture(t, factory)
		const n = 20
		want := make([]ports.OutboxEvent, n)
		for i := range want {
			want[i] = newOutboxEvent(f.tenant, "employee.changed."+itoa(i), at(time.Duration(i)*time.Second))
		}
		concurrently(n, func(i int) {
			if err := f.s.Outbox.AppendEvents(t.Context(), want[i]); err != nil {
				t.Errorf("AppendEvents #%d: %v", i, err)
			}
		})
		checkPending(t, f.s, 0, want...)
	})

	testOutboxConsumers(t, factory)
}

// checkPendingFor fails unless PendingEventsFor(consumer, types, limit) returns want, in that order.
func checkPendingFor(t *testing.T, s Stores, consumer string, types []string, limit int, want ...ports.OutboxEvent) {
	t.Helper()
	got, err := s.Outbox.PendingEventsFor(t.Context(), consumer, types, limit)
	must(t, err, "PendingEventsFor("+consumer+")")
	ids := func(es []ports.OutboxEvent) []string {
		out := []string{}
		for _, e := range es {
			out = append(out, e.Type)
		}
		return out
	}
	if len(got) != len(want) {
		t.Errorf("PendingEventsFor(%s, %q, %d) = %q, want %q", consumer, types, limit, ids(got), ids(want))
		return
	}
	for i := range want {
		checkEvent(t, got[i], want[i])
	}
}

// testOutboxConsumers holds the cases of PendingEventsFor and MarkConsumed. Interpretations: consumers are
// independent of each other and of the dispatcher (MarkDispatched does not consume, MarkConsumed does not
// dispatch); the order of events that occurred at the same instant is not fixed.
func testOutboxConsumers(t *testing.T, factory Factory) {
	t.Run("ConsumersAreIndependent", func(t *testing.T) {
		t.Parallel()
		f := newOutboxFixture(t, factory)
		hired := newOutboxEvent(f.tenant, "employee.hired", at(0))
		changed := newOutboxEvent(f.tenant, "employee.changed", at(time.Second))
		added := newOutboxEvent(f.otherTenant, "dependent.added", at(2*time.Second))
		appendEvents(t, f.s, added, hired, changed)
		all := []ports.OutboxEvent{hired, changed, added}
		checkPendingFor(t, f.s, "procedures", nil, 0, all...)
		checkPendingFor(t, f.s, "procedures", []string{"employee.hired", "dependent.added"}, 0, hired, added)
		checkPendingFor(t, f.s, "procedures", nil, 2, hired, changed)

		must(t, f.s.Outbox.MarkConsumed(t.Context(), "procedures", hired.ID, at(time.Minute)), "MarkConsumed")
		checkPendingFor(t, f.s, "procedures", nil, 0, changed, added)
		checkPendingFor(t, f.s, "procedures", []string{"employee.hired"}, 0)
		checkPendingFor(t, f.s, "webhooks", nil, 0, all...) // another consumer has not seen it
		checkPending(t, f.s, 0, all...)                     // nor has the dispatcher

		must(t, f.s.Outbox.MarkDispatched(t.Context(), changed.ID, at(time.Minute)), "MarkDispatched")
		changed.DispatchedAt = at(time.Minute)
		checkPendingFor(t, f.s, "procedures", nil, 0, changed, added) // dispatching consumes nothing

		// Consuming twice is a conflict: the second handler must roll back its work.
		checkIs(t, "MarkConsumed(again)", f.s.Outbox.MarkConsumed(t.Context(), "procedures", hired.ID, at(time.Hour)), ports.ErrConflict)
		checkIs(t, "MarkConsumed(unknown event)", f.s.Outbox.MarkConsumed(t.Context(), "procedures", newID(), at(time.Hour)), ports.ErrNotFound)
		must(t, f.s.Outbox.MarkConsumed(t.Context(), "webhooks", hired.ID, at(time.Hour)), "MarkConsumed(webhooks)")
	})

	t.Run("ConsumptionRollsBackWithItsTransaction", func(t *testing.T) {
		t.Parallel()
		f := newOutboxFixture(t, factory, "Tx")
		hired := newOutboxEvent(f.tenant, "employee.hired", at(0))
		appendEvents(t, f.s, hired)
		// A handler that crashes after marking (its transaction fails) leaves the event pending.
		err := f.s.Tx.InTx(t.Context(), func(ctx context.Context) error {
			must(t, f.s.Outbox.MarkConsumed(ctx, "procedures", hired.ID, at(time.Minute)), "MarkConsumed(in tx)")
			got, err := f.s.Outbox.PendingEventsFor(ctx, "procedures", nil, 0)
			must(t, err, "PendingEventsFor(in tx)")
			checkEq(t, "len(PendingEventsFor(in tx))", len(got), 0)
			return errBoom
		})
		checkIs(t, "InTx(fn fails)", err, errBoom)
		checkPendingFor(t, f.s, "procedures", nil, 0, hired)

		// A conflict inside a transaction leaves it usable: the handler can still commit other work.
		must(t, f.s.Outbox.MarkConsumed(t.Context(), "procedures", hired.ID, at(time.Minute)), "MarkConsumed")
		later := newOutboxEvent(f.tenant, "employee.separated", at(time.Hour))
		must(t, f.s.Tx.InTx(t.Context(), func(ctx context.Context) error {
			checkIs(t, "MarkConsumed(again, in tx)", f.s.Outbox.MarkConsumed(ctx, "procedures", hired.ID, at(time.Hour)), ports.ErrConflict)
			return f.s.Outbox.AppendEvents(ctx, later)
		}), "InTx(after a conflict)")
		checkPendingFor(t, f.s, "procedures", nil, 0, later)
	})

	t.Run("TypesAddedLater", func(t *testing.T) {
		t.Parallel()
		f := newOutboxFixture(t, factory)
		hired := newOutboxEvent(f.tenant, "employee.hired", at(0))
		changed := newOutboxEvent(f.tenant, "employee.changed", at(time.Second))
		appendEvents(t, f.s, hired, changed)
		checkPendingFor(t, f.s, "procedures", []string{"employee.hired"}, 0, hired)
		must(t, f.s.Outbox.MarkConsumed(t.Context(), "procedures", hired.ID, at(time.Minute)), "MarkConsumed(hired)")
		// Types asked for later include the events appended before, and not the ones consumed.
		separated := newOutboxEvent(f.tenant, "employee.separated", at(2*time.Second))
		appendEvents(t, f.s, separated)
		checkPendingFor(t, f.s, "procedures", []string{"employee.hired", "employee.changed"}, 0, changed)
		checkPendingFor(t, f.s, "procedures", nil, 0, changed, separated)
		// An event of a type never asked for can still be consumed, once.
		added := newOutboxEvent(f.tenant, "dependent.added", at(3*time.Second))
		appendEvents(t, f.s, added)
		must(t, f.s.Outbox.MarkConsumed(t.Context(), "audit-export", added.ID, at(time.Minute)), "MarkConsumed(never polled)")
		checkIs(t, "MarkConsumed(never polled, again)", f.s.Outbox.MarkConsumed(t.Context(), "audit-export", added.ID, at(time.Hour)), ports.ErrConflict)
		checkPendingFor(t, f.s, "audit-export", nil, 0, hired, changed, separated)
	})

	t.Run("AppendsWhileAConsumerStarts", func(t *testing.T) {
		t.Parallel()
		f := newOutboxFixture(t, factory)
		// A consumer polls for the first time while events are being appended: every event is pending for it
		// afterwards, none lost between what was there and what came after.
		const n = 20
		want := make([]ports.OutboxEvent, n)
		for i := range want {
			want[i] = newOutboxEvent(f.tenant, "employee.changed."+itoa(i), at(time.Duration(i)*time.Second))
		}
		concurrently(n+1, func(i int) {
			if i == n {
				if _, err := f.s.Outbox.PendingEventsFor(t.Context(), "latecomer", nil, 1); err != nil {
					t.Errorf("PendingEventsFor: %v", err)
				}
				return
			}
			if err := f.s.Outbox.AppendEvents(t.Context(), want[i]); err != nil {
				t.Errorf("AppendEvents #%d: %v", i, err)
			}
		})
		checkPendingFor(t, f.s, "latecomer", nil, 0, want...)
	})

	t.Run("ConcurrentMarkConsumed", func(t *testing.T) {
		t.Parallel()
		f := newOutboxFixture(t, factory, "Tx")
		hired := newOutboxEvent(f.tenant, "employee.hired", at(0))
		appendEvents(t, f.s, hired)
		const n = 10
		var won, lost atomic.Int32
		concurrently(n, func(i int) {
			err := f.s.Tx.InTx(t.Context(), func(ctx context.Context) error {
				return f.s.Outbox.MarkConsumed(ctx, "procedures", hired.ID, at(time.Duration(i)*time.Second))
			})
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, ports.ErrConflict):
				lost.Add(1)
			default:
				t.Errorf("MarkConsumed #%d: %v", i, err)
			}
		})
		checkEq(t, "handlers that consumed the event", won.Load(), 1)
		checkEq(t, "handlers refused", lost.Load(), n-1)
		checkPendingFor(t, f.s, "procedures", nil, 0)
	})
}

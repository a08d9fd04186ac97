package memory

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/roumu/roumu/ports"
)

// outboxEntry is an event with the number of its append, which orders events that occurred at the same
// instant as they were appended.
type outboxEntry struct {
	ev  ports.OutboxEvent
	seq int64
}

func eventCopy(e ports.OutboxEvent) ports.OutboxEvent {
	e.Payload = bytes.Clone(e.Payload)
	e.OccurredAt = norm(e.OccurredAt)
	e.DispatchedAt = norm(e.DispatchedAt)
	return e
}

// AppendEvents stores the events, all or none; ErrConflict when an ID is taken. Appending none is not an
// error.
func (s *Store) AppendEvents(ctx context.Context, events ...ports.OutboxEvent) error {
	defer s.lock(ctx)()
	ids := map[string]bool{}
	for _, e := range events {
		if _, ok := s.st.outbox[e.ID]; ok || ids[e.ID] {
			return conflict("outbox event", e.ID)
		}
		ids[e.ID] = true
	}
	for _, e := range events {
		s.st.outboxSeq++
		s.st.outbox[e.ID] = outboxEntry{ev: eventCopy(e), seq: s.st.outboxSeq}
	}
	return nil
}

// PendingEvents lists the undispatched events of every tenant by OccurredAt, then in append order, at most
// limit of them (all when limit is 0).
func (s *Store) PendingEvents(ctx context.Context, limit int) ([]ports.OutboxEvent, error) {
	defer s.lock(ctx)()
	return s.oldestFirst(func(e ports.OutboxEvent) bool { return e.DispatchedAt.IsZero() }, limit), nil
}

// oldestFirst returns copies of the events keep selects by OccurredAt, then in append order, at most limit
// of them (all when limit is 0).
func (s *Store) oldestFirst(keep func(ports.OutboxEvent) bool, limit int) []ports.OutboxEvent {
	pending := []outboxEntry{}
	for _, e := range s.st.outbox {
		if keep(e.ev) {
			pending = append(pending, e)
		}
	}
	slices.SortFunc(pending, func(a, b outboxEntry) int {
		return cmp.Or(a.ev.OccurredAt.Compare(b.ev.OccurredAt), cmp.Compare(a.seq, b.seq))
	})
	if limit > 0 && len(pending) > limit {
		pending = pending[:limit]
	}
	out := make([]ports.OutboxEvent, len(pending))
	for i, e := range pending {
		out[i] = eventCopy(e.ev)
	}
	return out
}

// MarkDispatched records the dispatch at the given instant; an event already marked keeps its first
// instant. ErrNotFound when there is no such event.
func (s *Store) MarkDispatched(ctx context.Context, id string, at time.Time) error {
	defer s.lock(ctx)()
	e, ok := s.st.outbox[id]
	if !ok {
		return notFound("outbox event", id)
	}
	if e.ev.DispatchedAt.IsZero() {
		e.ev.DispatchedAt = norm(at)
		s.st.outbox[id] = e
	}
	return nil
}

// consumption names an event handled by a consumer.
type consumption struct{ consumer, eventID string }

// PendingEventsFor lists the events of the given types (all when none) that consumer has not consumed, by
// OccurredAt, then in append order, at most limit of them (all when limit is 0).
func (s *Store) PendingEventsFor(ctx context.Context, consumer string, types []string, limit int) ([]ports.OutboxEvent, error) {
	defer s.lock(ctx)()
	return s.oldestFirst(func(e ports.OutboxEvent) bool {
		_, done := s.st.consumed[consumption{consumer, e.ID}]
		return !done && oneOf(types, e.Type)
	}, limit), nil
}

// MarkConsumed records that consumer has handled the event; ErrConflict when it had already, ErrNotFound
// when there is no such event.
func (s *Store) MarkConsumed(ctx context.Context, consumer, eventID string, at time.Time) error {
	defer s.lock(ctx)()
	if _, ok := s.st.outbox[eventID]; !ok {
		return notFound("outbox event", eventID)
	}
	k := consumption{consumer, eventID}
	if _, done := s.st.consumed[k]; done {
		return conflict("event consumption", consumer+"/"+eventID)
	}
	s.st.consumed[k] = norm(at)
	return nil
}

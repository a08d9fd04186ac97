package sqlstore

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

type outboxRow struct {
	ID           string     `gorm:"column:id;primaryKey"`
	TenantID     string     `gorm:"column:tenant_id"`
	Type         string     `gorm:"column:type"`
	SubjectID    string     `gorm:"column:subject_id"`
	Payload      []byte     `gorm:"column:payload"`
	OccurredAt   instant    `gorm:"column:occurred_at"`
	DispatchedAt optInstant `gorm:"column:dispatched_at"`
}

func (outboxRow) TableName() string { return "outbox_events" }

func (r *outboxRow) event() ports.OutboxEvent {
	return ports.OutboxEvent{
		ID: r.ID, TenantID: r.TenantID, Type: r.Type, SubjectID: r.SubjectID, Payload: r.Payload,
		OccurredAt: time.Time(r.OccurredAt), DispatchedAt: time.Time(r.DispatchedAt),
	}
}

// AppendEvents stores the events, all or none, and delivers them to the consumers subscribed to their
// types; call it with the context of the transaction that makes the change they report. ErrConflict when
// an event ID is taken.
func (s *Store) AppendEvents(ctx context.Context, events ...ports.OutboxEvent) error {
	rows := make([]outboxRow, len(events))
	for i, e := range events {
		rows[i] = outboxRow{
			ID: e.ID, TenantID: e.TenantID, Type: e.Type, SubjectID: e.SubjectID, Payload: blob(e.Payload),
			OccurredAt: instant(e.OccurredAt), DispatchedAt: optInstant(e.DispatchedAt),
		}
	}
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := insertMany(ctx, s, "append events", rows); err != nil {
			return err
		}
		return s.deliver(ctx, ids)
	})
}

// PendingEvents lists at most limit undispatched events (all when 0), across tenants, by OccurredAt and
// then ID, from the partial index of pending events.
func (s *Store) PendingEvents(ctx context.Context, limit int) ([]ports.OutboxEvent, error) {
	return list(ctx, s, "pending events", func(db *gorm.DB) *gorm.DB {
		db = db.Where("dispatched_at IS NULL").Order("occurred_at").Order("id")
		if limit > 0 {
			db = db.Limit(limit)
		}
		return db
	}, (*outboxRow).event)
}

// MarkDispatched records the dispatch in one conditional UPDATE; an event marked already keeps its first
// dispatch time. ErrNotFound when there is no such event.
func (s *Store) MarkDispatched(ctx context.Context, id string, at time.Time) error {
	// instant, not optInstant: a zero time must still mark the event.
	res := s.writer(ctx).Model(&outboxRow{}).Where("id = ? AND dispatched_at IS NULL", id).
		Update("dispatched_at", instant(at))
	if res.Error != nil || res.RowsAffected == 1 {
		return translate("mark dispatched", res.Error)
	}
	var n int64
	if err := s.reader(ctx).Model(&outboxRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return translate("mark dispatched", err)
	}
	if n == 0 {
		return translate("mark dispatched", gorm.ErrRecordNotFound)
	}
	return nil
}

// allTypes is the subscription to every event type.
const allTypes = "*"

type deliveryRow struct {
	Consumer   string     `gorm:"column:consumer;primaryKey"`
	EventID    string     `gorm:"column:event_id;primaryKey"`
	Type       string     `gorm:"column:type"`
	OccurredAt instant    `gorm:"column:occurred_at"`
	ConsumedAt optInstant `gorm:"column:consumed_at"`
}

func (deliveryRow) TableName() string { return "outbox_deliveries" }

// deliver writes, for every consumer subscribed to their types, a pending delivery of the events ids that
// it does not have yet (in the caller's transaction).
func (s *Store) deliver(ctx context.Context, ids []string) error {
	for chunk := range slices.Chunk(ids, s.batchRows) {
		err := s.writer(ctx).Exec(`INSERT INTO outbox_deliveries (consumer, event_id, type, occurred_at)
			SELECT DISTINCT sub.consumer, ev.id, ev.type, ev.occurred_at
			  FROM outbox_events ev JOIN outbox_subscriptions sub ON sub.type = ev.type OR sub.type = ?
			 WHERE ev.id IN ?
			ON CONFLICT DO NOTHING`, allTypes, chunk).Error
		if err != nil {
			return translate("deliver events", err)
		}
	}
	return nil
}

// subscribe makes sure consumer receives the events of types (every type when none): a type it is not
// subscribed to yet is added, and the events of that type already in the outbox are delivered to it, in
// one transaction. On Postgres that transaction first locks outbox_events against appends (SHARE ROW
// EXCLUSIVE waits for the transactions appending now and holds off the next ones), so that no event falls
// between the delivery of the old ones and the appends that see the subscription; SQLite has one writer
// at a time anyway. Already subscribed, it only reads.
func (s *Store) subscribe(ctx context.Context, consumer string, types []string) error {
	const op = "subscribe"
	want := types
	if len(want) == 0 {
		want = []string{allTypes}
	}
	missing, err := unsubscribed(s.reader(ctx), consumer, want)
	if err != nil || len(missing) == 0 {
		return translate(op, err)
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		db := s.writer(ctx)
		if s.driver == DriverPostgres {
			if err := db.Exec("LOCK TABLE outbox_events IN SHARE ROW EXCLUSIVE MODE").Error; err != nil {
				return translate(op, err)
			}
		}
		// Again under the lock: another instance of the consumer may have subscribed meanwhile and be handling
		// an event, its delivery locked, in a transaction that appends events (the procedures module's do).
		// Delivering that event again would wait for it while it waits for the lock: a deadlock.
		missing, err := unsubscribed(db, consumer, want)
		if err != nil || len(missing) == 0 {
			return translate(op, err)
		}
		for _, t := range missing {
			if err := db.Exec("INSERT INTO outbox_subscriptions (consumer, type) VALUES (?, ?) ON CONFLICT DO NOTHING", consumer, t).Error; err != nil {
				return translate(op, err)
			}
		}
		backfill := db.Model(&outboxRow{}).Select("?, id, type, occurred_at", consumer)
		if !slices.Contains(missing, allTypes) {
			backfill = backfill.Where("type IN ?", missing)
		} else {
			backfill = backfill.Where("true") // SQLite reads ON CONFLICT after a bare SELECT as a join constraint
		}
		err = db.Exec("INSERT INTO outbox_deliveries (consumer, event_id, type, occurred_at) ? ON CONFLICT DO NOTHING", backfill).Error
		return translate(op, err)
	})
}

// unsubscribed returns the types of want that consumer is not subscribed to (none when it takes every type).
func unsubscribed(db *gorm.DB, consumer string, want []string) ([]string, error) {
	var have []string
	if err := db.Model(&subscriptionRow{}).Where("consumer = ?", consumer).Pluck("type", &have).Error; err != nil {
		return nil, err
	}
	return slices.DeleteFunc(slices.Clone(want), func(t string) bool {
		return slices.Contains(have, allTypes) || slices.Contains(have, t)
	}), nil
}

type subscriptionRow struct {
	Consumer string `gorm:"column:consumer;primaryKey"`
	Type     string `gorm:"column:type;primaryKey"`
}

func (subscriptionRow) TableName() string { return "outbox_subscriptions" }

// PendingEventsFor lists at most limit events (all when 0) of the given types (all when none) that consumer
// has not consumed, across tenants, by OccurredAt and then ID: its pending deliveries, from their partial
// index. The first poll for a type subscribes the consumer to it (see subscribe).
func (s *Store) PendingEventsFor(ctx context.Context, consumer string, types []string, limit int) ([]ports.OutboxEvent, error) {
	if err := s.subscribe(ctx, consumer, types); err != nil {
		return nil, err
	}
	return list(ctx, s, "pending events for consumer", func(db *gorm.DB) *gorm.DB {
		db = db.Joins("JOIN outbox_deliveries d ON d.event_id = outbox_events.id").
			Where("d.consumer = ? AND d.consumed_at IS NULL", consumer)
		if len(types) > 0 {
			db = db.Where("d.type IN ?", types)
		}
		if limit > 0 {
			db = db.Limit(limit)
		}
		return db.Order("d.occurred_at").Order("d.event_id")
	}, (*outboxRow).event)
}

// MarkConsumed sets the delivery's consumed_at in one conditional UPDATE, which makes consumption exactly
// once: a second one finds it set and is ErrConflict (on Postgres it first waits for the transaction that
// holds the row to end, and succeeds if that one rolled back). An event never delivered to the consumer
// (not of its types) gets a delivery consumed at once. ErrNotFound when there is no such event.
func (s *Store) MarkConsumed(ctx context.Context, consumer, eventID string, at time.Time) error {
	const op = "mark consumed"
	res := s.writer(ctx).Model(&deliveryRow{}).Where("consumer = ? AND event_id = ? AND consumed_at IS NULL", consumer, eventID).
		Update("consumed_at", instant(at))
	if res.Error != nil || res.RowsAffected == 1 {
		return translate(op, res.Error)
	}
	ev, err := first(ctx, s, op, func(db *gorm.DB) *gorm.DB { return db.Where("id = ?", eventID) }, (*outboxRow).event)
	if err != nil {
		return err
	}
	// Consumed already (ErrConflict on the key), or never delivered: recorded as consumed now.
	return s.insert(ctx, op, &deliveryRow{Consumer: consumer, EventID: eventID, Type: ev.Type,
		OccurredAt: instant(ev.OccurredAt), ConsumedAt: optInstant(at)})
}

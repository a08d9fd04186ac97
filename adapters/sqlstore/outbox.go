package sqlstore

import (
	"context"
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

// AppendEvents stores the events, all or none; call it with the context of the transaction that makes
// the change they report. ErrConflict when an event ID is taken.
func (s *Store) AppendEvents(ctx context.Context, events ...ports.OutboxEvent) error {
	rows := make([]outboxRow, len(events))
	for i, e := range events {
		rows[i] = outboxRow{
			ID: e.ID, TenantID: e.TenantID, Type: e.Type, SubjectID: e.SubjectID, Payload: blob(e.Payload),
			OccurredAt: instant(e.OccurredAt), DispatchedAt: optInstant(e.DispatchedAt),
		}
	}
	return s.InTx(ctx, func(ctx context.Context) error { return insertMany(ctx, s, "append events", rows) })
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

type jobRow struct {
	ID        string  `gorm:"column:id;primaryKey"`
	TenantID  string  `gorm:"column:tenant_id"`
	Kind      string  `gorm:"column:kind"`
	Status    string  `gorm:"column:status"`
	Done      int     `gorm:"column:done"`
	Total     int     `gorm:"column:total"`
	Result    []byte  `gorm:"column:result"`
	CreatedBy string  `gorm:"column:created_by"`
	CreatedAt instant `gorm:"column:created_at"`
	UpdatedAt instant `gorm:"column:updated_at"`
}

func (jobRow) TableName() string { return "jobs" }

// jobColumns are what UpdateJob writes: the progress, not what the job is or who started it.
var jobColumns = []string{"status", "done", "total", "result", "created_at", "updated_at"}

func (r *jobRow) record() ports.JobRecord {
	return ports.JobRecord{
		ID: r.ID, TenantID: r.TenantID, Kind: r.Kind, Status: r.Status, Done: r.Done, Total: r.Total,
		Result: r.Result, CreatedBy: r.CreatedBy, CreatedAt: time.Time(r.CreatedAt), UpdatedAt: time.Time(r.UpdatedAt),
	}
}

func (r *jobRow) setRecord(j, stored ports.JobRecord) {
	j.ID, j.TenantID, j.Kind, j.CreatedBy = stored.ID, stored.TenantID, stored.Kind, stored.CreatedBy
	*r = jobRow{
		ID: j.ID, TenantID: j.TenantID, Kind: j.Kind, Status: j.Status, Done: j.Done, Total: j.Total,
		Result: blob(j.Result), CreatedBy: j.CreatedBy, CreatedAt: instant(j.CreatedAt), UpdatedAt: instant(j.UpdatedAt),
	}
}

// CreateJob stores a job; ErrConflict when its ID is taken or its tenant does not exist.
func (s *Store) CreateJob(ctx context.Context, j ports.JobRecord) error {
	var row jobRow
	row.setRecord(j, j)
	return s.insert(ctx, "create job", &row)
}

func job(tenantID, id string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB { return inTenant(tenantID)(db).Where("id = ?", id) }
}

// JobByID returns the job of tenantID; another tenant's is ErrNotFound.
func (s *Store) JobByID(ctx context.Context, tenantID, id string) (ports.JobRecord, error) {
	return first(ctx, s, "job by id", job(tenantID, id), (*jobRow).record)
}

// UpdateJob applies fn to the job with its row locked and stores the result, so that progress reports
// from several workers are never lost. fn's changes to ID, TenantID, Kind and CreatedBy are discarded.
func (s *Store) UpdateJob(ctx context.Context, tenantID, id string, fn func(*ports.JobRecord) error) (ports.JobRecord, error) {
	return update[ports.JobRecord, jobRow](ctx, s, "update job", job(tenantID, id), jobColumns, fn)
}

type consumptionRow struct {
	Consumer   string  `gorm:"column:consumer;primaryKey"`
	EventID    string  `gorm:"column:event_id;primaryKey"`
	ConsumedAt instant `gorm:"column:consumed_at"`
}

func (consumptionRow) TableName() string { return "outbox_consumptions" }

// PendingEventsFor lists at most limit events (all when 0) of the given types (all when none) that consumer
// has not consumed, across tenants, by OccurredAt and then ID.
func (s *Store) PendingEventsFor(ctx context.Context, consumer string, types []string, limit int) ([]ports.OutboxEvent, error) {
	return list(ctx, s, "pending events for consumer", func(db *gorm.DB) *gorm.DB {
		db = db.Where(`NOT EXISTS (SELECT 1 FROM outbox_consumptions c
			WHERE c.consumer = ? AND c.event_id = outbox_events.id)`, consumer)
		if len(types) > 0 {
			db = db.Where("type IN ?", types)
		}
		if limit > 0 {
			db = db.Limit(limit)
		}
		return db.Order("occurred_at").Order("id")
	}, (*outboxRow).event)
}

// MarkConsumed inserts the (consumer, event) row whose primary key makes consumption exactly once: a second
// insert is ErrConflict (on Postgres it first waits for the transaction holding the first to end). In a
// transaction it runs in a savepoint. ErrNotFound when there is no such event.
func (s *Store) MarkConsumed(ctx context.Context, consumer, eventID string, at time.Time) error {
	const op = "mark consumed"
	var n int64
	if err := s.reader(ctx).Model(&outboxRow{}).Where("id = ?", eventID).Count(&n).Error; err != nil {
		return translate(op, err)
	}
	if n == 0 {
		return translate(op, gorm.ErrRecordNotFound)
	}
	return s.insert(ctx, op, &consumptionRow{Consumer: consumer, EventID: eventID, ConsumedAt: instant(at)})
}

package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

type noticeRow struct {
	ID           string     `gorm:"column:id;primaryKey"`
	Kind         string     `gorm:"column:kind"`
	Severity     string     `gorm:"column:severity"`
	TitleJA      string     `gorm:"column:title_ja"`
	TitleEN      string     `gorm:"column:title_en"`
	BodyJA       string     `gorm:"column:body_ja"`
	BodyEN       string     `gorm:"column:body_en"`
	KnownAt      optInstant `gorm:"column:known_at"`
	DeadlineAt   optInstant `gorm:"column:deadline_at"`
	ResolvedAt   optInstant `gorm:"column:resolved_at"`
	StartsAt     optInstant `gorm:"column:starts_at"`
	EndsAt       optInstant `gorm:"column:ends_at"`
	CancelledAt  optInstant `gorm:"column:cancelled_at"`
	PostedAt     instant    `gorm:"column:posted_at"`
	PostedBy     string     `gorm:"column:posted_by"`
	VisibleFrom  instant    `gorm:"column:visible_from"`
	VisibleUntil optInstant `gorm:"column:visible_until"`
	UpdatedAt    instant    `gorm:"column:updated_at"`
}

func (noticeRow) TableName() string { return "notices" }

// noticeColumns are what UpdateNotice writes: everything but the ID.
var noticeColumns = []string{"kind", "severity", "title_ja", "title_en", "body_ja", "body_en", "known_at",
	"deadline_at", "resolved_at", "starts_at", "ends_at", "cancelled_at", "posted_at", "posted_by",
	"visible_from", "visible_until", "updated_at"}

func noticeRowOf(n ports.NoticeRecord) noticeRow {
	return noticeRow{
		ID: n.ID, Kind: n.Kind, Severity: n.Severity,
		TitleJA: n.TitleJA, TitleEN: n.TitleEN, BodyJA: n.BodyJA, BodyEN: n.BodyEN,
		KnownAt: optInstant(n.KnownAt), DeadlineAt: optInstant(n.DeadlineAt), ResolvedAt: optInstant(n.ResolvedAt),
		StartsAt: optInstant(n.StartsAt), EndsAt: optInstant(n.EndsAt), CancelledAt: optInstant(n.CancelledAt),
		PostedAt: instant(n.PostedAt), PostedBy: n.PostedBy, VisibleFrom: instant(n.VisibleFrom),
		VisibleUntil: optInstant(n.VisibleUntil), UpdatedAt: instant(n.UpdatedAt),
	}
}

func (r *noticeRow) record() ports.NoticeRecord {
	return ports.NoticeRecord{
		ID: r.ID, Kind: r.Kind, Severity: r.Severity,
		NoticeText: ports.NoticeText{TitleJA: r.TitleJA, TitleEN: r.TitleEN, BodyJA: r.BodyJA, BodyEN: r.BodyEN},
		KnownAt:    time.Time(r.KnownAt), DeadlineAt: time.Time(r.DeadlineAt), ResolvedAt: time.Time(r.ResolvedAt),
		StartsAt: time.Time(r.StartsAt), EndsAt: time.Time(r.EndsAt), CancelledAt: time.Time(r.CancelledAt),
		PostedAt: time.Time(r.PostedAt), PostedBy: r.PostedBy, VisibleFrom: time.Time(r.VisibleFrom),
		VisibleUntil: time.Time(r.VisibleUntil), UpdatedAt: time.Time(r.UpdatedAt),
	}
}

// setRecord keeps the ID, whatever fn did with it.
func (r *noticeRow) setRecord(n, stored ports.NoticeRecord) {
	n.ID = stored.ID
	*r = noticeRowOf(n)
}

// CreateNotice stores a new notice; ErrConflict when its ID is taken.
func (s *Store) CreateNotice(ctx context.Context, n ports.NoticeRecord) error {
	row := noticeRowOf(n)
	return s.insert(ctx, "create notice", &row)
}

// UpdateNotice locks the notice's row, applies fn and stores the result, in one transaction.
func (s *Store) UpdateNotice(ctx context.Context, id string, fn func(*ports.NoticeRecord) error) (ports.NoticeRecord, error) {
	return update[ports.NoticeRecord, noticeRow](ctx, s, "update notice", byID(id), noticeColumns, fn)
}

// ListCurrentNotices returns the notices visible at at, newest VisibleFrom first, then by ID.
func (s *Store) ListCurrentNotices(ctx context.Context, at time.Time) ([]ports.NoticeRecord, error) {
	t := formatTime(at)
	return list(ctx, s, "list current notices", func(db *gorm.DB) *gorm.DB {
		return db.Where("visible_from <= ? AND (visible_until IS NULL OR visible_until > ?)", t, t).
			Order("visible_from DESC").Order("id")
	}, (*noticeRow).record)
}

// ListNotices returns the notices f selects, newest PostedAt first, then by ID. A start bound never selects
// an incident: its starts_at is NULL.
func (s *Store) ListNotices(ctx context.Context, f ports.NoticeFilter) ([]ports.NoticeRecord, error) {
	return list(ctx, s, "list notices", func(db *gorm.DB) *gorm.DB {
		if f.Kind != "" {
			db = db.Where("kind = ?", f.Kind)
		}
		if !f.StartsFrom.IsZero() {
			db = db.Where("starts_at >= ?", formatTime(f.StartsFrom))
		}
		if !f.StartsBefore.IsZero() {
			db = db.Where("starts_at < ?", formatTime(f.StartsBefore))
		}
		return limitRows(db, f.Limit).Order("posted_at DESC").Order("id")
	}, (*noticeRow).record)
}

// byID selects the row of a table without tenants by its ID.
func byID(id string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB { return db.Where("id = ?", id) }
}

// limitRows caps a query at n rows; 0 is no limit.
func limitRows(db *gorm.DB, n int) *gorm.DB {
	if n > 0 {
		return db.Limit(n)
	}
	return db
}

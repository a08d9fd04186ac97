package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

type auditRow struct {
	Seq       int64                     `gorm:"column:seq;primaryKey;autoIncrement:false"`
	At        instant                   `gorm:"column:at"`
	TenantID  string                    `gorm:"column:tenant_id"`
	ActorID   string                    `gorm:"column:actor_id"`
	ActorKind string                    `gorm:"column:actor_kind"`
	Action    string                    `gorm:"column:action"`
	Target    string                    `gorm:"column:target"`
	IP        string                    `gorm:"column:ip"`
	UserAgent string                    `gorm:"column:user_agent"`
	Outcome   string                    `gorm:"column:outcome"`
	Detail    jsonOf[map[string]string] `gorm:"column:detail"`
	PrevHash  string                    `gorm:"column:prev_hash"`
	Hash      string                    `gorm:"column:hash"`
}

func (auditRow) TableName() string { return "audit_records" }

func (r *auditRow) record() ports.AuditRecord {
	return ports.AuditRecord{
		Seq: r.Seq,
		Event: ports.AuditEvent{
			At: time.Time(r.At), TenantID: r.TenantID, ActorID: r.ActorID, ActorKind: r.ActorKind,
			Action: r.Action, Target: r.Target, IP: r.IP, UserAgent: r.UserAgent, Outcome: r.Outcome,
			Detail: r.Detail.V,
		},
		PrevHash: r.PrevHash,
		Hash:     r.Hash,
	}
}

func auditRowOf(r ports.AuditRecord) auditRow {
	e := r.Event
	return auditRow{
		Seq: r.Seq, At: instant(e.At), TenantID: e.TenantID, ActorID: e.ActorID, ActorKind: e.ActorKind,
		Action: e.Action, Target: e.Target, IP: e.IP, UserAgent: e.UserAgent, Outcome: e.Outcome,
		Detail: jsonOf[map[string]string]{e.Detail}, PrevHash: r.PrevHash, Hash: r.Hash,
	}
}

// AppendAudit serialises appends to the chain: in one transaction it takes the table's append lock, reads
// the head, lets build make the next record and inserts it. A record that does not continue the head
// (Seq+1, PrevHash = head's Hash) is refused with ErrConflict, since it would break the chain for good.
func (s *Store) AppendAudit(ctx context.Context, build func(head ports.AuditRecord) (ports.AuditRecord, error)) (ports.AuditRecord, error) {
	var out ports.AuditRecord
	err := s.InTx(ctx, func(ctx context.Context) error {
		db := s.writer(ctx)
		if s.driver == DriverPostgres {
			// EXCLUSIVE mode blocks other appenders (and any writer) until commit, but not readers. SQLite
			// needs nothing more: the immediate transaction already holds the database's write lock.
			if err := db.Exec("LOCK TABLE audit_records IN EXCLUSIVE MODE").Error; err != nil {
				return translate("append audit: lock", err)
			}
		}
		var heads []auditRow
		if err := db.Order("seq DESC").Limit(1).Find(&heads).Error; err != nil {
			return translate("append audit: head", err)
		}
		var head ports.AuditRecord
		if len(heads) == 1 {
			head = heads[0].record()
		}
		next, err := build(head)
		if err != nil {
			return err
		}
		if next.Seq != head.Seq+1 || next.PrevHash != head.Hash {
			return fmt.Errorf("sqlstore: audit record %d does not follow %d: %w", next.Seq, head.Seq, ports.ErrConflict)
		}
		row := auditRowOf(next)
		if err := db.Create(&row).Error; err != nil {
			return translate("append audit", err)
		}
		out = row.record()
		return nil
	})
	return out, err
}

// ListAudit returns the records f selects, by Seq. Since is inclusive, Until exclusive.
func (s *Store) ListAudit(ctx context.Context, f ports.AuditFilter) ([]ports.AuditRecord, error) {
	return list(ctx, s, "list audit", func(db *gorm.DB) *gorm.DB {
		if f.AfterSeq > 0 {
			db = db.Where("seq > ?", f.AfterSeq)
		}
		if f.TenantID != "" {
			db = db.Where("tenant_id = ?", f.TenantID)
		}
		if f.ActorID != "" {
			db = db.Where("actor_id = ?", f.ActorID)
		}
		if f.Action != "" {
			db = db.Where("action = ?", f.Action)
		}
		if !f.Since.IsZero() {
			db = db.Where("at >= ?", instant(f.Since))
		}
		if !f.Until.IsZero() {
			db = db.Where("at < ?", instant(f.Until))
		}
		if f.Limit > 0 {
			db = db.Limit(f.Limit)
		}
		return db.Order("seq")
	}, (*auditRow).record)
}

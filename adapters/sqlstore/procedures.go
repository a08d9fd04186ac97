package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

// transitionJSON is one entry of a procedure's history column. The instant is written like every other
// (UTC, microseconds, fixed width), so it round-trips exactly.
type transitionJSON struct {
	From    string `json:"from"`
	To      string `json:"to"`
	By      string `json:"by"`
	At      string `json:"at"`
	Comment string `json:"comment,omitempty"`
}

type procedureRow struct {
	ID            string                   `gorm:"column:id;primaryKey"`
	TenantID      string                   `gorm:"column:tenant_id"`
	Type          string                   `gorm:"column:type"`
	EmployeeID    string                   `gorm:"column:employee_id"`
	Status        string                   `gorm:"column:status"`
	FactDate      string                   `gorm:"column:fact_date"`
	DueDate       string                   `gorm:"column:due_date"`
	Office        string                   `gorm:"column:office"`
	PreparedBy    string                   `gorm:"column:prepared_by"`
	ApprovedBy    string                   `gorm:"column:approved_by"`
	DedupKey      optText                  `gorm:"column:dedup_key"`
	ArrivalNumber optText                  `gorm:"column:arrival_number"`
	Data          []byte                   `gorm:"column:data"`
	History       jsonOf[[]transitionJSON] `gorm:"column:history"`
	Version       int64                    `gorm:"column:version"`
	CreatedAt     instant                  `gorm:"column:created_at"`
	UpdatedAt     instant                  `gorm:"column:updated_at"`
}

func (procedureRow) TableName() string { return "procedures" }

// procedureColumns are what UpdateProcedure writes: everything but the identity.
var procedureColumns = []string{"status", "fact_date", "due_date", "office", "prepared_by", "approved_by",
	"arrival_number", "data", "history", "version", "updated_at"}

func procedureRowOf(p ports.ProcedureRecord) procedureRow {
	history := make([]transitionJSON, len(p.History))
	for i, h := range p.History {
		history[i] = transitionJSON{From: h.From, To: h.To, By: h.By, At: formatTime(h.At), Comment: h.Comment}
	}
	return procedureRow{
		ID: p.ID, TenantID: p.TenantID, Type: p.Type, EmployeeID: p.EmployeeID, Status: p.Status,
		FactDate: p.FactDate, DueDate: p.DueDate, Office: p.Office, PreparedBy: p.PreparedBy,
		ApprovedBy: p.ApprovedBy, DedupKey: optText(p.DedupKey), ArrivalNumber: optText(p.ArrivalNumber),
		Data: blob(p.Data), History: jsonOf[[]transitionJSON]{history}, Version: p.Version,
		CreatedAt: instant(p.CreatedAt), UpdatedAt: instant(p.UpdatedAt),
	}
}

func (r *procedureRow) record() ports.ProcedureRecord {
	history := make([]ports.ProcedureTransition, len(r.History.V))
	for i, h := range r.History.V {
		at, _ := parseTime(h.At) // written by formatTime; a bad value reads as the zero time
		history[i] = ports.ProcedureTransition{From: h.From, To: h.To, By: h.By, At: at, Comment: h.Comment}
	}
	return ports.ProcedureRecord{
		ID: r.ID, TenantID: r.TenantID, Type: r.Type, EmployeeID: r.EmployeeID, Status: r.Status,
		FactDate: r.FactDate, DueDate: r.DueDate, Office: r.Office, PreparedBy: r.PreparedBy,
		ApprovedBy: r.ApprovedBy, DedupKey: string(r.DedupKey), ArrivalNumber: string(r.ArrivalNumber),
		Data: r.Data, History: history, Version: r.Version,
		CreatedAt: time.Time(r.CreatedAt), UpdatedAt: time.Time(r.UpdatedAt),
	}
}

// setRecord keeps the identity and makes the version the stored one plus one, whatever fn did with them.
func (r *procedureRow) setRecord(p, stored ports.ProcedureRecord) {
	p.ID, p.TenantID, p.Type, p.EmployeeID = stored.ID, stored.TenantID, stored.Type, stored.EmployeeID
	p.DedupKey, p.CreatedAt, p.Version = stored.DedupKey, stored.CreatedAt, stored.Version+1
	*r = procedureRowOf(p)
}

// CreateProcedure stores a new procedure; ErrConflict when its ID or (tenant, DedupKey) is taken, or its
// tenant does not exist. In a transaction it runs in a savepoint, so a conflict leaves the transaction usable.
func (s *Store) CreateProcedure(ctx context.Context, rec ports.ProcedureRecord) error {
	row := procedureRowOf(rec)
	return s.insert(ctx, "create procedure", &row)
}

func procedure(tenantID, id string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB { return inTenant(tenantID)(db).Where("id = ?", id) }
}

// ProcedureByID returns the procedure of tenantID; another tenant's is ErrNotFound.
func (s *Store) ProcedureByID(ctx context.Context, tenantID, id string) (ports.ProcedureRecord, error) {
	return first(ctx, s, "procedure by id", procedure(tenantID, id), (*procedureRow).record)
}

// procedureFilter scopes a query to q's tenant and filters.
func procedureFilter(q ports.ProcedureQuery) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		db = inTenant(q.TenantID)(db)
		if len(q.Statuses) > 0 {
			db = db.Where("status IN ?", q.Statuses)
		}
		if len(q.Types) > 0 {
			db = db.Where("type IN ?", q.Types)
		}
		if q.EmployeeID != "" {
			db = db.Where("employee_id = ?", q.EmployeeID)
		}
		if q.DueFrom != "" {
			db = db.Where("due_date >= ?", q.DueFrom)
		}
		if q.DueBefore != "" {
			db = db.Where("due_date < ?", q.DueBefore)
		}
		if !q.UpdatedSince.IsZero() {
			db = db.Where("updated_at >= ?", instant(q.UpdatedSince))
		}
		return db
	}
}

// procedureSorts are the orders of ports.ProcedureQuery.Sort; "" is the due date's.
var procedureSorts = map[string]keysetOrder{
	"":                         {"due_date", textKey},
	ports.ProcedureSortDue:     {"due_date", textKey},
	ports.ProcedureSortCreated: {"created_at", instantKey},
	ports.ProcedureSortUpdated: {"updated_at", instantKey},
}

// ListProcedures returns at most q.Limit procedures (all when 0) that q selects, in q.Sort order with the
// ID as tie-breaker, after (AfterKey, AfterID) when AfterID is set: a keyset page that walks the order's
// index (procedures_due_idx, the status index, or those of created_at and updated_at) from the cursor on.
// ErrInvalid for an unknown sort or a bad cursor key.
func (s *Store) ListProcedures(ctx context.Context, q ports.ProcedureQuery) ([]ports.ProcedureRecord, error) {
	order, ok := procedureSorts[q.Sort]
	if !ok {
		return nil, fmt.Errorf("sqlstore: list procedures: unknown sort %q: %w", q.Sort, ports.ErrInvalid)
	}
	page, err := order.page(q.AfterKey, q.AfterID, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list procedures: %w", err)
	}
	return list(ctx, s, "list procedures", func(db *gorm.DB) *gorm.DB {
		return page(procedureFilter(q)(db))
	}, (*procedureRow).record)
}

// CountProcedures counts what q's filters select; the cursor and limit do not count.
func (s *Store) CountProcedures(ctx context.Context, q ports.ProcedureQuery) (int, error) {
	var n int64
	err := procedureFilter(q)(s.reader(ctx).Model(&procedureRow{})).Count(&n).Error
	return int(n), translate("count procedures", err)
}

// UpdateProcedure locks the procedure's row (FOR UPDATE on Postgres; SQLite's immediate transaction holds
// the write lock), applies fn and stores the result with Version incremented, in one transaction.
func (s *Store) UpdateProcedure(ctx context.Context, tenantID, id string, fn func(*ports.ProcedureRecord) error) (ports.ProcedureRecord, error) {
	return update[ports.ProcedureRecord, procedureRow](ctx, s, "update procedure", procedure(tenantID, id), procedureColumns, fn)
}

// FiledProcedures lists, across tenants, filed procedures with an arrival number by ID after afterID, from
// the partial index of those awaiting an answer.
func (s *Store) FiledProcedures(ctx context.Context, afterID string, limit int) ([]ports.ProcedureKey, error) {
	var rows []struct{ TenantID, ID string }
	db := s.reader(ctx).Model(&procedureRow{}).Select("tenant_id", "id").
		Where("status = ? AND arrival_number IS NOT NULL AND id > ?", ports.ProcedureFiled, afterID).Order("id")
	if limit > 0 {
		db = db.Limit(limit)
	}
	if err := db.Scan(&rows).Error; err != nil {
		return nil, translate("filed procedures", err)
	}
	keys := make([]ports.ProcedureKey, len(rows))
	for i, r := range rows {
		keys[i] = ports.ProcedureKey{TenantID: r.TenantID, ID: r.ID}
	}
	return keys, nil
}

package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

var (
	_ ports.ResealJobStore   = (*Store)(nil)
	_ ports.SealedValueStore = (*Store)(nil)
)

type resealJobRow struct {
	ID          string                        `gorm:"column:id;primaryKey"`
	KeyID       int64                         `gorm:"column:key_id"`
	Status      string                        `gorm:"column:status"`
	Total       int64                         `gorm:"column:total"`
	Done        int64                         `gorm:"column:done"`
	Failed      int64                         `gorm:"column:failed"`
	Cursor      string                        `gorm:"column:cursor"`
	Failures    jsonOf[[]ports.ResealFailure] `gorm:"column:failures"`
	RetiredKeys jsonOf[[]uint32]              `gorm:"column:retired_keys"`
	Error       string                        `gorm:"column:error"`
	LeaseOwner  string                        `gorm:"column:lease_owner"`
	LeaseUntil  optInstant                    `gorm:"column:lease_until"`
	StartedAt   instant                       `gorm:"column:started_at"`
	FinishedAt  optInstant                    `gorm:"column:finished_at"`
	UpdatedAt   instant                       `gorm:"column:updated_at"`
}

func (resealJobRow) TableName() string { return "reseal_jobs" }

// resealJobColumns are what UpdateResealJob writes: everything but the ID.
var resealJobColumns = []string{"key_id", "status", "total", "done", "failed", "cursor", "failures", "retired_keys",
	"error", "lease_owner", "lease_until", "started_at", "finished_at", "updated_at"}

func resealJobRowOf(j ports.ResealJob) resealJobRow {
	// Lists, not JSON null.
	failures, retired := j.Failures, j.RetiredKeys
	if failures == nil {
		failures = []ports.ResealFailure{}
	}
	if retired == nil {
		retired = []uint32{}
	}
	return resealJobRow{ID: j.ID, KeyID: int64(j.KeyID), Status: j.Status, Total: int64(j.Total), Done: int64(j.Done),
		Failed: int64(j.Failed), Cursor: j.Cursor, Failures: jsonOf[[]ports.ResealFailure]{failures},
		RetiredKeys: jsonOf[[]uint32]{retired}, Error: j.Error, LeaseOwner: j.LeaseOwner,
		LeaseUntil: optInstant(j.LeaseUntil), StartedAt: instant(j.StartedAt), FinishedAt: optInstant(j.FinishedAt),
		UpdatedAt: instant(j.UpdatedAt)}
}

func (r *resealJobRow) record() ports.ResealJob {
	return ports.ResealJob{ID: r.ID, KeyID: uint32(r.KeyID), Status: r.Status, Total: int(r.Total), Done: int(r.Done),
		Failed: int(r.Failed), Cursor: r.Cursor, Failures: r.Failures.V, RetiredKeys: r.RetiredKeys.V, Error: r.Error,
		LeaseOwner: r.LeaseOwner, LeaseUntil: time.Time(r.LeaseUntil), StartedAt: time.Time(r.StartedAt),
		FinishedAt: time.Time(r.FinishedAt), UpdatedAt: time.Time(r.UpdatedAt)}
}

// setRecord keeps the ID, whatever fn did with it.
func (r *resealJobRow) setRecord(next, stored ports.ResealJob) {
	next.ID = stored.ID
	*r = resealJobRowOf(next)
}

// CreateResealJob stores a new key rotation job; ErrConflict when its ID is taken.
func (s *Store) CreateResealJob(ctx context.Context, j ports.ResealJob) error {
	row := resealJobRowOf(j)
	return s.insert(ctx, "create reseal job", &row)
}

// ResealJob returns one job; ErrNotFound for an unknown ID.
func (s *Store) ResealJob(ctx context.Context, id string) (ports.ResealJob, error) {
	return first(ctx, s, "reseal job", byID(id), (*resealJobRow).record)
}

// ListResealJobs returns the jobs f selects, newest StartedAt first, then by ID.
func (s *Store) ListResealJobs(ctx context.Context, f ports.ResealJobFilter) ([]ports.ResealJob, error) {
	return list(ctx, s, "list reseal jobs", func(db *gorm.DB) *gorm.DB {
		if f.Status != "" {
			db = db.Where("status = ?", f.Status)
		}
		return limitRows(db, f.Limit).Order("started_at DESC").Order("id")
	}, (*resealJobRow).record)
}

// UpdateResealJob locks the job's row, applies fn and stores the result, in one transaction.
func (s *Store) UpdateResealJob(ctx context.Context, id string, fn func(*ports.ResealJob) error) (ports.ResealJob, error) {
	return update[ports.ResealJob, resealJobRow](ctx, s, "update reseal job", byID(id), resealJobColumns, fn)
}

// sealedColumn is where one kind of sealed value is stored: a column of a table whose records are named by
// (tenant column, id column), and for some kinds also by further columns (names), whose values the walk
// returns and a replacement matches (they lead to the row by its primary key). A record without the value
// holds NULL or an empty value.
type sealedColumn struct {
	table, tenant, id, value string
	names                    []string
}

var sealedColumns = map[string]sealedColumn{
	ports.SealedTOTPSecret:            {table: "totp_authenticators", tenant: "tenant_id", id: "account_id", value: "secret_sealed"},
	ports.SealedWebhookSecret:         {table: "webhook_subscriptions", tenant: "tenant_id", id: "id", value: "sealed_secret"},
	ports.SealedWebhookPreviousSecret: {table: "webhook_subscriptions", tenant: "tenant_id", id: "id", value: "previous_sealed_secret"},
	// A day of keys at most; the walk orders them by claim, the replacement finds the row by its key.
	ports.SealedIdempotencyAnswer: {table: "idempotency_keys", tenant: "tenant_id", id: "claim", value: "body",
		names: []string{"principal", "key"}},
}

func column(kind string) (sealedColumn, error) {
	c, ok := sealedColumns[kind]
	if !ok {
		return sealedColumn{}, fmt.Errorf("sqlstore: unknown kind of sealed value %q", kind)
	}
	return c, nil
}

// SealedValues walks the values of kind by (tenant, id).
func (s *Store) SealedValues(ctx context.Context, kind string, after ports.SealedRef, limit int) ([]ports.SealedValue, error) {
	c, err := column(kind)
	if err != nil {
		return nil, err
	}
	selected := []string{c.tenant + " AS tenant_id", c.id + " AS id", c.value + " AS sealed"}
	for i, n := range c.names {
		selected = append(selected, fmt.Sprintf("%s AS name%d", n, i))
	}
	var rows []struct {
		TenantID     string
		ID           string
		Sealed       []byte
		Name0, Name1 string
	}
	db := s.reader(ctx).Table(c.table).Select(selected).
		Where("length("+c.value+") > 0"). // NULL (Postgres) or empty (SQLite) when none
		Where("("+c.tenant+", "+c.id+") > (?, ?)", after.TenantID, after.ID)
	if err := limitRows(db, limit).Order(c.tenant).Order(c.id).Scan(&rows).Error; err != nil {
		return nil, translate("sealed values", err)
	}
	out := make([]ports.SealedValue, len(rows))
	for i, r := range rows {
		out[i] = ports.SealedValue{SealedRef: ports.SealedRef{TenantID: r.TenantID, ID: r.ID}, Sealed: r.Sealed}
		if len(c.names) > 0 {
			out[i].Names = []string{r.Name0, r.Name1}[:len(c.names)]
		}
	}
	return out, nil
}

// ReplaceSealedValue swaps the value in one conditional UPDATE, which matches only while it is still old.
func (s *Store) ReplaceSealedValue(ctx context.Context, kind string, old ports.SealedValue, next []byte) (bool, error) {
	c, err := column(kind)
	if err != nil {
		return false, err
	}
	if len(old.Names) != len(c.names) {
		return false, nil // not a record of this kind
	}
	db := s.writer(ctx).Table(c.table).
		Where(c.tenant+" = ? AND "+c.id+" = ? AND "+c.value+" = ?", old.TenantID, old.ID, blob(old.Sealed))
	for i, n := range c.names {
		db = db.Where(n+" = ?", old.Names[i])
	}
	res := db.Update(c.value, blob(next))
	if res.Error != nil {
		return false, translate("replace sealed value", res.Error)
	}
	return res.RowsAffected == 1, nil
}

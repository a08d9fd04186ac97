package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

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

// FailStaleJobs marks the queued and running jobs last updated before staleBefore as failed, in one UPDATE.
func (s *Store) FailStaleJobs(ctx context.Context, staleBefore, at time.Time, result []byte) (int, error) {
	res := s.writer(ctx).Model(&jobRow{}).
		Where("status IN ? AND updated_at < ?", []string{ports.JobQueued, ports.JobRunning}, instant(staleBefore)).
		Updates(map[string]any{"status": ports.JobFailed, "result": blob(result), "updated_at": instant(at)})
	return int(res.RowsAffected), translate("fail stale jobs", res.Error)
}

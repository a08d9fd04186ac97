package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

type operationRow struct {
	ID               string                    `gorm:"column:id;primaryKey"`
	Kind             string                    `gorm:"column:kind"`
	Params           jsonOf[map[string]string] `gorm:"column:params"`
	Reason           string                    `gorm:"column:reason"`
	Status           string                    `gorm:"column:status"`
	RequestedBy      string                    `gorm:"column:requested_by"`
	RequestedByLogin string                    `gorm:"column:requested_by_login"`
	RequestedAt      instant                   `gorm:"column:requested_at"`
	ExpiresAt        instant                   `gorm:"column:expires_at"`
	DecidedBy        string                    `gorm:"column:decided_by"`
	DecidedByLogin   string                    `gorm:"column:decided_by_login"`
	DecidedAt        optInstant                `gorm:"column:decided_at"`
	DecisionComment  string                    `gorm:"column:decision_comment"`
	ExecutedBy       string                    `gorm:"column:executed_by"`
	ExecutedByLogin  string                    `gorm:"column:executed_by_login"`
	StartedAt        optInstant                `gorm:"column:started_at"`
	FinishedAt       optInstant                `gorm:"column:finished_at"`
	Result           string                    `gorm:"column:result"`
	Error            string                    `gorm:"column:error"`
	UpdatedAt        instant                   `gorm:"column:updated_at"`
}

func (operationRow) TableName() string { return "operation_requests" }

// operationColumns are what UpdateOperationRequest writes: everything but the ID.
var operationColumns = []string{"kind", "params", "reason", "status", "requested_by", "requested_by_login",
	"requested_at", "expires_at", "decided_by", "decided_by_login", "decided_at", "decision_comment",
	"executed_by", "executed_by_login", "started_at", "finished_at", "result", "error", "updated_at"}

func operationRowOf(r ports.OperationRequest) operationRow {
	params := r.Params
	if params == nil {
		params = map[string]string{} // an object, not JSON null
	}
	return operationRow{
		ID: r.ID, Kind: r.Kind, Params: jsonOf[map[string]string]{params}, Reason: r.Reason, Status: r.Status,
		RequestedBy: r.RequestedBy, RequestedByLogin: r.RequestedByLogin,
		RequestedAt: instant(r.RequestedAt), ExpiresAt: instant(r.ExpiresAt),
		DecidedBy: r.DecidedBy, DecidedByLogin: r.DecidedByLogin, DecidedAt: optInstant(r.DecidedAt),
		DecisionComment: r.DecisionComment, ExecutedBy: r.ExecutedBy, ExecutedByLogin: r.ExecutedByLogin,
		StartedAt: optInstant(r.StartedAt), FinishedAt: optInstant(r.FinishedAt),
		Result: r.Result, Error: r.Error, UpdatedAt: instant(r.UpdatedAt),
	}
}

func (r *operationRow) record() ports.OperationRequest {
	return ports.OperationRequest{
		ID: r.ID, Kind: r.Kind, Params: r.Params.V, Reason: r.Reason, Status: r.Status,
		RequestedBy: r.RequestedBy, RequestedByLogin: r.RequestedByLogin,
		RequestedAt: time.Time(r.RequestedAt), ExpiresAt: time.Time(r.ExpiresAt),
		DecidedBy: r.DecidedBy, DecidedByLogin: r.DecidedByLogin, DecidedAt: time.Time(r.DecidedAt),
		DecisionComment: r.DecisionComment, ExecutedBy: r.ExecutedBy, ExecutedByLogin: r.ExecutedByLogin,
		StartedAt: time.Time(r.StartedAt), FinishedAt: time.Time(r.FinishedAt),
		Result: r.Result, Error: r.Error, UpdatedAt: time.Time(r.UpdatedAt),
	}
}

// setRecord keeps the ID, whatever fn did with it.
func (r *operationRow) setRecord(next, stored ports.OperationRequest) {
	next.ID = stored.ID
	*r = operationRowOf(next)
}

// CreateOperationRequest stores a new work record; ErrConflict when its ID is taken.
func (s *Store) CreateOperationRequest(ctx context.Context, r ports.OperationRequest) error {
	row := operationRowOf(r)
	return s.insert(ctx, "create operation request", &row)
}

// OperationRequest returns one work record; ErrNotFound for an unknown ID.
func (s *Store) OperationRequest(ctx context.Context, id string) (ports.OperationRequest, error) {
	return first(ctx, s, "operation request", byID(id), (*operationRow).record)
}

// ListOperationRequests returns the work records f selects, newest RequestedAt first, then by ID.
func (s *Store) ListOperationRequests(ctx context.Context, f ports.OperationFilter) ([]ports.OperationRequest, error) {
	return list(ctx, s, "list operation requests", func(db *gorm.DB) *gorm.DB {
		if f.Status != "" {
			db = db.Where("status = ?", f.Status)
		}
		if f.Kind != "" {
			db = db.Where("kind = ?", f.Kind)
		}
		return limitRows(db, f.Limit).Order("requested_at DESC").Order("id")
	}, (*operationRow).record)
}

// UpdateOperationRequest locks the work record's row (FOR UPDATE on Postgres; SQLite's immediate
// transaction holds the write lock), applies fn and stores the result, in one transaction.
func (s *Store) UpdateOperationRequest(ctx context.Context, id string, fn func(*ports.OperationRequest) error) (ports.OperationRequest, error) {
	return update[ports.OperationRequest, operationRow](ctx, s, "update operation request", byID(id), operationColumns, fn)
}

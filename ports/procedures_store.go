package ports

import (
	"context"
	"time"
)

// ProcedureRecord is a procedure (手続き) as stored. The fields lists filter and sort on are plain columns;
// the rest of its state (the employee's snapshot, the deadline's explanation, who edited it) is Data, JSON
// owned by the procedures module. Data holds no My Number, insurance number or bank account: those stay
// sealed in the register and are read when a document is made.
type ProcedureRecord struct {
	ID         string
	TenantID   string
	Type       string // one of the Procedure* type codes
	EmployeeID string
	Status     string // one of the Procedure* statuses
	FactDate   string // YYYY-MM-DD, the day of the fact the filing reports
	DueDate    string // YYYY-MM-DD, the legal deadline moved off closed days
	Office     string // pension_office | hello_work | health_insurance_society
	PreparedBy string // the account that last submitted it for approval; "" before
	ApprovedBy string // the account that approved it; "" before
	// DedupKey makes automatic creation idempotent: at most one procedure per (TenantID, DedupKey) when it is
	// not "" (e.g. the type and the employee change that triggered it). "" for procedures made by hand.
	DedupKey      string
	ArrivalNumber string // 到達番号 of an electronic filing; "" when filed on paper or not yet
	Data          []byte
	History       []ProcedureTransition // oldest first; every status change, with who, when and why
	Version       int64                 // incremented by every update
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ProcedureTransition is one status change of a procedure. From is "" for its creation.
type ProcedureTransition struct {
	From    string
	To      string
	By      string // account ID, or a system actor such as "system:procedures"
	At      time.Time
	Comment string
}

// ProcedureQuery selects procedures of one tenant, in Sort order then by ID. Zero fields do not filter.
type ProcedureQuery struct {
	TenantID     string
	Statuses     []string
	Types        []string
	EmployeeID   string
	DueFrom      string    // YYYY-MM-DD inclusive
	DueBefore    string    // YYYY-MM-DD exclusive
	UpdatedSince time.Time // inclusive, compared at the stored precision (microseconds)
	Sort         string    // one of the ProcedureSort* constants; "" is due_date
	// AfterKey and AfterID continue a listing after the procedure with this value of the sort column and this
	// ID (keyset pages). For created_at and updated_at, AfterKey is an RFC 3339 instant in any zone.
	AfterKey string
	AfterID  string
	Limit    int // 0: no limit
}

// Procedure sort orders. Each is ascending, with ID as the tie-breaker.
const (
	ProcedureSortDue     = "due_date"
	ProcedureSortCreated = "created_at"
	ProcedureSortUpdated = "updated_at"
)

// ProcedureKey names one procedure.
type ProcedureKey struct {
	TenantID string
	ID       string
}

// ProcedureStore keeps procedures. Every call but FiledProcedures is scoped by tenant: another tenant's
// procedure is ErrNotFound.
type ProcedureStore interface {
	// CreateProcedure stores a new procedure; ErrConflict when its ID, or its DedupKey in its tenant, is taken.
	// Inside a transaction a conflict leaves the transaction usable, so a caller may treat it as "done already".
	CreateProcedure(ctx context.Context, rec ProcedureRecord) error
	ProcedureByID(ctx context.Context, tenantID, id string) (ProcedureRecord, error)
	// ListProcedures returns at most q.Limit procedures in q.Sort order (then by ID) after (AfterKey,
	// AfterID); ErrInvalid for an unknown sort or a cursor key that is not of its column.
	ListProcedures(ctx context.Context, q ProcedureQuery) ([]ProcedureRecord, error)
	// CountProcedures counts what q's filters select, whatever its cursor and limit.
	CountProcedures(ctx context.Context, q ProcedureQuery) (int, error)
	// UpdateProcedure locks the procedure, applies fn and stores the result (Version incremented), atomically:
	// two concurrent updates see each other's result, never the same old state. An error from fn changes
	// nothing. fn's changes to ID, TenantID, Type, EmployeeID, DedupKey and CreatedAt are discarded.
	UpdateProcedure(ctx context.Context, tenantID, id string, fn func(*ProcedureRecord) error) (ProcedureRecord, error)
	// FiledProcedures lists, across tenants, procedures in status filed with an arrival number, by ID after
	// afterID, at most limit (all when 0): the ones whose office's answer is awaited.
	FiledProcedures(ctx context.Context, afterID string, limit int) ([]ProcedureKey, error)
}

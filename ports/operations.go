package ports

import (
	"context"
	"time"
)

// Privileged operator actions that the two-person rule covers. A parameter "tenant_id" names the tenant an
// operation acts on; its audit entries carry that tenant.
const (
	OpTenantSuspend   = "tenant.suspend"
	OpTenantDelete    = "tenant.delete"
	OpContractOptions = "tenant.contract_options" // IP restriction, MFA required, seats
	OpKeyRotation     = "keys.rotate"
	OpRestore         = "backup.restore"
	OpGrantOperator   = "operator.grant"
)

// Operation request statuses: pending → approved → executing → executed | failed, and pending → rejected |
// expired. A request of a kind executed on the server (a restore) stays approved until the command there
// claims it, and expires with the request like a pending one. Executing is claimed atomically before the action runs, so an action runs at most once; a request
// left executing (the process stopped mid-run) is for an operator to look into, never run again.
const (
	OperationPending   = "pending"
	OperationApproved  = "approved"
	OperationExecuting = "executing"
	OperationExecuted  = "executed"
	OperationFailed    = "failed"
	OperationRejected  = "rejected"
	OperationExpired   = "expired"
)

// OperationRequest is the work record of one privileged operation: the request, the decision (approval,
// rejection or expiry) and the execution, kept together; stored as it is shown, since it holds nothing an
// operator may not see. Operators belong to no tenant, so neither do the records. In what Operations
// returns, Status is the effective one: a pending request past ExpiresAt shows as expired even before it is
// stored so.
type OperationRequest struct {
	ID     string
	Kind   string
	Params map[string]string
	Reason string
	Status string
	// The request.
	RequestedBy      string // operator account ID
	RequestedByLogin string // as it was then, for the record
	RequestedAt      time.Time
	ExpiresAt        time.Time // a pending request can no longer be decided from this instant
	// The decision: an approval or a rejection by an operator, or expiry (DecidedAt only).
	DecidedBy       string
	DecidedByLogin  string
	DecidedAt       time.Time
	DecisionComment string
	// The execution.
	ExecutedBy      string
	ExecutedByLogin string
	StartedAt       time.Time
	FinishedAt      time.Time
	Result          string // what the action reported on success
	Error           string // why it failed
	UpdatedAt       time.Time
}

// OperationFilter selects work records; zero fields do not filter.
type OperationFilter struct {
	Status string
	Kind   string
	Limit  int // 0 = no limit
}

// OperationRequestStore keeps the work records of privileged operations.
type OperationRequestStore interface {
	// CreateOperationRequest stores a new record; ErrConflict when the ID is taken.
	CreateOperationRequest(ctx context.Context, r OperationRequest) error
	// OperationRequest returns one record; ErrNotFound for an unknown ID.
	OperationRequest(ctx context.Context, id string) (OperationRequest, error)
	// ListOperationRequests returns the records f selects, by RequestedAt, newest first, then by ID.
	ListOperationRequests(ctx context.Context, f OperationFilter) ([]OperationRequest, error)
	// UpdateOperationRequest locks the record, applies fn and stores the result, atomically: of concurrent
	// updates each sees the one before. An error from fn changes nothing and is returned. ErrNotFound for an
	// unknown ID.
	UpdateOperationRequest(ctx context.Context, id string, fn func(*OperationRequest) error) (OperationRequest, error)
}

// RequestOperationCommand asks for a privileged operation. Params are the action's plain parameters.
type RequestOperationCommand struct {
	Kind   string
	Params map[string]string
	Reason string
}

// OperationHandler is what the integrator registers for each operation kind: Check (optional) refuses
// parameters the action could never run with, when the request is made, so that nobody approves a request
// that cannot work; Execute performs the approved action. Execute runs inside a transaction (its store calls
// made with ctx join it) together with the update that marks the request executed; it returns a short
// summary for the work record. Its error text is kept in the work record for operators.
type OperationHandler struct {
	Check   func(ctx context.Context, params map[string]string) error
	Execute func(ctx context.Context, req OperationRequest) (string, error)
}

// Operations is the driving port of the two-person rule. Every method needs a fully logged-in operator.
type Operations interface {
	// Request records a request, pending until another operator approves or rejects it or it expires.
	Request(ctx context.Context, p Principal, cmd RequestOperationCommand) (OperationRequest, error)
	// Approve approves a pending request of another operator and executes it at once (a kind executed on the
	// server stays approved for the command there). A failed execution is not an error of Approve: the
	// returned record says failed and why. Approving one's own request is
	// ErrForbidden "self_approval"; a request no longer pending is ErrConflict.
	Approve(ctx context.Context, p Principal, id, comment string) (OperationRequest, error)
	// Reject turns a pending request down; the requester may withdraw their own this way.
	Reject(ctx context.Context, p Principal, id, comment string) (OperationRequest, error)
	// Execute runs an approved request whose execution never started (Approve was interrupted).
	Execute(ctx context.Context, p Principal, id string) (OperationRequest, error)
	Get(ctx context.Context, p Principal, id string) (OperationRequest, error)
	List(ctx context.Context, p Principal, f OperationFilter) ([]OperationRequest, error)
	// ExpireDue marks pending requests past their expiry expired, for a periodic job; it returns how many.
	ExpireDue(ctx context.Context) (int, error)
}

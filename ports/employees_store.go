package ports

import (
	"context"
	"time"
)

// EmployeeRecord is an employee's current state as stored. The fields the register filters, sorts and searches
// on are plain columns; the whole state is Data (JSON owned by the employees module), in which sensitive values
// (My Number, insurance numbers, bank account) are already sealed by the Cipher: the store never sees them in
// clear.
type EmployeeRecord struct {
	ID             string
	TenantID       string
	EmployeeNumber string // 社員番号, unique per tenant
	Status         string
	EmploymentType string
	DepartmentID   string // "" when none
	AccountID      string // the login of the person this record describes; "" when none
	HireDate       string // YYYY-MM-DD
	SortKana       string // normalised kana reading, for sorting by name
	SearchText     string // normalised names, kana, number and e-mail, for partial search
	Data           []byte
	EffectiveOn    string // YYYY-MM-DD: the latest change folded into Data
	NextChangeOn   string // YYYY-MM-DD of the earliest scheduled change not yet applied; "" when none
	Version        int64  // incremented by every update; the ETag
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// EmployeeChangeRecord is one effective-dated change of an employee: the fields it set, from the day it takes
// effect. An employee's state on a date is its changes up to that date applied in order (EffectiveOn, then
// Seq), so a change dated in the past also shows in every later state that did not set the same field, and a
// change dated in the future is a scheduled update until its day comes.
type EmployeeChangeRecord struct {
	ID          string
	TenantID    string
	EmployeeID  string
	Seq         int64  // recording order within the employee, assigned by the store (1, 2, …)
	EffectiveOn string // YYYY-MM-DD, Asia/Tokyo
	Kind        string // hire, change, separation, import…
	Patch       []byte // JSON object: field name → new value (sensitive values sealed)
	Trail       []byte // JSON: what each field was and became when recorded (sensitive values masked)
	RecordedAt  time.Time
	RecordedBy  string // account ID
}

// EmployeeQuery selects employees of one tenant. Zero fields do not filter.
type EmployeeQuery struct {
	TenantID        string
	Text            string // normalised like SearchText; matches a substring
	EmployeeNumber  string
	Statuses        []string
	EmploymentTypes []string
	DepartmentIDs   []string
	AccountID       string    // the record linked to this login
	HiredFrom       string    // YYYY-MM-DD inclusive
	HiredTo         string    // YYYY-MM-DD inclusive
	UpdatedSince    time.Time // inclusive, compared at the stored precision (microseconds)
	Sort            string    // one of the EmployeeSort* constants
	// After continues a listing after the row with these sort values (keyset pagination: stable under inserts).
	AfterKey string // the sort column's value of the last row
	AfterID  string // that row's ID, the tie-breaker
	Limit    int
}

// Employee sort orders. Each is ascending, with ID as the tie-breaker.
const (
	EmployeeSortNumber   = "employee_number"
	EmployeeSortKana     = "kana"
	EmployeeSortHireDate = "hire_date"
	EmployeeSortUpdated  = "updated_at"
)

// EmployeeUpdate is what an update function returns: the changes to append and the IDs of scheduled changes
// to remove. The record itself is changed in place.
type EmployeeUpdate struct {
	Append []EmployeeChangeRecord
	Remove []string
	// Rewrite replaces the Patch and Trail of the employee's changes with these IDs, keeping everything
	// else (Seq, EffectiveOn, Kind, RecordedAt, RecordedBy): for re-sealing the history under the newest key
	// after a key rotation. IDs that are not this employee's changes are ignored.
	Rewrite []EmployeeChangeRecord
}

// EmployeeKey names one employee.
type EmployeeKey struct {
	TenantID string
	ID       string
}

// EmployeeStore keeps the register. Every call is scoped by tenant: another tenant's employee is ErrNotFound.
type EmployeeStore interface {
	// CreateEmployees stores new employees with their first changes, all or none; ErrConflict when an
	// employee number is taken in the tenant.
	CreateEmployees(ctx context.Context, recs []EmployeeRecord, changes []EmployeeChangeRecord) error
	EmployeeByID(ctx context.Context, tenantID, id string) (EmployeeRecord, error)
	EmployeeByNumber(ctx context.Context, tenantID, number string) (EmployeeRecord, error)
	// ListEmployees returns at most q.Limit employees in q.Sort order after (AfterKey, AfterID).
	ListEmployees(ctx context.Context, q EmployeeQuery) ([]EmployeeRecord, error)
	CountEmployees(ctx context.Context, q EmployeeQuery) (int, error)
	// UpdateEmployee locks the employee, gives fn the record and its changes in order, then stores the record
	// (Version incremented), appends and removes changes as fn says, atomically. An error from fn changes
	// nothing. ErrConflict when the employee number is taken.
	UpdateEmployee(ctx context.Context, tenantID, id string, fn func(rec *EmployeeRecord, changes []EmployeeChangeRecord) (EmployeeUpdate, error)) (EmployeeRecord, error)
	EmployeeChanges(ctx context.Context, tenantID, employeeID string) ([]EmployeeChangeRecord, error)
	// DeleteEmployee removes the employee and its changes.
	DeleteEmployee(ctx context.Context, tenantID, id string) error
	// EmployeesDue lists employees whose NextChangeOn is on or before day, across tenants, for the job that
	// applies scheduled changes.
	EmployeesDue(ctx context.Context, day string, limit int) ([]EmployeeKey, error)
	// EmployeeKeys walks every employee of every tenant: at most limit keys (all when 0) after the key after,
	// ordered by (TenantID, ID), for jobs that visit the whole register (re-sealing after a key rotation).
	// The zero key starts the walk.
	EmployeeKeys(ctx context.Context, after EmployeeKey, limit int) ([]EmployeeKey, error)
}

// DepartmentRecord is one node of a tenant's department tree.
type DepartmentRecord struct {
	ID        string
	TenantID  string
	Code      string // unique per tenant
	Name      string
	ParentID  string // "" for a root
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DepartmentStore keeps departments, scoped by tenant.
type DepartmentStore interface {
	// CreateDepartment stores a department; ErrConflict when the code is taken in the tenant.
	CreateDepartment(ctx context.Context, d DepartmentRecord) error
	DepartmentByID(ctx context.Context, tenantID, id string) (DepartmentRecord, error)
	ListDepartments(ctx context.Context, tenantID string) ([]DepartmentRecord, error)
	// UpdateDepartment applies fn atomically (Version incremented); ErrConflict when the code is taken.
	UpdateDepartment(ctx context.Context, tenantID, id string, fn func(*DepartmentRecord) error) (DepartmentRecord, error)
	// DeleteDepartment removes a department; ErrConflict while a department or an employee refers to it.
	DeleteDepartment(ctx context.Context, tenantID, id string) error
}

// OutboxEvent is a domain event written in the same transaction as the change it reports, and dispatched
// after commit (to other modules and webhooks), so that nothing is lost on a crash.
type OutboxEvent struct {
	ID           string
	TenantID     string
	Type         string // e.g. employee.hired, employee.changed, employee.separated, dependent.added
	SubjectID    string // e.g. the employee ID
	Payload      []byte // JSON; never a secret or a My Number
	OccurredAt   time.Time
	DispatchedAt time.Time // zero while pending
}

// Outbox keeps domain events until they are dispatched. Events reach two kinds of readers: the single
// dispatcher (PendingEvents, MarkDispatched), and any number of named consumers (the procedures module,
// webhooks …), each of which handles every event once, independently of the others (PendingEventsFor,
// MarkConsumed).
type Outbox interface {
	AppendEvents(ctx context.Context, events ...OutboxEvent) error
	// PendingEvents lists undispatched events, oldest first.
	PendingEvents(ctx context.Context, limit int) ([]OutboxEvent, error)
	// MarkDispatched records the dispatch; an event already marked stays as it was (idempotent).
	MarkDispatched(ctx context.Context, id string, at time.Time) error
	// PendingEventsFor lists, across tenants and oldest first, at most limit events (all when 0) of the given
	// types (all when none) that consumer has not consumed.
	PendingEventsFor(ctx context.Context, consumer string, types []string, limit int) ([]OutboxEvent, error)
	// MarkConsumed records that consumer has handled the event. Call it in the transaction that does the
	// handling: ErrConflict when the consumer has consumed the event already (another instance won the
	// race), and then that transaction must roll back; ErrNotFound when there is no such event.
	MarkConsumed(ctx context.Context, consumer, eventID string, at time.Time) error
}

// Job statuses.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
)

// JobRecord is a long-running piece of work (a large CSV import) whose progress callers can follow.
type JobRecord struct {
	ID        string
	TenantID  string
	Kind      string // e.g. employees.import
	Status    string
	Done      int
	Total     int    // 0 when unknown
	Result    []byte // JSON, once finished
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// JobStore keeps jobs, scoped by tenant.
type JobStore interface {
	CreateJob(ctx context.Context, j JobRecord) error
	JobByID(ctx context.Context, tenantID, id string) (JobRecord, error)
	UpdateJob(ctx context.Context, tenantID, id string, fn func(*JobRecord) error) (JobRecord, error)
	// FailStaleJobs marks every queued or running job, of any tenant, last updated before staleBefore as
	// failed with result and UpdatedAt at, and returns how many. Check and change are one atomic step: a
	// job updated meanwhile (its progress, or its end) is left as it is.
	FailStaleJobs(ctx context.Context, staleBefore, at time.Time, result []byte) (int, error)
}

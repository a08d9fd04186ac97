package ports

import (
	"context"
	"io"
	"time"
)

// Employee statuses, genders and the standard employment types (tenants may add their own).
const (
	EmployeeActive    = "active"
	EmployeeOnLeave   = "on_leave"
	EmployeeSeparated = "separated"

	GenderMale   = "male"
	GenderFemale = "female"
)

// Address is a Japanese postal address.
type Address struct {
	PostalCode string // 123-4567
	Prefecture string
	City       string
	Street     string
	Building   string
}

// MonthlyPay is the monthly remuneration in yen: cash (通貨) and in kind (現物).
type MonthlyPay struct {
	Cash   int64
	InKind int64
}

// BankAccount is the account pay goes to. Sealed at rest.
type BankAccount struct {
	BankCode      string // 4 digits
	BranchCode    string // 3 digits
	AccountType   string // ordinary or checking
	AccountNumber string // 7 digits
	HolderKana    string
}

// Dependent is a family member supported by the employee (被扶養者).
type Dependent struct {
	ID             string
	Relationship   string // spouse, child, parent, grandparent, sibling, other
	FamilyName     string
	GivenName      string
	FamilyNameKana string
	GivenNameKana  string
	BirthDate      string // YYYY-MM-DD
	Gender         string
	MyNumberMasked string // ********9018, or "" when none
	AnnualIncome   int64
	LivingTogether bool
}

// Employee is an employee as shown to a caller, as of one date. Sensitive numbers are masked for roles that
// may not see them; My Number is always masked (RevealMyNumber shows it, audited).
type Employee struct {
	ID                          string
	EmployeeNumber              string
	FamilyName                  string
	GivenName                   string
	FamilyNameKana              string
	GivenNameKana               string
	BusinessName                string
	BirthDate                   string
	Gender                      string
	Email                       string
	Phone                       string
	Address                     Address
	HireDate                    string
	SeparationDate              string
	SeparationReason            string
	Status                      string
	EmploymentType              string
	DepartmentID                string
	AccountID                   string // the login of the person this record describes; "" when none
	Position                    string
	MonthlyPay                  MonthlyPay
	HealthGrade                 int   // 健康保険 標準報酬月額 grade, 0 when pay is unknown
	PensionGrade                int   // 厚生年金 grade
	StandardMonthlyRemuneration int64 // 標準報酬月額 (health insurance), yen
	BasicPensionNumber          string
	EmploymentInsuranceNumber   string
	HealthInsuranceNumber       string
	MyNumberMasked              string
	BankAccount                 BankAccount
	Dependents                  []Dependent
	AsOf                        string // the date this view describes
	Version                     int64
	CreatedAt                   time.Time
	UpdatedAt                   time.Time
}

// EmployeeInput creates or changes an employee. Fields is flat, keyed by the field names of the REST contract
// with nested ones dotted (family_name, address.postal_code, monthly_pay.cash, my_number…); every value is
// text as typed, parsed and validated by the module, so the API, the forms and CSV import share one set of
// rules and messages. An empty value clears an optional field. Dependents are changed through their own calls.
type EmployeeInput struct {
	Fields      map[string]string
	EffectiveOn string // YYYY-MM-DD; "" means today (Asia/Tokyo). A later date schedules the change.
	IfVersion   int64  // when not 0, the update applies only to this version (If-Match): else ErrPreconditionFailed
	Reason      string // optional note for the change trail
}

// DependentInput adds or changes a dependent; Fields are the Dependent field names (relationship,
// family_name, my_number, annual_income, living_together…).
type DependentInput struct {
	Fields      map[string]string
	EffectiveOn string
	IfVersion   int64
}

// EmployeeFilter selects employees for a list.
type EmployeeFilter struct {
	Query           string // partial name, kana (width- and hiragana/katakana-insensitive), number or e-mail
	EmployeeNumber  string
	Statuses        []string
	EmploymentTypes []string
	DepartmentIDs   []string
	HiredFrom       string
	HiredTo         string
	UpdatedSince    time.Time
	Sort            string // EmployeeSort*; default employee_number
	Cursor          string // opaque, from EmployeePage.NextCursor
	Limit           int    // default 50, at most 200
}

// EmployeePage is one page of a list.
type EmployeePage struct {
	Items      []Employee
	NextCursor string // "" on the last page
}

// FieldChange is one field's change in the trail. Sensitive values are masked.
type FieldChange struct {
	Field string
	From  string
	To    string
}

// EmployeeChange is one entry of an employee's history: applied (EffectiveOn on or before today) or scheduled.
type EmployeeChange struct {
	ID          string
	EffectiveOn string
	Kind        string
	Scheduled   bool
	Changes     []FieldChange
	RecordedAt  time.Time
	RecordedBy  string
	Reason      string
}

// Department is a node of the tenant's department tree.
type Department struct {
	ID       string
	Code     string
	Name     string
	ParentID string
	Version  int64
}

// DepartmentInput creates or changes a department; nil leaves a field unchanged.
type DepartmentInput struct {
	Code      *string
	Name      *string
	ParentID  *string
	IfVersion int64
}

// CSV encodings for import and export.
const (
	EncodingUTF8     = "utf-8"
	EncodingShiftJIS = "shift_jis"
)

// ImportRequest is a CSV import. The header row names the columns by field name or Japanese label (社員番号,
// 姓, 名 …); Mapping may rename columns to field names first. Rows whose 社員番号 exists update that employee.
type ImportRequest struct {
	CSV         io.Reader
	Encoding    string            // "" = detect (UTF-8 with or without BOM, else Shift_JIS/CP932)
	Mapping     map[string]string // column header → field name
	DryRun      bool
	EffectiveOn string
}

// ImportError is one problem of one row; Row counts from 1 at the first data row (the header is row 0).
type ImportError struct {
	Row       int
	Column    string
	Code      string
	MessageJA string
	MessageEN string
}

// ImportResult is what an import did (or, in a dry run, would do). Any error means nothing was written.
type ImportResult struct {
	Created int
	Updated int
	Errors  []ImportError
}

// ImportProgress receives progress of a long import: rows done of total (0 when not yet known).
type ImportProgress func(done, total int)

// Employees is the driving port of the employee register. Callers must be admin or hr of the tenant, except
// that an employee may read their own record and change its contact fields and dependents.
type Employees interface {
	CreateEmployee(ctx context.Context, p Principal, in EmployeeInput) (Employee, error)
	// GetEmployee shows the employee as of asOf (YYYY-MM-DD; "" = today).
	GetEmployee(ctx context.Context, p Principal, id, asOf string) (Employee, error)
	// OwnEmployee is the record linked to the caller's account (any role), as of today; ErrNotFound when none.
	OwnEmployee(ctx context.Context, p Principal) (Employee, error)
	ListEmployees(ctx context.Context, p Principal, f EmployeeFilter) (EmployeePage, error)
	UpdateEmployee(ctx context.Context, p Principal, id string, in EmployeeInput) (Employee, error)
	DeleteEmployee(ctx context.Context, p Principal, id string, ifVersion int64) error
	// History lists the applied and scheduled changes, newest effective date first.
	History(ctx context.Context, p Principal, id string) ([]EmployeeChange, error)
	// UpdateScheduledChange replaces the fields and date of a change that has not taken effect yet;
	// CancelScheduledChange removes it. A change already in effect is ErrConflict.
	UpdateScheduledChange(ctx context.Context, p Principal, employeeID, changeID string, in EmployeeInput) (Employee, error)
	CancelScheduledChange(ctx context.Context, p Principal, employeeID, changeID string, ifVersion int64) (Employee, error)
	// RevealMyNumber shows an employee's (or dependent's, when dependentID is set) My Number to an admin or hr
	// member for a stated purpose, and audits it.
	RevealMyNumber(ctx context.Context, p Principal, employeeID, dependentID, purpose string) (string, error)

	AddDependent(ctx context.Context, p Principal, employeeID string, in DependentInput) (Employee, error)
	UpdateDependent(ctx context.Context, p Principal, employeeID, dependentID string, in DependentInput) (Employee, error)
	RemoveDependent(ctx context.Context, p Principal, employeeID, dependentID string, in DependentInput) (Employee, error)

	ListDepartments(ctx context.Context, p Principal) ([]Department, error)
	CreateDepartment(ctx context.Context, p Principal, in DepartmentInput) (Department, error)
	UpdateDepartment(ctx context.Context, p Principal, id string, in DepartmentInput) (Department, error)
	DeleteDepartment(ctx context.Context, p Principal, id string) error

	// ImportEmployees validates every row first and writes all or nothing.
	ImportEmployees(ctx context.Context, p Principal, req ImportRequest, progress ImportProgress) (ImportResult, error)
	// StartImport records a queued import job and returns it with the function that runs the import; the
	// caller runs it (typically after answering 202) and keeps req.CSV readable until it returns.
	StartImport(ctx context.Context, p Principal, req ImportRequest) (JobRecord, func(context.Context) error, error)
	// Job is a job of the caller's tenant (admin and hr).
	Job(ctx context.Context, p Principal, id string) (JobRecord, error)
	// ExportEmployees writes every employee as CSV (the import's columns) in the encoding.
	ExportEmployees(ctx context.Context, p Principal, w io.Writer, encoding string) error
	// ApplyDueChanges folds scheduled changes whose day has come into the current records (a periodic job).
	ApplyDueChanges(ctx context.Context) (int, error)
}

package ports

import (
	"context"
	"time"
)

// Procedure type codes (CONTRACT.md "Core resources").
const (
	ProcedureHealthPensionAcquisition       = "health_pension_acquisition"       // 健康保険・厚生年金保険 被保険者資格取得届
	ProcedureHealthPensionLoss              = "health_pension_loss"              // 同 被保険者資格喪失届
	ProcedureEmploymentInsuranceAcquisition = "employment_insurance_acquisition" // 雇用保険被保険者資格取得届
	ProcedureEmploymentInsuranceLoss        = "employment_insurance_loss"        // 雇用保険被保険者資格喪失届 (+離職証明書)
	ProcedureDependentChange                = "dependent_change"                 // 健康保険 被扶養者(異動)届
	ProcedureAnnualRemunerationReport       = "annual_remuneration_report"       // 被保険者報酬月額算定基礎届
	ProcedureMonthlyRemunerationChange      = "monthly_remuneration_change"      // 被保険者報酬月額変更届
	ProcedureBonusPaymentReport             = "bonus_payment_report"             // 被保険者賞与支払届
	ProcedureAddressChange                  = "address_change"                   // 住所変更届
	ProcedureNameChange                     = "name_change"                      // 氏名変更届
)

// Procedure statuses: draft → pending_approval → approved → filed → completed, with returned (差戻し, back to
// its preparer) and cancelled.
const (
	ProcedureDraft           = "draft"
	ProcedurePendingApproval = "pending_approval"
	ProcedureApproved        = "approved"
	ProcedureFiled           = "filed"
	ProcedureCompleted       = "completed"
	ProcedureReturned        = "returned"
	ProcedureCancelled       = "cancelled"
)

// Offices a procedure is filed with.
const (
	OfficePension                = "pension_office"           // 年金事務所 (日本年金機構)
	OfficeHelloWork              = "hello_work"               // ハローワーク
	OfficeHealthInsuranceSociety = "health_insurance_society" // 健康保険組合
)

// Workflow actions (ProcedureAction.Action).
const (
	ActionSubmit   = "submit"   // draft or returned → pending_approval; the caller becomes the preparer
	ActionApprove  = "approve"  // pending_approval → approved; an approver other than the preparer
	ActionReturn   = "return"   // pending_approval, approved or filed → returned (差戻し, or 補正 from the office)
	ActionFile     = "file"     // approved → filed
	ActionComplete = "complete" // filed → completed
	ActionCancel   = "cancel"   // anything not yet filed → cancelled
)

// ProcedureDeadline is a procedure's deadline and the rule that produced it.
type ProcedureDeadline struct {
	LegalDate string // YYYY-MM-DD, what the rule gives
	DueDate   string // LegalDate, or the next day the offices are open when it falls on a closed day
	Moved     bool   // DueDate is later than LegalDate
	RuleJA    string // e.g. 事実発生日の翌日から5日以内
	RuleEN    string
}

// Procedure is a procedure as shown to its tenant's admin and hr members.
type Procedure struct {
	ID            string
	Type          string
	NameJA        string // e.g. 健康保険・厚生年金保険 被保険者資格取得届
	NameEN        string
	EmployeeID    string
	Status        string
	FactDate      string
	DueDate       string
	Deadline      ProcedureDeadline
	Office        string
	PreparedBy    string
	ApprovedBy    string
	ArrivalNumber string
	// Fields is the snapshot of the employee at the fact date that the filing reports (family_name,
	// birth_date, monthly_pay.cash …), editable while draft or returned. Never a My Number or insurance number.
	Fields    map[string]string
	History   []ProcedureTransition
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ProcedureInput creates a procedure by hand (for the types no event triggers: bonus, monthly change …).
type ProcedureInput struct {
	Type       string
	EmployeeID string
	FactDate   string            // YYYY-MM-DD
	Office     string            // "" = the type's usual office
	Fields     map[string]string // overrides of the snapshot taken from the register
	Comment    string
}

// ProcedureEdit changes a draft or returned procedure.
type ProcedureEdit struct {
	FactDate  string            // "" = unchanged; a new date recomputes the deadline
	Fields    map[string]string // snapshot fields to set; "" clears one
	IfVersion int64             // when not 0, applies only to this version, else ErrPreconditionFailed
}

// ProcedureAction moves a procedure through its workflow.
type ProcedureAction struct {
	Action    string // one of the Action* constants
	Comment   string // required for return and cancel
	IfVersion int64
}

// ProcedureFilter selects procedures for a list.
type ProcedureFilter struct {
	Statuses   []string
	Types      []string
	EmployeeID string
	DueBefore  string // YYYY-MM-DD exclusive
	// UpdatedSince selects procedures updated at or after it (inclusive, for delta syncs); zero: all.
	UpdatedSince time.Time
	Sort         string // ProcedureSort*; default due_date
	Cursor       string // opaque, from ProcedurePage.NextCursor; valid only with the Sort it was made for
	Limit        int    // default 50, at most 200
}

// ProcedurePage is one page of a list.
type ProcedurePage struct {
	Items      []Procedure
	NextCursor string // "" on the last page
}

// ProcedureDashboard is the open procedures (not yet filed, not cancelled) by urgency, each by due date.
type ProcedureDashboard struct {
	Today    string // YYYY-MM-DD in Asia/Tokyo
	Overdue  []Procedure
	DueToday []Procedure
	// DueThisWeek is after today up to Sunday of this week.
	DueThisWeek []Procedure
}

// ProcedureType is one entry of the procedure catalogue.
type ProcedureType struct {
	Type           string
	NameJA         string
	NameEN         string
	Office         string
	Trigger        string // the event that creates it (employee.hired …), "annual" or "manual"
	RuleJA         string
	RuleEN         string
	RequiredFields []string // snapshot fields that must be filled before it is submitted for approval
}

// FilingProgress is an office's answer to an electronic filing.
type FilingProgress struct {
	Done     bool   // the office has finished with it
	Accepted bool   // 手続終了 (when Done); false with Done is 補正, a correction is requested
	Message  string // the office's message, e.g. the reason for a correction
}

// ProcedureFiler files approved procedures electronically. The e-filing package implements it over a
// FilingGateway; without one, the file action records a filing made on paper.
type ProcedureFiler interface {
	// File submits the procedure and returns its arrival number (到達番号); filing the same procedure again
	// returns the same number.
	File(ctx context.Context, tenantID string, proc Procedure) (arrivalNumber string, err error)
	// Progress asks the office about a filing.
	Progress(ctx context.Context, tenantID, arrivalNumber string) (FilingProgress, error)
}

// Procedures is the driving port of the procedures module. Callers must be admin or hr members of the
// tenant; approving (and returning) needs an approver role (admin) and another account than the preparer.
type Procedures interface {
	// Catalogue lists the procedure types with their office, trigger, deadline rule and required fields.
	Catalogue() []ProcedureType
	CreateProcedure(ctx context.Context, p Principal, in ProcedureInput) (Procedure, error)
	GetProcedure(ctx context.Context, p Principal, id string) (Procedure, error)
	ListProcedures(ctx context.Context, p Principal, f ProcedureFilter) (ProcedurePage, error)
	Dashboard(ctx context.Context, p Principal) (ProcedureDashboard, error)
	// UpdateProcedure edits a draft or returned procedure; in another status it is ErrConflict.
	UpdateProcedure(ctx context.Context, p Principal, id string, in ProcedureEdit) (Procedure, error)
	// Act applies a workflow action; one the status does not allow is ErrConflict (HTTP 409).
	Act(ctx context.Context, p Principal, id string, a ProcedureAction) (Procedure, error)
	// CreateAnnualReports creates the 算定基礎届 of year for everyone insured on 1 July; running it again
	// creates nothing new. It returns how many it created.
	CreateAnnualReports(ctx context.Context, p Principal, year int) (int, error)
	// ConsumeEvents turns pending employee events into procedures, each event exactly once (a periodic job,
	// safe to run on several instances at once). It returns how many events it consumed.
	ConsumeEvents(ctx context.Context) (int, error)
	// PollFilings asks the offices about electronic filings awaiting an answer and completes or returns
	// them (a periodic job). It returns how many procedures it moved.
	PollFilings(ctx context.Context) (int, error)
}

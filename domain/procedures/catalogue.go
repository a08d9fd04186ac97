package procedures

import (
	"slices"
	"strings"

	"github.com/roumu/roumu/ports"
)

// Triggers of procedure kinds besides the employee events.
const (
	TriggerAnnual = "annual" // CreateAnnualReports, once a year
	TriggerManual = "manual" // created by hand
)

// Employee events the module consumes (written by the employees module; see domain/employees/service.go).
const (
	EventHired            = "employee.hired"
	EventSeparated        = "employee.separated"
	EventDependentAdded   = "dependent.added"
	EventDependentRemoved = "dependent.removed"
	EventChanged          = "employee.changed" // carries cancelled_changes: scheduled changes taken back
)

// kind is one procedure type of the catalogue: where it is filed, what creates it, its deadline rule, the
// snapshot fields it needs, and who is not covered by the insurance it belongs to.
type kind struct {
	Type     string
	NameJA   string
	NameEN   string
	Office   string
	Triggers []string // event types, or TriggerAnnual / TriggerManual
	Deadline deadlineRule
	Required []string // snapshot fields that must be filled before it is submitted for approval
	// NotCoveredTypes are employment types for which the event does not create it (interpretation, see
	// coverage below).
	NotCoveredTypes []string
}

// Snapshot field names: the employee as of the fact date (names as in the REST contract), and what the
// filing adds. Insurance numbers and My Number are not copied: the document is made from the register.
const (
	fFamilyName       = "family_name"
	fGivenName        = "given_name"
	fFamilyKana       = "family_name_kana"
	fGivenKana        = "given_name_kana"
	fBirthDate        = "birth_date"
	fGender           = "gender"
	fPostalCode       = "address.postal_code"
	fPrefecture       = "address.prefecture"
	fCity             = "address.city"
	fStreet           = "address.street"
	fBuilding         = "address.building"
	fEmployeeNumber   = "employee_number"
	fEmploymentType   = "employment_type"
	fPosition         = "position"
	fHireDate         = "hire_date"
	fSeparationDate   = "separation_date" // 退職日, the last day
	fSeparationReason = "separation_reason"
	fLossDate         = "loss_date" // 資格喪失日, the day after the last day
	fPayCash          = "monthly_pay.cash"
	fPayInKind        = "monthly_pay.in_kind"
	fStandardPay      = "standard_monthly_remuneration"
	fHasDependents    = "has_dependents" // true | false
	fDependentID      = "dependent.id"
	fDependentChange  = "dependent.change" // added | removed
	fDependentFamily  = "dependent.family_name"
	fDependentGiven   = "dependent.given_name"
	fDependentBirth   = "dependent.birth_date"
	fDependentRelated = "dependent.relationship"
	fYear             = "year"         // 算定基礎届: the year
	fBonusAmount      = "bonus.amount" // 賞与支払届: yen
	fNewPayCash       = "new_monthly_pay.cash"
	fPreviousName     = "previous_family_name"
)

// snapshotFields are every field a procedure may hold; edits naming another are refused.
var snapshotFields = []string{
	fFamilyName, fGivenName, fFamilyKana, fGivenKana, fBirthDate, fGender, fPostalCode, fPrefecture, fCity,
	fStreet, fBuilding, fEmployeeNumber, fEmploymentType, fPosition, fHireDate, fSeparationDate,
	fSeparationReason, fLossDate, fPayCash, fPayInKind, fStandardPay, fHasDependents, fDependentID,
	fDependentChange, fDependentFamily, fDependentGiven, fDependentBirth, fDependentRelated, fYear,
	fBonusAmount, fNewPayCash, fPreviousName, fEmployerPrefectureCode, fEmployerDistrictCode, fEmployerOfficeSymbol,
	fEmployerOfficeNumber, fEmployerEIOfficeNumber, fEmployerName, fEmployerPostalCode, fEmployerAddress,
	fEmployerOwnerName, fEmployerPhone,
}

var person = []string{fFamilyName, fGivenName, fFamilyKana, fGivenKana, fBirthDate, fGender}

func fields(groups ...[]string) []string { return slices.Concat(groups...) }

// Employment types (domain/employees) that the automatic procedures leave out. Interpretation, kept as data:
// a dispatched worker (派遣) is insured by the dispatching agency, not by the client company that keeps them
// in its register; an executive (役員) is not covered by employment insurance, but is by health insurance
// and pension when paid. Part-timers are covered or not by their hours, which the register does not hold:
// their procedures are created, and HR cancels the ones that do not apply.
const (
	typeDispatch  = "dispatch"
	typeExecutive = "executive"
)

// catalogue is the procedure types (CONTRACT.md codes; DOMAIN.md offices and deadlines).
var catalogue = []kind{
	{
		Type: ports.ProcedureHealthPensionAcquisition, Office: ports.OfficePension,
		NameJA: "健康保険・厚生年金保険 被保険者資格取得届", NameEN: "Health insurance and pension: acquisition of insured status",
		Triggers: []string{EventHired}, Deadline: withinDays(5),
		Required:        fields(person, []string{fHireDate, fPayCash}),
		NotCoveredTypes: []string{typeDispatch},
	},
	{
		Type: ports.ProcedureHealthPensionLoss, Office: ports.OfficePension,
		NameJA: "健康保険・厚生年金保険 被保険者資格喪失届", NameEN: "Health insurance and pension: loss of insured status",
		Triggers: []string{EventSeparated}, Deadline: withinDays(5),
		Required:        fields(person, []string{fSeparationDate, fLossDate}),
		NotCoveredTypes: []string{typeDispatch},
	},
	{
		Type: ports.ProcedureEmploymentInsuranceAcquisition, Office: ports.OfficeHelloWork,
		NameJA: "雇用保険被保険者資格取得届", NameEN: "Employment insurance: acquisition of insured status",
		Triggers: []string{EventHired}, Deadline: dayOfMonth(1, 10),
		Required:        fields(person, []string{fHireDate, fEmploymentType, fPayCash}),
		NotCoveredTypes: []string{typeDispatch, typeExecutive},
	},
	{
		Type: ports.ProcedureEmploymentInsuranceLoss, Office: ports.OfficeHelloWork,
		NameJA: "雇用保険被保険者資格喪失届（離職証明書）", NameEN: "Employment insurance: loss of insured status (with separation certificate)",
		Triggers: []string{EventSeparated}, Deadline: withinDays(10),
		Required:        fields(person, []string{fSeparationDate, fLossDate, fSeparationReason}),
		NotCoveredTypes: []string{typeDispatch, typeExecutive},
	},
	{
		Type: ports.ProcedureDependentChange, Office: ports.OfficePension,
		NameJA: "健康保険 被扶養者（異動）届", NameEN: "Health insurance: change of dependents",
		Triggers: []string{EventDependentAdded, EventDependentRemoved}, Deadline: withinDays(5),
		Required:        fields([]string{fFamilyName, fGivenName, fBirthDate, fDependentChange, fDependentFamily, fDependentGiven, fDependentBirth, fDependentRelated}),
		NotCoveredTypes: []string{typeDispatch},
	},
	{
		Type: ports.ProcedureAnnualRemunerationReport, Office: ports.OfficePension,
		NameJA: "被保険者報酬月額算定基礎届", NameEN: "Annual report of remuneration (standard monthly remuneration)",
		Triggers: []string{TriggerAnnual}, Deadline: dayOfMonth(0, 10),
		Required:        fields(person, []string{fYear, fPayCash}),
		NotCoveredTypes: []string{typeDispatch},
	},
	{
		Type: ports.ProcedureMonthlyRemunerationChange, Office: ports.OfficePension,
		NameJA: "被保険者報酬月額変更届", NameEN: "Change of monthly remuneration",
		Triggers: []string{TriggerManual}, Deadline: promptly(5),
		Required: fields(person, []string{fPayCash, fNewPayCash}),
	},
	{
		Type: ports.ProcedureBonusPaymentReport, Office: ports.OfficePension,
		NameJA: "被保険者賞与支払届", NameEN: "Report of bonus payment",
		Triggers: []string{TriggerManual}, Deadline: withinDays(5),
		Required: fields(person, []string{fBonusAmount}),
	},
	{
		Type: ports.ProcedureAddressChange, Office: ports.OfficePension,
		NameJA: "被保険者住所変更届", NameEN: "Change of address",
		Triggers: []string{TriggerManual}, Deadline: promptly(5),
		Required: fields(person, []string{fPostalCode, fPrefecture, fCity, fStreet}),
	},
	{
		Type: ports.ProcedureNameChange, Office: ports.OfficePension,
		NameJA: "被保険者氏名変更（訂正）届", NameEN: "Change of name",
		Triggers: []string{TriggerManual}, Deadline: promptly(5),
		Required: fields(person, []string{fPreviousName}),
	},
}

// kindOf returns the catalogue entry of a type code.
func kindOf(typ string) (kind, bool) {
	i := slices.IndexFunc(catalogue, func(k kind) bool { return k.Type == typ })
	if i < 0 {
		return kind{}, false
	}
	return catalogue[i], true
}

// kindsTriggeredBy returns the kinds an event type creates, in catalogue order.
func kindsTriggeredBy(eventType string) []kind {
	var out []kind
	for _, k := range catalogue {
		if slices.Contains(k.Triggers, eventType) {
			out = append(out, k)
		}
	}
	return out
}

// covers reports whether an automatic procedure of k applies to an employee of that employment type.
func (k kind) covers(employmentType string) bool {
	return !slices.Contains(k.NotCoveredTypes, employmentType)
}

// Catalogue implements ports.Procedures.
func (s *Service) Catalogue() []ports.ProcedureType {
	out := make([]ports.ProcedureType, len(catalogue))
	for i, k := range catalogue {
		trigger := strings.Join(k.Triggers, "|")
		out[i] = ports.ProcedureType{Type: k.Type, NameJA: k.NameJA, NameEN: k.NameEN, Office: k.Office,
			Trigger: trigger, RuleJA: k.Deadline.JA, RuleEN: k.Deadline.EN, RequiredFields: slices.Clone(k.Required)}
	}
	return out
}

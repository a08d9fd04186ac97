package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/roumu/roumu/ports"
)

// The employee register's JSON: the field names of CONTRACT.md "Core resources". Reads nest the address,
// the monthly pay and the bank account; writes send the same shape and are flattened into the dotted field
// names the module parses (address.postal_code …), every value as text, so that the API, the forms and CSV
// import share one set of rules and messages.

type addressJSON struct {
	PostalCode string `json:"postal_code"`
	Prefecture string `json:"prefecture"`
	City       string `json:"city"`
	Street     string `json:"street"`
	Building   string `json:"building"`
}

type monthlyPayJSON struct {
	Cash   int64 `json:"cash"`
	InKind int64 `json:"in_kind"`
}

type bankAccountJSON struct {
	BankCode      string `json:"bank_code"`
	BranchCode    string `json:"branch_code"`
	AccountType   string `json:"account_type"`
	AccountNumber string `json:"account_number"`
	HolderKana    string `json:"holder_kana"`
}

type dependentJSON struct {
	ID             string `json:"id"`
	Relationship   string `json:"relationship"`
	FamilyName     string `json:"family_name"`
	GivenName      string `json:"given_name"`
	FamilyNameKana string `json:"family_name_kana"`
	GivenNameKana  string `json:"given_name_kana"`
	BirthDate      string `json:"birth_date"`
	Gender         string `json:"gender"`
	MyNumberMasked string `json:"my_number_masked"`
	AnnualIncome   int64  `json:"annual_income"`
	LivingTogether bool   `json:"living_together"`
}

// employeeJSON is an employee as the API shows it. Unset text is "" rather than absent, so that every
// member is always there for partners to rely on.
type employeeJSON struct {
	ID                          string          `json:"id"`
	EmployeeNumber              string          `json:"employee_number"`
	FamilyName                  string          `json:"family_name"`
	GivenName                   string          `json:"given_name"`
	FamilyNameKana              string          `json:"family_name_kana"`
	GivenNameKana               string          `json:"given_name_kana"`
	BusinessName                string          `json:"business_name"`
	BirthDate                   string          `json:"birth_date"`
	Gender                      string          `json:"gender"`
	Email                       string          `json:"email"`
	Phone                       string          `json:"phone"`
	Address                     addressJSON     `json:"address"`
	HireDate                    string          `json:"hire_date"`
	SeparationDate              string          `json:"separation_date"`
	SeparationReason            string          `json:"separation_reason"`
	Status                      string          `json:"status"`
	EmploymentType              string          `json:"employment_type"`
	DepartmentID                string          `json:"department_id"`
	AccountID                   string          `json:"account_id"`
	Position                    string          `json:"position"`
	MonthlyPay                  monthlyPayJSON  `json:"monthly_pay"`
	HealthGrade                 int             `json:"health_grade"`
	PensionGrade                int             `json:"pension_grade"`
	StandardMonthlyRemuneration int64           `json:"standard_monthly_remuneration"`
	BasicPensionNumber          string          `json:"basic_pension_number"`
	EmploymentInsuranceNumber   string          `json:"employment_insurance_number"`
	HealthInsuranceNumber       string          `json:"health_insurance_number"`
	MyNumberMasked              string          `json:"my_number_masked"`
	BankAccount                 bankAccountJSON `json:"bank_account"`
	Dependents                  []dependentJSON `json:"dependents"`
	AsOf                        string          `json:"as_of"`
	Version                     int64           `json:"version"`
	CreatedAt                   *string         `json:"created_at"`
	UpdatedAt                   *string         `json:"updated_at"`
}

func toEmployeeJSON(e ports.Employee) employeeJSON {
	out := employeeJSON{
		ID: e.ID, EmployeeNumber: e.EmployeeNumber, FamilyName: e.FamilyName, GivenName: e.GivenName,
		FamilyNameKana: e.FamilyNameKana, GivenNameKana: e.GivenNameKana, BusinessName: e.BusinessName,
		BirthDate: e.BirthDate, Gender: e.Gender, Email: e.Email, Phone: e.Phone,
		Address:  addressJSON(e.Address),
		HireDate: e.HireDate, SeparationDate: e.SeparationDate, SeparationReason: e.SeparationReason,
		Status: e.Status, EmploymentType: e.EmploymentType, DepartmentID: e.DepartmentID, AccountID: e.AccountID,
		Position: e.Position, MonthlyPay: monthlyPayJSON(e.MonthlyPay), HealthGrade: e.HealthGrade,
		PensionGrade: e.PensionGrade, StandardMonthlyRemuneration: e.StandardMonthlyRemuneration,
		BasicPensionNumber: e.BasicPensionNumber, EmploymentInsuranceNumber: e.EmploymentInsuranceNumber,
		HealthInsuranceNumber: e.HealthInsuranceNumber, MyNumberMasked: e.MyNumberMasked,
		BankAccount: bankAccountJSON(e.BankAccount), Dependents: make([]dependentJSON, 0, len(e.Dependents)),
		AsOf: e.AsOf, Version: e.Version, CreatedAt: rfc3339(e.CreatedAt), UpdatedAt: rfc3339(e.UpdatedAt),
	}
	for _, d := range e.Dependents {
		out.Dependents = append(out.Dependents, dependentJSON(d))
	}
	return out
}

type fieldChangeJSON struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

type changeJSON struct {
	ID          string            `json:"id"`
	EffectiveOn string            `json:"effective_on"`
	Kind        string            `json:"kind"`
	Scheduled   bool              `json:"scheduled"`
	Changes     []fieldChangeJSON `json:"changes"`
	RecordedAt  *string           `json:"recorded_at"`
	RecordedBy  string            `json:"recorded_by"`
	Reason      string            `json:"reason"`
}

func toChangeJSON(c ports.EmployeeChange) changeJSON {
	out := changeJSON{ID: c.ID, EffectiveOn: c.EffectiveOn, Kind: c.Kind, Scheduled: c.Scheduled,
		Changes: make([]fieldChangeJSON, 0, len(c.Changes)), RecordedAt: rfc3339(c.RecordedAt),
		RecordedBy: c.RecordedBy, Reason: c.Reason}
	for _, f := range c.Changes {
		out.Changes = append(out.Changes, fieldChangeJSON(f))
	}
	return out
}

type departmentJSON struct {
	ID       string `json:"id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	ParentID string `json:"parent_id"`
	Version  int64  `json:"version"`
}

type jobJSON struct {
	ID        string          `json:"id"`
	Kind      string          `json:"kind"`
	Status    string          `json:"status"`
	Done      int             `json:"done"`
	Total     int             `json:"total"`
	Result    json.RawMessage `json:"result"`
	CreatedAt *string         `json:"created_at"`
	UpdatedAt *string         `json:"updated_at"`
}

func toJobJSON(j ports.JobRecord) jobJSON {
	out := jobJSON{ID: j.ID, Kind: j.Kind, Status: j.Status, Done: j.Done, Total: j.Total,
		Result: json.RawMessage("null"), CreatedAt: rfc3339(j.CreatedAt), UpdatedAt: rfc3339(j.UpdatedAt)}
	if json.Valid(j.Result) {
		out.Result = j.Result
	}
	return out
}

type importErrorJSON struct {
	Row       int    `json:"row"`
	Column    string `json:"column"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageEN string `json:"message_en"`
}

type importResultJSON struct {
	Created int               `json:"created"`
	Updated int               `json:"updated"`
	Errors  []importErrorJSON `json:"errors"`
}

// toImportResultJSON shows what an import did, or in a dry run would do. A real import with errors wrote
// nothing, so its counts are 0 whatever the module counted before it stopped.
func toImportResultJSON(r ports.ImportResult, dryRun bool) importResultJSON {
	out := importResultJSON{Created: r.Created, Updated: r.Updated, Errors: make([]importErrorJSON, 0, len(r.Errors))}
	if !dryRun && len(r.Errors) > 0 {
		out.Created, out.Updated = 0, 0
	}
	for _, e := range r.Errors {
		out.Errors = append(out.Errors, importErrorJSON{Row: e.Row, Column: e.Column, Code: e.Code,
			Message: e.MessageJA, MessageEN: e.MessageEN})
	}
	return out
}

// Writable bodies. nestedMembers are the objects of an employee body, each flattened one level
// (address.postal_code); readOnly are members of a read that a write may not send.
var (
	nestedMembers = []string{"address", "monthly_pay", "bank_account"}
	readOnly      = []string{"id", "my_number_masked", "dependents", "health_grade", "pension_grade",
		"standard_monthly_remuneration", "as_of", "version", "created_at", "updated_at"}
)

// Members of a write body that are not fields of the record but of the change.
const (
	memberEffectiveOn = "effective_on"
	memberReason      = "reason"
)

// flatBody is a write body turned into flat text fields plus the change's own members.
type flatBody struct {
	fields      map[string]string
	effectiveOn string
	reason      string
}

// flattenBody converts a checked JSON object (see checkJSON) into flat text fields. nested lists the members
// that are objects of fields; any other member must be a scalar: a string is taken as it is, a number as
// written, true and false as such, null as "" (clear the field). A value of the wrong shape, a read-only
// member or a dotted name is an error of that field, all of them reported together (422). Which names are
// fields is the module's business: it answers unknown_field for each one it does not know.
func flattenBody(body []byte, nested []string) (flatBody, error) {
	var top map[string]json.RawMessage
	if err := unmarshalNumbers(body, &top); err != nil {
		return flatBody{}, syntaxProblem()
	}
	out := flatBody{fields: make(map[string]string, len(top))}
	var errs []ports.FieldError
	for _, key := range sortedKeys(top) {
		raw := top[key]
		switch {
		case key == memberEffectiveOn || key == memberReason:
			var v *string
			if json.Unmarshal(raw, &v) != nil {
				errs = append(errs, wrongType(key, "must be a string", "文字列で指定してください"))
				continue
			}
			if v == nil {
				continue
			}
			if key == memberEffectiveOn {
				out.effectiveOn = *v
			} else {
				out.reason = *v
			}
		case slices.Contains(readOnly, key):
			errs = append(errs, ports.FieldError{Field: key, Code: "read_only",
				MessageEN: "is read-only", MessageJA: "この項目は変更できません"})
		case strings.Contains(key, "."):
			errs = append(errs, ports.FieldError{Field: key, Code: "unknown_field",
				MessageEN: "is not a field of this record", MessageJA: "この項目は存在しません"})
		case slices.Contains(nested, key):
			errs = append(errs, flattenObject(key, raw, out.fields)...)
		default:
			v, ok := scalarText(raw)
			if !ok {
				errs = append(errs, wrongType(key, "must be a string, number, boolean or null",
					"文字列・数値・真偽値・null のいずれかで指定してください"))
				continue
			}
			out.fields[key] = v
		}
	}
	if len(errs) > 0 {
		return flatBody{}, invalidFields(errs)
	}
	return out, nil
}

// flattenObject adds the members of one nested object as "key.member". The object itself must be one: null
// is refused rather than taken to clear every field of it, which a partner could do by accident.
func flattenObject(key string, raw json.RawMessage, into map[string]string) []ports.FieldError {
	var members map[string]json.RawMessage
	if err := unmarshalNumbers(raw, &members); err != nil || members == nil {
		return []ports.FieldError{wrongType(key, "must be an object", "オブジェクトで指定してください")}
	}
	var errs []ports.FieldError
	for _, m := range sortedKeys(members) {
		name := key + "." + m
		v, ok := scalarText(members[m])
		if !ok || strings.Contains(m, ".") {
			errs = append(errs, wrongType(name, "must be a string, number, boolean or null",
				"文字列・数値・真偽値・null のいずれかで指定してください"))
			continue
		}
		into[name] = v
	}
	return errs
}

// scalarText is the text of a JSON scalar; false for objects and arrays.
func scalarText(raw json.RawMessage) (string, bool) {
	var v any
	if err := unmarshalNumbers(raw, &v); err != nil {
		return "", false
	}
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

func unmarshalNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func wrongType(field, en, ja string) ports.FieldError {
	return ports.FieldError{Field: field, Code: "invalid_type", MessageEN: en, MessageJA: ja}
}

// invalidFields is the 422 of a body with field errors, one entry per field.
func invalidFields(errs []ports.FieldError) *problemError {
	p := newProblem(http.StatusUnprocessableEntity, "validation_failed",
		"Some fields are invalid.", "入力内容に誤りがあります。")
	p.fields = errs
	return p
}

// employeeInput converts a checked employee body into the port's input.
func employeeInput(body []byte) (ports.EmployeeInput, error) {
	fb, err := flattenBody(body, nestedMembers)
	if err != nil {
		return ports.EmployeeInput{}, err
	}
	return ports.EmployeeInput{Fields: fb.fields, EffectiveOn: fb.effectiveOn, Reason: fb.reason}, nil
}

// dependentInput converts a checked dependent body into the port's input.
func dependentInput(body []byte) (ports.DependentInput, error) {
	fb, err := flattenBody(body, nil)
	if err != nil {
		return ports.DependentInput{}, err
	}
	if fb.reason != "" {
		return ports.DependentInput{}, invalidFields([]ports.FieldError{{Field: memberReason, Code: "unknown_field",
			MessageEN: "is not a field of this record", MessageJA: "この項目は存在しません"}})
	}
	return ports.DependentInput{Fields: fb.fields, EffectiveOn: fb.effectiveOn}, nil
}

// dateOnly is the layout of the register's dates.
const dateOnly = time.DateOnly

package procedures

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/roumu/roumu/domain/kernel/calendar"
	"github.com/roumu/roumu/ports"
)

// procData is a procedure's Data: what the store keeps without reading.
type procData struct {
	// Fields is the snapshot of the employee at the fact date, and what the filing adds.
	Fields map[string]string `json:"fields"`
	// LegalDate is the deadline the rule gave, before moving off closed days.
	LegalDate string `json:"legal_date"`
	// Preparers are the accounts that edited or submitted the procedure: none of them may approve it.
	Preparers []string `json:"preparers,omitempty"`
	// Source names what created it automatically: the event and the employee change it reported.
	SourceEvent  string `json:"source_event,omitempty"`
	SourceChange string `json:"source_change,omitempty"`
}

func decodeData(b []byte) (procData, error) {
	var d procData
	if len(b) > 0 {
		if err := json.Unmarshal(b, &d); err != nil {
			return procData{}, fmt.Errorf("procedures: record data: %w", err)
		}
	}
	if d.Fields == nil {
		d.Fields = map[string]string{}
	}
	return d, nil
}

func (d procData) encode() []byte {
	b, err := json.Marshal(d)
	if err != nil {
		panic("procedures: data of plain strings cannot fail to encode: " + err.Error())
	}
	return b
}

// addPreparer records that account prepared the procedure.
func (d *procData) addPreparer(account string) {
	if !slices.Contains(d.Preparers, account) {
		d.Preparers = append(d.Preparers, account)
	}
}

// snapshot is the employee as a procedure keeps it: plain fields, no sealed number.
func snapshot(e ports.Employee) map[string]string {
	f := map[string]string{
		fFamilyName: e.FamilyName, fGivenName: e.GivenName, fFamilyKana: e.FamilyNameKana, fGivenKana: e.GivenNameKana,
		fBirthDate: e.BirthDate, fGender: e.Gender, fPostalCode: e.Address.PostalCode, fPrefecture: e.Address.Prefecture,
		fCity: e.Address.City, fStreet: e.Address.Street, fBuilding: e.Address.Building,
		fEmployeeNumber: e.EmployeeNumber, fEmploymentType: e.EmploymentType, fPosition: e.Position,
		fHireDate: e.HireDate, fSeparationDate: e.SeparationDate, fSeparationReason: e.SeparationReason,
		fHasDependents: strconv.FormatBool(len(e.Dependents) > 0),
	}
	if e.MonthlyPay.Cash > 0 || e.MonthlyPay.InKind > 0 {
		f[fPayCash], f[fPayInKind] = strconv.FormatInt(e.MonthlyPay.Cash, 10), strconv.FormatInt(e.MonthlyPay.InKind, 10)
	}
	if e.StandardMonthlyRemuneration > 0 {
		f[fStandardPay] = strconv.FormatInt(e.StandardMonthlyRemuneration, 10)
	}
	maps.DeleteFunc(f, func(_, v string) bool { return v == "" })
	return f
}

// dependentSnapshot adds a dependent's fields to f; change is added or removed.
func dependentSnapshot(f map[string]string, d ports.Dependent, change string) {
	f[fDependentID], f[fDependentChange] = d.ID, change
	f[fDependentFamily], f[fDependentGiven], f[fDependentBirth], f[fDependentRelated] = d.FamilyName, d.GivenName, d.BirthDate, d.Relationship
	maps.DeleteFunc(f, func(_, v string) bool { return v == "" })
}

// missingFields returns a field error for every required field of k that f leaves empty.
func missingFields(k kind, f map[string]string) []ports.FieldError {
	var errs []ports.FieldError
	for _, name := range k.Required {
		if f[name] == "" {
			errs = append(errs, ports.FieldError{Field: "fields." + name, Code: "required",
				MessageEN: "is required for this filing", MessageJA: "この届出に必要です"})
		}
	}
	return errs
}

// setFields applies edits to f: known fields only, "" clears.
func setFields(f map[string]string, edits map[string]string) []ports.FieldError {
	var errs []ports.FieldError
	for _, name := range slices.Sorted(maps.Keys(edits)) {
		if !slices.Contains(snapshotFields, name) {
			errs = append(errs, ports.FieldError{Field: "fields." + name, Code: "unknown_field",
				MessageEN: "is not a field of procedures", MessageJA: "手続きの項目ではありません"})
			continue
		}
		if v := edits[name]; v == "" {
			delete(f, name)
		} else {
			f[name] = v
		}
	}
	return errs
}

// parseFactDate reads a fact date; field names the input.
func parseFactDate(field, s string) (calendar.Date, []ports.FieldError) {
	d, err := calendar.ParseDate(s)
	if err != nil {
		return calendar.Date{}, []ports.FieldError{{Field: field, Code: "invalid_date",
			MessageEN: "must be a date written YYYY-MM-DD", MessageJA: "YYYY-MM-DD 形式の日付で入力してください"}}
	}
	return d, nil
}

// view is a stored procedure as the port shows it.
func view(r ports.ProcedureRecord) (ports.Procedure, error) {
	d, err := decodeData(r.Data)
	if err != nil {
		return ports.Procedure{}, err
	}
	k, _ := kindOf(r.Type)
	return ports.Procedure{
		ID: r.ID, Type: r.Type, NameJA: k.NameJA, NameEN: k.NameEN, EmployeeID: r.EmployeeID, Status: r.Status,
		FactDate: r.FactDate, DueDate: r.DueDate, Office: r.Office, PreparedBy: r.PreparedBy, ApprovedBy: r.ApprovedBy,
		ArrivalNumber: r.ArrivalNumber,
		Deadline: ports.ProcedureDeadline{LegalDate: d.LegalDate, DueDate: r.DueDate, Moved: d.LegalDate != r.DueDate,
			RuleJA: k.Deadline.JA, RuleEN: k.Deadline.EN},
		Fields: d.Fields, History: slices.Clone(r.History), Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}, nil
}

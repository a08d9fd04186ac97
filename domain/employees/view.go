package employees

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/roumu/roumu/ports"
)

// view builds the caller-facing employee from a stored (sealed) state as of asOf. My Number is always
// masked; the other sensitive values are masked unless the caller manages the register.
func (s *Service) view(ctx context.Context, a Access, rec ports.EmployeeRecord, sealed state, asOf string) (ports.Employee, error) {
	st, err := s.sealer(rec.TenantID, rec.ID).openState(ctx, sealed)
	if err != nil {
		return ports.Employee{}, err
	}
	v := st.values
	secret := func(name string) string {
		if a.SeesSensitive() {
			return v[name]
		}
		return mask(v[name])
	}
	e := ports.Employee{
		ID: rec.ID, EmployeeNumber: v[fEmployeeNumber],
		FamilyName: v[fFamilyName], GivenName: v[fGivenName], FamilyNameKana: v[fFamilyKana], GivenNameKana: v[fGivenKana],
		BusinessName: v[fBusinessName], BirthDate: v[fBirthDate], Gender: v["gender"], Email: v[fEmail], Phone: v["phone"],
		Address: ports.Address{PostalCode: v["address.postal_code"], Prefecture: v["address.prefecture"],
			City: v["address.city"], Street: v["address.street"], Building: v["address.building"]},
		HireDate: v[fHireDate], SeparationDate: v[fSeparationDate], SeparationReason: v["separation_reason"],
		Status: v[fStatus], EmploymentType: v[fEmploymentType], DepartmentID: v[fDepartmentID], AccountID: v[fAccountID], Position: v["position"],
		BasicPensionNumber:        secret("basic_pension_number"),
		EmploymentInsuranceNumber: secret("employment_insurance_number"),
		HealthInsuranceNumber:     secret("health_insurance_number"),
		MyNumberMasked:            mask(v[fMyNumber]),
		BankAccount: ports.BankAccount{BankCode: secret("bank_account.bank_code"),
			BranchCode: secret("bank_account.branch_code"), AccountType: secret("bank_account.account_type"),
			AccountNumber: secret("bank_account.account_number"), HolderKana: secret("bank_account.holder_kana")},
		Dependents: make([]ports.Dependent, 0, len(st.deps)),
		AsOf:       asOf, Version: rec.Version, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt,
	}
	e.MonthlyPay.Cash, _ = strconv.ParseInt(v[fPayCash], 10, 64)
	e.MonthlyPay.InKind, _ = strconv.ParseInt(v[fPayInKind], 10, 64)
	if v[fPayCash] != "" || v[fPayInKind] != "" {
		pay := e.MonthlyPay.Cash + e.MonthlyPay.InKind
		health := HealthGrades.At(asOf).Find(pay)
		e.HealthGrade, e.StandardMonthlyRemuneration = health.Grade, health.Monthly
		e.PensionGrade = PensionGrades.At(asOf).Find(pay).Grade
	}
	for _, d := range st.deps {
		dv := d.values
		income, _ := strconv.ParseInt(dv["annual_income"], 10, 64)
		e.Dependents = append(e.Dependents, ports.Dependent{ID: d.ID, Relationship: dv["relationship"],
			FamilyName: dv[fFamilyName], GivenName: dv[fGivenName], FamilyNameKana: dv[fFamilyKana],
			GivenNameKana: dv[fGivenKana], BirthDate: dv[fBirthDate], Gender: dv["gender"],
			MyNumberMasked: mask(dv[fMyNumber]), AnnualIncome: income, LivingTogether: dv["living_together"] == "true"})
	}
	return e, nil
}

// historyView turns a stored change into a history entry.
func historyView(c ports.EmployeeChangeRecord, currentDay string) ports.EmployeeChange {
	var doc trailDoc
	_ = json.Unmarshal(c.Trail, &doc) // a trail we cannot read shows as no field changes, not as an error
	h := ports.EmployeeChange{ID: c.ID, EffectiveOn: c.EffectiveOn, Kind: c.Kind,
		Scheduled: c.EffectiveOn > currentDay, RecordedAt: c.RecordedAt, RecordedBy: c.RecordedBy, Reason: doc.Reason}
	for _, t := range doc.Changes {
		h.Changes = append(h.Changes, ports.FieldChange(t))
	}
	return h
}

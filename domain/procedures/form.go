package procedures

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/roumu/roumu/domain/kernel/calendar"
	"github.com/roumu/roumu/domain/procedures/efiling"
	"github.com/roumu/roumu/ports"
)

// The employer block of a form (事業所). Interpretation: the register knows nothing of the employer's office
// numbers, so a procedure carries them as fields (editable like the snapshot, not personal data), over the
// tenant's defaults from Deps.Employers when one is wired.
const (
	fEmployerPrefectureCode = "employer.prefecture_code" // 都道府県コード (年金機構)
	fEmployerDistrictCode   = "employer.district_code"   // 郡市区符号
	fEmployerOfficeSymbol   = "employer.office_symbol"   // 事業所記号
	fEmployerOfficeNumber   = "employer.office_number"   // 事業所番号
	fEmployerEIOfficeNumber = "employer.employment_insurance_office_number"
	fEmployerName           = "employer.name"
	fEmployerPostalCode     = "employer.postal_code"
	fEmployerAddress        = "employer.address"
	fEmployerOwnerName      = "employer.owner_name"
	fEmployerPhone          = "employer.phone"
)

// formTypes are the procedure types Roumu makes a form of; efilingTypes those it also writes the
// 届書作成プログラム data of (the 雇用保険 forms go to ハローワーク in another format).
var (
	formTypes    = []string{ports.FormHealthPensionAcquisition, ports.FormHealthPensionLoss, ports.FormEmploymentInsuranceAcquisition}
	efilingTypes = []string{ports.FormHealthPensionAcquisition, ports.FormHealthPensionLoss}
)

// officeNames are where a form is filed, as the form says it.
var officeNames = map[string]string{
	ports.OfficePension:                "日本年金機構（年金事務所）",
	ports.OfficeHelloWork:              "公共職業安定所（ハローワーク）",
	ports.OfficeHealthInsuranceSociety: "健康保険組合",
}

// employmentTypes are the register's employment types as the 雇用保険 form's 雇用形態 and whether the contract
// has a fixed term. Interpretation: 嘱託 and 契約社員 are fixed-term; アルバイト and パート are part-time,
// their term unknown to the register (unticked; HR corrects the printed form).
var employmentTypes = map[string]struct {
	form      string
	fixedTerm bool
}{
	"regular":   {"7 その他", false},
	"contract":  {"4 有期契約労働者", true},
	"shokutaku": {"4 有期契約労働者", true},
	"part_time": {"3 パートタイム", false},
	"arbeit":    {"3 パートタイム", false},
	"dispatch":  {"2 派遣", false},
}

// purposeOf is the purpose recorded when a form reveals an employee's My Number (the register accepts
// "other: …" with a reason, which names the procedure).
func purposeOf(proc ports.Procedure) string {
	if proc.Office == ports.OfficeHelloWork {
		return "other: employment insurance filing " + proc.ID
	}
	return "other: social insurance filing " + proc.ID
}

// form fills the form of a procedure: its snapshot, the employer block, and the insured person's numbers read
// from the register as reader (an admin or hr member, or the module's system principal), for this form only:
// they are never stored in the procedure. My Number is revealed (the register audits it, with the
// procedure in the purpose); without one, the basic pension number identifies the person.
func (s *Service) form(ctx context.Context, reader ports.Principal, proc ports.Procedure) (ports.FilingForm, error) {
	if !member(reader, preparerRoles) {
		return ports.FilingForm{}, forbidden()
	}
	k, _ := kindOf(proc.Type)
	f := proc.Fields
	var d dates
	form := ports.FilingForm{
		Type: proc.Type, Title: k.NameJA, Office: proc.Office, OfficeName: officeNames[proc.Office],
		Prepared: d.of("", s.today().String()),
		Person: ports.FilingPerson{
			FamilyName: f[fFamilyName], GivenName: f[fGivenName], FamilyNameKana: f[fFamilyKana], GivenNameKana: f[fGivenKana],
			BirthDate: d.of(fBirthDate, f[fBirthDate]), Gender: f[fGender], PostalCode: f[fPostalCode],
			Address: f[fPrefecture] + f[fCity] + f[fStreet] + prefixed("\u3000", f[fBuilding]),
		},
	}
	var err error
	if form.Employer, err = s.employer(ctx, reader.TenantID, proc.Office, f); err != nil {
		return ports.FilingForm{}, err
	}
	birth, _ := calendar.ParseDate(f[fBirthDate])
	switch proc.Type {
	case ports.FormHealthPensionAcquisition, ports.FormEmploymentInsuranceAcquisition:
		form.AcquisitionDate = d.of("fact_date", proc.FactDate)
		form.MonthlyPayCash, form.MonthlyPayInKind = yenOf(f[fPayCash]), yenOf(f[fPayInKind])
		form.StandardMonthlyRemuneration = yenOf(f[fStandardPay])
		form.HasDependents = f[fHasDependents] == "true"
		form.Over70 = reached(birth, 70, form.AcquisitionDate.ISO)
		form.AcquisitionKind = "1" // 健保・厚年; for 雇用保険 新規 unless a number is known (below)
		if proc.Type == ports.FormEmploymentInsuranceAcquisition {
			form.Over70 = false         // not a box of the 雇用保険 form
			form.AcquisitionCause = "2" // その他新規: the register does not know a new graduate from another hire
			et := employmentTypes[f[fEmploymentType]]
			form.EmploymentType, form.FixedTerm = et.form, et.fixedTerm
		}
	case ports.FormHealthPensionLoss:
		loss := f[fLossDate]
		if loss == "" {
			loss = proc.FactDate
		}
		form.LossDate, form.RetirementDate = d.of(fLossDate, loss), d.of(fSeparationDate, f[fSeparationDate])
		form.LossReason = "4" // 退職等
		if strings.Contains(f[fSeparationReason], "死亡") {
			form.LossReason = "5"
		}
		form.Over70 = reached(birth, 70, form.RetirementDate.ISO)
	default:
		return ports.FilingForm{}, available(proc.Type, ports.DocumentPDF)
	}
	if err := d.err(); err != nil {
		return ports.FilingForm{}, err
	}
	if err := s.numbers(ctx, reader, proc, &form); err != nil {
		return ports.FilingForm{}, err
	}
	return form, nil
}

// numbers adds the insured person's numbers from the register: the insurance numbers as of the fact date,
// and My Number, revealed for this filing.
func (s *Service) numbers(ctx context.Context, reader ports.Principal, proc ports.Procedure, form *ports.FilingForm) error {
	emp, err := s.Employees.GetEmployee(ctx, reader, proc.EmployeeID, proc.FactDate)
	if err != nil {
		return err
	}
	myNumber, err := s.Employees.RevealMyNumber(ctx, reader, proc.EmployeeID, "", purposeOf(proc))
	if err != nil && !errors.Is(err, ports.ErrNotFound) { // the employee exists: not found is "no My Number"
		return err
	}
	p := &form.Person
	p.MyNumber = myNumber
	switch proc.Type {
	case ports.FormEmploymentInsuranceAcquisition:
		p.EmploymentInsuranceNumber = emp.EmploymentInsuranceNumber
		if emp.EmploymentInsuranceNumber != "" {
			form.AcquisitionKind = "2" // 再取得: insured before, under the number they keep
		}
	case ports.FormHealthPensionLoss:
		p.InsuredNumber = emp.HealthInsuranceNumber // 被保険者整理番号, given by the office on acquisition
	}
	if myNumber == "" && proc.Type != ports.FormEmploymentInsuranceAcquisition {
		p.BasicPensionNumber = emp.BasicPensionNumber
	}
	return nil
}

// employer is the employer block: the tenant's defaults, overridden by the procedure's employer.* fields.
func (s *Service) employer(ctx context.Context, tenantID, office string, f map[string]string) (ports.FilingEmployer, error) {
	var e ports.FilingEmployer
	if s.Employers != nil {
		var err error
		if e, err = s.Employers.FilingEmployer(ctx, tenantID, office); err != nil {
			return ports.FilingEmployer{}, err
		}
	}
	for name, dst := range map[string]*string{
		fEmployerPrefectureCode: &e.PrefectureCode, fEmployerDistrictCode: &e.DistrictCode,
		fEmployerOfficeSymbol: &e.OfficeSymbol, fEmployerOfficeNumber: &e.OfficeNumber,
		fEmployerEIOfficeNumber: &e.EmploymentInsuranceOfficeNumber, fEmployerName: &e.Name,
		fEmployerPostalCode: &e.PostalCode, fEmployerAddress: &e.Address, fEmployerOwnerName: &e.OwnerName,
		fEmployerPhone: &e.Phone,
	} {
		if v := f[name]; v != "" {
			*dst = v
		}
	}
	return e, nil
}

// dates turns a procedure's dates into form dates, collecting a field error for each that is not a date.
type dates struct{ errs []ports.FieldError }

// of is the form date of s ("" leaves it blank); field names it among the procedure's fields.
func (d *dates) of(field, s string) ports.FormDate {
	if s == "" {
		return ports.FormDate{}
	}
	cd, err := calendar.ParseDate(s)
	var fd ports.FormDate
	if err == nil {
		fd, err = efiling.FormDateOf(cd)
	}
	if err != nil {
		name := "fields." + field
		if field == "fact_date" {
			name = field
		}
		d.errs = append(d.errs, ports.FieldError{Field: name, Code: "invalid_date",
			MessageEN: "must be a date written YYYY-MM-DD, in the Meiji era or later",
			MessageJA: "YYYY-MM-DD 形式の明治以降の日付で入力してください"})
	}
	return fd
}

func (d *dates) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	return invalid(d.errs)
}

// reached reports whether someone born on birth has reached age years on the day iso. By 年齢計算ニ関スル法律
// an age is reached at the end of the day before the birthday, so on that day itself.
func reached(birth calendar.Date, years int, iso string) bool {
	on, err := calendar.ParseDate(iso)
	if birth.IsZero() || err != nil {
		return false
	}
	birthday, err := calendar.NewDate(birth.Year()+years, birth.Month(), birth.Day())
	if err != nil { // 29 February in a common year: the birthday is 1 March
		birthday, _ = calendar.NewDate(birth.Year()+years, time.March, 1)
	}
	return !on.Before(birthday.AddDays(-1))
}

// yenOf reads an amount of the snapshot; what is not a whole number of yen is left blank (0).
func yenOf(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

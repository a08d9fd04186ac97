package web

import (
	"strconv"
	"strings"

	"github.com/roumu/roumu/ports"
)

// The employee forms: which inputs the pages show, how they are labelled and grouped. The rules behind them
// are the module's; the forms send what was typed, and the module's field errors come back next to each input.

// option is one choice of a select.
type option struct{ Value, LabelJA, LabelEN string }

// formInput is one input of an employee or dependent form.
type formInput struct {
	Name             string
	LabelJA, LabelEN string
	Type             string // text, email, tel, select
	Hint             string // a format, e.g. YYYY-MM-DD
	Options          []option
	Required         bool
	SelfService      bool // an employee may change it on their own record
	Secret           bool // never shown back (My Number): empty on an edit means unchanged
	Autocomplete     string
}

// formSection is a group of inputs under one heading (a fieldset).
type formSection struct {
	ID, LabelJA, LabelEN string
	Inputs               []formInput
}

var (
	genderOptions = []option{{ports.GenderMale, "男性", "Male"}, {ports.GenderFemale, "女性", "Female"}}
	statusOptions = []option{{ports.EmployeeActive, "在籍", "Active"}, {ports.EmployeeOnLeave, "休職", "On leave"},
		{ports.EmployeeSeparated, "退職", "Separated"}}
	employmentTypeOptions = []option{{"regular", "正社員", "Regular"}, {"contract", "契約社員", "Contract"},
		{"part_time", "パート", "Part-time"}, {"arbeit", "アルバイト", "Arbeit"}, {"dispatch", "派遣", "Dispatched"},
		{"shokutaku", "嘱託", "Shokutaku"}, {"executive", "役員", "Executive"}}
	accountTypeOptions  = []option{{"ordinary", "普通", "Ordinary"}, {"checking", "当座", "Checking"}}
	relationshipOptions = []option{{"spouse", "配偶者", "Spouse"}, {"child", "子", "Child"}, {"parent", "父母", "Parent"},
		{"grandparent", "祖父母", "Grandparent"}, {"sibling", "兄弟姉妹", "Sibling"}, {"other", "その他", "Other"}}
	livingOptions = []option{{"true", "同居", "Living together"}, {"false", "別居", "Living apart"}}
	sortOptions   = []option{{ports.EmployeeSortNumber, "社員番号順", "Employee number"},
		{ports.EmployeeSortKana, "フリガナ順", "Name (kana)"}, {ports.EmployeeSortHireDate, "入社日順", "Hire date"},
		{ports.EmployeeSortUpdated, "更新日時順", "Last updated"}}
)

const dateHint = "YYYY-MM-DD"

func text(name, ja, en string) formInput {
	return formInput{Name: name, LabelJA: ja, LabelEN: en, Type: "text"}
}

func (f formInput) required() formInput { f.Required = true; return f }
func (f formInput) self() formInput     { f.SelfService = true; return f }
func (f formInput) hint(h string) formInput {
	f.Hint = h
	return f
}
func (f formInput) as(typ, autocomplete string) formInput {
	f.Type, f.Autocomplete = typ, autocomplete
	return f
}
func (f formInput) choices(opts []option) formInput {
	f.Type, f.Options = "select", opts
	return f
}

// employeeSections are the inputs of the employee form, in the order of a paper 台帳.
var employeeSections = []formSection{
	{"basic", "基本情報", "Basic information", []formInput{
		text("employee_number", "社員番号", "Employee number").required(),
		text("family_name", "姓", "Family name").required().as("text", "family-name"),
		text("given_name", "名", "Given name").required().as("text", "given-name"),
		text("family_name_kana", "セイ（フリガナ）", "Family name (kana)").required(),
		text("given_name_kana", "メイ（フリガナ）", "Given name (kana)").required(),
		text("business_name", "ビジネスネーム", "Business name"),
		text("birth_date", "生年月日", "Date of birth").required().hint(dateHint),
		text("gender", "性別", "Gender").required().choices(genderOptions),
	}},
	{"contact", "連絡先", "Contact", []formInput{
		text("email", "メールアドレス", "E-mail").self().as("email", "email"),
		text("phone", "電話番号", "Phone").self().as("tel", "tel").hint("03-1234-5678"),
		text("address.postal_code", "郵便番号", "Postal code").self().as("text", "postal-code").hint("123-4567"),
		text("address.prefecture", "都道府県", "Prefecture").self().as("text", "address-level1"),
		text("address.city", "市区町村", "City").self().as("text", "address-level2"),
		text("address.street", "番地", "Street").self().as("text", "address-line1"),
		text("address.building", "建物名", "Building").self().as("text", "address-line2"),
	}},
	{"employment", "雇用", "Employment", []formInput{
		text("hire_date", "入社日", "Hire date").required().hint(dateHint),
		text("separation_date", "退職日", "Separation date").hint(dateHint),
		text("separation_reason", "退職理由", "Separation reason"),
		text("status", "在籍状況", "Status").choices(statusOptions),
		text("employment_type", "雇用形態", "Employment type").choices(employmentTypeOptions),
		text("department_id", "部署", "Department").choices(nil), // the tenant's departments, filled per request
		text("position", "役職", "Position"),
		text("monthly_pay.cash", "月額報酬（通貨）", "Monthly pay (cash, yen)").hint("300000"),
		text("monthly_pay.in_kind", "月額報酬（現物）", "Monthly pay (in kind, yen)").hint("0"),
	}},
	{"insurance", "社会保険・番号", "Insurance and numbers", []formInput{
		text("basic_pension_number", "基礎年金番号", "Basic pension number").hint("1234-567890"),
		text("employment_insurance_number", "雇用保険被保険者番号", "Employment insurance number").hint("1234-567890-1"),
		text("health_insurance_number", "健康保険被保険者整理番号", "Health insurance number"),
		{Name: "my_number", LabelJA: "個人番号（マイナンバー）", LabelEN: "My Number", Type: "text", Secret: true,
			Hint: "12桁。変更するときだけ入力 / 12 digits; enter only to change it", Autocomplete: "off"},
	}},
	{"bank", "給与振込口座", "Bank account for pay", []formInput{
		text("bank_account.bank_code", "銀行コード", "Bank code").hint("0005"),
		text("bank_account.branch_code", "支店コード", "Branch code").hint("001"),
		text("bank_account.account_type", "口座種別", "Account type").choices(accountTypeOptions),
		text("bank_account.account_number", "口座番号", "Account number").hint("1234567"),
		text("bank_account.holder_kana", "口座名義カナ", "Account holder (kana)"),
	}},
}

// dependentInputs are the inputs of the dependent form.
var dependentInputs = []formInput{
	text("relationship", "続柄", "Relationship").required().choices(relationshipOptions),
	text("family_name", "姓", "Family name").required(),
	text("given_name", "名", "Given name").required(),
	text("family_name_kana", "セイ", "Family name (kana)"),
	text("given_name_kana", "メイ", "Given name (kana)"),
	text("birth_date", "生年月日", "Date of birth").required().hint(dateHint),
	text("gender", "性別", "Gender").choices(genderOptions),
	{Name: "my_number", LabelJA: "個人番号", LabelEN: "My Number", Type: "text", Secret: true, Autocomplete: "off"},
	text("annual_income", "年間収入（円）", "Annual income (yen)"),
	text("living_together", "同居・別居", "Living together").choices(livingOptions),
}

// changeInputs are the inputs about the change itself, on an edit.
var changeInputs = []formInput{
	text("effective_on", "適用日", "Effective on").hint(dateHint + "（空欄は本日 / empty = today）"),
	text("reason", "変更理由", "Reason"),
}

// employeeValues are an employee's values by input name, as the form shows them (secrets left out).
func employeeValues(e ports.Employee) map[string]string {
	pay := func(n int64) string {
		if e.MonthlyPay.Cash == 0 && e.MonthlyPay.InKind == 0 && e.HealthGrade == 0 {
			return "" // no pay recorded
		}
		return strconv.FormatInt(n, 10)
	}
	return map[string]string{
		"employee_number": e.EmployeeNumber, "family_name": e.FamilyName, "given_name": e.GivenName,
		"family_name_kana": e.FamilyNameKana, "given_name_kana": e.GivenNameKana, "business_name": e.BusinessName,
		"birth_date": e.BirthDate, "gender": e.Gender, "email": e.Email, "phone": e.Phone,
		"address.postal_code": e.Address.PostalCode, "address.prefecture": e.Address.Prefecture,
		"address.city": e.Address.City, "address.street": e.Address.Street, "address.building": e.Address.Building,
		"hire_date": e.HireDate, "separation_date": e.SeparationDate, "separation_reason": e.SeparationReason,
		"status": e.Status, "employment_type": e.EmploymentType, "department_id": e.DepartmentID,
		"position": e.Position, "monthly_pay.cash": pay(e.MonthlyPay.Cash), "monthly_pay.in_kind": pay(e.MonthlyPay.InKind),
		"basic_pension_number": e.BasicPensionNumber, "employment_insurance_number": e.EmploymentInsuranceNumber,
		"health_insurance_number": e.HealthInsuranceNumber,
		"bank_account.bank_code":  e.BankAccount.BankCode, "bank_account.branch_code": e.BankAccount.BranchCode,
		"bank_account.account_type": e.BankAccount.AccountType, "bank_account.account_number": e.BankAccount.AccountNumber,
		"bank_account.holder_kana": e.BankAccount.HolderKana,
	}
}

// labelOf names an input in both languages for the error list; false for names no form shows.
func labelOf(inputs []formInput, name string) ([2]string, bool) {
	for _, in := range inputs {
		if in.Name == name {
			return [2]string{in.LabelJA, in.LabelEN}, true
		}
	}
	return [2]string{}, false
}

// allEmployeeInputs lists every input of the employee form and of the change.
func allEmployeeInputs() []formInput {
	var all []formInput
	for _, s := range employeeSections {
		all = append(all, s.Inputs...)
	}
	return append(all, changeInputs...)
}

// choices are the select options by the field they belong to, for showing stored codes by their labels.
var choices = map[string][]option{
	"gender": genderOptions, "status": statusOptions, "employment_type": employmentTypeOptions,
	"relationship": relationshipOptions, "account_type": accountTypeOptions,
}

// choiceLabel shows a stored code by its Japanese label (the code itself when unknown).
func choiceLabel(field, code string) string {
	for _, o := range choices[field] {
		if o.Value == code {
			return o.LabelJA
		}
	}
	return code
}

// fieldName shows a field of the change trail by its Japanese label.
func fieldName(name string) string {
	if l, ok := labelOf(allEmployeeInputs(), name); ok {
		return l[0]
	}
	if name == "department_code" {
		return "部署コード"
	}
	return name
}

// yen formats an amount with thousands separators.
func yen(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// percent is done of total as a whole percentage (0 while the total is unknown).
func percent(done, total int) int {
	if total <= 0 {
		return 0
	}
	return min(100, done*100/total)
}

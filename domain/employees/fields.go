package employees

import (
	"slices"
	"strings"

	"github.com/roumu/roumu/ports"
)

// Field is one entry of a field catalogue: how a value is named, labelled, parsed and protected. The
// catalogues are data so that the API, the forms and CSV share one set of rules and messages.
type Field struct {
	Name        string // the REST field name, nested ones dotted (address.postal_code)
	Label       string // Japanese label: CSV header and messages
	Parse       parser
	Required    bool // must have a value (when creating, and may not be cleared)
	Sensitive   bool // sealed at rest, masked in the trail and for roles that may not see it
	SelfService bool // an employee may change it on their own record (contact fields)
	CSV         bool // a column of CSV import
	Export      exportRule
}

// exportRule says whether a field's column is exported.
type exportRule int

const (
	exportNever exportRule = iota // not written, e.g. My Number: a CSV file on someone's desktop is no place for it
	exportAlways
	exportPrivileged // only to admin and hr (the only roles that may export today; kept as a rule for when others may)
)

// Field names used by the logic (the rest are only data).
const (
	fEmployeeNumber  = "employee_number"
	fFamilyName      = "family_name"
	fGivenName       = "given_name"
	fFamilyKana      = "family_name_kana"
	fGivenKana       = "given_name_kana"
	fBusinessName    = "business_name"
	fBirthDate       = "birth_date"
	fEmail           = "email"
	fHireDate        = "hire_date"
	fSeparationDate  = "separation_date"
	fStatus          = "status"
	fEmploymentType  = "employment_type"
	fDepartmentCode  = "department_code" // input only: resolved to department_id
	fDepartmentID    = "department_id"
	fPayCash         = "monthly_pay.cash"
	fPayInKind       = "monthly_pay.in_kind"
	fMyNumber        = "my_number"
	fAccountID       = "account_id"
	fDependentPrefix = "dependents."
)

var (
	name50   = textOf(50)
	kana100  = kanaOf(100)
	text100  = textOf(100)
	digits10 = maxDigits(10, &problem{"digits", "must be 1 to 10 digits", "1〜10桁の数字で入力してください"})
)

// employeeFields is the employee catalogue, in CSV column order.
var employeeFields = newCatalogue([]Field{
	{Name: fEmployeeNumber, Label: "社員番号", Parse: parseEmployeeNumber, Required: true, CSV: true, Export: exportAlways},
	{Name: fFamilyName, Label: "姓", Parse: name50, Required: true, CSV: true, Export: exportAlways},
	{Name: fGivenName, Label: "名", Parse: name50, Required: true, CSV: true, Export: exportAlways},
	{Name: fFamilyKana, Label: "セイ", Parse: kana100, Required: true, CSV: true, Export: exportAlways},
	{Name: fGivenKana, Label: "メイ", Parse: kana100, Required: true, CSV: true, Export: exportAlways},
	{Name: fBusinessName, Label: "ビジネスネーム", Parse: text100, CSV: true, Export: exportAlways},
	{Name: fBirthDate, Label: "生年月日", Parse: ParseDate, Required: true, CSV: true, Export: exportAlways},
	{Name: "gender", Label: "性別", Parse: genders.parse, Required: true, CSV: true, Export: exportAlways},
	{Name: fEmail, Label: "メールアドレス", Parse: parseEmail, SelfService: true, CSV: true, Export: exportAlways},
	{Name: "phone", Label: "電話番号", Parse: parsePhone, SelfService: true, CSV: true, Export: exportAlways},
	{Name: "address.postal_code", Label: "郵便番号", Parse: parsePostalCode, SelfService: true, CSV: true, Export: exportAlways},
	{Name: "address.prefecture", Label: "都道府県", Parse: parsePrefecture, SelfService: true, CSV: true, Export: exportAlways},
	{Name: "address.city", Label: "市区町村", Parse: text100, SelfService: true, CSV: true, Export: exportAlways},
	{Name: "address.street", Label: "番地", Parse: text100, SelfService: true, CSV: true, Export: exportAlways},
	{Name: "address.building", Label: "建物名", Parse: text100, SelfService: true, CSV: true, Export: exportAlways},
	{Name: fHireDate, Label: "入社日", Parse: ParseDate, Required: true, CSV: true, Export: exportAlways},
	{Name: fSeparationDate, Label: "退職日", Parse: ParseDate, CSV: true, Export: exportAlways},
	{Name: "separation_reason", Label: "退職理由", Parse: textOf(200), CSV: true, Export: exportAlways},
	{Name: fStatus, Label: "在籍状況", Parse: statuses.parse, CSV: true, Export: exportAlways},
	{Name: fEmploymentType, Label: "雇用形態", Parse: employmentTypes.parse, CSV: true, Export: exportAlways},
	{Name: fDepartmentCode, Label: "部署コード", Parse: parseDepartmentCode, CSV: true, Export: exportAlways},
	{Name: fDepartmentID, Label: "部署ID", Parse: parseID, CSV: true, Export: exportNever},
	{Name: "position", Label: "役職", Parse: text100, CSV: true, Export: exportAlways},
	{Name: fPayCash, Label: "月額報酬(通貨)", Parse: parseYen, CSV: true, Export: exportAlways},
	{Name: fPayInKind, Label: "月額報酬(現物)", Parse: parseYen, CSV: true, Export: exportAlways},
	{Name: "basic_pension_number", Label: "基礎年金番号", Parse: parseBasicPension, Sensitive: true, CSV: true, Export: exportPrivileged},
	{Name: "employment_insurance_number", Label: "雇用保険被保険者番号", Parse: parseEmploymentInsurance, Sensitive: true, CSV: true, Export: exportPrivileged},
	{Name: "health_insurance_number", Label: "健康保険被保険者整理番号", Parse: digits10, Sensitive: true, CSV: true, Export: exportPrivileged},
	{Name: fMyNumber, Label: "個人番号", Parse: parseMyNumber, Sensitive: true, CSV: true, Export: exportNever},
	{Name: "bank_account.bank_code", Label: "銀行コード", Sensitive: true, CSV: true, Export: exportNever,
		Parse: paddedDigits(4, &problem{"bank_code", "must be 4 digits", "4桁の数字で入力してください"})},
	{Name: "bank_account.branch_code", Label: "支店コード", Sensitive: true, CSV: true, Export: exportNever,
		Parse: paddedDigits(3, &problem{"branch_code", "must be 3 digits", "3桁の数字で入力してください"})},
	{Name: "bank_account.account_type", Label: "口座種別", Parse: accountTypes.parse, Sensitive: true, CSV: true, Export: exportNever},
	{Name: "bank_account.account_number", Label: "口座番号", Sensitive: true, CSV: true, Export: exportNever,
		Parse: paddedDigits(7, &problem{"account_number", "must be up to 7 digits", "7桁以内の数字で入力してください"})},
	{Name: "bank_account.holder_kana", Label: "口座名義カナ", Parse: holderKana, Sensitive: true, CSV: true, Export: exportNever},
	// account_id links the record to the login of the employee it describes (set by admin or hr; not in CSV).
	{Name: fAccountID, Label: "アカウントID", Parse: parseID},
})

// dependentFields is the catalogue of a dependent (被扶養者).
var dependentFields = newCatalogue([]Field{
	{Name: "relationship", Label: "続柄", Parse: relationships.parse, Required: true},
	{Name: fFamilyName, Label: "姓", Parse: name50, Required: true},
	{Name: fGivenName, Label: "名", Parse: name50, Required: true},
	{Name: fFamilyKana, Label: "セイ", Parse: kana100},
	{Name: fGivenKana, Label: "メイ", Parse: kana100},
	{Name: fBirthDate, Label: "生年月日", Parse: ParseDate, Required: true},
	{Name: "gender", Label: "性別", Parse: genders.parse},
	{Name: fMyNumber, Label: "個人番号", Parse: parseMyNumber, Sensitive: true},
	{Name: "annual_income", Label: "年間収入", Parse: parseYen},
	{Name: "living_together", Label: "同居", Parse: yesNo.parse},
})

func parseDepartmentCode(s string) (string, *problem) {
	s = NormalizeText(s)
	if !idForm.MatchString(s) || len(s) > 20 {
		return s, &problem{"department_code", "must be 1 to 20 of A-Z, a-z, 0-9, - and _",
			"半角英数字・ハイフン・アンダースコアの1〜20文字で入力してください"}
	}
	return s, nil
}

// catalogue indexes a list of fields by name and by CSV header.
type catalogue struct {
	fields  []Field
	byName  map[string]*Field
	headers map[string]*Field // headerKey(name) and headerKey(label)
}

func newCatalogue(fields []Field) *catalogue {
	c := &catalogue{fields: fields, byName: map[string]*Field{}, headers: map[string]*Field{}}
	for i := range fields {
		f := &c.fields[i]
		c.byName[f.Name] = f
		if f.CSV {
			c.headers[headerKey(f.Name)] = f
			c.headers[headerKey(f.Label)] = f
		}
	}
	return c
}

// headerKey is how CSV headers are matched: width-folded (月額報酬（通貨） is 月額報酬(通貨)), lower-cased,
// without spaces.
func headerKey(h string) string {
	return strings.ReplaceAll(strings.ToLower(NormalizeText(h)), " ", "")
}

// field returns the named field.
func (c *catalogue) field(name string) (*Field, bool) {
	f, ok := c.byName[name]
	return f, ok
}

// column returns the field a CSV header names, by field name or Japanese label.
func (c *catalogue) column(header string) (*Field, bool) {
	f, ok := c.headers[headerKey(header)]
	return f, ok
}

// parse validates a flat input: every value parsed by its field, "" kept as "clear". Unknown names are
// errors, so that a typo in an API call is not silently dropped. Errors come in catalogue order.
func (c *catalogue) parse(in map[string]string) (map[string]string, []ports.FieldError) {
	out := make(map[string]string, len(in))
	var errs []ports.FieldError
	for _, f := range c.fields {
		v, ok := in[f.Name]
		if !ok {
			continue
		}
		if strings.TrimSpace(v) == "" {
			if f.Required {
				errs = append(errs, required(f.Name))
				continue
			}
			out[f.Name] = ""
			continue
		}
		norm, p := f.Parse(v)
		if p != nil {
			errs = append(errs, p.fieldError(f.Name))
			continue
		}
		out[f.Name] = norm
	}
	var unknown []string
	for name := range in {
		if _, ok := c.byName[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		errs = append(errs, ports.FieldError{Field: name, Code: "unknown_field",
			MessageEN: "is not a field of this record", MessageJA: "この項目は存在しません"})
	}
	return out, errs
}

// missing lists the required fields that values does not hold, except those named in reported already (a
// value that did not parse is reported once, as what is wrong with it), so that a form shows every problem
// at once.
func (c *catalogue) missing(values map[string]string, reported ...ports.FieldError) []ports.FieldError {
	var errs []ports.FieldError
	for _, f := range c.fields {
		if f.Required && values[f.Name] == "" &&
			!slices.ContainsFunc(reported, func(e ports.FieldError) bool { return e.Field == f.Name }) {
			errs = append(errs, required(f.Name))
		}
	}
	return errs
}

func required(field string) ports.FieldError {
	return ports.FieldError{Field: field, Code: "required", MessageEN: "is required", MessageJA: "必須項目です"}
}

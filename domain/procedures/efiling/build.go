package efiling

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/text/width"

	"github.com/roumu/roumu/domain/kernel/calendar"
	"github.com/roumu/roumu/ports"
)

// Media identifies one file: its 媒体通番 (001–999, counting up per file made; after 999 comes 001 again) and
// the day it is made.
type Media struct {
	Sequence int
	Created  calendar.Date
}

// maxAmount is the largest amount an item holds; larger amounts are written as it, as the specification says.
const maxAmount = 9_999_999

// Build writes the SHFD0006.CSV of one employer office for the given 資格取得届 and 資格喪失届 (健保・厚年), one data
// record per form in the given order. Every problem is reported at once as a ports.ErrInvalid error with one
// field error per item (e.g. a name with a character outside JIS X 0208); nothing is written then.
func Build(m Media, forms ...ports.FilingForm) ([]byte, error) {
	var b builder
	if len(forms) == 0 {
		b.fail("forms", "required", "at least one form is needed", "届書が1件もありません")
		return nil, b.err()
	}
	if m.Sequence < 1 || m.Sequence > 999 {
		b.fail("media.sequence", "out_of_range", "the media sequence number must be 1–999", "媒体通番は1〜999です")
	}
	if m.Created.IsZero() {
		b.fail("media.created", "required", "the creation date is required", "作成年月日は必須です")
	}
	employer := forms[0].Employer
	office := b.office(employer)
	f := File{
		Media:  []string{office[0], office[1], office[2], fmt.Sprintf("%03d", m.Sequence), ymd(m.Created), representativeCode},
		Office: office,
	}
	for i, form := range forms {
		if len(forms) > 1 {
			b.prefix = fmt.Sprintf("forms[%d].", i)
		}
		if form.Employer != employer {
			b.fail("employer", "mixed_offices", "all forms of one file must be of one employer office",
				"1つのファイルには1つの事業所の届書だけを入れられます")
		}
		switch form.Type {
		case ports.FormHealthPensionAcquisition:
			f.Records = append(f.Records, b.acquisition(form, office))
		case ports.FormHealthPensionLoss:
			f.Records = append(f.Records, b.loss(form, office))
		default:
			b.fail("type", "unsupported_form", "this form has no electronic-filing data in this layout",
				"この届書は届書作成プログラムの形式で作成できません")
		}
	}
	if err := b.err(); err != nil {
		return nil, err
	}
	out, err := f.encode()
	if err != nil { // every item was checked above, so this is a bug, not bad input
		return nil, fmt.Errorf("efiling: %w", err)
	}
	return out, nil
}

// builder turns form fields into items, collecting every field error.
type builder struct {
	prefix string
	errs   []ports.FieldError
}

func (b *builder) fail(field, code, en, ja string) {
	b.errs = append(b.errs, ports.FieldError{Field: b.prefix + field, Code: code, MessageEN: en, MessageJA: ja})
}

func (b *builder) err() error {
	if len(b.errs) == 0 {
		return nil
	}
	return ports.Invalid("filing_data_invalid", "the electronic-filing data cannot be made from this form",
		"この内容では電子申請データを作成できません", b.errs...)
}

// office returns the 事業所情報 items; the first three are also the head of the media record and of every
// data record.
func (b *builder) office(e ports.FilingEmployer) []string {
	postal := b.digits("employer.postal_code", e.PostalCode, 7, 7, true)
	phone := b.phone("employer.phone", e.Phone)
	parentPostal, childPostal := "", ""
	if postal != "" {
		parentPostal, childPostal = postal[:3], postal[3:]
	}
	return []string{
		b.digits("employer.prefecture_code", e.PrefectureCode, 2, 2, true),
		b.digits("employer.district_code", e.DistrictCode, 2, 2, true),
		b.symbol("employer.office_symbol", e.OfficeSymbol),
		b.digits("employer.office_number", e.OfficeNumber, 1, 5, true),
		parentPostal, childPostal,
		b.kanji("employer.address", e.Address, true),
		b.kanji("employer.name", e.Name, true),
		b.kanji("employer.owner_name", e.OwnerName, true),
		phone[0], phone[1], phone[2],
	}
}

// person returns items 6–10 of both records: 被保険者整理番号, カナ and 漢字 names, birth date.
func (b *builder) person(p ports.FilingPerson) []string {
	kana := b.kana("person.family_name_kana", p.FamilyNameKana, true) + " " + b.kana("person.given_name_kana", p.GivenNameKana, true)
	name := b.kanji("person.family_name", p.FamilyName, true) + "\u3000" + b.kanji("person.given_name", p.GivenName, true)
	era, birth := b.date("person.birth_date", p.BirthDate, true)
	return []string{b.digits("person.insured_number", p.InsuredNumber, 1, 6, false), kana, name, era, birth}
}

// ids returns 個人番号 and the two parts of 基礎年金番号; one of them is required.
func (b *builder) ids(p ports.FilingPerson) (myNumber, pensionOffice, pensionSerial string) {
	myNumber = b.digits("person.my_number", p.MyNumber, 12, 12, false)
	pension := b.digits("person.basic_pension_number", p.BasicPensionNumber, 10, 10, false)
	if strings.TrimSpace(p.MyNumber) == "" && strings.TrimSpace(p.BasicPensionNumber) == "" {
		b.fail("person.my_number", "required", "My Number or the basic pension number is required",
			"個人番号または基礎年金番号が必要です")
	}
	if myNumber != "" || pension == "" {
		return myNumber, "", ""
	}
	return "", pension[:4], pension[4:]
}

func (b *builder) acquisition(f ports.FilingForm, office []string) []string {
	p := f.Person
	myNumber, pensionOffice, pensionSerial := b.ids(p)
	era, date := b.date("acquisition_date", f.AcquisitionDate, true)
	kind := f.AcquisitionKind
	if kind == "" {
		kind = "1"
	}
	if kind != "1" {
		b.fail("acquisition_kind", "unsupported", "only 取得区分 1 (健保・厚年) is supported", "取得区分は1（健保・厚年）のみ対応しています")
	}
	if f.MonthlyPayCash < 0 || f.MonthlyPayInKind < 0 {
		b.fail("monthly_pay", "negative", "pay cannot be negative", "報酬月額に負の値は使えません")
	}
	// The address is needed only when the person is identified by the basic pension number.
	var parentPostal, childPostal, addressKana, address string
	if myNumber == "" {
		postal := b.digits("person.postal_code", p.PostalCode, 7, 7, true)
		if postal != "" {
			parentPostal, childPostal = postal[:3], postal[3:]
		}
		addressKana = b.kana("person.address_kana", p.AddressKana, true)
		address = b.kanji("person.address", p.Address, true)
	}
	rec := []string{codeAcquisition}
	rec = append(rec, office[:4]...)
	rec = append(rec, b.person(p)...)
	rec = append(rec,
		b.gender("person.gender", p.Gender), kind, myNumber, "", "", pensionOffice, pensionSerial,
		era, date, flag01(f.HasDependents),
		amount(f.MonthlyPayCash), amount(f.MonthlyPayInKind), amount(f.MonthlyPayCash+f.MonthlyPayInKind),
		tick(f.Over70), tick(f.MultipleWorkplaces), tick(f.ShortTimeWorker), tick(f.RehiredAfterRetiring),
		b.kanji("remarks", f.Remarks, false),
		parentPostal, childPostal, addressKana, address, "", "",
	)
	return rec
}

// The 喪失原因 codes, and those that need the retirement (or death) date.
var lossReasons = map[string]bool{"4": true, "5": true, "7": false, "9": false, "11": false}

func (b *builder) loss(f ports.FilingForm, office []string) []string {
	p := f.Person
	myNumber, pensionOffice, pensionSerial := b.ids(p)
	lossEra, lossDate := b.date("loss_date", f.LossDate, true)
	needsRetirement, known := lossReasons[f.LossReason]
	if !known {
		b.fail("loss_reason", "invalid", "喪失原因 must be 4, 5, 7, 9 or 11", "喪失原因は4・5・7・9・11のいずれかです")
	}
	var retireEra, retireDate, over70, over70Era, over70Date string
	if needsRetirement {
		retireEra, retireDate = b.date("retirement_date", f.RetirementDate, true)
		// The loss date is the day after the last day (退職日・死亡日の翌日); a form that says otherwise is wrong.
		retired, errR := calendar.ParseDate(f.RetirementDate.ISO)
		lost, errL := calendar.ParseDate(f.LossDate.ISO)
		if errR == nil && errL == nil && retired.AddDays(1) != lost {
			b.fail("loss_date", "not_day_after", "the loss date must be the day after the retirement or death date",
				"資格喪失年月日は退職日（死亡日）の翌日です")
		}
		// 70歳以上被用者不該当: the date is the retirement day itself, not the day after.
		if f.Over70 {
			over70, over70Era, over70Date = "1", retireEra, retireDate
		}
	}
	rec := []string{codeLoss}
	rec = append(rec, office[:4]...)
	rec = append(rec, b.person(p)...)
	rec = append(rec,
		myNumber, pensionOffice, pensionSerial,
		lossEra, lossDate, f.LossReason, retireEra, retireDate,
		tick(f.MultipleWorkplaces), tick(f.RehiredAfterRetiring), b.kanji("remarks", f.Remarks, false),
		"", "", over70, over70Era, over70Date, "",
	)
	return rec
}

// required reports a missing value; it returns whether the value is present.
func (b *builder) required(field, s string, required bool) bool {
	if strings.TrimSpace(s) != "" {
		return true
	}
	if required {
		b.fail(field, "required", "this item is required", "必須の項目です")
	}
	return false
}

// digits returns s's digits (full-width digits, hyphens and spaces allowed) when there are min–max of them.
func (b *builder) digits(field, s string, lo, hi int, required bool) string {
	if !b.required(field, s, required) {
		return ""
	}
	d := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, width.Narrow.String(s))
	if len(d) < lo || len(d) > hi || strings.Trim(d, "0123456789") != "" {
		if lo == hi {
			b.fail(field, "format", fmt.Sprintf("write %d digits", lo), fmt.Sprintf("%d桁の数字で入力してください", lo))
		} else {
			b.fail(field, "format", fmt.Sprintf("write %d to %d digits", lo, hi), fmt.Sprintf("%d〜%d桁の数字で入力してください", lo, hi))
		}
		return ""
	}
	return d
}

// phone splits a phone number written with two hyphens into its three parts.
func (b *builder) phone(field, s string) [3]string {
	var out [3]string
	if !b.required(field, s, true) {
		return out
	}
	parts := strings.Split(width.Narrow.String(strings.TrimSpace(s)), "-")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" || strings.Trim(strings.Join(parts, ""), "0123456789") != "" {
		b.fail(field, "format", "write the phone number as area-exchange-number, e.g. 03-1234-5678",
			"電話番号は 03-1234-5678 の形で入力してください")
		return out
	}
	copy(out[:], parts)
	return out
}

// kanji returns a kanji item in full width (the layout's 漢字 items take no half-width characters), refusing
// characters outside JIS X 0208.
func (b *builder) kanji(field, s string, required bool) string {
	if !b.required(field, s, required) {
		return ""
	}
	wide := width.Widen.String(strings.TrimSpace(s))
	if _, err := encodeSJIS(wide); err != nil {
		b.charFail(field, err)
		return ""
	}
	return wide
}

// kana returns a half-width katakana item.
func (b *builder) kana(field, s string, required bool) string {
	if !b.required(field, s, required) {
		return ""
	}
	half, err := halfWidthKana(s)
	if err != nil {
		b.charFail(field, err)
		return ""
	}
	return half
}

// symbol returns the 事業所記号: 1–4 half-width kana, letters or digits.
func (b *builder) symbol(field, s string) string {
	half := b.kana(field, s, true)
	if half != "" && (len([]rune(half)) > 4 || strings.Contains(half, " ")) {
		b.fail(field, "format", "the office symbol has 1–4 characters", "事業所記号は1〜4文字です")
		return ""
	}
	return half
}

func (b *builder) charFail(field string, err error) {
	var u *unsupportedError
	if !errors.As(err, &u) {
		b.fail(field, "invalid", err.Error(), "書けない文字が含まれています")
		return
	}
	switch u.reason {
	case "separator":
		b.fail(field, "unsupported_character", fmt.Sprintf("remove %q: commas, quotes and line breaks cannot be filed", u.char),
			fmt.Sprintf("「%c」（カンマ・引用符・改行）は使えません", u.char))
	case "kana":
		b.fail(field, "unsupported_character", fmt.Sprintf("%q (U+%04X) has no half-width katakana form; write the reading in katakana", u.char, u.char),
			fmt.Sprintf("「%c」は半角カナにできません。カタカナで入力してください", u.char))
	default:
		b.fail(field, "unsupported_character",
			fmt.Sprintf("%q (U+%04X) is not in JIS X 0208 and cannot be filed electronically; use the standard form of the character", u.char, u.char),
			fmt.Sprintf("「%c」はJIS第1・第2水準にない文字のため電子申請できません。標準の字体（例: 髙→高、﨑→崎）に置き換えてください", u.char))
	}
}

// date returns a date's era code and YYMMDD.
func (b *builder) date(field string, d ports.FormDate, required bool) (code, yymmdd string) {
	if !b.required(field, d.ISO, required) {
		return "", ""
	}
	cd, err := calendar.ParseDate(d.ISO)
	if err != nil {
		b.fail(field, "format", "write the date as YYYY-MM-DD", "日付はYYYY-MM-DDの形で入力してください")
		return "", ""
	}
	e, err := ToEra(cd)
	if err != nil {
		b.fail(field, "out_of_range", "the date is before the Meiji era", "明治より前の日付は書けません")
		return "", ""
	}
	return e.Era.Code, e.YYMMDD()
}

// gender returns the 種別 of a person who is not a miner: 1 男, 2 女.
func (b *builder) gender(field, g string) string {
	switch g {
	case "male":
		return "1"
	case "female":
		return "2"
	}
	b.fail(field, "required", "gender (male or female) is required", "性別（男・女）は必須です")
	return ""
}

func ymd(d calendar.Date) string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d%02d%02d", d.Year(), int(d.Month()), d.Day())
}

func amount(yen int) string { return fmt.Sprintf("%07d", min(max(yen, 0), maxAmount)) }

// tick writes a remark box: "1" when ticked, empty otherwise.
func tick(on bool) string {
	if on {
		return "1"
	}
	return ""
}

// flag01 writes a yes/no item: "1" or "0".
func flag01(on bool) string {
	if on {
		return "1"
	}
	return "0"
}

// Attachment builds the file as the attachment of an electronic filing (ports.Submission).
func Attachment(m Media, forms ...ports.FilingForm) (ports.FilingAttachment, error) {
	data, err := Build(m, forms...)
	if err != nil {
		return ports.FilingAttachment{}, err
	}
	return ports.FilingAttachment{Name: FileName, ContentType: ContentType, Data: data}, nil
}

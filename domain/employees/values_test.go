package employees

import (
	"strings"
	"testing"
)

// check runs a parser over cases: want is the stored form, or "!code" for the problem expected.
func check(t *testing.T, name string, parse parser, cases map[string]string) {
	t.Helper()
	for in, want := range cases {
		got, p := parse(in)
		switch {
		case p != nil && (p.EN == "" || p.JA == ""):
			t.Errorf("%s(%q): problem %q without both messages", name, in, p.Code)
		case p != nil && "!"+p.Code != want:
			t.Errorf("%s(%q): problem %q, want %q", name, in, p.Code, want)
		case p == nil && got != want:
			t.Errorf("%s(%q) = %q, want %q", name, in, got, want)
		}
	}
}

func TestMyNumberCheckDigit(t *testing.T) {
	t.Parallel()
	for _, valid := range []string{"123456789018", "983205673214"} {
		if !ValidMyNumber(valid) {
			t.Fatalf("%s rejected", valid)
		}
		// Every single-digit change of a valid number is caught: the weights are all non-zero and below 11.
		for i := range len(valid) {
			for d := byte('0'); d <= '9'; d++ {
				if d == valid[i] {
					continue
				}
				changed := valid[:i] + string(d) + valid[i+1:]
				if ValidMyNumber(changed) {
					t.Errorf("%s (digit %d of %s changed) accepted", changed, i+1, valid)
				}
			}
		}
	}
	check(t, "parseMyNumber", parseMyNumber, map[string]string{
		"123456789018":   "123456789018",
		"1234 5678 9018": "123456789018",
		"1234-5678-9018": "123456789018",
		"１２３４５６７８９０１８":   "123456789018",
		"123456789017":   "!my_number_check_digit",
		"12345678901":    "!my_number_format",
		"1234567890180":  "!my_number_format",
		"12345678901a":   "!my_number_format",
	})
}

func TestInsuranceNumbersAndCodes(t *testing.T) {
	t.Parallel()
	check(t, "parseBasicPension", parseBasicPension, map[string]string{
		"1234567890": "1234-567890", "1234-567890": "1234-567890", "１２３４－５６７８９０": "1234-567890",
		"123456789": "!basic_pension_number", "12345678901": "!basic_pension_number", "1234-56789O": "!basic_pension_number",
	})
	check(t, "parseEmploymentInsurance", parseEmploymentInsurance, map[string]string{
		"12345678901": "1234-567890-1", "1234-567890-1": "1234-567890-1",
		"1234567890": "!employment_insurance_number",
	})
	check(t, "parsePostalCode", parsePostalCode, map[string]string{
		"1234567": "123-4567", "123-4567": "123-4567", "〒123-4567": "123-4567", "１２３－４５６７": "123-4567",
		"123456": "!postal_code", "123-45678": "!postal_code", "abc-defg": "!postal_code",
	})
	check(t, "parsePhone", parsePhone, map[string]string{
		"03-1234-5678": "03-1234-5678", "09012345678": "09012345678", "０３－１２３４－５６７８": "03-1234-5678",
		"0312345": "!phone", "03--1234-5678": "!phone", "-0312345678": "!phone", "03-1234-567a": "!phone",
		"090123456789": "!phone",
	})
	bank := employeeFields.byName["bank_account.bank_code"].Parse
	check(t, "bank_code", bank, map[string]string{"5": "0005", "0005": "0005", "12345": "!bank_code"})
}

func TestEmailAndDates(t *testing.T) {
	t.Parallel()
	check(t, "parseEmail", parseEmail, map[string]string{
		"taro@example.jp": "taro@example.jp", "Taro.Y@Example.JP": "Taro.Y@example.jp",
		"ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ": "taro@example.jp",
		"taro": "!email", "taro@localhost": "!email", "山田@example.jp": "!email", "a b@example.jp": "!email",
		"Taro <taro@example.jp>": "!email", "taro@example.jp.": "!email",
	})
	check(t, "ParseDate", ParseDate, map[string]string{
		"2026-04-01": "2026-04-01", "2026/4/1": "2026-04-01", "２０２６／４／１": "2026-04-01",
		"2026年4月1日": "2026-04-01", "2024-02-29": "2024-02-29", "2026.12.31": "2026-12-31",
		"2026-02-29": "!date", "2026-13-01": "!date", "20260401": "!date", "1899-12-31": "!date", "4/1/2026": "!date",
	})
}

func TestNamesAndKana(t *testing.T) {
	t.Parallel()
	check(t, "name", name50, map[string]string{
		"山田": "山田", " 髙橋 ": "髙橋", "﨑山": "﨑山", "\ufa19田": "\ufa19田", // variants kept: not NFKC
		"ﾔﾏﾀﾞ": "ヤマダ", "Ｔａｒｏ": "Taro", "山田\x00": "!control_character", "山田\n太郎": "!control_character",
		"=HYPERLINK(\"x\")": "!formula_prefix", "+81": "!formula_prefix", "@x": "!formula_prefix",
		strings.Repeat("山", 51): "!too_long",
	})
	check(t, "kana", kana100, map[string]string{
		"サトウ": "サトウ", "さとう": "サトウ", "ｻﾄｳ": "サトウ", "ｶﾞｯｺｳ": "ガッコウ", "ﾊﾟﾊﾟ": "パパ",
		"ヴィヴィ": "ヴィヴィ", "サトウ ハナコ": "サトウ ハナコ", "佐藤": "!katakana", "Sato": "!katakana",
	})
	check(t, "holderKana", holderKana, map[string]string{"ﾔﾏﾀﾞ ﾀﾛｳ": "ヤマダ タロウ", "ｶ)ﾛｳﾑ": "カ)ロウム", "山田": "!holder_kana"})
	check(t, "parseEmployeeNumber", parseEmployeeNumber, map[string]string{
		"E-001_a": "E-001_a", "Ｅ００１": "E001", "E 001": "!employee_number", "社員1": "!employee_number",
		strings.Repeat("1", 20): strings.Repeat("1", 20), strings.Repeat("1", 21): "!employee_number",
	})
}

func TestMoneyAndEnums(t *testing.T) {
	t.Parallel()
	check(t, "parseYen", parseYen, map[string]string{
		"300000": "300000", "300,000": "300000", "３００，０００": "300000", "¥300,000": "300000",
		"￥300,000": "300000", "300,000円": "300000", "0": "0", "007": "7",
		"-1": "!yen", "1.5": "!yen", "abc": "!yen", "2000000000": "!yen_too_large",
	})
	check(t, "gender", genders.parse, map[string]string{"男": "male", "女性": "female", "male": "male", "F": "female", "x": "!gender"})
	check(t, "status", statuses.parse, map[string]string{"在籍": "active", "休職": "on_leave", "退職": "separated",
		"on_leave": "on_leave", "retired": "!status"})
	check(t, "employment_type", employmentTypes.parse, map[string]string{
		"正社員": "regular", "契約社員": "contract", "パート": "part_time", "アルバイト": "arbeit", "派遣": "dispatch",
		"嘱託": "shokutaku", "役員": "executive", "REGULAR": "regular", "ｱﾙﾊﾞｲﾄ": "arbeit", "社長": "!employment_type",
	})
	check(t, "parsePrefecture", parsePrefecture, map[string]string{"東京": "東京都", "東京都": "東京都",
		"北海道": "北海道", "大阪": "大阪府", "京都": "京都府", "神奈川": "神奈川県", "Tokyo": "!prefecture"})
	check(t, "living_together", yesNo.parse, map[string]string{"同居": "true", "別居": "false", "1": "true", "maybe": "!boolean"})
}

func TestNormalisation(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ﾔﾏﾀﾞ　タロウ": "ヤマダ タロウ", "1〜3丁目": "1~3丁目", "1−3": "1-3", "Ａ－１": "A-1",
	} {
		if got := NormalizeText(in); got != want {
			t.Errorf("NormalizeText(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"ﾔﾏﾀﾞ タロウ": "ヤマダタロウ", "やまだ": "ヤマダ", "YAMADA@Example.JP": "yamada@example.jp", "山田　太郎": "山田太郎",
	} {
		if got := SearchKey(in); got != want {
			t.Errorf("SearchKey(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"": "", "abc": "****", "123456789018": "********9018", "1234-567890": "*******7890"} {
		if got := mask(in); got != want {
			t.Errorf("mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCatalogueIsConsistent(t *testing.T) {
	t.Parallel()
	labels := map[string]bool{}
	for _, f := range employeeFields.fields {
		if f.Label == "" || f.Parse == nil {
			t.Errorf("%s: no label or parser", f.Name)
		}
		if labels[f.Label] {
			t.Errorf("label %s twice", f.Label)
		}
		labels[f.Label] = true
		if f.SelfService && (f.Sensitive || f.Required) {
			t.Errorf("%s: self-service fields are optional contact data", f.Name)
		}
		if f.Sensitive && f.Export == exportAlways {
			t.Errorf("%s: sensitive yet always exported", f.Name)
		}
	}
	for _, h := range []string{"社員番号", "employee_number", "月額報酬（通貨）", "Monthly_Pay.Cash", " 郵便番号 "} {
		if _, ok := employeeFields.column(h); !ok {
			t.Errorf("header %q not recognised", h)
		}
	}
	if _, ok := employeeFields.column("account_id"); ok {
		t.Error("account_id is not a CSV column")
	}
}

func TestCheckState(t *testing.T) {
	t.Parallel()
	base := map[string]string{fEmployeeNumber: "E1", fFamilyName: "山田", fGivenName: "太郎", fFamilyKana: "ヤマダ",
		fGivenKana: "タロウ", fBirthDate: "1990-01-01", "gender": "male", fHireDate: "2020-04-01", fStatus: "active"}
	cases := []struct {
		name string
		set  map[string]string
		want []string
	}{
		{"valid", nil, nil},
		{"birth in the future", map[string]string{fBirthDate: "2026-04-02"}, []string{"birth_date_in_future", "hire_before_birth"}},
		{"hired before birth", map[string]string{fHireDate: "1989-12-31"}, []string{"hire_before_birth"}},
		{"hired on the birthday", map[string]string{fHireDate: "1990-01-01"}, []string{"hire_before_birth"}},
		{"separated before hire", map[string]string{fSeparationDate: "2020-03-31", fStatus: "separated"}, []string{"separation_before_hire"}},
		{"separated on the hire date", map[string]string{fSeparationDate: "2020-04-01", fStatus: "separated"}, nil},
		{"separation date while active", map[string]string{fSeparationDate: "2025-03-31"}, []string{"separation_requires_separated"}},
		{"separated without date", map[string]string{fStatus: "separated"}, []string{"required"}},
		{"missing name", map[string]string{fFamilyName: ""}, []string{"required"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newState()
			for k, v := range base {
				s.values[k] = v
			}
			s.apply(patch{values: tc.set})
			var got []string
			for _, e := range checkState(s, "2026-04-01") {
				got = append(got, e.Code)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("checkState = %v, want %v", got, tc.want)
			}
		})
	}
}

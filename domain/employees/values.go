package employees

import (
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"

	"github.com/roumu/roumu/ports"
)

// problem is one rule a value breaks: a stable code and the message in both languages. It becomes a
// ports.FieldError (API, forms) or a ports.ImportError (CSV) once the field or the column is known.
type problem struct {
	Code, EN, JA string
}

func (p *problem) fieldError(field string) ports.FieldError {
	return ports.FieldError{Field: field, Code: p.Code, MessageEN: p.EN, MessageJA: p.JA}
}

// parser turns a value as typed into its stored form, or says which rule it breaks. The empty string is
// never passed to a parser: emptiness is the catalogue's business (required or cleared).
type parser func(string) (string, *problem)

// variantRunes maps the characters that JIS and Windows (CP932) encode differently to the form that survives
// a round trip through Shift_JIS and width folding, so that a value typed on a Mac and exported for Excel
// comes back unchanged.
var variantRunes = strings.NewReplacer(
	"\u301c", "~", // WAVE DASH (JIS) ~ FULLWIDTH TILDE (CP932) → ~ after width folding
	"\u2212", "-", // MINUS SIGN ~ FULLWIDTH HYPHEN-MINUS
	"\u2014", "\u2015", // EM DASH ~ HORIZONTAL BAR
	"\u2016", "\u2225", // DOUBLE VERTICAL LINE ~ PARALLEL TO
)

// NormalizeText is the width rule for every text value: full-width ASCII becomes ASCII, half-width katakana
// becomes full-width (with its voiced marks composed), the ideographic space an ASCII space, and surrounding
// space is trimmed. It deliberately is not NFKC: NFKC (and even NFC) replaces CJK compatibility ideographs
// by their unified forms, and people's names are written with exactly those variants (﨑, 神 …).
func NormalizeText(s string) string {
	if isASCII(s) { // most values: nothing to fold
		return strings.TrimSpace(s)
	}
	s = variantRunes.Replace(width.Fold.String(s))
	return strings.TrimSpace(composeKana(s))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// composeKana composes a kana followed by a combining voiced or semi-voiced mark (what width folding makes
// of ｶﾞ) into one character, touching nothing else.
func composeKana(s string) string {
	if !strings.ContainsAny(s, "\u3099\u309a") {
		return s
	}
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if i+1 < len(rs) && (rs[i+1] == '\u3099' || rs[i+1] == '\u309a') {
			if c := []rune(norm.NFC.String(string(rs[i : i+2]))); len(c) == 1 {
				b.WriteRune(c[0])
				i++
				continue
			}
		}
		b.WriteRune(rs[i])
	}
	return b.String()
}

// ToKatakana turns hiragana into katakana, leaving everything else as it is.
func ToKatakana(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'ぁ' && r <= 'ゖ' || r == 'ゝ' || r == 'ゞ' {
			return r + 0x60
		}
		return r
	}, s)
}

// SearchKey is the form in which names, kana, numbers and e-mail addresses are searched: NFKC (here the
// variants do not matter, only that every spelling of a query meets every spelling of the data),
// lower case, hiragana folded to katakana, without spaces.
func SearchKey(s string) string {
	s = ToKatakana(strings.ToLower(norm.NFKC.String(s)))
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

var (
	errControl = &problem{"control_character", "must not contain control characters", "制御文字は使用できません"}
	// errFormula keeps a cell from being read as a formula when the export is opened in Excel (CSV injection),
	// without escaping that would break the export→import round trip.
	errFormula = &problem{"formula_prefix", "must not start with = + - or @",
		"先頭に = + - @ は使用できません"}
)

func tooLong(max int) *problem {
	return &problem{"too_long", fmt.Sprintf("must be at most %d characters", max),
		fmt.Sprintf("%d文字以内で入力してください", max)}
}

// textOf accepts free text of at most max characters (names, address parts, position …).
func textOf(max int) parser {
	return func(s string) (string, *problem) {
		s = NormalizeText(s)
		if utf8.RuneCountInString(s) > max {
			return s, tooLong(max)
		}
		for _, r := range s {
			if unicode.IsControl(r) || r == utf8.RuneError {
				return s, errControl
			}
		}
		if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
			return s, errFormula
		}
		return s, nil
	}
}

// isKanaRune tells the characters of a reading: katakana, the prolonged sound mark, the middle dot and
// spaces between family and given names.
func isKanaRune(r rune) bool {
	return r >= 'ァ' && r <= 'ヺ' || r == 'ー' || r == '・' || r == 'ヽ' || r == 'ヾ' || r == ' '
}

// kanaOf accepts a reading in katakana of at most max characters; hiragana and half-width katakana are
// converted (さとう, ｻﾄｳ → サトウ).
func kanaOf(max int) parser {
	return func(s string) (string, *problem) {
		s = ToKatakana(NormalizeText(s))
		if utf8.RuneCountInString(s) > max {
			return s, tooLong(max)
		}
		for _, r := range s {
			if !isKanaRune(r) {
				return s, &problem{"katakana", "must be written in katakana", "カタカナで入力してください"}
			}
		}
		return s, nil
	}
}

// holderKana accepts an account holder's name as banks print it: katakana, Latin letters, digits and the
// few symbols of the Zengin character set.
func holderKana(s string) (string, *problem) {
	s = strings.ToUpper(ToKatakana(NormalizeText(s)))
	if utf8.RuneCountInString(s) > 48 {
		return s, tooLong(48)
	}
	for _, r := range s {
		if !isKanaRune(r) && !(r >= 'A' && r <= 'Z') && !(r >= '0' && r <= '9') && !strings.ContainsRune("().,-/", r) {
			return s, &problem{"holder_kana", "must be katakana, letters, digits or ( ) . , - /",
				"カタカナ・英数字・( ) . , - / で入力してください"}
		}
	}
	return s, nil
}

// digitsOnly removes the separators people type in numbers (hyphens, spaces) after width folding, and tells
// whether only digits remain.
func digitsOnly(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' || r == 'ー' {
			return -1
		}
		return r
	}, NormalizeText(s))
	for _, r := range s {
		if r < '0' || r > '9' {
			return s, false
		}
	}
	return s, s != ""
}

// myNumberWeights are the check-digit weights of the first 11 digits, left to right.
var myNumberWeights = [11]int{6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2}

// ValidMyNumber tells whether s is 12 digits whose last is the check digit of the first 11 (個人番号).
func ValidMyNumber(s string) bool {
	if len(s) != 12 {
		return false
	}
	sum := 0
	for i := range 12 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		if i < 11 {
			sum += int(s[i]-'0') * myNumberWeights[i]
		}
	}
	check := 0
	if r := sum % 11; r > 1 {
		check = 11 - r
	}
	return int(s[11]-'0') == check
}

func parseMyNumber(s string) (string, *problem) {
	d, ok := digitsOnly(s)
	if !ok || len(d) != 12 {
		return "", &problem{"my_number_format", "must be 12 digits", "12桁の数字で入力してください"}
	}
	if !ValidMyNumber(d) {
		return "", &problem{"my_number_check_digit", "is not a valid My Number (check digit)",
			"個人番号が正しくありません(チェックデジット不一致)"}
	}
	return d, nil
}

// groupedDigits accepts exactly sum(groups) digits (separators optional) and writes them grouped with
// hyphens, e.g. 4-6 for 基礎年金番号.
func groupedDigits(p *problem, groups ...int) parser {
	total := 0
	for _, g := range groups {
		total += g
	}
	return func(s string) (string, *problem) {
		d, ok := digitsOnly(s)
		if !ok || len(d) != total {
			return "", p
		}
		parts := make([]string, 0, len(groups))
		for _, g := range groups {
			parts, d = append(parts, d[:g]), d[g:]
		}
		return strings.Join(parts, "-"), nil
	}
}

var (
	parseBasicPension = groupedDigits(&problem{"basic_pension_number", "must be 10 digits (1234-567890)",
		"10桁の数字で入力してください(例: 1234-567890)"}, 4, 6)
	parseEmploymentInsurance = groupedDigits(&problem{"employment_insurance_number",
		"must be 11 digits (1234-567890-1)", "11桁の数字で入力してください(例: 1234-567890-1)"}, 4, 6, 1)
	parsePostalCode = func(s string) (string, *problem) {
		return groupedDigits(&problem{"postal_code", "must be 7 digits (123-4567)",
			"7桁の数字で入力してください(例: 123-4567)"}, 3, 4)(strings.TrimPrefix(NormalizeText(s), "〒"))
	}
)

// paddedDigits accepts 1 to n digits and pads them with zeros to n: spreadsheets drop the leading zeros of
// bank and branch codes (0005 → 5).
func paddedDigits(n int, p *problem) parser {
	return func(s string) (string, *problem) {
		d, ok := digitsOnly(s)
		if !ok || len(d) > n {
			return "", p
		}
		return strings.Repeat("0", n-len(d)) + d, nil
	}
}

// maxDigits accepts 1 to n digits, as typed.
func maxDigits(n int, p *problem) parser {
	return func(s string) (string, *problem) {
		d, ok := digitsOnly(s)
		if !ok || len(d) > n {
			return "", p
		}
		return d, nil
	}
}

// parsePhone accepts digits and hyphens, 10 or 11 digits, and keeps the hyphens as typed.
func parsePhone(s string) (string, *problem) {
	s = strings.ReplaceAll(NormalizeText(s), "ー", "-")
	bad := &problem{"phone", "must be 10 or 11 digits, with or without hyphens (03-1234-5678)",
		"10桁または11桁の数字とハイフンで入力してください(例: 03-1234-5678)"}
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return s, bad
	}
	n := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			n++
		case r != '-':
			return s, bad
		}
	}
	if n < 10 || n > 11 {
		return s, bad
	}
	return s, nil
}

// parseEmail accepts one plain address (no display name), ASCII, at most 254 characters; the domain is
// lower-cased, the local part kept as typed.
func parseEmail(s string) (string, *problem) {
	s = NormalizeText(s)
	bad := &problem{"email", "must be an e-mail address (name@example.jp)",
		"メールアドレスの形式で入力してください(例: name@example.jp)"}
	if len(s) > 254 {
		return s, bad
	}
	for _, r := range s {
		if r >= utf8.RuneSelf || r <= ' ' {
			return s, bad
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return s, bad
	}
	local, domain, _ := strings.Cut(s, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return s, bad
	}
	return local + "@" + strings.ToLower(domain), nil
}

// dateForms are the spellings of a date accepted: ISO, slashes (what Excel writes: 2026/4/1) and 年月日.
var dateForms = regexp.MustCompile(`^(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日)$`)

// ParseDate accepts 2026-04-01, 2026/4/1, 2026.4.1 or 2026年4月1日 (full-width digits too) and returns
// YYYY-MM-DD. Only real calendar days between 1900 and 2199 pass.
func ParseDate(s string) (string, *problem) {
	s = strings.ReplaceAll(NormalizeText(s), " ", "")
	bad := &problem{"date", "must be a date (YYYY-MM-DD)", "日付を YYYY-MM-DD の形式で入力してください"}
	m := dateForms.FindStringSubmatch(s)
	if m == nil {
		return s, bad
	}
	mo, d := m[2], m[3]
	if mo == "" {
		mo, d = m[4], m[5]
	}
	y, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(mo)
	di, _ := strconv.Atoi(d)
	t := time.Date(y, time.Month(mi), di, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != mi || t.Day() != di || y < 1900 || y > 2199 {
		return s, &problem{"date", "is not a valid date", "存在しない日付です"}
	}
	return t.Format(time.DateOnly), nil
}

// employeeNumberForm is 社員番号: 1 to 20 of A-Z, a-z, 0-9, - and _.
var employeeNumberForm = regexp.MustCompile(`^[A-Za-z0-9_-]{1,20}$`)

func parseEmployeeNumber(s string) (string, *problem) {
	s = NormalizeText(s)
	if !employeeNumberForm.MatchString(s) {
		return s, &problem{"employee_number", "must be 1 to 20 of A-Z, a-z, 0-9, - and _",
			"半角英数字・ハイフン・アンダースコアの1〜20文字で入力してください"}
	}
	return s, nil
}

// maxYen bounds amounts of money: far above any monthly pay, far below overflow.
const maxYen = 1_000_000_000

// parseYen accepts a non-negative whole number of yen: 300000, 300,000, ３００，０００, ¥300,000, 300,000円.
func parseYen(s string) (string, *problem) {
	s = strings.TrimSuffix(strings.TrimLeft(NormalizeText(s), "¥\\"), "円")
	s = strings.ReplaceAll(s, ",", "")
	bad := &problem{"yen", "must be a whole number of yen, 0 or more", "0以上の整数(円)で入力してください"}
	if s == "" || len(s) > 12 {
		return s, bad
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return s, bad
		}
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	if n > maxYen {
		return s, &problem{"yen_too_large", "is too large", "金額が大きすぎます"}
	}
	return strconv.FormatInt(n, 10), nil
}

// enum is a closed set of codes with the words (Japanese and English) that mean each.
type enum struct {
	words   map[string]string // NormalizeText(lower-cased word) → code
	problem *problem
}

func newEnum(p *problem, codes map[string][]string) enum {
	e := enum{words: map[string]string{}, problem: p}
	for code, words := range codes {
		e.words[code] = code
		for _, w := range words {
			e.words[strings.ToLower(NormalizeText(w))] = code
		}
	}
	return e
}

func (e enum) parse(s string) (string, *problem) {
	if code, ok := e.words[strings.ToLower(NormalizeText(s))]; ok {
		return code, nil
	}
	return s, e.problem
}

// Employment types: the standard codes (tenants may add their own: not yet, see the package comment).
const (
	TypeRegular   = "regular"
	TypeContract  = "contract"
	TypePartTime  = "part_time"
	TypeArbeit    = "arbeit"
	TypeDispatch  = "dispatch"
	TypeShokutaku = "shokutaku"
	TypeExecutive = "executive"
)

var (
	genders = newEnum(&problem{"gender", "must be male or female", "男性または女性を指定してください"},
		map[string][]string{ports.GenderMale: {"男", "男性", "m"}, ports.GenderFemale: {"女", "女性", "f"}})
	statuses = newEnum(&problem{"status", "must be active, on_leave or separated", "在籍・休職・退職のいずれかを指定してください"},
		map[string][]string{
			ports.EmployeeActive:    {"在籍", "在職"},
			ports.EmployeeOnLeave:   {"休職", "休職中", "休業"},
			ports.EmployeeSeparated: {"退職", "退職済"},
		})
	employmentTypes = newEnum(&problem{"employment_type",
		"must be regular, contract, part_time, arbeit, dispatch, shokutaku or executive",
		"正社員・契約社員・パート・アルバイト・派遣・嘱託・役員のいずれかを指定してください"},
		map[string][]string{
			TypeRegular:   {"正社員"},
			TypeContract:  {"契約社員"},
			TypePartTime:  {"パート", "パートタイマー"},
			TypeArbeit:    {"アルバイト"},
			TypeDispatch:  {"派遣", "派遣社員"},
			TypeShokutaku: {"嘱託", "嘱託社員"},
			TypeExecutive: {"役員"},
		})
	accountTypes = newEnum(&problem{"account_type", "must be ordinary or checking", "普通または当座を指定してください"},
		map[string][]string{"ordinary": {"普通", "普通預金"}, "checking": {"当座", "当座預金"}})
	relationships = newEnum(&problem{"relationship",
		"must be spouse, child, parent, grandparent, sibling or other",
		"配偶者・子・父母・祖父母・兄弟姉妹・その他のいずれかを指定してください"},
		map[string][]string{
			"spouse": {"配偶者", "夫", "妻"}, "child": {"子", "長男", "長女", "次男", "次女"},
			"parent": {"父母", "父", "母", "親"}, "grandparent": {"祖父母", "祖父", "祖母"},
			"sibling": {"兄弟姉妹", "兄", "姉", "弟", "妹"}, "other": {"その他"},
		})
	yesNo = newEnum(&problem{"boolean", "must be true or false", "はい・いいえ(true/false)で指定してください"},
		map[string][]string{"true": {"1", "yes", "はい", "同居", "○"}, "false": {"0", "no", "いいえ", "別居", "×"}})
)

// prefectures are the 47 都道府県; a name without its suffix (東京, 大阪) is accepted too.
var prefectures = func() map[string]string {
	m := map[string]string{}
	for _, p := range strings.Fields(`北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 東京都
		神奈川県 新潟県 富山県 石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県 滋賀県 京都府 大阪府 兵庫県 奈良県
		和歌山県 鳥取県 島根県 岡山県 広島県 山口県 徳島県 香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 熊本県 大分県 宮崎県
		鹿児島県 沖縄県`) {
		m[p] = p
		if p != "北海道" {
			short, _ := strings.CutSuffix(p, string([]rune(p)[len([]rune(p))-1:]))
			m[short] = p
		}
	}
	return m
}()

func parsePrefecture(s string) (string, *problem) {
	if p, ok := prefectures[NormalizeText(s)]; ok {
		return p, nil
	}
	return s, &problem{"prefecture", "must be one of the 47 prefectures", "都道府県名を正しく入力してください"}
}

// idForm is an identifier of another record (a department, an account): what kernel.NewID makes, or any
// other opaque ASCII key of a sensible length.
var idForm = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func parseID(s string) (string, *problem) {
	s = strings.TrimSpace(s)
	if !idForm.MatchString(s) {
		return s, &problem{"id", "is not a valid ID", "IDの形式が正しくありません"}
	}
	return s, nil
}

// mask hides a sensitive value but for its last four characters (********9018); short values are hidden
// entirely.
func mask(v string) string {
	rs := []rune(v)
	switch {
	case len(rs) == 0:
		return ""
	case len(rs) < 8:
		return "****"
	default:
		return strings.Repeat("*", len(rs)-4) + string(rs[len(rs)-4:])
	}
}

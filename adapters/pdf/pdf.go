// Package pdf renders filled filing forms as A4 PDFs with go-pdf/fpdf: the form title, the employer and the
// insured person as a table, dates in the Japanese era. The Japanese font (IPAexGothic, IPA Font License v1.0,
// see fonts/) is embedded in the binary and subset into each PDF, so rendering needs no system font.
package pdf

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/roumu/roumu/ports"
)

//go:embed fonts/ipaexg.ttf
var gothic []byte

const fontFamily = "IPAexGothic"

// Page geometry in millimetres (A4 portrait).
const (
	margin    = 15.0
	pageWidth = 210.0
	labelW    = 52.0
	lineH     = 6.5
	contentW  = pageWidth - 2*margin
)

// Renderer implements ports.DocumentRenderer. It holds no state and is safe for concurrent use.
type Renderer struct {
	// Producer is written into the PDF's metadata.
	Producer string
}

var _ ports.DocumentRenderer = Renderer{}

// defaultTitles are used when a form comes without a title.
var defaultTitles = map[string]string{
	ports.FormHealthPensionAcquisition:       "健康保険・厚生年金保険 被保険者資格取得届",
	ports.FormHealthPensionLoss:              "健康保険・厚生年金保険 被保険者資格喪失届",
	ports.FormEmploymentInsuranceAcquisition: "雇用保険被保険者資格取得届",
}

// RenderPDF renders the form on A4 pages.
func (r Renderer) RenderPDF(ctx context.Context, form ports.FilingForm) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	title := form.Title
	if title == "" {
		title = defaultTitles[form.Type]
	}
	if _, known := defaultTitles[form.Type]; !known {
		return nil, ports.Invalid("form_type_unsupported", "this form type cannot be rendered", "この届書は印刷できません",
			ports.FieldError{Field: "type", Code: "unsupported", MessageEN: "no PDF layout for " + form.Type, MessageJA: "様式がありません"})
	}
	doc := fpdf.New("P", "mm", "A4", "")
	doc.SetMargins(margin, margin, margin)
	doc.SetAutoPageBreak(true, margin)
	doc.AddUTF8FontFromBytes(fontFamily, "", gothic)
	doc.SetTitle(title, true)
	doc.SetCreator(r.Producer, true)
	doc.SetProducer(r.Producer, true)
	doc.SetCreationDate(creationDate(form))
	doc.SetFooterFunc(func() {
		doc.SetY(-margin + 3)
		doc.SetFont(fontFamily, "", 8)
		doc.CellFormat(0, 4, fmt.Sprintf("%s　%d / {nb}", title, doc.PageNo()), "", 0, "C", false, 0, "")
	})
	doc.AliasNbPages("{nb}")
	doc.AddPage()

	doc.SetFont(fontFamily, "", 15)
	doc.MultiCell(0, 9, title, "", "C", false)
	doc.SetFont(fontFamily, "", 9.5)
	doc.CellFormat(contentW/2, lineH, "提出先: "+form.OfficeName, "", 0, "L", false, 0, "")
	doc.CellFormat(contentW/2, lineH, "作成日: "+form.Prepared.Era, "", 1, "R", false, 0, "")
	doc.Ln(2)

	t := table{doc: doc}
	t.section("事業所")
	e := form.Employer
	if form.Type == ports.FormEmploymentInsuranceAcquisition {
		t.row("雇用保険適用事業所番号", e.EmploymentInsuranceOfficeNumber)
	} else {
		t.row("事業所整理記号", join("－", e.DistrictCode, e.OfficeSymbol))
		t.row("事業所番号", e.OfficeNumber)
	}
	t.row("事業所名称", e.Name)
	t.row("事業所所在地", join("　", postal(e.PostalCode), e.Address))
	t.row("事業主氏名", e.OwnerName)
	t.row("電話番号", e.Phone)

	t.section("被保険者")
	p := form.Person
	if form.Type == ports.FormEmploymentInsuranceAcquisition {
		t.row("被保険者番号", orBlank(p.EmploymentInsuranceNumber, "（新規）"))
	} else {
		t.row("被保険者整理番号", p.InsuredNumber)
	}
	t.row("氏名", join("　", p.FamilyName, p.GivenName))
	t.row("フリガナ", join("　", p.FamilyNameKana, p.GivenNameKana))
	t.row("生年月日", p.BirthDate.Era)
	t.row("性別", gender(p.Gender))
	t.row("個人番号", p.MyNumber)
	if form.Type != ports.FormEmploymentInsuranceAcquisition {
		t.row("基礎年金番号", pensionNumber(p.BasicPensionNumber))
	}
	t.row("住所", join("　", postal(p.PostalCode), p.Address))
	if p.AddressKana != "" {
		t.row("住所（フリガナ）", p.AddressKana)
	}

	switch form.Type {
	case ports.FormHealthPensionAcquisition:
		t.section("資格取得")
		t.row("資格取得年月日", form.AcquisitionDate.Era)
		t.row("取得区分", code(form.AcquisitionKind, map[string]string{"1": "健保・厚年"}))
		t.row("被扶養者", yesNo(form.HasDependents, "有", "無"))
		t.row("報酬月額（通貨）", yen(form.MonthlyPayCash))
		t.row("報酬月額（現物）", yen(form.MonthlyPayInKind))
		t.row("報酬月額（合計）", yen(form.MonthlyPayCash+form.MonthlyPayInKind))
		if form.StandardMonthlyRemuneration > 0 {
			t.row("標準報酬月額", yen(form.StandardMonthlyRemuneration))
		}
	case ports.FormHealthPensionLoss:
		t.section("資格喪失")
		t.row("資格喪失年月日", form.LossDate.Era)
		t.row("喪失原因", code(form.LossReason, map[string]string{"4": "退職等", "5": "死亡", "7": "75歳到達", "9": "障害認定", "11": "社会保障協定"}))
		t.row("退職日・死亡日", form.RetirementDate.Era)
	case ports.FormEmploymentInsuranceAcquisition:
		t.section("資格取得")
		t.row("資格取得年月日", form.AcquisitionDate.Era)
		t.row("取得区分", code(form.AcquisitionKind, map[string]string{"1": "新規", "2": "再取得"}))
		t.row("取得原因", code(form.AcquisitionCause, map[string]string{"1": "新規学卒", "2": "その他新規", "3": "日雇からの切替", "4": "適用拡大", "8": "出向元への復帰"}))
		t.row("賃金（月額）", yen(form.MonthlyPayCash+form.MonthlyPayInKind))
		t.row("雇用形態", form.EmploymentType)
		t.row("職種", form.Occupation)
		t.row("1週間の所定労働時間", weeklyHours(form.WeeklyWorkingMinutes))
		t.row("契約期間の定め", yesNo(form.FixedTerm, "有", "無"))
	}

	t.section("備考")
	var remarks []string
	for _, r := range []struct {
		on   bool
		text string
	}{
		{form.Over70, "70歳以上被用者"}, {form.MultipleWorkplaces, "二以上事業所勤務者"},
		{form.ShortTimeWorker, "短時間労働者"}, {form.RehiredAfterRetiring, "退職後の継続再雇用者"},
	} {
		if r.on {
			remarks = append(remarks, "■ "+r.text)
		}
	}
	if form.Remarks != "" {
		remarks = append(remarks, form.Remarks)
	}
	t.row("備考", strings.Join(remarks, "\n"))

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := doc.Output(&out); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return out.Bytes(), nil
}

// table draws label/value rows with borders; long values wrap and the label cell grows with them.
type table struct{ doc *fpdf.Fpdf }

func (t table) section(name string) {
	t.doc.Ln(3)
	t.doc.SetFont(fontFamily, "", 11)
	t.doc.SetFillColor(225, 232, 240)
	t.doc.CellFormat(contentW, lineH+1, name, "1", 1, "L", true, 0, "")
	t.doc.SetFont(fontFamily, "", 9.5)
}

func (t table) row(label, value string) {
	valueW := contentW - labelW
	var lines []string
	for _, para := range strings.Split(value, "\n") {
		lines = append(lines, t.wrap(para, valueW-2)...)
	}
	h := float64(len(lines)) * lineH
	_, pageH := t.doc.GetPageSize()
	if t.doc.GetY()+h > pageH-margin-4 {
		t.doc.AddPage()
	}
	x, y := t.doc.GetXY()
	t.doc.SetFillColor(245, 247, 250)
	t.doc.CellFormat(labelW, h, label, "1", 0, "L", true, 0, "")
	t.doc.Rect(x+labelW, y, valueW, h, "D")
	for i, l := range lines {
		t.doc.SetXY(x+labelW+1, y+float64(i)*lineH)
		t.doc.CellFormat(valueW-2, lineH, l, "", 0, "L", false, 0, "")
	}
	t.doc.SetXY(x, y+h)
}

// wrap breaks text into lines no wider than w. Japanese breaks between any two characters, so it measures
// rune by rune (fpdf's SplitText drops the character it breaks at).
func (t table) wrap(text string, w float64) []string {
	var lines []string
	var line strings.Builder
	for _, r := range text {
		if line.Len() > 0 && t.doc.GetStringWidth(line.String()+string(r)) > w {
			lines = append(lines, line.String())
			line.Reset()
		}
		line.WriteRune(r)
	}
	return append(lines, line.String())
}

func join(sep string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}

func postal(code string) string {
	d := strings.ReplaceAll(code, "-", "")
	if len(d) != 7 {
		return code
	}
	return "〒" + d[:3] + "-" + d[3:]
}

func pensionNumber(n string) string {
	d := strings.ReplaceAll(n, "-", "")
	if len(d) != 10 {
		return n
	}
	return d[:4] + "-" + d[4:]
}

func gender(g string) string {
	switch g {
	case "male":
		return "男"
	case "female":
		return "女"
	}
	return g
}

func code(c string, names map[string]string) string {
	if name, ok := names[c]; ok {
		return c + "　" + name
	}
	return c
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func orBlank(s, blank string) string {
	if s == "" {
		return blank
	}
	return s
}

// yen writes an amount with thousands separators: 310,000円.
func yen(n int) string {
	s := fmt.Sprint(max(n, 0))
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + "円"
}

func weeklyHours(minutes int) string {
	if minutes <= 0 {
		return ""
	}
	return fmt.Sprintf("%d時間%02d分", minutes/60, minutes%60)
}

// creationDate dates the PDF on the day the form was prepared (noon in Tokyo): the renderer has no clock, and
// the document's date is the form's.
func creationDate(form ports.FilingForm) time.Time {
	if d, err := time.Parse("2006-01-02", form.Prepared.ISO); err == nil {
		return d.Add(3 * time.Hour) // 12:00 JST
	}
	return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
}

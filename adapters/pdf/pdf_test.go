package pdf

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/tools"
)

func form(formType string) ports.FilingForm {
	f := ports.FilingForm{
		Type: formType, Office: "pension_office", OfficeName: "日本年金機構 新宿年金事務所",
		Prepared: ports.FormDate{ISO: "2026-04-08", Era: "令和8年4月8日"},
		Employer: ports.FilingEmployer{
			PrefectureCode: "21", DistrictCode: "01", OfficeSymbol: "ﾛｳﾑ", OfficeNumber: "12345",
			EmploymentInsuranceOfficeNumber: "1301-123456-7", Name: "株式会社ロウム", PostalCode: "1008916",
			Address: "東京都千代田区霞が関1-2-2", OwnerName: "労務 太郎", Phone: "03-1234-5678",
		},
		Person: ports.FilingPerson{
			FamilyName: "髙橋", GivenName: "一郎", FamilyNameKana: "タカハシ", GivenNameKana: "イチロウ",
			BirthDate: ports.FormDate{ISO: "1989-01-07", Era: "昭和64年1月7日"}, Gender: "male",
			MyNumber: "123456789018", BasicPensionNumber: "1234567890", PostalCode: "163-8001",
			Address: "東京都新宿区西新宿二丁目8番1号 とても長い建物の名前が続いて一行に収まらない場合でも折り返して全部の文字が表に入ること",
		},
		AcquisitionDate: ports.FormDate{ISO: "2026-04-01", Era: "令和8年4月1日"}, AcquisitionKind: "1", AcquisitionCause: "2",
		HasDependents: true, MonthlyPayCash: 300000, MonthlyPayInKind: 10000, StandardMonthlyRemuneration: 320000,
		EmploymentType: "正社員", Occupation: "事務", WeeklyWorkingMinutes: 40 * 60, Remarks: "試用期間3か月",
		LossDate: ports.FormDate{ISO: "2026-04-01", Era: "令和8年4月1日"}, LossReason: "4",
		RetirementDate: ports.FormDate{ISO: "2026-03-31", Era: "令和8年3月31日"}, ShortTimeWorker: true,
	}
	return f
}

func TestRenderedPDFShowsTheJapaneseText(t *testing.T) {
	t.Parallel()
	const poppler = "install poppler-utils" // .ci/run does
	pdftotext, pdftoppm := tools.Path(t, "pdftotext", poppler), tools.Path(t, "pdftoppm", poppler)
	cases := map[string][]string{
		ports.FormHealthPensionAcquisition:       {"被保険者資格取得届", "髙橋", "一郎", "タカハシ", "昭和64年1月7日", "令和8年4月1日", "310,000円", "株式会社ロウム", "短時間労働者", "全部の文字が表に入ること"},
		ports.FormHealthPensionLoss:              {"被保険者資格喪失届", "髙橋", "退職等", "令和8年3月31日", "令和8年4月1日"},
		ports.FormEmploymentInsuranceAcquisition: {"雇用保険被保険者資格取得届", "1301-123456-7", "その他新規", "40時間00分", "（新規）"},
	}
	for formType, want := range cases {
		t.Run(formType, func(t *testing.T) {
			t.Parallel()
			b, err := Renderer{Producer: "Roumu test"}.RenderPDF(context.Background(), form(formType))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte("%PDF-")) {
				t.Fatalf("not a PDF: %q", b[:min(len(b), 16)])
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "form.pdf")
			if err := os.WriteFile(file, b, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(pdftotext, "-enc", "UTF-8", file, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v\n%s", err, out)
			}
			text := strings.Join(strings.Fields(string(out)), "")
			for _, w := range want {
				if !strings.Contains(text, strings.Join(strings.Fields(w), "")) {
					t.Errorf("the PDF text lacks %q:\n%s", w, out)
				}
			}
			if out, err := exec.Command(pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", file, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
				t.Fatalf("pdftoppm: %v\n%s", err, out)
			}
			pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
			if len(pages) != 1 {
				t.Fatalf("pdftoppm wrote %v", pages)
			}
			img := decodePNG(t, pages[0])
			w, h := img.Bounds().Dx(), img.Bounds().Dy()
			if ratio := float64(h) / float64(w); ratio < 1.40 || ratio > 1.43 { // A4 is 297/210 = 1.414
				t.Errorf("page is %dx%d, not A4", w, h)
			}
			if dark := inkShare(img); dark < 0.01 || dark > 0.5 {
				t.Errorf("%.3f of the page is ink; want a filled form, neither blank nor black", dark)
			}
		})
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// inkShare is the share of pixels that are clearly not white.
func inkShare(img image.Image) float64 {
	b := img.Bounds()
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if (r+g+bl)/3 < 0xc000 {
				dark++
			}
		}
	}
	return float64(dark) / float64(b.Dx()*b.Dy())
}

func TestRenderEmbedsTheFontAsASubset(t *testing.T) {
	t.Parallel()
	start := time.Now()
	b, err := Renderer{}.RenderPDF(context.Background(), form(ports.FormHealthPensionAcquisition))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rendered %d bytes in %v", len(b), time.Since(start))
	if !bytes.Contains(b, []byte("/FontFile2")) || !bytes.Contains(b, []byte("/BaseFont /utf8ipaexgothic")) {
		t.Error("the font is not embedded")
	}
	if len(b) > len(gothic)/4 {
		t.Errorf("PDF of %d bytes: the %d-byte font is not subset", len(b), len(gothic))
	}
}

func TestRenderRefusesUnknownForms(t *testing.T) {
	t.Parallel()
	if _, err := (Renderer{}).RenderPDF(context.Background(), form("annual_leave")); !errors.Is(err, ports.ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Renderer{}).RenderPDF(ctx, form(ports.FormHealthPensionLoss)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

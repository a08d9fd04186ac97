package efiling

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"github.com/roumu/roumu/ports"
)

var update = flag.Bool("update", false, "rewrite testdata/SHFD0006.golden.CSV from the current output")

func employer() ports.FilingEmployer {
	return ports.FilingEmployer{
		PrefectureCode: "21", DistrictCode: "01", OfficeSymbol: "ロウム", OfficeNumber: "12345",
		Name: "株式会社ロウム", PostalCode: "100-8916", Address: "東京都千代田区霞が関1-2-2",
		OwnerName: "労務　太郎", Phone: "03-1234-5678",
	}
}

func fd(t testing.TB, iso string) ports.FormDate {
	t.Helper()
	f, err := FormDateOf(date(t, iso))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sampleForms: an acquisition with My Number, a loss with the basic pension number, and an acquisition with the
// basic pension number (so with the address) of someone born on the last day of 昭和.
func sampleForms(t testing.TB) []ports.FilingForm {
	return []ports.FilingForm{
		{
			Type: ports.FormHealthPensionAcquisition, Employer: employer(),
			Person: ports.FilingPerson{
				FamilyName: "高橋", GivenName: "一郎", FamilyNameKana: "タカハシ", GivenNameKana: "イチロウ",
				BirthDate: fd(t, "1990-04-15"), Gender: "male", MyNumber: "123456789018",
			},
			AcquisitionDate: fd(t, "2026-04-01"), HasDependents: true, MonthlyPayCash: 300000, MonthlyPayInKind: 10000,
		},
		{
			Type: ports.FormHealthPensionLoss, Employer: employer(),
			Person: ports.FilingPerson{
				InsuredNumber: "17", FamilyName: "山田", GivenName: "花子", FamilyNameKana: "ヤマダ", GivenNameKana: "ハナコ",
				BirthDate: fd(t, "1960-01-31"), Gender: "female", BasicPensionNumber: "1234-567890",
			},
			LossDate: fd(t, "2026-04-01"), LossReason: "4", RetirementDate: fd(t, "2026-03-31"), RehiredAfterRetiring: true,
		},
		{
			Type: ports.FormHealthPensionAcquisition, Employer: employer(),
			Person: ports.FilingPerson{
				FamilyName: "渡邊", GivenName: "ヴィクトル", FamilyNameKana: "ワタナベ", GivenNameKana: "ヴィクトル",
				BirthDate: fd(t, "1989-01-07"), Gender: "male", BasicPensionNumber: "9876543210",
				PostalCode: "1638001", Address: "東京都新宿区西新宿2-8-1 都庁前ハイツ101",
				AddressKana: "トウキョウト　シンジュクク　ニシシンジュク　２－８－１",
			},
			AcquisitionDate: fd(t, "2026-04-06"), MonthlyPayCash: 12_000_000, ShortTimeWorker: true, Remarks: "〜試用期間3か月",
		},
	}
}

func media(t testing.TB) Media { return Media{Sequence: 7, Created: date(t, "2026-04-08")} }

func TestBuildMatchesTheGoldenFileByteForByte(t *testing.T) {
	t.Parallel()
	got, err := Build(media(t), sampleForms(t)...)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "SHFD0006.golden.CSV")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s:\n got %q\nwant %q", golden, got, want)
	}
}

// The layout itself, checked at the byte level independently of the golden file.
func TestBuildRecordLayout(t *testing.T) {
	t.Parallel()
	out, err := Build(media(t), sampleForms(t)...)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(out, []byte("\n")) != bytes.Count(out, []byte("\r\n")) || !bytes.HasSuffix(out, []byte("\r\n")) {
		t.Fatal("a line does not end in CRLF")
	}
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\r\n")), []byte("\r\n"))
	if len(lines) != 8 {
		t.Fatalf("%d lines, want 5 header lines and 3 records", len(lines))
	}
	// ﾛｳﾑ is three JIS X 0201 bytes; the media record ends in the 代表届書コード.
	wantHead := []string{
		"21,01,\xdb\xb3\xd1,007,20260408,22223",
		"[kanri]",
		",001",
	}
	for i, w := range wantHead {
		if string(lines[i]) != w {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], w)
		}
	}
	if string(lines[4]) != "[data]" {
		t.Errorf("line 5 = %q", lines[4])
	}
	// 高橋 is 8D82 8BB4 in Shift_JIS; its reading ﾀｶﾊｼ ｲﾁﾛｳ is half-width (C0 B6 CA BC 20 B2 C1 DB B3); the two
	// kanji names are separated by a full-width space (8140).
	if !bytes.HasPrefix(lines[5], []byte("2200700,21,01,\xdb\xb3\xd1,12345,,\xc0\xb6\xca\xbc \xb2\xc1\xdb\xb3,\x8d\x82\x8b\xb4\x81\x40\x88\xea\x98\x59,7,020415,1,1,123456789018,")) {
		t.Errorf("record 1 starts %q", lines[5])
	}
	decode := func(b []byte) []string {
		s, err := japanese.ShiftJIS.NewDecoder().Bytes(b)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(string(s), ",")
	}
	office := decode(lines[3])
	wantOffice := []string{"21", "01", "ﾛｳﾑ", "12345", "100", "8916", "東京都千代田区霞が関１－２－２", "株式会社ロウム", "労務　太郎", "03", "1234", "5678"}
	if strings.Join(office, "|") != strings.Join(wantOffice, "|") {
		t.Errorf("office record = %q\nwant %q", office, wantOffice)
	}
	want := [][]string{
		{"2200700", "21", "01", "ﾛｳﾑ", "12345", "", "ﾀｶﾊｼ ｲﾁﾛｳ", "高橋　一郎", "7", "020415", "1", "1", "123456789018", "", "", "", "",
			"9", "080401", "1", "0300000", "0010000", "0310000", "", "", "", "", "", "", "", "", "", "", ""},
		{"2201700", "21", "01", "ﾛｳﾑ", "12345", "17", "ﾔﾏﾀﾞ ﾊﾅｺ", "山田　花子", "5", "350131", "", "1234", "567890",
			"9", "080401", "4", "9", "080331", "", "1", "", "", "", "", "", "", ""},
		{"2200700", "21", "01", "ﾛｳﾑ", "12345", "", "ﾜﾀﾅﾍﾞ ｳﾞｨｸﾄﾙ", "渡邊　ヴィクトル", "5", "640107", "1", "1", "", "", "", "9876", "543210",
			"9", "080406", "0", "9999999", "0000000", "9999999", "", "", "1", "", "～試用期間３か月",
			"163", "8001", "ﾄｳｷｮｳﾄ ｼﾝｼﾞｭｸｸ ﾆｼｼﾝｼﾞｭｸ 2-8-1", "東京都新宿区西新宿２－８－１　都庁前ハイツ１０１", "", ""},
	}
	for i, w := range want {
		got := decode(lines[5+i])
		if len(got) != recordItems[w[0]] {
			t.Errorf("record %d has %d items, want %d", i+1, len(got), recordItems[w[0]])
		}
		for j := range max(len(got), len(w)) {
			var g, x string
			if j < len(got) {
				g = got[j]
			}
			if j < len(w) {
				x = w[j]
			}
			if g != x {
				t.Errorf("record %d item %d = %q, want %q", i+1, j+1, g, x)
			}
		}
	}
	// What Build writes, Parse reads back.
	f, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Records) != 3 || f.Records[1][0] != codeLoss {
		t.Errorf("Parse = %+v", f)
	}
}

func fieldErrors(t *testing.T, err error) map[string]ports.FieldError {
	t.Helper()
	if !errors.Is(err, ports.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	e, _ := ports.AsError(err)
	out := map[string]ports.FieldError{}
	for _, f := range e.Fields {
		out[f.Field] = f
	}
	return out
}

func TestBuildRefusesCP932ExtensionsNamingTheCharacter(t *testing.T) {
	t.Parallel()
	forms := sampleForms(t)[:1]
	forms[0].Person.FamilyName = "髙橋"
	forms[0].Employer.Address = "東京都千代田区①番地"
	forms[0].Person.GivenName = "﨑"
	_, err := Build(media(t), forms...)
	fields := fieldErrors(t, err)
	for field, char := range map[string]string{"person.family_name": "髙", "employer.address": "①", "person.given_name": "﨑"} {
		f, ok := fields[field]
		if !ok || f.Code != "unsupported_character" || !strings.Contains(f.MessageJA, char) || !strings.Contains(f.MessageEN, char) {
			t.Errorf("%s: %+v, want unsupported_character naming %s", field, f, char)
		}
	}
	// The standard form of the same name encodes, with the Shift_JIS bytes of 高橋.
	forms = sampleForms(t)[:1]
	out, err := Build(media(t), forms...)
	if err != nil || !bytes.Contains(out, []byte{0x8d, 0x82, 0x8b, 0xb4}) {
		t.Errorf("高橋: %v", err)
	}
}

func TestBuildReportsEveryInvalidItem(t *testing.T) {
	t.Parallel()
	loss := sampleForms(t)[1]
	loss.Person.BasicPensionNumber = ""
	loss.LossDate = fd(t, "2026-03-31") // the retirement day, not the day after
	loss.Person.FamilyNameKana = "やまだ"
	loss.Remarks = "a\nb"
	loss.Person.Gender = ""
	loss.Employer.Phone = "0312345678"
	loss.Employer.OfficeNumber = "123456"
	loss.LossReason = "3"
	_, err := Build(Media{Sequence: 1000}, loss)
	fields := fieldErrors(t, err)
	for _, want := range []string{"person.my_number", "person.family_name_kana", "remarks", "employer.phone",
		"employer.office_number", "loss_reason", "media.sequence", "media.created"} {
		if _, ok := fields[want]; !ok {
			t.Errorf("no error for %s; got %v", want, fields)
		}
	}

	loss = sampleForms(t)[1]
	loss.LossDate = fd(t, "2026-03-31")
	if f := fieldErrors(t, mustFail(Build(media(t), loss))); f["loss_date"].Code != "not_day_after" {
		t.Errorf("loss date on the retirement day: %v", f)
	}

	acq := sampleForms(t)[2]
	acq.Person.AddressKana = ""
	if f := fieldErrors(t, mustFail(Build(media(t), acq))); f["person.address_kana"].Code != "required" {
		t.Errorf("no My Number and no address kana: %v", f)
	}

	other := sampleForms(t)
	other[1].Employer.OfficeNumber = "54321"
	if f := fieldErrors(t, mustFail(Build(media(t), other...))); f["forms[1].employer"].Code != "mixed_offices" {
		t.Errorf("two offices in one file: %v", f)
	}

	ei := sampleForms(t)[0]
	ei.Type = ports.FormEmploymentInsuranceAcquisition
	if f := fieldErrors(t, mustFail(Build(media(t), ei))); f["type"].Code != "unsupported_form" {
		t.Errorf("employment insurance form: %v", f)
	}
	if f := fieldErrors(t, mustFail(Build(media(t)))); f["forms"].Code != "required" {
		t.Errorf("no forms: %v", f)
	}
}

func mustFail(_ []byte, err error) error { return err }

func TestBuildWritesOver70NonApplicableOnTheRetirementDay(t *testing.T) {
	t.Parallel()
	loss := sampleForms(t)[1]
	loss.Over70 = true
	out, err := Build(media(t), loss)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	rec := f.Records[0]
	if rec[23] != "1" || rec[24] != "9" || rec[25] != "080331" || rec[14] != "080401" {
		t.Errorf("items 24–26 = %q, loss date %q", rec[23:26], rec[14])
	}
}

func TestAttachment(t *testing.T) {
	t.Parallel()
	a, err := Attachment(media(t), sampleForms(t)...)
	if err != nil || a.Name != "SHFD0006.CSV" || a.ContentType != "text/csv; charset=Shift_JIS" || !bytes.Equal(a.Data, golden(t)) {
		t.Errorf("Attachment = %s %s %d bytes, %v", a.Name, a.ContentType, len(a.Data), err)
	}
	if _, err := Attachment(media(t)); !errors.Is(err, ports.ErrInvalid) {
		t.Errorf("no forms: %v", err)
	}
}

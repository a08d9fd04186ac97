package employees_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"

	"github.com/roumu/roumu/domain/employees"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/fixtures"
)

const header = "社員番号,姓,名,セイ,メイ,生年月日,性別,入社日,雇用形態,部署コード,月額報酬（通貨）,email,個人番号\r\n"

func (e *env) importCSV(t *testing.T, p ports.Principal, body []byte, dryRun bool, mapping map[string]string) ports.ImportResult {
	t.Helper()
	res, err := e.svc.ImportEmployees(ctx, p, ports.ImportRequest{CSV: bytes.NewReader(body), DryRun: dryRun, Mapping: mapping}, nil)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

func (e *env) count(t *testing.T) int {
	t.Helper()
	n, err := e.store.CountEmployees(ctx, ports.EmployeeQuery{TenantID: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportCreatesThenUpdates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.svc.CreateDepartment(ctx, e.admin, deptInput("DEV", "開発部", "")); err != nil {
		t.Fatal(err)
	}
	body := []byte("\xEF\xBB\xBF" + header +
		"E001,山田,太郎,ﾔﾏﾀﾞ,たろう,1990/5/15,男,2020/4/1,正社員,DEV,\"300,000\",taro@example.jp,123456789018\r\n" +
		"E002,佐藤,花子,サトウ,ハナコ,１９９２／３／３,女性,2021-04-01,パート,,120000,,\r\n")
	res := e.importCSV(t, e.admin, body, true, nil)
	if res.Created != 2 || res.Updated != 0 || len(res.Errors) != 0 || e.count(t) != 0 {
		t.Fatalf("dry run: %+v, %d stored", res, e.count(t))
	}
	var progress [][2]int
	res, err := e.svc.ImportEmployees(ctx, e.admin, ports.ImportRequest{CSV: bytes.NewReader(body)},
		func(done, total int) { progress = append(progress, [2]int{done, total}) })
	if err != nil || res.Created != 2 || len(res.Errors) != 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if len(progress) == 0 || progress[len(progress)-1] != [2]int{2, 2} {
		t.Errorf("progress %v", progress)
	}
	page, _ := e.svc.ListEmployees(ctx, e.admin, ports.EmployeeFilter{})
	a := page.Items[0]
	if a.FamilyNameKana != "ヤマダ" || a.GivenNameKana != "タロウ" || a.BirthDate != "1990-05-15" || a.MonthlyPay.Cash != 300000 ||
		a.DepartmentID == "" || a.MyNumberMasked != "********9018" || a.HealthGrade != 22 {
		t.Errorf("imported %+v", a)
	}
	if b := page.Items[1]; b.EmploymentType != "part_time" || b.BirthDate != "1992-03-03" || b.Gender != "female" {
		t.Errorf("imported %+v", b)
	}
	if evs := e.events(t, "employees.imported"); len(evs) != 1 || string(evs[0].Payload) != `{"created":2,"updated":0}` {
		t.Errorf("imported events %+v", evs)
	}
	if evs := e.events(t, "employee.hired"); len(evs) != 0 {
		t.Errorf("a bulk load announced %d hires", len(evs))
	}
	audits := e.audits(t, "employee.import")
	if len(audits) != 2 || audits[1].Event.Detail["created"] != "2" || audits[0].Event.Detail["dry_run"] != "true" {
		t.Errorf("import audits %+v", audits)
	}

	// The same file again changes nothing; one changed cell updates one employee.
	if res := e.importCSV(t, e.admin, body, false, nil); res.Created != 0 || res.Updated != 0 || len(res.Errors) != 0 {
		t.Errorf("re-import: %+v", res)
	}
	changed := bytes.Replace(body, []byte("120000"), []byte("130000"), 1)
	if res := e.importCSV(t, e.admin, changed, true, nil); res.Updated != 1 {
		t.Errorf("dry-run update: %+v", res)
	}
	if res := e.importCSV(t, e.admin, changed, false, nil); res.Updated != 1 || res.Created != 0 {
		t.Errorf("update: %+v", res)
	}
	page, _ = e.svc.ListEmployees(ctx, e.admin, ports.EmployeeFilter{})
	if page.Items[1].MonthlyPay.Cash != 130000 || page.Items[1].Version != 2 || page.Items[0].Version != 1 {
		t.Errorf("after the update: %+v", page.Items)
	}
	h, _ := e.svc.History(ctx, e.admin, page.Items[1].ID)
	if h[0].Kind != "import" || h[0].Changes[0] != (ports.FieldChange{Field: "monthly_pay.cash", From: "120000", To: "130000"}) {
		t.Errorf("history of the import %+v", h[0])
	}
}

func TestImportWithErrorsWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "E900")
	body := []byte(header +
		"E001,山田,太郎,ヤマダ,タロウ,1990-05-15,男,2020-04-01,正社員,,300000,,\r\n" + // fine
		"E002,佐藤,,サトウ,ハナコ,1992-02-30,女,2021-04-01,,,abc,,123456789017\r\n" + // 4 errors
		"E001,鈴木,一郎,スズキ,イチロウ,1980-01-01,男,2020-04-01,,,,,\r\n" + // duplicate number
		"E003,高田,健,タカダ,ケン,1985-01-01,男,2019-04-01,,NOPE,,,\r\n" + // unknown department
		"E004,阿部\r\n" + // short row
		"E900,山田,太郎,ヤマダ,タロウ,1990-05-15,男,1980-04-01,正社員,,300000,,\r\n") // existing: hired before birth
	res := e.importCSV(t, e.admin, body, false, nil)
	var got []string
	for _, er := range res.Errors {
		if er.MessageEN == "" || er.MessageJA == "" {
			t.Errorf("error without both messages: %+v", er)
		}
		got = append(got, fmt.Sprintf("%d %s %s", er.Row, er.Column, er.Code))
	}
	want := []string{"2 名 required", "2 生年月日 date", "2 月額報酬（通貨） yen", "2 個人番号 my_number_check_digit",
		"3 社員番号 duplicate_employee_number", "4 部署コード unknown_department", "5  column_count", "6 入社日 hire_before_birth"}
	if !slices.Equal(got, want) {
		t.Errorf("errors\n%q\nwant\n%q", got, want)
	}
	if res.Created != 1 {
		t.Errorf("counts %+v", res)
	}
	if e.count(t) != 1 || len(e.events(t, "employees.imported")) != 0 {
		t.Fatalf("a file with errors wrote something")
	}
	if a := e.audits(t, "employee.import"); len(a) != 1 || a[0].Event.Detail["errors"] != "8" {
		t.Errorf("audit of a failed import %+v", a)
	}
}

func TestImportHeaderProblems(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for name, tc := range map[string]struct {
		body    string
		mapping map[string]string
		want    []string
	}{
		"no header": {"", nil, []string{"0  empty_file"}},
		"no number": {"姓,名\r\n山田,太郎\r\n", nil, []string{"0 社員番号 missing_column"}},
		"unknown":   {"社員番号,年収\r\nE1,1\r\n", nil, []string{"0 年収 unknown_column"}},
		"twice":     {"社員番号,employee_number\r\nE1,E1\r\n", nil, []string{"0 employee_number duplicate_column"}},
		"mapped":    {"No.,Surname,Memo\r\nE1,山田,x\r\n", map[string]string{"No.": "employee_number", "Surname": "family_name", "Memo": ""}, []string{"1 名 required", "1 セイ required", "1 メイ required", "1 生年月日 required", "1 性別 required", "1 入社日 required"}},
		"syntax":    {"社員番号\r\n\"E1\r\n", nil, []string{"1  csv_syntax"}},
	} {
		res := e.importCSV(t, e.admin, []byte(tc.body), true, tc.mapping)
		var got []string
		for _, er := range res.Errors {
			got = append(got, fmt.Sprintf("%d %s %s", er.Row, er.Column, er.Code))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
	// Bytes that are not UTF-8 in a file said to be UTF-8 fail the row, not the import.
	res, err := e.svc.ImportEmployees(ctx, e.admin, ports.ImportRequest{CSV: strings.NewReader("社員番号\r\nE1\xff\r\n"), Encoding: "UTF-8", DryRun: true}, nil)
	if err != nil || len(res.Errors) != 1 || res.Errors[0].Code != "employee_number" || res.Errors[0].Row != 1 {
		t.Errorf("invalid UTF-8: %+v %v", res, err)
	}
	if _, err := e.svc.ImportEmployees(ctx, e.admin, ports.ImportRequest{CSV: strings.NewReader(""), Encoding: "ebcdic"}, nil); code(err) != "validation_failed" {
		t.Errorf("unknown encoding: %v", err)
	}
}

func TestImportShiftJISWithCP932Extensions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	text := header +
		"E001,髙橋,﨑子,ﾀｶﾊｼ,ｻｷｺ,1990/1/2,女,2020/4/1,正社員,,250000,,\r\n" +
		"E002,山﨑,①郎,ﾔﾏｻﾞｷ,ｲﾁﾛｳ,1985/12/31,男,2015/4/1,契約社員,,\"1,200,000\",,\r\n"
	body, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	// Detected, then read from a source that cannot seek (held in memory for the second pass).
	res, err := e.svc.ImportEmployees(ctx, e.admin, ports.ImportRequest{CSV: io.MultiReader(bytes.NewReader(body))}, nil)
	if err != nil || res.Created != 2 || len(res.Errors) != 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	page, _ := e.svc.ListEmployees(ctx, e.admin, ports.EmployeeFilter{})
	got := []string{}
	for _, it := range page.Items {
		got = append(got, it.FamilyName+" "+it.GivenName+" "+it.FamilyNameKana+" "+it.GivenNameKana)
	}
	if want := []string{"髙橋 﨑子 タカハシ サキコ", "山﨑 ①郎 ヤマザキ イチロウ"}; !slices.Equal(got, want) {
		t.Errorf("imported %q, want %q", got, want)
	}
	if page.Items[1].HealthGrade != 47 || page.Items[1].PensionGrade != 32 {
		t.Errorf("grades %d %d", page.Items[1].HealthGrade, page.Items[1].PensionGrade)
	}
	// Named explicitly, the same bytes read the same.
	if res, err := e.svc.ImportEmployees(ctx, e.admin, ports.ImportRequest{CSV: bytes.NewReader(body), Encoding: "cp932"}, nil); err != nil || res.Updated != 0 || len(res.Errors) != 0 {
		t.Errorf("named cp932: %+v %v", res, err)
	}
}

func TestExportThenImportChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.svc.CreateDepartment(ctx, e.admin, deptInput("DEV", "開発部", "")); err != nil {
		t.Fatal(err)
	}
	e.create(t, "E001", "department_code", "DEV", "business_name", "Taro Y.", "address.building", "〇〇ビル 5F",
		"address.street", "1〜3丁目−5", "separation_date", "2026-03-31", "separation_reason", "転職のため, \"自己都合\"")
	e.create(t, "E002", "family_name", "髙橋", "given_name", "﨑子", "family_name_kana", "ﾀｶﾊｼ", "gender", "female",
		"email", "", "phone", "", "monthly_pay.cash", "", "monthly_pay.in_kind", "", "position", "")
	e.create(t, "E003", "family_name", "\ufa19田", "status", "on_leave", "employment_type", "executive")
	before, _ := e.svc.ListEmployees(ctx, e.admin, ports.EmployeeFilter{})

	for _, enc := range []string{"utf-8", "shift_jis"} {
		var buf bytes.Buffer
		if err := e.svc.ExportEmployees(ctx, e.admin, &buf, enc); err != nil {
			t.Fatalf("export %s: %v", enc, err)
		}
		out := buf.String()
		if enc == "utf-8" {
			if !strings.HasPrefix(out, "\xEF\xBB\xBF社員番号,姓,名,セイ,メイ,ビジネスネーム,生年月日,性別,メールアドレス,電話番号,郵便番号") {
				t.Errorf("header %.200q", out)
			}
			for _, hidden := range []string{"個人番号", "9018", "口座番号", "1234567", "銀行コード"} {
				if strings.Contains(out, hidden) {
					t.Errorf("export holds %q", hidden)
				}
			}
			if !strings.Contains(out, "1234-567890") || !strings.Contains(out, "基礎年金番号") {
				t.Error("insurance numbers missing for admin")
			}
		}
		res, err := e.svc.ImportEmployees(ctx, e.admin, ports.ImportRequest{CSV: bytes.NewReader(buf.Bytes())}, nil)
		if err != nil || res.Created != 0 || res.Updated != 0 || len(res.Errors) != 0 {
			t.Fatalf("re-import of the %s export: %+v %v\n%s", enc, res, err, out)
		}
	}
	after, _ := e.svc.ListEmployees(ctx, e.admin, ports.EmployeeFilter{})
	if !jsonEqual(before, after) {
		t.Errorf("export→import changed the register:\n%+v\n%+v", before.Items, after.Items)
	}
	if a := e.audits(t, "employee.export"); len(a) != 2 || a[0].Event.Detail["rows"] != "3" {
		t.Errorf("export audits %+v", a)
	}
}

func TestExportRefusesWhatShiftJISCannotHold(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "E001")
	e.create(t, "E002", "family_name", "𠮷田") // U+20BB7: not in CP932
	var buf bytes.Buffer
	err := e.svc.ExportEmployees(ctx, e.admin, &buf, "shift_jis")
	pe, ok := ports.AsError(err)
	if !ok || !errors.Is(err, ports.ErrInvalid) || pe.Code != "unrepresentable_character" ||
		!strings.Contains(pe.MessageJA, "2行目") || !strings.Contains(pe.MessageJA, "E002") || !strings.Contains(pe.MessageJA, "「姓」") ||
		len(pe.Fields) != 1 || pe.Fields[0].Field != "family_name" {
		t.Fatalf("export: %v %+v", err, pe)
	}
	buf.Reset()
	if err := e.svc.ExportEmployees(ctx, e.admin, &buf, ""); err != nil || !strings.Contains(buf.String(), "𠮷田") {
		t.Fatalf("UTF-8 export: %v", err)
	}
}

func TestImportJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	job, run, err := e.svc.StartImport(ctx, e.admin, ports.ImportRequest{CSV: bytes.NewReader(fixtures.EmployeesCSV(1200))})
	if err != nil || job.Status != ports.JobQueued || job.Kind != "employees.import" {
		t.Fatalf("start: %+v %v", job, err)
	}
	if err := run(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Job(ctx, e.hr, job.ID)
	if err != nil || got.Status != ports.JobSucceeded || got.Done != 1200 || got.Total != 1200 {
		t.Fatalf("job: %+v %v", got, err)
	}
	if string(got.Result) != `{"created":1200,"updated":0,"errors":[]}` {
		t.Errorf("result %s", got.Result)
	}
	if _, err := e.svc.Job(ctx, e.other, job.ID); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("another tenant's job: %v", err)
	}
	job, run, _ = e.svc.StartImport(ctx, e.admin, ports.ImportRequest{CSV: strings.NewReader("社員番号,姓\r\nE1,\r\n")})
	if err := run(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ = e.svc.Job(ctx, e.admin, job.ID)
	if got.Status != ports.JobFailed || !strings.Contains(string(got.Result), `{"row":1,"column":"姓","code":"required","message":"必須項目です"`) {
		t.Errorf("failed job: %+v %s", got, got.Result)
	}
}

// TestAbandonedJobFails: a job whose process ended mid-job stores no more progress; once it has been silent
// for JobAbandonAfter it is failed as interrupted, and not a moment before.
func TestAbandonedJobFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	job, _, err := e.svc.StartImport(ctx, e.admin, ports.ImportRequest{CSV: bytes.NewReader(fixtures.EmployeesCSV(10))})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(employees.JobAbandonAfter - time.Second)
	if n, err := e.svc.FailAbandonedJobs(ctx); n != 0 || err != nil {
		t.Fatalf("before JobAbandonAfter: %d failed, %v", n, err)
	}
	e.clock.Advance(2 * time.Second)
	if n, err := e.svc.FailAbandonedJobs(ctx); n != 1 || err != nil {
		t.Fatalf("after JobAbandonAfter: %d failed, %v", n, err)
	}
	got, _ := e.svc.Job(ctx, e.admin, job.ID)
	if got.Status != ports.JobFailed || !got.UpdatedAt.Equal(e.clock.Now()) ||
		string(got.Result) != `{"created":0,"updated":0,"errors":[],"failure":"interrupted"}` {
		t.Errorf("abandoned job: %+v %s", got, got.Result)
	}
}

package e2e

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/test/testenv"
)

// upload posts a multipart form with one file, as the import page's form does.
func (b *browser) upload(path, filename string, content []byte, fields url.Values) response {
	b.a.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", b.csrf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	fw, err := w.CreateFormFile("file", filename)
	if err != nil {
		b.a.t.Fatal(err)
	}
	_, _ = fw.Write(content)
	if err := w.Close(); err != nil {
		b.a.t.Fatal(err)
	}
	h := http.Header{"Content-Type": {w.FormDataContentType()}}
	for _, c := range b.cookies {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	return b.a.send(http.MethodPost, path, &body, h)
}

// validForm is the new-employee form filled in correctly.
func validForm() url.Values {
	return url.Values{"employee_number": {"P001"}, "family_name": {"渡辺"}, "given_name": {"健"},
		"family_name_kana": {"わたなべ"}, "given_name_kana": {"ケン"}, "birth_date": {"1985-07-07"}, "gender": {"male"},
		"email": {"ken@example.jp"}, "hire_date": {"2024-04-01"}, "status": {"active"}, "employment_type": {"regular"},
		"monthly_pay.cash": {"280000"}, "my_number": {"123456789018"}}
}

// TestPagesEmployeeFormsDetailAndDependents walks the register's pages as HR does: the list, the new form
// with errors shown next to each field and the values kept, the detail's tabs, an edit refused as stale, a
// scheduled change cancelled, and dependents added and removed.
func TestPagesEmployeeFormsDetailAndDependents(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	a.tenant("acme")
	b := a.browser()
	b.logIn("acme", "admin", testenv.NewPassword, "/")
	wantPage(t, b.get("/"), http.StatusOK, `href="/employees"`, `href="/employees/me"`)
	wantPage(t, b.get("/employees"), http.StatusOK, "従業員台帳", "該当する従業員はいません", `href="/employees/export.csv?encoding=shift_jis"`)
	wantPage(t, b.get("/employees/new"), http.StatusOK, `action="/employees/new"`, `name="address.postal_code"`)
	wantPage(t, b.send(http.MethodPost, "/employees/new", validForm()), http.StatusForbidden, "フォームの有効期限が切れたか")
	nul := validForm()
	nul.Set("family_name", "渡\x00辺")
	wantPage(t, b.submit("/employees/new", nul), http.StatusBadRequest)

	bad := validForm()
	bad.Set("birth_date", "1985-02-30")
	bad.Set("given_name", "")
	bad.Set("address.postal_code", "1000")
	bad.Set("my_number", "123456789012")
	res := b.submit("/employees/new", bad)
	wantPage(t, res, http.StatusUnprocessableEntity,
		`id="birth_date-error"`, "存在しない日付です", `id="given_name-error"`, "必須項目です",
		`id="address-postal_code-error"`, `id="my_number-error"`,
		`value="1985-02-30"`, `value="1000"`, `value="渡辺"`, `value="123456789012"`, `aria-invalid="true"`)
	if n := strings.Count(string(res.body), `class="field-error"`); n != 4 {
		t.Errorf("%d field errors shown, want 4", n)
	}

	created := b.submit("/employees/new", validForm())
	loc := created.header.Get("Location")
	if created.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/employees/") || !strings.HasSuffix(loc, "?notice=created") {
		t.Fatalf("create: %d %q", created.status, loc)
	}
	page := b.get(loc)
	wantPage(t, page, http.StatusOK, "渡辺 健", "ワタナベ", "従業員を登録しました", "********9018", `aria-current="page"`, "¥280,000")
	id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/employees/")

	// Edit: a stale version is refused with the typed values kept; a fresh one saves only what changed.
	edit := b.get("/employees/" + id + "/edit")
	wantPage(t, edit, http.StatusOK, `name="version" value="1"`, `value="渡辺"`)
	if strings.Contains(string(edit.body), "123456789018") {
		t.Fatal("the edit form shows the My Number")
	}
	form := formOf(t, edit.body)
	form.Set("position", "課長")
	form.Set("version", "99")
	wantPage(t, b.submit("/employees/"+id+"/edit", form), http.StatusPreconditionFailed, "他の人が先に更新しました", `value="課長"`)
	form.Set("version", "1")
	form.Set("effective_on", "2026-10-01")
	form.Set("reason", "昇格")
	wantRedirect(t, b.submit("/employees/"+id+"/edit", form), "/employees/"+id+"?notice=updated")
	hist := b.get("/employees/" + id + "?tab=history")
	wantPage(t, hist, http.StatusOK, "2026-10-01", "予定", "役職", "課長", "昇格", "/cancel")
	cancel := regexp.MustCompile(`action="(/employees/[^"]+/changes/[^"]+/cancel)"`).FindSubmatch(hist.body)
	if cancel == nil {
		t.Fatal("no cancel form")
	}
	wantRedirect(t, b.submit(string(cancel[1]), url.Values{}), "/employees/"+id+"?tab=history&notice=cancelled")
	if h := b.get("/employees/" + id + "?tab=history"); strings.Contains(string(h.body), "2026-10-01") {
		t.Fatal("the cancelled change is still listed")
	}
	wantPage(t, b.get("/employees/"+id+"?as_of=2030-13-01"), http.StatusOK, "表示基準日")

	// Dependents.
	wantPage(t, b.get("/employees/"+id+"?tab=dependents"), http.StatusOK, "扶養家族はいません")
	res = b.submit("/employees/"+id+"/dependents", url.Values{"relationship": {"spouse"}, "family_name": {"渡辺"},
		"given_name": {""}, "birth_date": {"1990-01-01"}})
	wantPage(t, res, http.StatusUnprocessableEntity, `id="dep-given_name-error"`, `value="1990-01-01"`)
	wantRedirect(t, b.submit("/employees/"+id+"/dependents", url.Values{"relationship": {"spouse"}, "family_name": {"渡辺"},
		"given_name": {"陽子"}, "birth_date": {"1990-01-01"}, "living_together": {"true"}}),
		"/employees/"+id+"?tab=dependents&notice=dependent")
	deps := b.get("/employees/" + id + "?tab=dependents")
	wantPage(t, deps, http.StatusOK, "陽子", "配偶者", "同居")
	remove := regexp.MustCompile(`action="(/employees/[^"]+/dependents/[^"]+/remove)"`).FindSubmatch(deps.body)
	wantRedirect(t, b.submit(string(remove[1]), url.Values{}), "/employees/"+id+"?tab=dependents&notice=dependent")
	wantPage(t, b.get("/employees/"+id+"?tab=dependents"), http.StatusOK, "扶養家族はいません")

	// The list finds the employee by kana in hiragana; filters are kept in the form.
	wantPage(t, b.get("/employees?q="+url.QueryEscape("わたなべ")+"&status=active"), http.StatusOK, "渡辺 健", `value="わたなべ"`)
	wantPage(t, b.get("/employees?q="+url.QueryEscape("さとう")), http.StatusOK, "該当する従業員はいません")
	wantPage(t, b.get("/employees?hired_from=2030-01-01"), http.StatusOK, "該当する従業員はいません")
	wantPage(t, b.get("/employees?status=retired"), http.StatusUnprocessableEntity, "在籍")

	export := b.get("/employees/export.csv?encoding=utf-8")
	if export.status != http.StatusOK || !strings.Contains(string(export.body), "P001") {
		t.Fatalf("page export: %s", export)
	}
	wantPage(t, b.submit("/employees/"+id+"/delete", url.Values{"version": {"1"}}), http.StatusPreconditionFailed)
	current := formOf(t, b.get("/employees/"+id).body).Get("version")
	wantRedirect(t, b.submit("/employees/"+id+"/delete", url.Values{"version": {current}}), "/employees?notice=deleted")
	wantPage(t, b.get("/employees?notice=deleted"), http.StatusOK, "従業員を削除しました", "該当する従業員はいません")
}

var formInputs = regexp.MustCompile(`<input id="[^"]*" name="([^"]+)" type="[^"]*" value="([^"]*)"`)
var formSelects = regexp.MustCompile(`(?s)<select id="[^"]*" name="([^"]+)".*?</select>`)
var selectedOption = regexp.MustCompile(`<option value="([^"]*)" selected>`)

// formOf reads the values of a register form as the browser would submit them.
func formOf(t *testing.T, page []byte) url.Values {
	t.Helper()
	f := url.Values{}
	for _, m := range formInputs.FindAllSubmatch(page, -1) {
		f.Set(string(m[1]), htmlUnescape(string(m[2])))
	}
	for _, m := range formSelects.FindAllSubmatch(page, -1) {
		if s := selectedOption.FindSubmatch(m[0]); s != nil {
			f.Set(string(m[1]), string(s[1]))
		}
	}
	if v := regexp.MustCompile(`name="version" value="(\d+)"`).FindSubmatch(page); v != nil {
		f.Set("version", string(v[1]))
	}
	return f
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'").Replace(s)
}

// TestPagesImportWizard: upload, mapping, dry run listing every row error, confirm; a large file runs as a
// job whose page follows it; another person cannot use someone's upload.
func TestPagesImportWizard(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	b := a.browser()
	b.logIn("acme", "admin", testenv.NewPassword, "/")
	wantPage(t, b.get("/employees/import"), http.StatusOK, `enctype="multipart/form-data"`)
	wantPage(t, b.upload("/employees/import", "", nil, nil), http.StatusUnprocessableEntity, "CSVファイルを選択してください")

	// A file with a column to map (氏 is 姓) and one to ignore (メモ), and two bad rows.
	file := "社員番号,氏,名,セイ,メイ,生年月日,性別,入社日,メモ\n" +
		"W001,佐藤,花子,サトウ,ハナコ,1988-02-01,女,2024-04-01,x\n" +
		"W002,鈴木,,スズキ,イチロウ,1988-02-30,男,2024-04-01,y\n" +
		"W003,髙橋,﨑,タカハシ,サキ,1990-01-01,女,2024-04-01,z\n" +
		"W004,田中,一,タナカ,ハジメ,1990-01-01,?,2024-04-01,z\n"
	step := func(res response) string { // the wizard's next page, from its redirect
		t.Helper()
		loc := res.header.Get("Location")
		if res.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/employees/import/") {
			t.Fatalf("upload: %s", res)
		}
		return loc
	}
	mapping := step(b.upload("/employees/import", "staff.csv", encodeShiftJIS(t, file), url.Values{"encoding": {""}}))
	wizard := strings.Split(mapping, "?")[0]
	wantPage(t, b.get(mapping), http.StatusOK, `<label for="col1">氏</label>`, `<label for="col8">メモ</label>`, wizard+"/check")

	// Without a mapping the unknown columns are reported; with one, every row error is listed.
	wantPage(t, b.submit(wizard+"/check", url.Values{}), http.StatusOK, "import-errors", "不明な列です", "見出し")
	res := b.submit(wizard+"/check", url.Values{"col1": {"family_name"}, "col8": {"-"}})
	wantPage(t, res, http.StatusOK, "エラー 3 件", "必須項目です", "存在しない日付です", "男性または女性を指定してください")
	rows := regexp.MustCompile(`<tr><td>(\d+)</td>`).FindAllSubmatch(res.body, -1)
	if len(rows) != 3 || string(rows[0][1]) != "2" || string(rows[1][1]) != "2" || string(rows[2][1]) != "4" {
		t.Fatalf("error rows %q", rows)
	}
	if strings.Contains(string(res.body), wizard+"/run") {
		t.Fatal("a file with errors is offered for import")
	}
	wantPage(t, b.submit(wizard+"/run", url.Values{"col1": {"family_name"}, "col8": {"-"}}), http.StatusOK, "import-errors")
	if n := len(a.listEmployees(admin, "").Items); n != 0 {
		t.Fatalf("a file with errors wrote %d employees", n)
	}

	// The corrected file goes through.
	good := "社員番号,氏,名,セイ,メイ,生年月日,性別,入社日,メモ\n" +
		"W001,佐藤,花子,サトウ,ハナコ,1988-02-01,女,2024-04-01,x\n" +
		"W003,髙橋,﨑,タカハシ,サキ,1990-01-01,女,2024-04-01,z\n"
	wizard = strings.Split(step(b.upload("/employees/import", "staff.csv", encodeShiftJIS(t, good), url.Values{"encoding": {"shift_jis"}})), "?")[0]
	mapped := url.Values{"encoding": {"shift_jis"}, "col1": {"family_name"}, "col8": {"-"}}
	wantPage(t, b.submit(wizard+"/check", mapped), http.StatusOK, "新規 2 件", wizard+"/run", `name="col1" value="family_name"`)
	wantPage(t, b.submit(wizard+"/run", mapped), http.StatusOK, "取り込みました：新規 2 件")
	if p := a.listEmployees(admin, "q="+url.QueryEscape("髙橋")); len(p.Items) != 1 || p.Items[0].GivenName != "﨑" {
		t.Fatalf("imported %+v", p.Items)
	}
	wantPage(t, b.get(wizard), http.StatusNotFound, "アップロードされたファイルが見つかりません")

	// Someone else cannot use an upload.
	other := a.browser()
	a.activate("acme", a.createAccount(admin, "sato", "佐藤 一郎", "hr"))
	other.logIn("acme", "sato", testenv.Password, "/")
	wizard = strings.Split(step(b.upload("/employees/import", "staff.csv", []byte(good), nil)), "?")[0]
	wantPage(t, other.get(wizard), http.StatusNotFound)
	wantPage(t, b.get(wizard), http.StatusOK)

	// A large file runs as a job; its page follows it (JSON for the script) and shows the result.
	wizard = strings.Split(step(b.upload("/employees/import", "big.csv", []byte(csvRows(1, 12000)), nil)), "?")[0]
	b.get(wizard)
	run := b.submit(wizard+"/run", url.Values{})
	jobPage := run.header.Get("Location")
	if run.status != http.StatusSeeOther || !strings.HasPrefix(jobPage, "/employees/import/jobs/") {
		t.Fatalf("run of a large file: %s", run)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		h := http.Header{"Accept": {"application/json"}}
		for _, c := range b.cookies {
			h.Add("Cookie", c.Name+"="+c.Value)
		}
		var j job
		wantJSON(t, a.send(http.MethodGet, jobPage, nil, h), http.StatusOK, &j)
		if j.Status == "succeeded" {
			break
		}
		if j.Status == "failed" || time.Now().After(deadline) {
			t.Fatalf("job %+v", j)
		}
		if page := b.get(jobPage); !strings.Contains(string(page.body), "import-done") { // it may end meanwhile
			wantPage(t, page, http.StatusOK, "<progress", `http-equiv="refresh"`, "/static/job.js")
		}
		time.Sleep(20 * time.Millisecond) // real time: the job runs in the server's goroutine
	}
	done := b.get(jobPage)
	wantPage(t, done, http.StatusOK, "取り込みました：新規 12000 件")
	if strings.Contains(string(done.body), "refresh") {
		t.Fatal("a finished job's page still refreshes")
	}
	wantPage(t, other.get(jobPage), http.StatusOK) // hr of the same tenant may follow it
	js := b.get("/static/job.js")
	if js.status != http.StatusOK || !strings.Contains(string(js.body), "application/json") {
		t.Fatalf("job.js: %s", js)
	}
}

// TestPagesEmployeeRole: an employee's register link leads to their own record, and every other record and
// the register's list are refused.
func TestPagesEmployeeRole(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	acct := a.createAccount(admin, "tanaka", "田中 花子", "employee")
	a.activate("acme", acct)
	own := a.createEmployee(admin, "R001", map[string]any{"family_name": "田中", "given_name": "花子", "account_id": acct.ID})
	other := a.createEmployee(admin, "R002", nil)

	b := a.browser()
	b.logIn("acme", "tanaka", testenv.Password, "/")
	dash := b.get("/")
	wantPage(t, dash, http.StatusOK, `href="/employees/me"`)
	if strings.Contains(string(dash.body), `<a href="/employees">`) {
		t.Error("an employee sees the register in the navigation")
	}
	wantRedirect(t, b.get("/employees/me"), "/employees/"+own.ID)
	wantRedirect(t, b.get("/employees"), "/employees/"+own.ID)
	wantPage(t, b.get("/employees/"+own.ID), http.StatusOK, "田中 花子")
	edit := b.get("/employees/" + own.ID + "/edit")
	wantPage(t, edit, http.StatusOK, `name="email"`)
	if strings.Contains(string(edit.body), `name="monthly_pay.cash"`) {
		t.Error("an employee is offered the pay field")
	}
	form := formOf(t, edit.body)
	form.Set("email", "hanako@example.jp")
	wantRedirect(t, b.submit("/employees/"+own.ID+"/edit", form), "/employees/"+own.ID+"?notice=updated")
	wantPage(t, b.get("/employees/"+other.ID), http.StatusNotFound)
	wantPage(t, b.get("/employees/new"), http.StatusOK) // the form itself is harmless; its submission is refused
	wantPage(t, b.submit("/employees/new", validForm()), http.StatusForbidden)
	wantPage(t, b.upload("/employees/import", "staff.csv", []byte(csvRows(1, 1)), nil), http.StatusForbidden)
	wantPage(t, b.get("/employees/import/jobs/"+own.ID), http.StatusForbidden)
}

package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// TestEmployeesCreateGetListFilterPaginate drives the register's basic API: create (201, Location, ETag),
// read, My Number write-only, list filters and a keyset walk through every page.
func TestEmployeesCreateGetListFilterPaginate(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")

	var dept struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}
	res := a.api(http.MethodPost, "/api/v1/departments", admin, `{"code":"SALES","name":"営業部"}`)
	wantJSON(t, res, http.StatusCreated, &dept)
	if res.header.Get("Location") != "/api/v1/departments/"+dept.ID {
		t.Fatalf("department Location %q", res.header.Get("Location"))
	}

	first := a.createEmployee(admin, "E001", map[string]any{"department_id": dept.ID})
	a.createEmployee(admin, "E002", map[string]any{"family_name": "鈴木", "family_name_kana": "スズキ",
		"employment_type": "part_time", "hire_date": "2023-10-01"})
	a.createEmployee(admin, "E003", map[string]any{"family_name": "髙橋", "family_name_kana": "タカハシ",
		"hire_date": "2020-01-06"})
	a.createEmployee(admin, "E004", map[string]any{"separation_date": "2025-12-31", "status": "separated"})
	a.createEmployee(admin, "E005", map[string]any{"given_name": "花子", "given_name_kana": "ハナコ", "gender": "female"})

	got, tag := a.getEmployee(admin, first.ID)
	if got.EmployeeNumber != "E001" || got.DepartmentID != dept.ID || got.MonthlyPay.Cash != 300000 ||
		got.Address.PostalCode != "100-0001" || got.MyNumberMasked != "********9018" || got.MyNumber != nil {
		t.Fatalf("read %+v", got)
	}
	if tag != fmt.Sprintf(`"%d"`, got.Version) {
		t.Fatalf("ETag %q", tag)
	}
	if strings.Contains(string(a.api(http.MethodGet, "/api/v1/employees/"+first.ID, admin, "").body), "123456789018") {
		t.Fatal("the plain My Number is in a read")
	}

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"q=%E3%81%99%E3%81%9A%E3%81%8D", []string{"E002"}}, // すずき in hiragana finds スズキ
		{"q=%E9%AB%99", []string{"E003"}},                   // 髙
		{"employee_number=E005", []string{"E005"}},
		{"status=separated", []string{"E004"}},
		{"status=active,on_leave&employment_type=regular", []string{"E001", "E003", "E005"}},
		{"employment_type=part_time", []string{"E002"}},
		{"department_id=" + dept.ID, []string{"E001"}},
		{"hired_from=2021-01-01&hired_to=2024-12-31", []string{"E002"}},
		{"hired_to=2020-12-31", []string{"E003"}},
		{"sort=hire_date&limit=2", []string{"E003", "E002"}},
	} {
		page := a.listEmployees(admin, c.query)
		var numbers []string
		for _, e := range page.Items {
			numbers = append(numbers, e.EmployeeNumber)
		}
		if !slices.Equal(numbers, c.want) {
			t.Errorf("?%s lists %v, want %v", c.query, numbers, c.want)
		}
	}

	// Walk every page of two.
	var walked []string
	query := "limit=2"
	for pages := 0; ; pages++ {
		page := a.listEmployees(admin, query)
		for _, e := range page.Items {
			walked = append(walked, e.EmployeeNumber)
		}
		if page.NextCursor == nil {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		query = "limit=2&cursor=" + *page.NextCursor
	}
	if !slices.Equal(walked, []string{"E001", "E002", "E003", "E004", "E005"}) {
		t.Fatalf("pages walked %v", walked)
	}

	wantProblem(t, a.api(http.MethodGet, "/api/v1/employees?cursor=not-a-cursor", admin, ""), http.StatusBadRequest, "invalid_cursor")
	cursor := *a.listEmployees(admin, "limit=1").NextCursor
	wantProblem(t, a.api(http.MethodGet, "/api/v1/employees?sort=kana&cursor="+cursor, admin, ""), http.StatusBadRequest, "invalid_cursor")
	p := wantProblem(t, a.api(http.MethodGet, "/api/v1/employees?status=retired&hired_from=yesterday&colour=red", admin, ""),
		http.StatusUnprocessableEntity, "validation_failed")
	if fields := problemFields(p); !slices.Equal(fields, []string{"colour"}) {
		t.Errorf("unknown parameter reported as %v", fields)
	}
	p = wantProblem(t, a.api(http.MethodGet, "/api/v1/employees?status=retired&hired_from=yesterday", admin, ""),
		http.StatusUnprocessableEntity, "validation_failed")
	if fields := problemFields(p); !slices.Equal(fields, []string{"statuses", "hired_from"}) {
		t.Errorf("bad filters reported as %v", fields)
	}
}

func problemFields(p problem) []string {
	var out []string
	for _, f := range p.Errors {
		if f.Message == "" || f.MessageJA == "" {
			out = append(out, f.Field+"(without messages)")
			continue
		}
		out = append(out, f.Field)
	}
	return out
}

// TestEmployeeValidationAndBodies: one 422 entry per invalid field, and the body rules (400, 413, 415, 422).
func TestEmployeeValidationAndBodies(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")

	body := newEmployeeBody("V001", map[string]any{"birth_date": "1990-13-45", "gender": "x", "email": "not-mail",
		"family_name": "", "my_number": "123456789012",
		"address": map[string]any{"postal_code": "12-345"}})
	p := wantProblem(t, a.api(http.MethodPost, "/api/v1/employees", admin, jsonBody(t, body)), http.StatusUnprocessableEntity, "validation_failed")
	fields := problemFields(p)
	slices.Sort(fields)
	if want := []string{"address.postal_code", "birth_date", "email", "family_name", "gender", "my_number"}; !slices.Equal(fields, want) {
		t.Fatalf("fields %v, want %v", fields, want)
	}

	p = wantProblem(t, a.api(http.MethodPost, "/api/v1/employees", admin, jsonBody(t, newEmployeeBody("V002",
		map[string]any{"salary": 1, "nickname": "x", "id": "mine", "address": map[string]any{"planet": "Mars"},
			"gender": []string{"male"}}))), http.StatusUnprocessableEntity, "validation_failed")
	fields = problemFields(p)
	slices.Sort(fields)
	if want := []string{"gender", "id"}; !slices.Equal(fields, want) {
		t.Fatalf("shape errors %v, want %v", fields, want)
	}
	p = wantProblem(t, a.api(http.MethodPost, "/api/v1/employees", admin, jsonBody(t, newEmployeeBody("V002",
		map[string]any{"salary": 1, "nickname": "x", "address": map[string]any{"planet": "Mars"}}))),
		http.StatusUnprocessableEntity, "validation_failed")
	fields = problemFields(p)
	slices.Sort(fields)
	if want := []string{"address.planet", "nickname", "salary"}; !slices.Equal(fields, want) {
		t.Fatalf("unknown fields %v, want %v", fields, want)
	}

	wantProblem(t, a.api(http.MethodPost, "/api/v1/employees", admin, `{"employee_number":`), http.StatusBadRequest, "malformed_json")
	wantProblem(t, a.send(http.MethodPost, "/api/v1/employees", strings.NewReader(`{}`),
		http.Header{"Authorization": {"Bearer " + admin}, "Content-Type": {"text/plain"}}), http.StatusUnsupportedMediaType, "unsupported_media_type")
	wantProblem(t, a.api(http.MethodPost, "/api/v1/employees", admin, `{"family_name":"`+strings.Repeat("x", 2<<20)+`"}`),
		http.StatusRequestEntityTooLarge, "body_too_large")
	if n := len(a.listEmployees(admin, "").Items); n != 0 {
		t.Fatalf("refused requests wrote %d employees", n)
	}
}

// TestEmployeeOptimisticLocking: PATCH needs If-Match (428 without), a stale one is 412 stale_version, and of
// two racing PATCHes with the same If-Match exactly one wins.
func TestEmployeeOptimisticLocking(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	e := a.createEmployee(admin, "L001", nil)
	_, tag := a.getEmployee(admin, e.ID)
	path := "/api/v1/employees/" + e.ID

	wantProblem(t, a.api(http.MethodPatch, path, admin, `{"position":"課長"}`), http.StatusPreconditionRequired, "precondition_required")
	wantProblem(t, a.withHeaders(http.MethodPatch, path, admin, `{"position":"課長"}`, "If-Match", "garbage"), http.StatusBadRequest, "invalid_if_match")
	res := a.withHeaders(http.MethodPatch, path, admin, `{"position":"課長","address":{"city":"港区"}}`, "If-Match", tag)
	var updated employee
	wantJSON(t, res, http.StatusOK, &updated)
	if updated.Address.City != "港区" || updated.Version <= e.Version || res.header.Get("ETag") == tag {
		t.Fatalf("after PATCH: %+v ETag %s", updated, res.header.Get("ETag"))
	}
	wantProblem(t, a.withHeaders(http.MethodPatch, path, admin, `{"position":"部長"}`, "If-Match", tag), http.StatusPreconditionFailed, "stale_version")
	wantProblem(t, a.withHeaders(http.MethodDelete, path, admin, "", "If-Match", tag), http.StatusPreconditionFailed, "stale_version")
	wantProblem(t, a.api(http.MethodDelete, path, admin, ""), http.StatusPreconditionRequired, "precondition_required")

	current := res.header.Get("ETag")
	statuses := make([]int, 8)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = a.withHeaders(http.MethodPatch, path, admin, fmt.Sprintf(`{"position":"担当%d"}`, i), "If-Match", current).status
		})
	}
	wg.Wait()
	slices.Sort(statuses)
	if statuses[0] != http.StatusOK || statuses[1] != http.StatusPreconditionFailed || statuses[len(statuses)-1] != http.StatusPreconditionFailed {
		t.Fatalf("racing PATCHes answered %v, want one 200 and the rest 412", statuses)
	}

	final, finalTag := a.getEmployee(admin, e.ID)
	if final.Version != updated.Version+1 {
		t.Fatalf("version %d after one winning PATCH on %d", final.Version, updated.Version)
	}
	if r := a.withHeaders(http.MethodDelete, path, admin, "", "If-Match", finalTag); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r)
	}
	wantProblem(t, a.api(http.MethodGet, path, admin, ""), http.StatusNotFound, "not_found")
}

// TestEmployeeHistoryDependentsAndMyNumber: scheduled changes can be listed, edited and cancelled; as_of
// shows the past; dependents are added, changed and removed; My Number is revealed to admin only.
func TestEmployeeHistoryDependentsAndMyNumber(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	e := a.createEmployee(admin, "H001", nil)
	path := "/api/v1/employees/" + e.ID
	_, tag := a.getEmployee(admin, e.ID)

	// A change in the future is scheduled: today's view is unchanged.
	wantJSON(t, a.withHeaders(http.MethodPatch, path, admin, `{"position":"課長","effective_on":"2026-07-01","reason":"昇格"}`,
		"If-Match", tag), http.StatusOK, nil)
	var hist struct {
		Items []struct {
			ID          string `json:"id"`
			EffectiveOn string `json:"effective_on"`
			Scheduled   bool   `json:"scheduled"`
			Reason      string `json:"reason"`
			Changes     []struct{ Field, From, To string }
		} `json:"items"`
	}
	wantJSON(t, a.api(http.MethodGet, path+"/history", admin, ""), http.StatusOK, &hist)
	if len(hist.Items) != 2 || !hist.Items[0].Scheduled || hist.Items[0].EffectiveOn != "2026-07-01" || hist.Items[0].Reason != "昇格" {
		t.Fatalf("history %+v", hist.Items)
	}
	change := path + "/changes/" + hist.Items[0].ID
	var later employee
	wantJSON(t, a.api(http.MethodGet, path+"?as_of=2026-08-01", admin, ""), http.StatusOK, &later)
	if later.AsOf != "2026-08-01" {
		t.Fatalf("as_of view %+v", later)
	}
	wantJSON(t, a.api(http.MethodPatch, change, admin, `{"position":"部長","effective_on":"2026-09-01"}`), http.StatusOK, nil)
	wantJSON(t, a.api(http.MethodGet, path+"/history", admin, ""), http.StatusOK, &hist)
	if len(hist.Items) != 2 || hist.Items[0].EffectiveOn != "2026-09-01" {
		t.Fatalf("history after the edit %+v", hist.Items)
	}
	wantJSON(t, a.api(http.MethodDelete, path+"/changes/"+hist.Items[0].ID, admin, ""), http.StatusOK, nil)
	wantJSON(t, a.api(http.MethodGet, path+"/history", admin, ""), http.StatusOK, &hist)
	if len(hist.Items) != 1 || hist.Items[0].Scheduled {
		t.Fatalf("history after the cancel %+v", hist.Items)
	}
	wantProblem(t, a.api(http.MethodDelete, path+"/changes/"+hist.Items[0].ID, admin, ""), http.StatusConflict, "change_in_effect")
	wantProblem(t, a.api(http.MethodGet, path+"?as_of=someday", admin, ""), http.StatusUnprocessableEntity, "validation_failed")

	// Dependents.
	var withDep employee
	res := a.api(http.MethodPost, path+"/dependents", admin,
		`{"relationship":"spouse","family_name":"山田","given_name":"花子","birth_date":"1991-03-03","my_number":"983205673214","living_together":true,"annual_income":0}`)
	wantJSON(t, res, http.StatusCreated, &withDep)
	if len(withDep.Dependents) != 1 || withDep.Dependents[0].MyNumberMasked != "********3214" || !withDep.Dependents[0].LivingTogether {
		t.Fatalf("dependent %+v", withDep.Dependents)
	}
	dep := path + "/dependents/" + withDep.Dependents[0].ID
	p := wantProblem(t, a.api(http.MethodPost, path+"/dependents", admin, `{"relationship":"cat","birth_date":"x"}`),
		http.StatusUnprocessableEntity, "validation_failed")
	if fields := problemFields(p); len(fields) < 3 {
		t.Errorf("dependent errors %v", fields)
	}
	wantJSON(t, a.api(http.MethodPatch, dep, admin, `{"living_together":false}`), http.StatusOK, &withDep)
	if withDep.Dependents[0].LivingTogether {
		t.Fatal("dependent change not applied")
	}

	// My Number: admin sees it for a stated purpose, the audit records it.
	var revealed struct {
		MyNumber string `json:"my_number"`
	}
	wantJSON(t, a.api(http.MethodPost, path+"/my-number/reveal", admin, `{"purpose":"social_insurance"}`), http.StatusOK, &revealed)
	if revealed.MyNumber != "123456789018" {
		t.Fatalf("revealed %q", revealed.MyNumber)
	}
	wantJSON(t, a.api(http.MethodPost, dep+"/my-number/reveal", admin, `{"purpose":"tax"}`), http.StatusOK, &revealed)
	if revealed.MyNumber != "983205673214" {
		t.Fatalf("dependent's revealed %q", revealed.MyNumber)
	}
	wantProblem(t, a.api(http.MethodPost, path+"/my-number/reveal", admin, `{"purpose":"curiosity"}`), http.StatusUnprocessableEntity, "validation_failed")

	if r := a.api(http.MethodDelete, dep, admin, ""); r.status != http.StatusOK {
		t.Fatalf("remove dependent: %s", r)
	}
	final, _ := a.getEmployee(admin, e.ID)
	if len(final.Dependents) != 0 {
		t.Fatalf("dependents after removal %+v", final.Dependents)
	}
}

// TestEmployeeImportAndExport: a dry run writes nothing; a file with an error row writes nothing and names
// the row; a real import creates; export then import changes nothing; Shift_JIS export decodes.
func TestEmployeeImportAndExport(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	count := func() int { return len(a.listEmployees(admin, "limit=200").Items) }

	var r importResult
	wantJSON(t, a.importCSV(admin, "?dry_run=true", "text/csv", strings.NewReader(csvRows(1, 3))), http.StatusOK, &r)
	if r.Created != 3 || len(r.Errors) != 0 || count() != 0 {
		t.Fatalf("dry run %+v, %d employees", r, count())
	}

	bad := csvRows(1, 3) + "C999999,佐藤,,サトウ,ハナコ,1988-02-30,女,2024-04-01,正社員,x\n"
	wantJSON(t, a.importCSV(admin, "", "text/csv; charset=utf-8", strings.NewReader(bad)), http.StatusOK, &r)
	if r.Created != 0 || len(r.Errors) != 3 || count() != 0 {
		t.Fatalf("import with errors %+v, %d employees", r, count())
	}
	for _, e := range r.Errors {
		if e.Row != 4 || e.Column == "" || e.Code == "" || e.Message == "" || e.MessageEN == "" {
			t.Errorf("row error %+v", e)
		}
	}

	sjis := encodeShiftJIS(t, csvRows(1, 3))
	wantJSON(t, a.importCSV(admin, "?dry_run=false", "text/csv", bytes.NewReader(sjis)), http.StatusOK, &r)
	if r.Created != 3 || len(r.Errors) != 0 || count() != 3 {
		t.Fatalf("import %+v, %d employees", r, count())
	}

	export := a.send(http.MethodGet, "/api/v1/employees/export.csv?encoding=utf-8", nil, http.Header{"Authorization": {"Bearer " + admin}})
	if export.status != http.StatusOK || export.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.Contains(export.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", export.status, export.header)
	}
	wantJSON(t, a.importCSV(admin, "", "text/csv", bytes.NewReader(export.body)), http.StatusOK, &r)
	if r.Created != 0 || r.Updated != 0 || len(r.Errors) != 0 {
		t.Fatalf("re-import of the export %+v", r)
	}

	sj := a.send(http.MethodGet, "/api/v1/employees/export.csv?encoding=shift_jis", nil, http.Header{"Authorization": {"Bearer " + admin}})
	if sj.status != http.StatusOK || sj.header.Get("Content-Type") != "text/csv; charset=Shift_JIS" {
		t.Fatalf("Shift_JIS export: %d %v", sj.status, sj.header)
	}
	decoded, err := io.ReadAll(transform.NewReader(bytes.NewReader(sj.body), japanese.ShiftJIS.NewDecoder()))
	if err != nil || !strings.Contains(string(decoded), "社員番号") || !strings.Contains(string(decoded), "サトウ") || bytes.Contains(sj.body, []byte("サトウ")) {
		t.Fatalf("Shift_JIS export does not decode to the register: %v %q", err, decoded)
	}
	wantJSON(t, a.importCSV(admin, "", "text/csv; charset=shift_jis", bytes.NewReader(sj.body)), http.StatusOK, &r)
	if r.Created != 0 || r.Updated != 0 || len(r.Errors) != 0 {
		t.Fatalf("re-import of the Shift_JIS export %+v", r)
	}

	wantProblem(t, a.importCSV(admin, "", "application/json", strings.NewReader("{}")), http.StatusUnsupportedMediaType, "unsupported_media_type")
	wantProblem(t, a.importCSV(admin, "", "text/csv; charset=latin1", strings.NewReader("a")), http.StatusUnsupportedMediaType, "unsupported_media_type")
	wantProblem(t, a.importCSV(admin, "?dry_run=maybe", "text/csv", strings.NewReader("a")), http.StatusUnprocessableEntity, "validation_failed")
	wantProblem(t, a.send(http.MethodGet, "/api/v1/employees/export.csv?encoding=ebcdic", nil,
		http.Header{"Authorization": {"Bearer " + admin}}), http.StatusUnprocessableEntity, "validation_failed")
}

func encodeShiftJIS(t testing.TB, s string) []byte {
	t.Helper()
	b, _, err := transform.Bytes(japanese.ShiftJIS.NewEncoder(), []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEmployeeImportJob: a file above the synchronous limit is answered 202 with the job's Location, and
// the job runs to completion; a failing one ends failed with its row errors and writes nothing.
func TestEmployeeImportJob(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	big := csvRows(1, 12000) // over 1 MiB
	if len(big) <= 1<<20 {
		t.Fatalf("the file is only %d bytes", len(big))
	}
	res := a.importCSV(admin, "", "text/csv", strings.NewReader(big))
	var queued job
	wantJSON(t, res, http.StatusAccepted, &queued)
	loc := res.header.Get("Location")
	if loc != "/api/v1/jobs/"+queued.ID || queued.Status != "queued" || queued.Kind == "" {
		t.Fatalf("202 %+v Location %q", queued, loc)
	}
	done := a.waitJob(admin, loc)
	if done.Status != "succeeded" || done.Result == nil || done.Result.Created != 12000 || done.Done != 12000 || done.Total != 12000 {
		t.Fatalf("job %+v result %+v", done, done.Result)
	}
	if n := len(a.listEmployees(admin, "employee_number=C012000").Items); n != 1 {
		t.Fatalf("the last row was not imported")
	}

	broken := csvRows(20001, 12000) + "C999999,佐藤,花子,サトウ,ハナコ,1988-02-30,女,2024-04-01,正社員,x@example.jp\n"
	res = a.importCSV(admin, "", "text/csv", strings.NewReader(broken))
	wantJSON(t, res, http.StatusAccepted, &queued)
	failed := a.waitJob(admin, res.header.Get("Location"))
	if failed.Status != "failed" || failed.Result == nil || len(failed.Result.Errors) != 1 || failed.Result.Errors[0].Row != 12001 {
		t.Fatalf("failing job %+v result %+v", failed, failed.Result)
	}
	if n := len(a.listEmployees(admin, "employee_number=C020001").Items); n != 0 {
		t.Fatalf("a failed job wrote employees")
	}
}

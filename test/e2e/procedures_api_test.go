package e2e

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// TestProcedureHireToCompletion is the must-show path of the procedures module through the API: hiring an
// employee creates both acquisition filings with their legal deadlines (a second run of the consumer creates
// nothing more); one account (hr and admin) prepares and submits one; approving it is refused to that
// account (four-eyes) and to an hr member (no approver role), and done by another admin; it is filed through
// the fake e-Gov gateway and completed when the office finishes; the procedure's history and the audit log show every step, with who did it.
func TestProcedureHireToCompletion(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	adminID, admin := a.tenant("acme")
	sato := a.createAccount(admin, "sato", "佐藤 一郎", "hr", "admin")
	preparer := a.activate("acme", sato).Token
	suzuki := a.createAccount(admin, "suzuki", "鈴木 次郎", "hr")
	clerk := a.activate("acme", suzuki).Token

	// Hired on 昭和の日 (Wednesday 2026-04-29). 健保・厚年: within 5 days from the next day gives 5/4
	// (みどりの日), then こどもの日 and the 振替休日 of 5/6 (憲法記念日 fell on a Sunday): due Thursday 5/7.
	// 雇用保険: the 10th of the next month is Sunday 5/10: due Monday 5/11.
	emp := a.hire(admin, "P001", "2026-04-29")
	procs := a.employeeProcedures(preparer, emp.ID)
	if got := slices.Sorted(func(yield func(string) bool) {
		for k := range procs {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(got, []string{ports.ProcedureEmploymentInsuranceAcquisition, ports.ProcedureHealthPensionAcquisition}) {
		t.Fatalf("procedures after the hire: %v", got)
	}
	hp, ei := procs[ports.ProcedureHealthPensionAcquisition], procs[ports.ProcedureEmploymentInsuranceAcquisition]
	for _, c := range []struct {
		p                    procedure
		legal, due, office   string
		ruleJA, ruleEN, name string
	}{
		{hp, "2026-05-04", "2026-05-07", ports.OfficePension, "翌日から起算して5日以内", "within 5 days", "健康保険・厚生年金保険 被保険者資格取得届"},
		{ei, "2026-05-10", "2026-05-11", ports.OfficeHelloWork, "翌月10日まで", "10th of the month after", "雇用保険被保険者資格取得届"},
	} {
		p := c.p
		if p.Status != ports.ProcedureDraft || p.FactDate != "2026-04-29" || p.DueDate != c.due || p.Deadline.DueDate != c.due ||
			p.Deadline.LegalDate != c.legal || !p.Deadline.Moved || p.Office != c.office || p.NameJA != c.name {
			t.Errorf("%s: %+v", p.Type, p)
		}
		if !strings.Contains(p.Deadline.RuleJA, c.ruleJA) || !strings.Contains(p.Deadline.RuleEN, c.ruleEN) {
			t.Errorf("%s rule %q / %q", p.Type, p.Deadline.RuleJA, p.Deadline.RuleEN)
		}
		if len(p.History) != 1 || p.History[0].To != ports.ProcedureDraft || p.History[0].By != "system:procedures" ||
			p.Fields["family_name"] != "山田" || p.Fields["hire_date"] != "2026-04-29" {
			t.Errorf("%s as created: history %+v fields %v", p.Type, p.History, p.Fields)
		}
		if p.PreparedBy != "" || p.ApprovedBy != "" || p.EmployeeID != emp.ID {
			t.Errorf("%s: prepared by %q approved by %q employee %q", p.Type, p.PreparedBy, p.ApprovedBy, p.EmployeeID)
		}
	}
	if n := a.consume(); n != 0 || len(a.listProcedures(admin, "").Items) != 2 {
		t.Fatalf("a second run of the consumer handled %d events", n)
	}

	// Prepared: the pay corrected and the employer's block (事業所) filled in under If-Match, then submitted.
	res := a.send(http.MethodPatch, "/api/v1/procedures/"+hp.ID, strings.NewReader(`{"fields":{"monthly_pay.cash":"320000",`+
		`"employer.prefecture_code":"21","employer.district_code":"01","employer.office_symbol":"ﾛｳﾑ",`+
		`"employer.office_number":"12345","employer.name":"株式会社アクメ","employer.postal_code":"100-8916",`+
		`"employer.address":"東京都千代田区霞が関1-2-2","employer.owner_name":"労務　太郎","employer.phone":"03-1234-5678"}}`),
		http.Header{"Authorization": {"Bearer " + preparer}, "Content-Type": {"application/json"}, "If-Match": {`"1"`}})
	var edited procedure
	wantJSON(t, res, http.StatusOK, &edited)
	if edited.Fields["monthly_pay.cash"] != "320000" || edited.Version != 2 || res.header.Get("ETag") != `"2"` {
		t.Fatalf("edited: %+v ETag %s", edited, res.header.Get("ETag"))
	}
	a.env.Clock.Advance(10 * time.Minute)
	submitted := a.act(preparer, hp.ID, ports.ActionSubmit, "確認お願いします")
	if submitted.Status != ports.ProcedurePendingApproval || submitted.PreparedBy != sato.ID {
		t.Fatalf("submitted: %s by %q", submitted.Status, submitted.PreparedBy)
	}

	// Refused: the preparer (an admin too) and an hr member; the procedure does not move.
	p := wantProblem(t, a.tryAct(preparer, hp.ID, ports.ActionApprove, ""), http.StatusForbidden, "four_eyes")
	if !strings.Contains(p.DetailJA, "別の人が承認") || p.Detail == "" {
		t.Errorf("four-eyes refusal says %q / %q", p.DetailJA, p.Detail)
	}
	wantProblem(t, a.tryAct(clerk, hp.ID, ports.ActionApprove, ""), http.StatusForbidden, "approver_role_required")
	if got := a.getProcedure(admin, hp.ID); got.Status != ports.ProcedurePendingApproval || got.ApprovedBy != "" {
		t.Fatalf("after the refusals: %s approved by %q", got.Status, got.ApprovedBy)
	}

	a.env.Clock.Advance(10 * time.Minute)
	approved := a.act(admin, hp.ID, ports.ActionApprove, "OK")
	if approved.Status != ports.ProcedureApproved || approved.ApprovedBy != adminID || approved.PreparedBy != sato.ID {
		t.Fatalf("approved: %+v", approved)
	}
	// The documents: the filled form as PDF and the 届書作成プログラム CSV (Shift_JIS, CRLF), to admin and hr
	// only; the 雇用保険 form has no e-filing CSV.
	bearer := func(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }
	pdfRes := a.send(http.MethodGet, "/api/v1/procedures/"+hp.ID+"/document.pdf", nil, bearer(preparer))
	if pdfRes.status != http.StatusOK || pdfRes.header.Get("Content-Type") != "application/pdf" ||
		!bytes.HasPrefix(pdfRes.body, []byte("%PDF-")) || !strings.Contains(pdfRes.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("document.pdf: %d %s %.20q", pdfRes.status, pdfRes.header, pdfRes.body)
	}
	csvRes := a.send(http.MethodGet, "/api/v1/procedures/"+hp.ID+"/efiling.csv", nil, bearer(admin))
	if csvRes.status != http.StatusOK || !bytes.Contains(csvRes.body, []byte("\r\n")) || bytes.Contains(bytes.ReplaceAll(csvRes.body, []byte("\r\n"), nil), []byte("\n")) ||
		!strings.Contains(csvRes.header.Get("Content-Disposition"), "SHFD0006.CSV") {
		t.Fatalf("efiling.csv: %d %s %q", csvRes.status, csvRes.header, csvRes.body)
	}
	wantProblem(t, a.send(http.MethodGet, "/api/v1/procedures/"+ei.ID+"/efiling.csv", nil, bearer(admin)), http.StatusNotFound, "efiling_data_not_available")

	// Filed electronically through the fake e-Gov, which answers 到達 with an arrival number, then 審査中,
	// then 手続終了 a day later; the polling job completes the procedure then, not before.
	filed := a.act(preparer, hp.ID, ports.ActionFile, "電子申請")
	if filed.Status != ports.ProcedureFiled || filed.ArrivalNumber == "" {
		t.Fatalf("filed: %s, arrival number %q", filed.Status, filed.ArrivalNumber)
	}
	st, err := a.env.Gateway.Status(t.Context(), filed.ArrivalNumber)
	if err != nil || st.State != ports.FilingArrived {
		t.Fatalf("the gateway has %+v, %v", st, err)
	}
	if n, err := a.env.Procedures.PollFilings(t.Context()); n != 0 || err != nil {
		t.Fatalf("polling while the office reviews it moved %d (%v)", n, err)
	}
	a.env.Clock.Advance(25 * time.Hour)
	if n, err := a.env.Procedures.PollFilings(t.Context()); n != 1 || err != nil {
		t.Fatalf("polling after 手続終了 moved %d (%v)", n, err)
	}
	admin = a.login("acme", "admin", testenv.NewPassword, "full").Token
	done := a.getProcedure(admin, hp.ID)
	if done.Status != ports.ProcedureCompleted || done.ArrivalNumber != filed.ArrivalNumber {
		t.Fatalf("completed: %s %q", done.Status, done.ArrivalNumber)
	}

	var steps []string
	for _, h := range done.History {
		steps = append(steps, h.From+">"+h.To+":"+h.By)
		if _, err := time.Parse(time.RFC3339, h.At); err != nil {
			t.Errorf("history time %q: %v", h.At, err)
		}
	}
	wantSteps := []string{">draft:system:procedures", "draft>pending_approval:" + sato.ID, "pending_approval>approved:" + adminID,
		"approved>filed:" + sato.ID, "filed>completed:system:filing"}
	if !slices.Equal(steps, wantSteps) {
		t.Errorf("history\n got %v\nwant %v", steps, wantSteps)
	}
	if h := done.History[1]; h.Comment != "確認お願いします" || h.At != testenv.Start.Add(10*time.Minute).UTC().Format(time.RFC3339) {
		t.Errorf("the submission is recorded as %+v", h)
	}

	wantAudit := []string{
		"procedure.create:success:system:procedures",
		"procedure.update:success:" + sato.ID,
		"procedure.submit:success:" + sato.ID,
		"procedure.approve:denied:" + sato.ID,
		"procedure.approve:denied:" + suzuki.ID,
		"procedure.approve:success:" + adminID,
		"procedure.document:success:" + sato.ID,
		"procedure.document:success:" + adminID,
		"procedure.file:success:" + sato.ID,
		"procedure.complete:success:system:filing",
	}
	if got := a.procedureAudit(hp.ID); !slices.Equal(got, wantAudit) {
		t.Errorf("audit log\n got %v\nwant %v", got, wantAudit)
	}
	// The other filing is untouched, still a draft with the deadline on the dashboard's horizon.
	if got := a.getProcedure(admin, ei.ID); got.Status != ports.ProcedureDraft || got.Version != 1 {
		t.Errorf("the employment insurance filing: %s v%d", got.Status, got.Version)
	}
}

// TestProcedureListsAndDashboard: filters by status, type, employee and due date; a keyset walk in pages of
// two that visits every procedure once in deadline order; manual creation (201, Location, ETag); the
// deadline dashboard as the days pass; and the catalogue.
func TestProcedureListsAndDashboard(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	// Wednesday 2026-04-01 (today): 健保・厚年 due Monday 4/6, not moved; 雇用保険 due Monday 5/11 (5/10 is a Sunday).
	first := a.hire(admin, "L001", "2026-04-01")
	procs := a.employeeProcedures(admin, first.ID)
	if hp := procs[ports.ProcedureHealthPensionAcquisition]; hp.DueDate != "2026-04-06" || hp.Deadline.Moved || hp.Deadline.LegalDate != "2026-04-06" {
		t.Fatalf("health and pension: %+v", hp.Deadline)
	}
	second := a.hire(admin, "L002", "2026-03-27") // a Friday: due Wednesday 4/1, today
	third := a.hire(admin, "L003", "2026-03-20")  // due Wednesday 3/25: overdue

	all := a.listProcedures(admin, "")
	if len(all.Items) != 6 || !sortedByDue(all.Items) || all.NextCursor != nil {
		t.Fatalf("the list: %d items, sorted %v", len(all.Items), sortedByDue(all.Items))
	}
	var walked []procedure
	query := "limit=2"
	for pages := 0; ; pages++ {
		page := a.listProcedures(admin, query)
		walked = append(walked, page.Items...)
		if page.NextCursor == nil {
			break
		}
		if pages > 5 || len(page.Items) != 2 {
			t.Fatalf("page %d has %d items", pages, len(page.Items))
		}
		query = "limit=2&cursor=" + *page.NextCursor
	}
	if !slices.Equal(ids(walked), ids(all.Items)) {
		t.Fatalf("the walk visited %v, want %v", ids(walked), ids(all.Items))
	}

	hp2 := a.employeeProcedures(admin, second.ID)[ports.ProcedureHealthPensionAcquisition]
	a.act(admin, hp2.ID, ports.ActionSubmit, "")
	for _, c := range []struct {
		query string
		want  int
	}{
		{"type=" + ports.ProcedureEmploymentInsuranceAcquisition, 3},
		{"type=" + ports.ProcedureHealthPensionAcquisition + "," + ports.ProcedureEmploymentInsuranceAcquisition, 6},
		{"status=pending_approval", 1},
		{"status=draft&type=" + ports.ProcedureHealthPensionAcquisition, 2},
		{"employee_id=" + third.ID, 2},
		{"due_before=2026-04-02", 2},
		{"due_before=2026-04-07&status=draft", 2},
		{"status=completed", 0},
		{"employee_id=nosuch", 0},
	} {
		page := a.listProcedures(admin, c.query)
		if len(page.Items) != c.want || !sortedByDue(page.Items) {
			t.Errorf("?%s lists %d, want %d", c.query, len(page.Items), c.want)
		}
	}

	// A procedure no event creates, by hand.
	res := a.api(http.MethodPost, "/api/v1/procedures", admin, jsonBody(t, map[string]any{"type": ports.ProcedureBonusPaymentReport,
		"employee_id": first.ID, "fact_date": "2026-04-03", "fields": map[string]string{"bonus.amount": "500000"}, "comment": "夏季賞与"}))
	var bonus procedure
	wantJSON(t, res, http.StatusCreated, &bonus)
	if res.header.Get("Location") != "/api/v1/procedures/"+bonus.ID || res.header.Get("ETag") != `"1"` ||
		bonus.DueDate != "2026-04-08" || bonus.Fields["bonus.amount"] != "500000" || bonus.Office != ports.OfficePension {
		t.Fatalf("created by hand: %+v (Location %s)", bonus, res.header.Get("Location"))
	}

	dashboard := func() procedureDashboard {
		var d procedureDashboard
		wantJSON(t, a.api(http.MethodGet, "/api/v1/procedures/dashboard", admin, ""), http.StatusOK, &d)
		return d
	}
	d := dashboard()
	if d.Today != "2026-04-01" || len(d.Overdue) != 1 || d.Overdue[0].EmployeeID != third.ID ||
		len(d.DueToday) != 1 || d.DueToday[0].ID != hp2.ID || len(d.DueThisWeek) != 0 {
		t.Fatalf("dashboard on 4/1: today %s, overdue %d, due today %d, this week %d", d.Today, len(d.Overdue), len(d.DueToday), len(d.DueThisWeek))
	}
	a.act(admin, bonus.ID, ports.ActionCancel, "誤登録")
	// Monday 4/6: the first hire's 健保・厚年 is due today; the two March hires' 雇用保険 (Friday 4/10) this
	// week; the pending one of 4/1 and the one of 3/25 overdue; the cancelled one nowhere.
	a.env.Clock.Set(testenv.Start.AddDate(0, 0, 5))
	admin = a.login("acme", "admin", testenv.NewPassword, "full").Token
	d = dashboard()
	if len(d.DueToday) != 1 || d.DueToday[0].EmployeeID != first.ID || len(d.Overdue) != 2 || len(d.DueThisWeek) != 2 ||
		d.DueThisWeek[0].DueDate != "2026-04-10" || d.DueThisWeek[0].Type != ports.ProcedureEmploymentInsuranceAcquisition {
		t.Fatalf("dashboard on 4/6: overdue %d, due today %d, this week %d", len(d.Overdue), len(d.DueToday), len(d.DueThisWeek))
	}

	var catalogue struct {
		Items []struct {
			Type           string   `json:"type"`
			NameJA         string   `json:"name_ja"`
			RuleJA         string   `json:"rule_ja"`
			RequiredFields []string `json:"required_fields"`
		} `json:"items"`
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/procedures/types", admin, ""), http.StatusOK, &catalogue)
	if len(catalogue.Items) != 10 || catalogue.Items[0].NameJA == "" || catalogue.Items[0].RuleJA == "" {
		t.Fatalf("catalogue: %+v", catalogue.Items)
	}
}

// TestProcedureIllegalTransitionsAndRoles: an action the status does not allow is a 409 with a message in
// both languages and changes nothing; an employee may not see or touch procedures (403), an unknown one is 404.
func TestProcedureIllegalTransitionsAndRoles(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	self := a.activate("acme", a.createAccount(admin, "tanaka", "田中 花子", "employee")).Token
	emp := a.hire(admin, "T001", "2026-04-01")
	p := a.employeeProcedures(admin, emp.ID)[ports.ProcedureHealthPensionAcquisition]

	for _, action := range []string{ports.ActionApprove, ports.ActionFile, ports.ActionComplete} {
		prob := wantProblem(t, a.tryAct(admin, p.ID, action, "理由"), http.StatusConflict, "illegal_transition")
		if !strings.Contains(prob.DetailJA, "下書き") || !strings.Contains(prob.Detail, "draft") {
			t.Errorf("%s from draft says %q / %q", action, prob.DetailJA, prob.Detail)
		}
	}
	a.act(admin, p.ID, ports.ActionCancel, "不要")
	wantProblem(t, a.tryAct(admin, p.ID, ports.ActionSubmit, ""), http.StatusConflict, "illegal_transition")
	res := a.send(http.MethodPatch, "/api/v1/procedures/"+p.ID, strings.NewReader(`{"fact_date":"2026-04-02"}`),
		http.Header{"Authorization": {"Bearer " + admin}, "Content-Type": {"application/json"}, "If-Match": {`"2"`}})
	wantProblem(t, res, http.StatusConflict, "not_editable")
	if got := a.getProcedure(admin, p.ID); got.Status != ports.ProcedureCancelled || got.Version != 2 {
		t.Fatalf("after the refusals: %s v%d", got.Status, got.Version)
	}

	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/v1/procedures", ""},
		{"GET", "/api/v1/procedures/dashboard", ""},
		{"GET", "/api/v1/procedures/types", ""},
		{"GET", "/api/v1/procedures/" + p.ID, ""},
		{"POST", "/api/v1/procedures", `{"type":"bonus_payment_report","employee_id":"` + emp.ID + `","fact_date":"2026-04-01"}`},
		{"POST", "/api/v1/procedures/" + p.ID + "/submit", ""},
		{"POST", "/api/v1/procedures/annual-reports", `{"year":2026}`},
	} {
		wantProblem(t, a.api(r.method, r.path, self, r.body), http.StatusForbidden, "forbidden")
	}
	wantProblem(t, a.api("GET", "/api/v1/procedures/nosuchprocedure", admin, ""), http.StatusNotFound, "not_found")
	wantProblem(t, a.api("POST", "/api/v1/procedures/"+p.ID+"/delete", admin, ""), http.StatusNotFound, "not_found")
}

// TestProcedureTenantIsolation: another tenant's admin gets 404 on every route that names a procedure, and
// sees none of them in lists or on the dashboard; nothing changes.
func TestProcedureTenantIsolation(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, acme := a.tenant("acme")
	_, beta := a.tenant("beta")
	emp := a.hire(acme, "I001", "2026-04-01")
	p := a.employeeProcedures(acme, emp.ID)[ports.ProcedureHealthPensionAcquisition]
	path := "/api/v1/procedures/" + p.ID

	wantProblem(t, a.api("GET", path, beta, ""), http.StatusNotFound, "not_found")
	for _, doc := range []string{"/document.pdf", "/efiling.csv"} {
		wantProblem(t, a.api("GET", path+doc, beta, ""), http.StatusNotFound, "not_found")
	}
	res := a.send(http.MethodPatch, path, strings.NewReader(`{"fields":{"position":"x"}}`),
		http.Header{"Authorization": {"Bearer " + beta}, "Content-Type": {"application/json"}, "If-Match": {`"1"`}})
	wantProblem(t, res, http.StatusNotFound, "not_found")
	for _, action := range []string{ports.ActionSubmit, ports.ActionApprove, ports.ActionReturn, ports.ActionFile,
		ports.ActionComplete, ports.ActionCancel} {
		wantProblem(t, a.tryAct(beta, p.ID, action, "x"), http.StatusNotFound, "not_found")
	}
	wantProblem(t, a.api("POST", "/api/v1/procedures", beta, jsonBody(t, map[string]string{
		"type": ports.ProcedureBonusPaymentReport, "employee_id": emp.ID, "fact_date": "2026-04-01"})), http.StatusNotFound, "not_found")
	if page := a.listProcedures(beta, ""); len(page.Items) != 0 {
		t.Fatalf("beta lists %d procedures", len(page.Items))
	}
	if page := a.listProcedures(beta, "employee_id="+emp.ID); len(page.Items) != 0 {
		t.Fatalf("beta lists %d procedures of acme's employee", len(page.Items))
	}
	var d procedureDashboard
	wantJSON(t, a.api(http.MethodGet, "/api/v1/procedures/dashboard", beta, ""), http.StatusOK, &d)
	if len(d.Overdue)+len(d.DueToday)+len(d.DueThisWeek) != 0 {
		t.Fatalf("beta's dashboard shows acme's procedures: %+v", d)
	}
	if got := a.getProcedure(acme, p.ID); got.Version != 1 || got.Status != ports.ProcedureDraft {
		t.Fatalf("acme's procedure changed: %s v%d", got.Status, got.Version)
	}
	if audit := a.procedureAudit(p.ID); len(audit) != 1 {
		t.Fatalf("audit of acme's procedure: %v", audit)
	}
}

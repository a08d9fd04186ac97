package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// TestPagesProcedureListDetailAndWorkflow walks the procedures pages: the dashboard's link, the list with
// the deadline sections and filters, the detail with the deadline and its rule, an edit, the workflow
// through the form (submitted by one admin, whose own approval is refused, approved by another), a refused
// cancel without a reason, manual creation, and refusals: no CSRF token, an employee, another tenant.
func TestPagesProcedureListDetailAndWorkflow(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	a.activate("acme", a.createAccount(admin, "kato", "加藤 三郎", "admin"))
	a.activate("acme", a.createAccount(admin, "tanaka", "田中 花子", "employee"))
	emp := a.hire(admin, "W001", "2026-03-27") // 健保・厚年 due today (Wednesday 4/1), 雇用保険 on Friday 4/10
	a.hire(admin, "W002", "2026-03-20")        // 健保・厚年 overdue (3/25)
	id := a.employeeProcedures(admin, emp.ID)[ports.ProcedureHealthPensionAcquisition].ID

	// section is the part of a page from the element with id to the end of its section.
	section := func(page []byte, id string) string {
		s := string(page)
		start := strings.Index(s, `id="`+id+`"`)
		if start < 0 {
			t.Fatalf("no element %s", id)
		}
		return s[start : start+strings.Index(s[start:], "</section>")]
	}
	b := a.browser()
	b.logIn("acme", "admin", testenv.NewPassword, "/")
	home := b.get("/")
	wantPage(t, home, http.StatusOK, `href="/procedures"`, `href="/procedures#deadlines"`, `id="deadline-counts"`)
	if counts := section(home.body, "deadline-counts"); !strings.Contains(counts, "期限超過 <span lang=\"en\">/ Overdue</span></dt><dd>1 件") {
		t.Errorf("home page counts: %s", counts)
	}
	list := b.get("/procedures")
	wantPage(t, list, http.StatusOK, "今日が期限", "今週が期限", "期限超過", `aria-sort="ascending"`,
		`href="/procedures/`+id+`"`, "健康保険・厚生年金保険 被保険者資格取得届", "雇用保険被保険者資格取得届", "山田 太郎")
	if today := section(list.body, "due-today"); !strings.Contains(today, id) || !strings.Contains(today, "(1)") {
		t.Errorf("due today: %s", today)
	}
	if overdue := section(list.body, "overdue"); !strings.Contains(overdue, "2026-03-25") || strings.Contains(overdue, id) {
		t.Errorf("overdue: %s", overdue)
	}
	filtered := b.get("/procedures?type=" + ports.ProcedureEmploymentInsuranceAcquisition + "&status=draft")
	wantPage(t, filtered, http.StatusOK, "条件をクリア", "2026-04-10")
	if all := section(filtered.body, "list-heading"); strings.Contains(all, id) {
		t.Errorf("the filtered list shows the health and pension filing: %s", all)
	}
	wantPage(t, b.get("/procedures?status=done"), http.StatusUnprocessableEntity, "draft・pending_approval")

	// The detail, and an edit of the draft.
	detail := b.get("/procedures/" + id)
	wantPage(t, detail, http.StatusOK, "健康保険・厚生年金保険 被保険者資格取得届", `href="/employees/`+emp.ID+`"`, "山田 太郎",
		"2026-03-27", "2026-04-01", "事実発生日の翌日から起算して5日以内", "within 5 days counted from the day after the fact",
		"下書き", "年金事務所", "システム", `id="action-submit"`, `id="action-cancel"`, `action="/procedures/`+id+`/edit"`,
		`name="fields.monthly_pay.cash"`)
	if strings.Contains(string(detail.body), `id="action-approve"`) {
		t.Error("a draft offers approval")
	}
	form := formOf(t, detail.body)
	form.Set("fields.monthly_pay.cash", "350000")
	wantRedirect(t, b.submit("/procedures/"+id+"/edit", form), "/procedures/"+id+"?notice=updated")
	wantPage(t, b.get("/procedures/"+id+"?notice=updated"), http.StatusOK, "手続きの内容を更新しました", `value="350000"`)
	form.Set("fields.monthly_pay.cash", "360000") // the version read before the edit is stale now
	wantPage(t, b.submit("/procedures/"+id+"/edit", form), http.StatusPreconditionFailed, "他の人が先に更新しました", `value="360000"`)

	// Refusals that change nothing.
	wantPage(t, b.send(http.MethodPost, "/procedures/"+id+"/act", url.Values{"action": {"submit"}}), http.StatusForbidden, "フォームの有効期限が切れたか")
	b.get("/procedures/" + id)
	wantPage(t, b.submit("/procedures/"+id+"/act", url.Values{"action": {"cancel"}, "version": {"2"}}), http.StatusUnprocessableEntity,
		"理由を入力してください", `id="action-submit"`)
	wantPage(t, b.submit("/procedures/"+id+"/act", url.Values{"action": {"complete"}, "version": {"2"}}), http.StatusConflict,
		"この手続きは「下書き」のため")

	// Submitted through the form; the same admin's approval is refused; another admin approves.
	b.get("/procedures/" + id)
	wantRedirect(t, b.submit("/procedures/"+id+"/act", url.Values{"action": {"submit"}, "comment": {"確認お願いします"}, "version": {"2"}}),
		"/procedures/"+id+"?notice=submit")
	pending := b.get("/procedures/" + id + "?notice=submit")
	wantPage(t, pending, http.StatusOK, "承認を申請しました", "承認待ち", "確認お願いします", "あなた")
	if strings.Contains(string(pending.body), `id="action-approve"`) {
		t.Error("the preparer is offered approval")
	}
	wantPage(t, b.submit("/procedures/"+id+"/act", url.Values{"action": {"approve"}, "version": {"3"}}), http.StatusForbidden,
		"別の人が承認する必要があります")

	kato := a.browser()
	kato.logIn("acme", "kato", testenv.Password, "/")
	wantPage(t, kato.get("/procedures/"+id), http.StatusOK, `id="action-approve"`, `id="action-return"`)
	wantRedirect(t, kato.submit("/procedures/"+id+"/act", url.Values{"action": {"approve"}, "comment": {"OK"}, "version": {"3"}}),
		"/procedures/"+id+"?notice=approve")
	wantPage(t, kato.get("/procedures/"+id), http.StatusOK, "承認済み", `id="action-file"`, "OK")
	if got := a.getProcedure(admin, id); got.Status != ports.ProcedureApproved || got.ApprovedBy == "" || got.Fields["monthly_pay.cash"] != "350000" {
		t.Fatalf("after the pages: %+v", got)
	}

	// Manual creation.
	newPage := b.get("/procedures/new?employee_id=" + emp.ID)
	wantPage(t, newPage, http.StatusOK, `action="/procedures/new"`, "被保険者賞与支払届", "W001 山田 太郎")
	wantPage(t, b.submit("/procedures/new", url.Values{"type": {ports.ProcedureBonusPaymentReport}, "employee_id": {emp.ID},
		"fact_date": {"2026-02-30"}}), http.StatusUnprocessableEntity, `id="fact_date-error"`, `value="2026-02-30"`)
	created := b.submit("/procedures/new", url.Values{"type": {ports.ProcedureBonusPaymentReport}, "employee_id": {emp.ID},
		"fact_date": {"2026-04-03"}, "comment": {"夏季賞与"}})
	loc := wantRedirectPath(t, created, strings.Split(created.header.Get("Location"), "?")[0])
	if !strings.HasPrefix(loc, "/procedures/") || !strings.HasSuffix(loc, "?notice=created") {
		t.Fatalf("created: %s", loc)
	}
	wantPage(t, b.get(loc), http.StatusOK, "被保険者賞与支払届", "2026-04-08", "夏季賞与")

	// An employee and another tenant's admin.
	self := a.browser()
	self.logIn("acme", "tanaka", testenv.Password, "/")
	wantPage(t, self.get("/procedures"), http.StatusForbidden)
	wantPage(t, self.get("/procedures/"+id), http.StatusForbidden)
	a.tenant("beta")
	other := a.browser()
	other.logIn("beta", "admin", testenv.NewPassword, "/")
	wantPage(t, other.get("/procedures/"+id), http.StatusNotFound)
	other.get("/procedures")
	wantPage(t, other.submit("/procedures/"+id+"/act", url.Values{"action": {"file"}}), http.StatusNotFound)
	wantPage(t, other.submit("/procedures/"+id+"/edit", url.Values{"fact_date": {"2026-04-01"}}), http.StatusNotFound)
	if got := a.getProcedure(admin, id); got.Status != ports.ProcedureApproved {
		t.Fatalf("another tenant moved it: %s", got.Status)
	}
}

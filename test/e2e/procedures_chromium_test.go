package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// TestChromiumApproveProcedureThroughThePage: an hr member has prepared and submitted the acquisition filing
// of a new hire; the admin finds it from the navigation, opens it with the keyboard-reachable link, writes a
// comment and approves it with the page's button, and the page shows it approved with the comment in its
// history.
func TestChromiumApproveProcedureThroughThePage(t *testing.T) {
	t.Parallel()
	env := browserEnv(t)
	_, admin := env.Tenant(t, "acme")
	ctx := t.Context()
	today := env.Clock.Now().In(kernel.Tokyo).Format("2006-01-02")
	emp, err := env.Employees.CreateEmployee(ctx, admin, ports.EmployeeInput{Fields: map[string]string{
		"employee_number": "C001", "family_name": "山田", "given_name": "太郎", "family_name_kana": "ヤマダ",
		"given_name_kana": "タロウ", "birth_date": "1990-05-15", "gender": "male", "hire_date": today,
		"employment_type": "regular", "monthly_pay.cash": "300000"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Procedures.ConsumeEvents(ctx); err != nil {
		t.Fatal(err)
	}
	page, err := env.Procedures.ListProcedures(ctx, admin, ports.ProcedureFilter{EmployeeID: emp.ID,
		Types: []string{ports.ProcedureHealthPensionAcquisition}})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("procedures of the hire: %v %d", err, len(page.Items))
	}
	id := page.Items[0].ID
	hr := ports.Principal{AccountID: kernel.NewID(), TenantID: admin.TenantID, Kind: ports.KindMember,
		Stage: ports.StageFull, Roles: []string{ports.RoleHR}}
	if _, err := env.Procedures.Act(ctx, hr, id, ports.ProcedureAction{Action: ports.ActionSubmit, Comment: "確認お願いします"}); err != nil {
		t.Fatal(err)
	}

	base := serveLoopback(t, env)
	tab := newChromium(t)
	browse(t, tab,
		logInWithPassword(base, "acme", "admin", testenv.NewPassword),
		chromedp.WaitVisible(chromedp.ID("who-heading")),
		chromedp.Click(chromedp.CSS(`nav a[href="/procedures"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.ID("deadlines-heading")),
		chromedp.Click(chromedp.CSS(`#list-heading ~ table a[href="/procedures/`+id+`"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.ID("action-approve")),
		chromedp.SendKeys(chromedp.ID("comment"), "内容を確認しました"),
		chromedp.Click(chromedp.ID("action-approve")),
		chromedp.WaitVisible(chromedp.CSS(`div.notice[role="status"]`)),
	)
	if notice := read(t, tab, chromedp.Text(chromedp.CSS(`div.notice[role="status"]`))); !strings.Contains(notice, "承認しました") {
		t.Fatalf("after approving: %q", notice)
	}
	if status := read(t, tab, chromedp.Text(chromedp.ID("status"))); !strings.Contains(status, "承認済み") {
		t.Errorf("status shows %q", status)
	}
	if history := read(t, tab, chromedp.Text(chromedp.ID("history"))); !strings.Contains(history, "内容を確認しました") ||
		!strings.Contains(history, "確認お願いします") {
		t.Errorf("history shows %q", history)
	}
	screenshot(t, tab, "procedure-approved")
	got, err := env.Procedures.GetProcedure(ctx, admin, id)
	if err != nil || got.Status != ports.ProcedureApproved || got.ApprovedBy != admin.AccountID || got.PreparedBy != hr.AccountID {
		t.Fatalf("stored: %v %+v", err, got)
	}
}

package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/roumu/roumu/test/testenv"
)

// TestChromiumCreateEmployeeThroughTheForm registers an employee through the real form in headless Chromium:
// the first submission has invalid values, and the page shows the Japanese message next to each field with
// everything typed still there; once fixed, the employee is saved and found in the list with the search filter.
func TestChromiumCreateEmployeeThroughTheForm(t *testing.T) {
	t.Parallel()
	env := browserEnv(t)
	env.Tenant(t, "acme")
	base := serveLoopback(t, env)
	tab := newChromium(t)

	browse(t, tab,
		logInWithPassword(base, "acme", "admin", testenv.NewPassword),
		chromedp.WaitVisible(chromedp.ID("who-heading")),
		chromedp.Click(chromedp.CSS(`nav a[href="/employees"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.ID("employees")),
		chromedp.Click(chromedp.CSS(`a[href="/employees/new"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.ID("employee_number")),
		chromedp.SendKeys(chromedp.ID("employee_number"), "B0042"),
		chromedp.SendKeys(chromedp.ID("family_name"), "山田"),
		// given_name left empty
		chromedp.SendKeys(chromedp.ID("family_name_kana"), "やまだ"),
		chromedp.SendKeys(chromedp.ID("given_name_kana"), "ハナコ"),
		chromedp.SendKeys(chromedp.ID("birth_date"), "1990-02-30"),
		chromedp.SetValue(chromedp.ID("gender"), "female"),
		chromedp.SendKeys(chromedp.ID("address-postal_code"), "12-345"),
		chromedp.SendKeys(chromedp.ID("hire_date"), "2025-04-01"),
		chromedp.SendKeys(chromedp.ID("monthly_pay-cash"), "250000"),
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.ID("birth_date-error")),
	)
	for id, want := range map[string]string{
		"birth_date-error":          "存在しない日付です",
		"given_name-error":          "必須項目です",
		"address-postal_code-error": "7桁の数字で入力してください",
	} {
		if got := read(t, tab, chromedp.Text(chromedp.ID(id))); !strings.Contains(got, want) {
			t.Errorf("%s shows %q, want %q", id, got, want)
		}
	}
	for id, want := range map[string]string{
		"employee_number": "B0042", "family_name": "山田", "family_name_kana": "やまだ", "birth_date": "1990-02-30",
		"gender": "female", "address-postal_code": "12-345", "hire_date": "2025-04-01", "monthly_pay-cash": "250000",
	} {
		if got := read(t, tab, chromedp.Value(chromedp.ID(id))); got != want {
			t.Errorf("after the refusal %s holds %q, want %q as typed", id, got, want)
		}
	}
	if invalid := read(t, tab, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('[aria-invalid="true"]')].map(e => e.id).sort()`)); strings.Join(invalid, ",") !=
		"address-postal_code,birth_date,given_name" {
		t.Errorf("fields marked invalid: %v", invalid)
	}
	screenshot(t, tab, "employee-form-errors")

	browse(t, tab,
		chromedp.SetValue(chromedp.ID("birth_date"), "1990-02-15"),
		chromedp.SendKeys(chromedp.ID("given_name"), "花子"),
		chromedp.SetValue(chromedp.ID("address-postal_code"), "100-0001"),
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.ID("basic-heading")),
	)
	if notice := read(t, tab, chromedp.Text(chromedp.CSS(`div.notice[role="status"]`))); !strings.Contains(notice, "従業員を登録しました") {
		t.Fatalf("after saving: %q", notice)
	}

	browse(t, tab,
		chromedp.Navigate(base+"/employees"),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), "やまだ"),
		chromedp.Click(chromedp.ID("search")),
		// the unfiltered list has the row too: wait for the page of the search, which offers to clear it
		chromedp.WaitVisible(chromedp.CSS(`form.filters a[href="/employees"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#employees tbody a`)),
	)
	list := read(t, tab, chromedp.Text(chromedp.ID("employees")))
	if !strings.Contains(list, "山田 花子") || !strings.Contains(list, "B0042") || !strings.Contains(list, "ヤマダ") {
		t.Fatalf("the list shows %q", list)
	}
	if loc := read(t, tab, chromedp.Location()); !strings.Contains(loc, "q=%E3%82%84%E3%81%BE%E3%81%A0") {
		t.Errorf("the search is not in the address: %s", loc)
	}
	screenshot(t, tab, "employee-list")
}

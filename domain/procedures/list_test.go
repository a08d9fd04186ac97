package procedures_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// TestCreateByHand: a procedure no event triggers, for an employee of the register, with the snapshot as of
// the fact date and the caller's fields; bad input is one validation error listing every field.
func TestCreateByHand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.hire(t, e.admin, "E1")
	p, err := e.svc.CreateProcedure(ctx, e.hr, ports.ProcedureInput{Type: ports.ProcedureBonusPaymentReport,
		EmployeeID: emp.ID, FactDate: "2026-06-30", Office: ports.OfficeHealthInsuranceSociety,
		Fields: map[string]string{"bonus.amount": "500000"}, Comment: "夏季賞与"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != ports.ProcedureDraft || p.Office != ports.OfficeHealthInsuranceSociety || p.DueDate != "2026-07-06" ||
		p.Fields["bonus.amount"] != "500000" || p.Fields["family_name"] != "山田" || p.History[0].By != e.hr.AccountID || p.History[0].Comment != "夏季賞与" {
		t.Errorf("created: %+v", p)
	}
	_, err = e.svc.CreateProcedure(ctx, e.hr, ports.ProcedureInput{Type: "tax_return", FactDate: "2026-13-01", Office: "city_hall",
		Fields: map[string]string{"salary": "1"}})
	var got []string
	if be, ok := ports.AsError(err); ok {
		for _, f := range be.Fields {
			got = append(got, f.Field+":"+f.Code)
		}
	}
	want := []string{"type:invalid_type", "fact_date:invalid_date", "office:invalid_office", "employee_id:required", "fields.salary:unknown_field"}
	if !errors.Is(err, ports.ErrInvalid) || !slices.Equal(got, want) {
		t.Errorf("bad input = %v %v, want %v", err, got, want)
	}
	if _, err := e.svc.CreateProcedure(ctx, e.hr, ports.ProcedureInput{Type: ports.ProcedureNameChange, EmployeeID: kernel.NewID(), FactDate: "2026-04-01"}); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("an unknown employee = %v", err)
	}
	if cat := e.svc.Catalogue(); len(cat) != 10 || cat[0].RuleJA == "" || cat[0].Trigger != "employee.hired" {
		t.Errorf("catalogue: %+v", cat[0])
	}
}

// TestDashboardAndList: with the clock on Wednesday 2026-04-08, open procedures fall into overdue, today
// and the rest of the week (to Sunday); filed and cancelled ones are not on the dashboard. Lists filter
// and walk in pages by due date.
func TestDashboardAndList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.hire(t, e.admin, "E1", "hire_date", "2026-03-01")
	e.consume(t) // acquisitions due 2026-03-06 and 2026-04-10
	mk := func(typ, fact string) ports.Procedure {
		t.Helper()
		p, err := e.svc.CreateProcedure(ctx, e.hr, ports.ProcedureInput{Type: typ, EmployeeID: emp.ID, FactDate: fact,
			Fields: map[string]string{"bonus.amount": "1", "new_monthly_pay.cash": "1", "previous_family_name": "佐藤"}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	today := mk(ports.ProcedureBonusPaymentReport, "2026-04-03")         // due 4/8
	sunday := mk(ports.ProcedureNameChange, "2026-04-07")                // 4/12 is a Sunday: due Monday 4/13, next week
	friday := mk(ports.ProcedureMonthlyRemunerationChange, "2026-04-05") // due 4/10
	cancelled := mk(ports.ProcedureBonusPaymentReport, "2026-04-02")     // due 4/7, cancelled
	e.act(t, e.hr, cancelled.ID, ports.ActionCancel, "重複")
	ps := e.procs(t, e.admin, emp.ID)
	hpAcq := byType(t, ps, ports.ProcedureHealthPensionAcquisition)
	eiAcq := byType(t, ps, ports.ProcedureEmploymentInsuranceAcquisition)

	e.clock.Set(time.Date(2026, 4, 8, 23, 30, 0, 0, kernel.Tokyo)) // late Wednesday in Tokyo, already Thursday nowhere
	d, err := e.svc.Dashboard(ctx, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(ps []ports.Procedure) []string {
		out := []string{}
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	if d.Today != "2026-04-08" || !slices.Equal(ids(d.Overdue), []string{hpAcq.ID}) || !slices.Equal(ids(d.DueToday), []string{today.ID}) {
		t.Errorf("dashboard %s: overdue %v, today %v", d.Today, ids(d.Overdue), ids(d.DueToday))
	}
	week := ids(d.DueThisWeek)
	if len(week) != 2 || !slices.Contains(week, friday.ID) || !slices.Contains(week, eiAcq.ID) || slices.Contains(week, sunday.ID) {
		t.Errorf("this week: %v", week)
	}

	// Lists: by due date, filtered, in pages.
	page, err := e.svc.ListProcedures(ctx, e.admin, ports.ProcedureFilter{DueBefore: "2026-04-09"})
	if err != nil || !slices.Equal(ids(page.Items), []string{hpAcq.ID, cancelled.ID, today.ID}) {
		t.Errorf("due before 4/9: %v %v", err, ids(page.Items))
	}
	page, _ = e.svc.ListProcedures(ctx, e.admin, ports.ProcedureFilter{Statuses: []string{ports.ProcedureCancelled}})
	if !slices.Equal(ids(page.Items), []string{cancelled.ID}) {
		t.Errorf("cancelled: %v", ids(page.Items))
	}
	page, _ = e.svc.ListProcedures(ctx, e.admin, ports.ProcedureFilter{Types: []string{ports.ProcedureBonusPaymentReport, ports.ProcedureNameChange}})
	if !slices.Equal(ids(page.Items), []string{cancelled.ID, today.ID, sunday.ID}) {
		t.Errorf("by type: %v", ids(page.Items))
	}
	var walked []string
	f := ports.ProcedureFilter{Limit: 2}
	for range 10 {
		page, err := e.svc.ListProcedures(ctx, e.admin, f)
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, ids(page.Items)...)
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	all := ids(e.procs(t, e.admin, ""))
	if len(all) != 6 || !slices.Equal(walked, all) {
		t.Errorf("pages of two: %v, want %v", walked, all)
	}
	for _, bad := range []ports.ProcedureFilter{{Statuses: []string{"open"}}, {Types: []string{"x"}}, {DueBefore: "4/9"}, {Limit: -1}, {Cursor: "!!"}} {
		if _, err := e.svc.ListProcedures(ctx, e.admin, bad); !errors.Is(err, ports.ErrInvalid) {
			t.Errorf("ListProcedures(%+v) = %v, want invalid", bad, err)
		}
	}
}

// TestListSortsAndUpdatedSince: the list in each order walks every procedure once in pages, a delta sync
// from an instant includes what changed at that instant, and a cursor serves only the order it was made
// for; a bad sort names its field.
func TestListSortsAndUpdatedSince(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, n := range []string{"E1", "E2", "E3"} {
		e.hire(t, e.admin, n, "hire_date", "2026-03-0"+n[1:])
		e.consume(t) // two acquisitions each, the clock still: ties in created_at and updated_at
	}
	made := e.procs(t, e.admin, "")
	e.clock.Advance(time.Hour)
	changed := e.act(t, e.hr, made[len(made)-1].ID, ports.ActionCancel, "重複")
	walk := func(f ports.ProcedureFilter) []string {
		t.Helper()
		var out []string
		for range 20 {
			page, err := e.svc.ListProcedures(ctx, e.admin, f)
			if err != nil {
				t.Fatalf("ListProcedures(%+v): %v", f, err)
			}
			for _, p := range page.Items {
				out = append(out, p.ID)
			}
			if page.NextCursor == "" {
				return out
			}
			f.Cursor = page.NextCursor
		}
		t.Fatal("the cursor does not advance")
		return nil
	}
	for _, sort := range []string{"", ports.ProcedureSortDue, ports.ProcedureSortCreated, ports.ProcedureSortUpdated} {
		got := walk(ports.ProcedureFilter{Sort: sort, Limit: 2})
		if len(got) != len(made) || len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(made) {
			t.Errorf("sort %q in pages of two read %d distinct of %d: %v", sort, len(slices.Compact(slices.Sorted(slices.Values(got)))), len(made), got)
		}
		if sort == ports.ProcedureSortUpdated && got[len(got)-1] != changed.ID {
			t.Errorf("by updated_at the last is %s, want the one changed last, %s", got[len(got)-1], changed.ID)
		}
	}
	if got := walk(ports.ProcedureFilter{UpdatedSince: changed.UpdatedAt, Limit: 1}); !slices.Equal(got, []string{changed.ID}) {
		t.Errorf("updated since the last change, at its instant: %v", got)
	}
	if got := walk(ports.ProcedureFilter{UpdatedSince: start, Sort: ports.ProcedureSortUpdated}); len(got) != len(made) {
		t.Errorf("updated since the first write: %d of %d", len(got), len(made))
	}

	page, err := e.svc.ListProcedures(ctx, e.admin, ports.ProcedureFilter{Sort: ports.ProcedureSortCreated, Limit: 1})
	if err != nil || page.NextCursor == "" {
		t.Fatal(page, err)
	}
	for _, other := range []string{"", ports.ProcedureSortUpdated} {
		if _, err := e.svc.ListProcedures(ctx, e.admin, ports.ProcedureFilter{Sort: other, Cursor: page.NextCursor}); code(err) != "invalid_cursor" {
			t.Errorf("a created_at cursor under sort %q = %v", other, err)
		}
	}
	// A cursor made up by the client: its key must be of its order's column.
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"s":"updated_at","k":"2026-04-01","i":"` + made[0].ID + `"}`))
	if _, err := e.svc.ListProcedures(ctx, e.admin, ports.ProcedureFilter{Sort: ports.ProcedureSortUpdated, Cursor: forged}); code(err) != "invalid_cursor" {
		t.Errorf("a cursor with a date for updated_at = %v", err)
	}
	_, err = e.svc.ListProcedures(ctx, e.admin, ports.ProcedureFilter{Sort: "fact_date"})
	if be, ok := ports.AsError(err); !ok || !errors.Is(err, ports.ErrInvalid) || len(be.Fields) != 1 || be.Fields[0].Field != "sort" || be.Fields[0].Code != "invalid_sort" {
		t.Errorf("an unknown sort = %v", err)
	}
}

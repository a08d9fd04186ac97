package procedures_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/procedures"
	"github.com/roumu/roumu/ports"
)

// TestHireCreatesBothAcquisitions: a hire in the register becomes, through the outbox, the two acquisition
// filings with their offices, deadlines, rules, a snapshot of the employee (without My Number or insurance
// numbers) and an audited creation by the system.
func TestHireCreatesBothAcquisitions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.hire(t, e.admin, "E1", "hire_date", "2026-04-03") // a Friday
	if n := e.consume(t); n != 1 {
		t.Fatalf("ConsumeEvents = %d, want 1 (the hire)", n)
	}
	ps := e.procs(t, e.admin, emp.ID)
	if got := types(ps); !slices.Equal(got, []string{ports.ProcedureEmploymentInsuranceAcquisition, ports.ProcedureHealthPensionAcquisition}) {
		t.Fatalf("procedures = %v", got)
	}
	hp := byType(t, ps, ports.ProcedureHealthPensionAcquisition)
	if hp.Status != ports.ProcedureDraft || hp.Office != ports.OfficePension || hp.FactDate != "2026-04-03" ||
		hp.DueDate != "2026-04-08" || hp.Deadline.Moved || hp.Deadline.RuleJA != "事実発生日の翌日から起算して5日以内" {
		t.Errorf("health and pension acquisition: %+v", hp)
	}
	ei := byType(t, ps, ports.ProcedureEmploymentInsuranceAcquisition)
	if ei.Office != ports.OfficeHelloWork || ei.Deadline.LegalDate != "2026-05-10" || ei.DueDate != "2026-05-11" ||
		!ei.Deadline.Moved || !strings.Contains(ei.Deadline.RuleEN, "10th of the month after") {
		t.Errorf("employment insurance acquisition: %+v", ei)
	}
	if hp.Fields["family_name"] != "山田" || hp.Fields["birth_date"] != "1990-05-15" || hp.Fields["monthly_pay.cash"] != "300000" ||
		hp.Fields["hire_date"] != "2026-04-03" || hp.NameJA == "" {
		t.Errorf("snapshot: %v", hp.Fields)
	}
	b, _ := json.Marshal(ps)
	for _, secret := range []string{"123456789018", "567890"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("a procedure holds %s: %s", secret, b)
		}
	}
	if len(hp.History) != 1 || hp.History[0].To != ports.ProcedureDraft || hp.History[0].By != procedures.SystemActor || hp.History[0].At.IsZero() {
		t.Errorf("creation history: %+v", hp.History)
	}
	created := e.audits(t, "procedure.create")
	if len(created) != 2 || created[0].Event.ActorKind != "system" || created[0].Event.TenantID != "t1" {
		t.Errorf("creation audits: %+v", created)
	}
}

// TestHireDeadlinesThroughEvents: the deadlines of hires on a Friday, before a holiday, on 12/28 and at month
// end, from the register's event to the stored procedure.
func TestHireDeadlinesThroughEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i, c := range []struct{ hired, hpDue, eiDue string }{
		{"2026-04-03", "2026-04-08", "2026-05-11"}, // Friday: 5 calendar days; 5/10 is a Sunday
		{"2026-04-28", "2026-05-07", "2026-05-11"}, // before Golden Week: 5/3–5/6 are closed
		{"2026-12-28", "2027-01-04", "2027-01-12"}, // 12/28: 1/2 in the closure; 1/10 Sunday, 1/11 成人の日
		{"2026-01-31", "2026-02-05", "2026-02-10"}, // month end
		{"2026-03-31", "2026-04-06", "2026-04-10"}, // month end: day 5 is a Sunday
	} {
		emp := e.hire(t, e.admin, "D"+string(rune('0'+i)), "hire_date", c.hired)
		e.consume(t)
		ps := e.procs(t, e.admin, emp.ID)
		hp, ei := byType(t, ps, ports.ProcedureHealthPensionAcquisition), byType(t, ps, ports.ProcedureEmploymentInsuranceAcquisition)
		if hp.DueDate != c.hpDue || ei.DueDate != c.eiDue {
			t.Errorf("hired %s: due %s and %s, want %s and %s", c.hired, hp.DueDate, ei.DueDate, c.hpDue, c.eiDue)
		}
	}
}

// TestSeparationDependentsAndCoverage: a separation makes the two loss filings dated from the loss date
// (the day after the last day); a dependent added makes a 被扶養者異動届; an executive gets no employment
// insurance filing and a dispatched worker none at all.
func TestSeparationDependentsAndCoverage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.hire(t, e.admin, "E1", "hire_date", "2025-04-01")
	if _, err := e.reg.UpdateEmployee(ctx, e.admin, emp.ID, ports.EmployeeInput{Fields: map[string]string{
		"separation_date": "2026-03-31", "separation_reason": "自己都合"}}); err != nil {
		t.Fatal(err)
	}
	dep, err := e.reg.AddDependent(ctx, e.admin, emp.ID, ports.DependentInput{EffectiveOn: "2026-03-01", Fields: map[string]string{
		"relationship": "妻", "family_name": "山田", "given_name": "花子", "birth_date": "1992-03-03"}})
	if err != nil {
		t.Fatal(err)
	}
	exec := e.hire(t, e.admin, "X1", "employment_type", "executive")
	dispatched := e.hire(t, e.admin, "X2", "employment_type", "dispatch")
	e.consume(t)

	ps := e.procs(t, e.admin, emp.ID)
	hpLoss, eiLoss := byType(t, ps, ports.ProcedureHealthPensionLoss), byType(t, ps, ports.ProcedureEmploymentInsuranceLoss)
	if hpLoss.FactDate != "2026-04-01" || hpLoss.DueDate != "2026-04-06" || hpLoss.Fields["loss_date"] != "2026-04-01" ||
		hpLoss.Fields["separation_date"] != "2026-03-31" || hpLoss.Fields["separation_reason"] != "自己都合" {
		t.Errorf("health and pension loss: %s due %s, fields %v", hpLoss.FactDate, hpLoss.DueDate, hpLoss.Fields)
	}
	if eiLoss.Office != ports.OfficeHelloWork || eiLoss.DueDate != "2026-04-13" {
		t.Errorf("employment insurance loss: %s due %s", eiLoss.Office, eiLoss.DueDate)
	}
	dc := byType(t, ps, ports.ProcedureDependentChange)
	if dc.FactDate != "2026-03-01" || dc.DueDate != "2026-03-06" || dc.Fields["dependent.change"] != "added" ||
		dc.Fields["dependent.given_name"] != "花子" || dc.Fields["dependent.id"] != dep.Dependents[0].ID {
		t.Errorf("dependent change: %s due %s, fields %v", dc.FactDate, dc.DueDate, dc.Fields)
	}
	if got := types(e.procs(t, e.admin, exec.ID)); !slices.Equal(got, []string{ports.ProcedureHealthPensionAcquisition}) {
		t.Errorf("an executive's procedures: %v", got)
	}
	if got := e.procs(t, e.admin, dispatched.ID); len(got) != 0 {
		t.Errorf("a dispatched worker's procedures: %v", types(got))
	}
}

// TestExactlyOnce: the same hire event delivered twice, an event written twice for one change, a crash in
// the middle of handling, a crash between the commit and the dispatcher's mark, and two instances
// consuming at once: always exactly one procedure of each kind.
func TestExactlyOnce(t *testing.T) {
	t.Parallel()
	both := []string{ports.ProcedureEmploymentInsuranceAcquisition, ports.ProcedureHealthPensionAcquisition}
	onceEach := func(t *testing.T, e *env, employeeID string) {
		t.Helper()
		if got := types(e.procs(t, e.admin, employeeID)); !slices.Equal(got, both) {
			t.Errorf("procedures = %v, want one of each: %v", got, both)
		}
	}

	t.Run("delivered twice", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		emp := e.hire(t, e.admin, "E1")
		evs, _ := e.store.PendingEventsFor(ctx, procedures.Consumer, []string{procedures.EventHired}, 0)
		if len(evs) != 1 {
			t.Fatalf("hire events: %d", len(evs))
		}
		for i, want := range []bool{true, false, false} {
			got, err := e.svc.HandleEvent(ctx, evs[0])
			if err != nil || got != want {
				t.Errorf("delivery %d: handled %v, %v; want %v", i+1, got, err, want)
			}
		}
		if n := e.consume(t); n != 0 {
			t.Errorf("ConsumeEvents after the deliveries = %d, want 0", n)
		}
		onceEach(t, e, emp.ID)
	})

	t.Run("one change reported by two events", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		emp := e.hire(t, e.admin, "E1")
		evs, _ := e.store.PendingEventsFor(ctx, procedures.Consumer, []string{procedures.EventHired}, 0)
		twin := evs[0]
		twin.ID = kernel.NewID() // a producer that wrote its event twice
		if err := e.store.AppendEvents(ctx, twin); err != nil {
			t.Fatal(err)
		}
		if n := e.consume(t); n != 2 {
			t.Errorf("ConsumeEvents = %d, want both events", n)
		}
		onceEach(t, e, emp.ID)
	})

	t.Run("crash while handling", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		emp := e.hire(t, e.admin, "E1")
		crashing := e.deps
		crashing.Audit = &failingAudit{fail: 2, next: e.deps.Audit} // the second creation's audit crashes
		svc, err := procedures.New(crashing)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ConsumeEvents(ctx); !errors.Is(err, errCrash) {
			t.Fatalf("ConsumeEvents during the crash = %v", err)
		}
		if got := e.procs(t, e.admin, emp.ID); len(got) != 0 {
			t.Errorf("a crashed handling left %v", types(got))
		}
		if _, err := svc.ConsumeEvents(ctx); !errors.Is(err, errCrash) { // the first audit still fails
			t.Fatalf("ConsumeEvents, second crash = %v", err)
		}
		if n, err := svc.ConsumeEvents(ctx); err != nil || n != 1 { // the restarted process
			t.Fatalf("ConsumeEvents after the crash = %d, %v", n, err)
		}
		onceEach(t, e, emp.ID)
	})

	t.Run("crash between commit and dispatch", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		emp := e.hire(t, e.admin, "E1")
		e.consume(t)
		// The process died before the dispatcher marked the event dispatched: it is still pending for the
		// dispatcher, which delivers it again after the restart.
		pending, _ := e.store.PendingEvents(ctx, 0)
		redelivered := 0
		for _, ev := range pending {
			if ev.Type == procedures.EventHired {
				redelivered++
				if handled, err := e.svc.HandleEvent(ctx, ev); err != nil || handled {
					t.Errorf("redelivery: handled %v, %v", handled, err)
				}
			}
		}
		if redelivered != 1 {
			t.Fatalf("pending hire events for the dispatcher: %d", redelivered)
		}
		e.consume(t)
		onceEach(t, e, emp.ID)
	})

	t.Run("two instances at once", func(t *testing.T) {
		t.Parallel()
		raceConsumers(t, newEnv(t))
	})
}

// TestAnnualReports: the 算定基礎届 of a year covers everyone insured on 1 July except those insured from
// June on, snapshots them as of 1 July, and a second run creates nothing.
func TestAnnualReports(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.clock.Set(start.AddDate(0, 4, 0)) // August 2026
	long := e.hire(t, e.admin, "A1", "hire_date", "2020-04-01")
	e.hire(t, e.admin, "A2", "hire_date", "2026-06-15") // insured from June: excluded
	leftJune := e.hire(t, e.admin, "A3", "hire_date", "2020-04-01")
	leftJuly := e.hire(t, e.admin, "A4", "hire_date", "2020-04-01")
	e.hire(t, e.admin, "A5", "hire_date", "2020-04-01", "employment_type", "dispatch")
	e.hire(t, e.other, "B1", "hire_date", "2020-04-01") // another tenant
	for id, last := range map[string]string{leftJune.ID: "2026-06-30", leftJuly.ID: "2026-07-31"} {
		if _, err := e.reg.UpdateEmployee(ctx, e.admin, id, ports.EmployeeInput{Fields: map[string]string{"separation_date": last}}); err != nil {
			t.Fatal(err)
		}
	}
	// Two runs at once (a double click, two schedulers) create each report once.
	var created atomic.Int32
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			n, err := e.svc.CreateAnnualReports(ctx, e.hr, 2026)
			if err != nil {
				t.Errorf("CreateAnnualReports: %v", err)
			}
			created.Add(int32(n))
		})
	}
	wg.Wait()
	if created.Load() != 2 {
		t.Fatalf("CreateAnnualReports created %d in all, want 2", created.Load())
	}
	page, err := e.svc.ListProcedures(ctx, e.admin, ports.ProcedureFilter{Types: []string{ports.ProcedureAnnualRemunerationReport}})
	if err != nil {
		t.Fatal(err)
	}
	var who []string
	for _, p := range page.Items {
		who = append(who, p.EmployeeID)
		if p.FactDate != "2026-07-01" || p.DueDate != "2026-07-10" || p.Fields["year"] != "2026" || p.Fields["family_name"] == "" {
			t.Errorf("annual report: %+v", p)
		}
	}
	if !slices.Equal(slices.Sorted(slices.Values(who)), slices.Sorted(slices.Values([]string{long.ID, leftJuly.ID}))) {
		t.Errorf("annual reports for %v", who)
	}
	if n, err := e.svc.CreateAnnualReports(ctx, e.admin, 2026); err != nil || n != 0 {
		t.Errorf("CreateAnnualReports again = %d, %v; want 0", n, err)
	}
	if _, err := e.svc.CreateAnnualReports(ctx, e.admin, 1900); !errors.Is(err, ports.ErrInvalid) {
		t.Errorf("CreateAnnualReports(1900) = %v", err)
	}
	if _, err := e.svc.CreateAnnualReports(ctx, member("t1", ports.RoleEmployee), 2026); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("CreateAnnualReports by an employee = %v", err)
	}
}

// TestCancelledScheduledHire: a hire recorded ahead of its day creates its procedures at once (so the
// deadline is visible early); taking the hire back cancels them.
func TestCancelledScheduledHire(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.hire(t, e.admin, "E1", "hire_date", "2026-04-01")
	if _, err := e.reg.UpdateEmployee(ctx, e.admin, emp.ID, ports.EmployeeInput{EffectiveOn: "2026-05-01",
		Fields: map[string]string{"separation_date": "2026-05-31"}}); err != nil {
		t.Fatal(err)
	}
	e.consume(t)
	loss := byType(t, e.procs(t, e.admin, emp.ID), ports.ProcedureHealthPensionLoss)
	hist, err := e.reg.History(ctx, e.admin, emp.ID)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(hist, func(c ports.EmployeeChange) bool { return c.Scheduled })
	if i < 0 {
		t.Fatalf("no scheduled change in %+v", hist)
	}
	if _, err := e.reg.CancelScheduledChange(ctx, e.admin, emp.ID, hist[i].ID, 0); err != nil {
		t.Fatal(err)
	}
	e.consume(t)
	got, err := e.svc.GetProcedure(ctx, e.admin, loss.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ports.ProcedureCancelled || got.History[len(got.History)-1].By != procedures.SystemActor {
		t.Errorf("after the separation was taken back: %s %+v", got.Status, got.History)
	}
}

// raceConsumers hires ten employees, then lets two instances of the module, twice each, consume the
// events at once: every event is handled once, and there is exactly one procedure of each kind.
func raceConsumers(t *testing.T, e *env) {
	t.Helper()
	const hires = 10
	for i := range hires {
		e.hire(t, e.admin, "E"+string(rune('A'+i)))
	}
	second, err := procedures.New(e.deps)
	if err != nil {
		t.Fatal(err)
	}
	var handled atomic.Int32
	var wg sync.WaitGroup
	for i, svc := range []*procedures.Service{e.svc, second, e.svc, second} {
		wg.Go(func() {
			n, err := svc.ConsumeEvents(ctx)
			if err != nil {
				t.Errorf("consumer %d: %v", i, err)
			}
			handled.Add(int32(n))
		})
	}
	wg.Wait()
	if got := e.procs(t, e.admin, ""); handled.Load() != hires || len(got) != 2*hires {
		t.Fatalf("%d events handled, %d procedures; want %d and %d", handled.Load(), len(got), hires, 2*hires)
	}
}

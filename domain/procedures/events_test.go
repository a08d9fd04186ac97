package procedures_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/procedures"
	"github.com/roumu/roumu/ports"
)

// eventReader is the consumer under which the tests read the module's own events, as webhooks would.
const eventReader = "test:procedure-events"

// procedureEventTypes are the events the module writes.
var procedureEventTypes = []string{ports.EventProcedureCreated, ports.EventProcedureStatusChanged}

// payloadKeys are the members of every procedure event's payload: IDs and codes, no snapshot field.
var payloadKeys = []string{"at", "employee_id", "from", "procedure_id", "to", "type"}

// procedureEvents returns the procedure events written since the last call, each as
// "event-type procedure-type from→to", sorted (the events of one step share an instant, so their order in
// the outbox is not theirs). It checks each event's envelope and payload on the way.
func (e *env) procedureEvents(t testing.TB) []string {
	t.Helper()
	evs, err := e.store.PendingEventsFor(ctx, eventReader, procedureEventTypes, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, ev := range evs {
		if err := e.store.MarkConsumed(ctx, eventReader, ev.ID, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		var pl map[string]any
		if err := json.Unmarshal(ev.Payload, &pl); err != nil {
			t.Fatalf("%s payload %s: %v", ev.Type, ev.Payload, err)
		}
		if got := slices.Sorted(maps.Keys(pl)); !slices.Equal(got, payloadKeys) {
			t.Errorf("%s payload has %v, want %v: %s", ev.Type, got, payloadKeys, ev.Payload)
		}
		id, _ := pl["procedure_id"].(string)
		proc, err := e.svc.GetProcedure(ctx, member(ev.TenantID, ports.RoleAdmin), id)
		if err != nil {
			t.Fatalf("%s names procedure %q of %s: %v", ev.Type, id, ev.TenantID, err)
		}
		at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(pl["at"]))
		if ev.SubjectID != id || pl["employee_id"] != proc.EmployeeID || pl["type"] != proc.Type || err != nil ||
			!at.Equal(ev.OccurredAt) || !at.Equal(e.clock.Now()) {
			t.Errorf("%s event (subject %s, at %v) of %+v: %s", ev.Type, ev.SubjectID, ev.OccurredAt, proc, ev.Payload)
		}
		out = append(out, fmt.Sprintf("%s %s %s→%s", ev.Type, pl["type"], pl["from"], pl["to"]))
	}
	slices.Sort(out)
	return out
}

// wantEvents fails unless the procedure events written since the last look are want (any order).
func (e *env) wantEvents(t testing.TB, step string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := e.procedureEvents(t); !slices.Equal(got, want) {
		t.Errorf("%s: events\n%q\nwant\n%q", step, got, want)
	}
}

const (
	created = ports.EventProcedureCreated
	changed = ports.EventProcedureStatusChanged
	hpAcq   = ports.ProcedureHealthPensionAcquisition
	eiAcq   = ports.ProcedureEmploymentInsuranceAcquisition
)

// TestEventsOfEveryChange: each creation (from an event, by hand, by the annual job) writes
// procedure.created, and each transition (by people, by the office's answer, by a change taken back) writes
// procedure.status_changed with the statuses before and after; an edit writes none. The module's own
// consumer passes its events by.
func TestEventsOfEveryChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	filer := e.withFiler(t)
	emp := e.hire(t, e.admin, "E1")
	e.consume(t)
	e.wantEvents(t, "hire", created+" "+hpAcq+" →draft", created+" "+eiAcq+" →draft")
	if n := e.consume(t); n != 0 {
		t.Errorf("the module's consumer took %d of its own events", n)
	}
	ps := e.procs(t, e.admin, emp.ID)
	hp, ei := byType(t, ps, hpAcq), byType(t, ps, eiAcq)

	e.clock.Advance(time.Hour)
	if _, err := e.svc.UpdateProcedure(ctx, e.hr, hp.ID, ports.ProcedureEdit{Fields: map[string]string{"position": "課長"}}); err != nil {
		t.Fatal(err)
	}
	e.wantEvents(t, "edit")
	for _, step := range []struct {
		by       ports.Principal
		action   string
		from, to string
	}{
		{e.hr, ports.ActionSubmit, ports.ProcedureDraft, ports.ProcedurePendingApproval},
		{e.admin, ports.ActionReturn, ports.ProcedurePendingApproval, ports.ProcedureReturned},
		{e.hr, ports.ActionSubmit, ports.ProcedureReturned, ports.ProcedurePendingApproval},
		{e.admin, ports.ActionApprove, ports.ProcedurePendingApproval, ports.ProcedureApproved},
		{e.hr, ports.ActionFile, ports.ProcedureApproved, ports.ProcedureFiled},
	} {
		e.clock.Advance(time.Minute)
		e.act(t, step.by, hp.ID, step.action, "理由")
		e.wantEvents(t, step.action, changed+" "+hpAcq+" "+step.from+"→"+step.to)
	}
	// A refused action changes nothing and tells no one.
	if _, err := e.svc.Act(ctx, e.hr, hp.ID, ports.ProcedureAction{Action: ports.ActionApprove}); err == nil {
		t.Fatal("hr approved")
	}
	e.wantEvents(t, "refused approval")

	e.clock.Advance(time.Minute)
	filer.answer(e.mustGet(t, hp.ID).ArrivalNumber, ports.FilingProgress{Done: true, Accepted: true})
	if n, err := e.svc.PollFilings(ctx); n != 1 || err != nil {
		t.Fatalf("PollFilings = %d, %v", n, err)
	}
	e.wantEvents(t, "手続終了", changed+" "+hpAcq+" filed→completed")

	e.clock.Advance(time.Minute)
	e.act(t, e.hr, ei.ID, ports.ActionCancel, "対象外")
	e.wantEvents(t, "cancel", changed+" "+eiAcq+" draft→cancelled")

	e.clock.Advance(time.Minute)
	if _, err := e.svc.CreateProcedure(ctx, e.hr, ports.ProcedureInput{Type: ports.ProcedureBonusPaymentReport,
		EmployeeID: emp.ID, FactDate: "2026-04-10"}); err != nil {
		t.Fatal(err)
	}
	e.wantEvents(t, "by hand", created+" "+ports.ProcedureBonusPaymentReport+" →draft")

	e.clock.Advance(time.Minute)
	if n, err := e.svc.CreateAnnualReports(ctx, e.hr, 2026); n != 1 || err != nil {
		t.Fatalf("CreateAnnualReports = %d, %v", n, err)
	}
	e.wantEvents(t, "annual", created+" "+ports.ProcedureAnnualRemunerationReport+" →draft")
	if n, err := e.svc.CreateAnnualReports(ctx, e.hr, 2026); n != 0 || err != nil {
		t.Fatalf("CreateAnnualReports again = %d, %v", n, err)
	}
	e.wantEvents(t, "annual again")

	// A separation scheduled and taken back: its procedures are created, then cancelled by the system.
	e.clock.Advance(time.Minute)
	if _, err := e.reg.UpdateEmployee(ctx, e.admin, emp.ID, ports.EmployeeInput{EffectiveOn: "2026-05-01",
		Fields: map[string]string{"separation_date": "2026-05-31"}}); err != nil {
		t.Fatal(err)
	}
	e.consume(t)
	e.wantEvents(t, "separation", created+" "+ports.ProcedureHealthPensionLoss+" →draft",
		created+" "+ports.ProcedureEmploymentInsuranceLoss+" →draft")
	hist, err := e.reg.History(ctx, e.admin, emp.ID)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(hist, func(c ports.EmployeeChange) bool { return c.Scheduled })
	e.clock.Advance(time.Minute)
	if _, err := e.reg.CancelScheduledChange(ctx, e.admin, emp.ID, hist[i].ID, 0); err != nil {
		t.Fatal(err)
	}
	e.consume(t)
	e.wantEvents(t, "separation taken back", changed+" "+ports.ProcedureHealthPensionLoss+" draft→cancelled",
		changed+" "+ports.ProcedureEmploymentInsuranceLoss+" draft→cancelled")

	// A dispatcher handing the module one of its own events gets it consumed, and nothing created.
	before := len(e.procs(t, e.admin, ""))
	evs, err := e.store.PendingEventsFor(ctx, procedures.Consumer, procedureEventTypes, 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("PendingEventsFor = %v, %v", evs, err)
	}
	if _, err := e.svc.HandleEvent(ctx, evs[0]); err != nil {
		t.Fatal(err)
	}
	if after := len(e.procs(t, e.admin, "")); after != before {
		t.Errorf("a procedure event made %d procedures", after-before)
	}
}

func (e *env) mustGet(t testing.TB, id string) ports.Procedure {
	t.Helper()
	p, err := e.svc.GetProcedure(ctx, e.admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEventsOnlyWithTheirChange: a creation or a transition whose transaction fails (its audit record
// crashes) leaves no event, on every store; a write made with skip_webhooks=true marks its event.
func TestEventsOnlyWithTheirChange(t *testing.T) {
	t.Parallel()
	envs := sqlEnvs(t)
	envs["memory"] = newEnv(t)
	for name, e := range envs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := e.hired(t, "E1")
			e.procedureEvents(t)
			crashing := e.deps
			crashing.Audit = &failingAudit{fail: 2, next: e.deps.Audit}
			svc, err := procedures.New(crashing)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.CreateProcedure(ctx, e.hr, ports.ProcedureInput{Type: ports.ProcedureBonusPaymentReport,
				EmployeeID: p.EmployeeID, FactDate: "2026-04-10"}); !errors.Is(err, errCrash) {
				t.Fatalf("CreateProcedure during the crash = %v", err)
			}
			if _, err := svc.Act(ctx, e.hr, p.ID, ports.ProcedureAction{Action: ports.ActionSubmit}); !errors.Is(err, errCrash) {
				t.Fatalf("submit during the crash = %v", err)
			}
			e.wantEvents(t, "crashed writes")
			if got := e.mustGet(t, p.ID); got.Status != ports.ProcedureDraft || len(e.procs(t, e.admin, p.EmployeeID)) != 2 {
				t.Fatalf("a crashed write stayed: %s", got.Status)
			}

			e.act(t, e.hr, p.ID, ports.ActionSubmit, "")
			e.wantEvents(t, "submit after the crash", changed+" "+hpAcq+" draft→pending_approval")

			if _, err := e.svc.Act(ports.WithSkipWebhooks(ctx), e.admin, p.ID, ports.ProcedureAction{Action: ports.ActionApprove}); err != nil {
				t.Fatal(err)
			}
			evs, err := e.store.PendingEventsFor(ctx, eventReader, procedureEventTypes, 0)
			if err != nil || len(evs) != 1 {
				t.Fatalf("events of a skip_webhooks write: %v, %v", evs, err)
			}
			var pl map[string]any
			if err := json.Unmarshal(evs[0].Payload, &pl); err != nil || pl[ports.OutboxSkipWebhooks] != true || pl["to"] != ports.ProcedureApproved {
				t.Errorf("a skip_webhooks write's event: %s", evs[0].Payload)
			}
		})
	}
}

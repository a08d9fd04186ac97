package e2e

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/roumu/roumu/domain/webhooks"
	"github.com/roumu/roumu/ports"
)

// procedureEnvelope is the body of a procedure event's delivery.
type procedureEnvelope struct {
	ID   string         `json:"id"`
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

// procedureDelivery checks a delivery of a procedure event (its signature with secret, its headers, its
// data: IDs and statuses only) and returns its body.
func (a *app) procedureDelivery(secret string, d received, eventType string) procedureEnvelope {
	a.t.Helper()
	if err := webhooks.VerifySignature(secret, d.header.Get(webhooks.HeaderSignature), d.body, a.env.Clock.Now(),
		webhooks.DefaultTolerance); err != nil {
		a.t.Fatalf("signature: %v (%s)", err, d.header.Get(webhooks.HeaderSignature))
	}
	var env procedureEnvelope
	if err := json.Unmarshal(d.body, &env); err != nil || env.Type != eventType ||
		d.header.Get(webhooks.HeaderEventType) != eventType || d.header.Get(webhooks.HeaderEventID) != env.ID {
		a.t.Fatalf("delivery %v %v: %s", err, d.header, d.body)
	}
	if keys := slices.Sorted(maps.Keys(env.Data)); !slices.Equal(keys, []string{"at", "employee_id", "from", "procedure_id", "to", "type"}) {
		a.t.Errorf("%s data has %v: %s", eventType, keys, d.body)
	}
	for _, personal := range []string{"山田", "ヤマダ", "1990-05-15", "123456789018"} {
		if strings.Contains(string(d.body), personal) {
			a.t.Errorf("a %s delivery carries %s: %s", eventType, personal, d.body)
		}
	}
	return env
}

// TestProcedureWebhooks: a hire's procedures reach a subscription to procedure.created; an hr member's
// submission and an admin's approval reach one to procedure.status_changed, signed, with the statuses before
// and after, and only the events each subscription names; a cancellation made with skip_webhooks=true
// reaches no one.
func TestProcedureWebhooks(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	clerk := a.activate("acme", a.createAccount(admin, "suzuki", "鈴木 次郎", "hr")).Token
	created, changed := newReceiver(t), newReceiver(t)
	createdHook := a.createWebhook(admin, created.URL+"/hooks/roumu", ports.EventProcedureCreated)
	changedHook := a.createWebhook(admin, changed.URL+"/hooks/roumu", ports.EventProcedureStatusChanged)

	emp := a.hire(admin, "P001", "2026-04-01")
	procs := a.employeeProcedures(clerk, emp.ID)
	hp, ei := procs[ports.ProcedureHealthPensionAcquisition], procs[ports.ProcedureEmploymentInsuranceAcquisition]
	a.runWebhooks()
	got := created.received()
	if len(got) != 2 || len(changed.received()) != 0 {
		t.Fatalf("after the hire: %d procedure.created deliveries (want 2), %d procedure.status_changed (want 0)",
			len(got), len(changed.received()))
	}
	var made []string
	for _, d := range got {
		env := a.procedureDelivery(createdHook.Secret, d, ports.EventProcedureCreated)
		if env.Data["from"] != "" || env.Data["to"] != ports.ProcedureDraft || env.Data["employee_id"] != emp.ID {
			t.Errorf("procedure.created data: %v", env.Data)
		}
		made = append(made, env.Data["procedure_id"].(string)+" "+env.Data["type"].(string))
	}
	slices.Sort(made)
	want := []string{hp.ID + " " + hp.Type, ei.ID + " " + ei.Type}
	slices.Sort(want)
	if !slices.Equal(made, want) {
		t.Errorf("procedure.created for %v, want %v", made, want)
	}

	a.act(clerk, hp.ID, ports.ActionSubmit, "")
	approved := a.act(admin, hp.ID, ports.ActionApprove, "確認しました")
	if approved.Status != ports.ProcedureApproved {
		t.Fatalf("approved: %s", approved.Status)
	}
	a.runWebhooks()
	got = changed.received()
	if len(got) != 2 {
		t.Fatalf("procedure.status_changed deliveries after submit and approve: %d, want 2", len(got))
	}
	steps := map[string]string{}
	for _, d := range got {
		env := a.procedureDelivery(changedHook.Secret, d, ports.EventProcedureStatusChanged)
		if env.Data["procedure_id"] != hp.ID || env.Data["type"] != hp.Type || env.Data["employee_id"] != emp.ID {
			t.Errorf("procedure.status_changed data: %v", env.Data)
		}
		steps[env.Data["from"].(string)] = env.Data["to"].(string)
	}
	if !maps.Equal(steps, map[string]string{ports.ProcedureDraft: ports.ProcedurePendingApproval,
		ports.ProcedurePendingApproval: ports.ProcedureApproved}) {
		t.Errorf("status changes delivered: %v", steps)
	}
	log := a.deliveries(admin, changedHook.ID)
	if len(log) != 2 || log[0].Status != ports.DeliverySucceeded || log[1].Status != ports.DeliverySucceeded {
		t.Errorf("delivery log %+v", log)
	}

	// A partner cancelling with skip_webhooks=true hears nothing of it; nor does the other subscription.
	res := a.api(http.MethodPost, "/api/v1/procedures/"+ei.ID+"/cancel?skip_webhooks=true", clerk,
		jsonBody(t, map[string]string{"comment": "対象外"}))
	wantJSON(t, res, http.StatusOK, nil)
	a.runWebhooks()
	if n, m := len(changed.received()), len(created.received()); n != 2 || m != 2 {
		t.Errorf("after a cancellation with skip_webhooks=true: %d and %d deliveries, want still 2 and 2", n, m)
	}
}

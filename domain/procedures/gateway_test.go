package procedures_test

import (
	"context"
	"sync"
	"testing"

	"github.com/roumu/roumu/domain/procedures"
	"github.com/roumu/roumu/ports"
)

// fakeGateway is an e-Gov that numbers submissions by reference and reports the state the test sets.
type fakeGateway struct {
	mu          sync.Mutex
	submissions map[string]ports.Submission // by arrival number
	byRef       map[string]string
	states      map[string]ports.FilingStatus
}

func (g *fakeGateway) Submit(_ context.Context, s ports.Submission) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n, ok := g.byRef[s.TenantID+"/"+s.Reference]; ok {
		return n, nil
	}
	n := "2026" + string(rune('0'+len(g.byRef)))
	g.byRef[s.TenantID+"/"+s.Reference], g.submissions[n] = n, s
	g.states[n] = ports.FilingStatus{ArrivalNumber: n, State: ports.FilingArrived}
	return n, nil
}

func (g *fakeGateway) Status(_ context.Context, n string) (ports.FilingStatus, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.states[n], nil
}

// TestGatewayFiler: filing through a gateway sends the procedure's files under its ID, once; 到達 and 審査中
// leave it filed, 手続終了 completes it, through PollFilings.
func TestGatewayFiler(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	gw := &fakeGateway{submissions: map[string]ports.Submission{}, byRef: map[string]string{}, states: map[string]ports.FilingStatus{}}
	deps := e.deps
	deps.Filer = procedures.GatewayFiler{Gateway: gw, Attachments: func(_ context.Context, tenantID string, p ports.Procedure) ([]ports.FilingAttachment, error) {
		return []ports.FilingAttachment{{Name: "SHFD0006.CSV", ContentType: "text/csv", Data: []byte(p.Fields["family_name"])}}, nil
	}}
	svc, err := procedures.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	p := e.hired(t, "E1")
	e.act(t, e.hr, p.ID, ports.ActionSubmit, "")
	e.act(t, e.admin, p.ID, ports.ActionApprove, "")
	filed := e.act(t, e.hr, p.ID, ports.ActionFile, "")
	sub := gw.submissions[filed.ArrivalNumber]
	if sub.Reference != p.ID+"/001" || sub.TenantID != "t1" || sub.FormType != ports.ProcedureHealthPensionAcquisition || string(sub.Attachments[0].Data) != "山田" {
		t.Fatalf("submission %+v", sub)
	}
	for _, c := range []struct {
		state ports.FilingState
		moved int
		want  string
	}{
		{ports.FilingUnderReview, 0, ports.ProcedureFiled},
		{ports.FilingCompleted, 1, ports.ProcedureCompleted},
	} {
		gw.mu.Lock()
		gw.states[filed.ArrivalNumber] = ports.FilingStatus{ArrivalNumber: filed.ArrivalNumber, State: c.state}
		gw.mu.Unlock()
		if n, err := e.svc.PollFilings(ctx); n != c.moved || err != nil {
			t.Errorf("%s: PollFilings = %d, %v", c.state, n, err)
		}
		if got, _ := e.svc.GetProcedure(ctx, e.admin, p.ID); got.Status != c.want {
			t.Errorf("%s: status %s, want %s", c.state, got.Status, c.want)
		}
	}
	if sp := procedures.SystemPrincipal("t1"); sp.AccountID != procedures.SystemActor || sp.TenantID != "t1" {
		t.Errorf("SystemPrincipal = %+v", sp)
	}
	if n, err := e.svc.CreateAnnualReports(ctx, procedures.SystemPrincipal("t1"), 2026); err != nil || n != 1 {
		t.Errorf("CreateAnnualReports as the system = %d, %v", n, err)
	}
}

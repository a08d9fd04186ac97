package porttest

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// newProcedure returns a draft procedure of tenantID with every field set.
func newProcedure(tenantID, typ, employeeID, due string) ports.ProcedureRecord {
	return ports.ProcedureRecord{
		ID: newID(), TenantID: tenantID, Type: typ, EmployeeID: employeeID, Status: ports.ProcedureDraft,
		FactDate: "2026-04-01", DueDate: due, Office: ports.OfficePension, PreparedBy: "", ApprovedBy: "",
		DedupKey: typ + ":" + newID(), Data: []byte(`{"fields": {"family_name":"山田"},  "note":"\u5c71"}`),
		History: []ports.ProcedureTransition{{From: "", To: ports.ProcedureDraft, By: "system:procedures", At: at(0), Comment: "入社により作成"}},
		Version: 1, CreatedAt: at(0), UpdatedAt: at(time.Second),
	}
}

func checkProcedure(t *testing.T, got, want ports.ProcedureRecord) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "TenantID", got.TenantID, want.TenantID)
	checkEq(t, "Type", got.Type, want.Type)
	checkEq(t, "EmployeeID", got.EmployeeID, want.EmployeeID)
	checkEq(t, "Status", got.Status, want.Status)
	checkEq(t, "FactDate", got.FactDate, want.FactDate)
	checkEq(t, "DueDate", got.DueDate, want.DueDate)
	checkEq(t, "Office", got.Office, want.Office)
	checkEq(t, "PreparedBy", got.PreparedBy, want.PreparedBy)
	checkEq(t, "ApprovedBy", got.ApprovedBy, want.ApprovedBy)
	checkEq(t, "DedupKey", got.DedupKey, want.DedupKey)
	checkEq(t, "ArrivalNumber", got.ArrivalNumber, want.ArrivalNumber)
	checkBytes(t, "Data", got.Data, want.Data)
	checkEq(t, "len(History)", len(got.History), len(want.History))
	for i := range min(len(got.History), len(want.History)) {
		g, w := got.History[i], want.History[i]
		checkEq(t, "History.From", g.From, w.From)
		checkEq(t, "History.To", g.To, w.To)
		checkEq(t, "History.By", g.By, w.By)
		checkTime(t, "History.At", g.At, w.At)
		checkEq(t, "History.Comment", g.Comment, w.Comment)
	}
	checkEq(t, "Version", got.Version, want.Version)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

// procedureFixture is two tenants and Stores with the ProcedureStore.
type procedureFixture struct {
	s                   Stores
	tenant, otherTenant string
}

func newProcedureFixture(t *testing.T, factory Factory, need ...string) procedureFixture {
	t.Helper()
	s := open(t, factory, append(need, "Tenants", "Procedures")...)
	return procedureFixture{s: s, tenant: createTenant(t, s, "t"+newID()[:8]).ID, otherTenant: createTenant(t, s, "t"+newID()[:8]).ID}
}

func (f procedureFixture) create(t *testing.T, recs ...ports.ProcedureRecord) {
	t.Helper()
	for _, r := range recs {
		must(t, f.s.Procedures.CreateProcedure(t.Context(), r), "CreateProcedure")
	}
}

func (f procedureFixture) check(t *testing.T, want ports.ProcedureRecord) {
	t.Helper()
	got, err := f.s.Procedures.ProcedureByID(t.Context(), want.TenantID, want.ID)
	must(t, err, "ProcedureByID")
	checkProcedure(t, got, want)
}

// checkProcedureList fails unless ListProcedures(q) returns want, in that order, and CountProcedures counts them.
func (f procedureFixture) checkList(t *testing.T, what string, q ports.ProcedureQuery, want ...ports.ProcedureRecord) {
	t.Helper()
	got, err := f.s.Procedures.ListProcedures(t.Context(), q)
	must(t, err, "ListProcedures("+what+")")
	ids := func(rs []ports.ProcedureRecord) []string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.Type+"@"+r.DueDate)
		}
		return out
	}
	if len(got) != len(want) {
		t.Errorf("ListProcedures(%s) = %q, want %q", what, ids(got), ids(want))
		return
	}
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Errorf("ListProcedures(%s) = %q, want %q", what, ids(got), ids(want))
			return
		}
		checkProcedure(t, got[i], want[i])
	}
	if q.AfterID == "" && q.Limit == 0 {
		n, err := f.s.Procedures.CountProcedures(t.Context(), q)
		must(t, err, "CountProcedures("+what+")")
		checkEq(t, "CountProcedures("+what+")", n, len(want))
	}
}

// TestProcedureStore is the contract suite of ports.ProcedureStore. It uses the TenantStore for the tenants
// procedures belong to and the Transactor for the cases in transactions.
func TestProcedureStore(t *testing.T, factory Factory) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		f := newProcedureFixture(t, factory)
		p := newProcedure(f.tenant, ports.ProcedureHealthPensionAcquisition, newID(), "2026-04-06")
		f.create(t, p)
		f.check(t, p)
		bare := ports.ProcedureRecord{ID: newID(), TenantID: f.tenant, Type: ports.ProcedureBonusPaymentReport,
			EmployeeID: newID(), Status: ports.ProcedureDraft, FactDate: "2026-06-30", DueDate: "2026-07-06",
			Office: ports.OfficeHealthInsuranceSociety, Version: 1, CreatedAt: at(0), UpdatedAt: at(0)}
		f.create(t, bare) // no dedup key, data or history
		f.check(t, bare)
	})

	t.Run("Conflicts", func(t *testing.T) {
		t.Parallel()
		f := newProcedureFixture(t, factory, "Tx")
		p := newProcedure(f.tenant, ports.ProcedureHealthPensionAcquisition, newID(), "2026-04-06")
		f.create(t, p)
		sameID := newProcedure(f.tenant, ports.ProcedureHealthPensionLoss, newID(), "2026-04-06")
		sameID.ID = p.ID
		sameKey := newProcedure(f.tenant, ports.ProcedureHealthPensionAcquisition, p.EmployeeID, "2026-04-06")
		sameKey.DedupKey = p.DedupKey
		checkIs(t, "CreateProcedure(ID taken)", f.s.Procedures.CreateProcedure(t.Context(), sameID), ports.ErrConflict)
		checkIs(t, "CreateProcedure(dedup key taken)", f.s.Procedures.CreateProcedure(t.Context(), sameKey), ports.ErrConflict)
		f.check(t, p)
		n, err := f.s.Procedures.CountProcedures(t.Context(), ports.ProcedureQuery{TenantID: f.tenant})
		must(t, err, "CountProcedures")
		checkEq(t, "CountProcedures", n, 1)

		// The key is per tenant; hand-made procedures (no key) never collide.
		elsewhere := newProcedure(f.otherTenant, p.Type, newID(), "2026-04-06")
		elsewhere.DedupKey = p.DedupKey
		byHand1, byHand2 := newProcedure(f.tenant, p.Type, newID(), "2026-04-06"), newProcedure(f.tenant, p.Type, newID(), "2026-04-06")
		byHand1.DedupKey, byHand2.DedupKey = "", ""
		f.create(t, elsewhere, byHand1, byHand2)

		// In a transaction a conflict is an answer: the transaction goes on and commits the rest.
		later := newProcedure(f.tenant, ports.ProcedureEmploymentInsuranceAcquisition, p.EmployeeID, "2026-05-11")
		must(t, f.s.Tx.InTx(t.Context(), func(ctx context.Context) error {
			checkIs(t, "CreateProcedure(dedup key taken, in tx)", f.s.Procedures.CreateProcedure(ctx, sameKey), ports.ErrConflict)
			return f.s.Procedures.CreateProcedure(ctx, later)
		}), "InTx")
		f.check(t, later)
	})

	t.Run("TenantScoping", func(t *testing.T) {
		t.Parallel()
		f := newProcedureFixture(t, factory)
		p := newProcedure(f.tenant, ports.ProcedureHealthPensionAcquisition, newID(), "2026-04-06")
		f.create(t, p)
		for _, tenant := range []string{f.otherTenant, ""} {
			_, err := f.s.Procedures.ProcedureByID(t.Context(), tenant, p.ID)
			checkIs(t, "ProcedureByID(other tenant)", err, ports.ErrNotFound)
			_, err = f.s.Procedures.UpdateProcedure(t.Context(), tenant, p.ID, func(r *ports.ProcedureRecord) error {
				t.Error("update function called for another tenant's procedure")
				return nil
			})
			checkIs(t, "UpdateProcedure(other tenant)", err, ports.ErrNotFound)
			f.checkList(t, "other tenant", ports.ProcedureQuery{TenantID: tenant})
		}
		_, err := f.s.Procedures.ProcedureByID(t.Context(), f.tenant, newID())
		checkIs(t, "ProcedureByID(unknown)", err, ports.ErrNotFound)
		f.check(t, p)
	})

	t.Run("ListFiltersAndPages", func(t *testing.T) {
		t.Parallel()
		f := newProcedureFixture(t, factory)
		emp, other := newID(), newID()
		hp := newProcedure(f.tenant, ports.ProcedureHealthPensionAcquisition, emp, "2026-04-06")
		ei := newProcedure(f.tenant, ports.ProcedureEmploymentInsuranceAcquisition, emp, "2026-05-11")
		dep := newProcedure(f.tenant, ports.ProcedureDependentChange, other, "2026-04-06") // ties hp on the due date
		dep.Status = ports.ProcedurePendingApproval
		loss := newProcedure(f.tenant, ports.ProcedureHealthPensionLoss, other, "2026-03-31")
		loss.Status = ports.ProcedureCompleted
		twin := newProcedure(f.otherTenant, ports.ProcedureHealthPensionAcquisition, emp, "2026-04-06")
		f.create(t, hp, ei, dep, loss, twin)
		tied := []ports.ProcedureRecord{hp, dep}
		slices.SortFunc(tied, func(a, b ports.ProcedureRecord) int {
			if a.ID < b.ID {
				return -1
			}
			return 1
		})
		all := []ports.ProcedureRecord{loss, tied[0], tied[1], ei}
		q := func(m func(*ports.ProcedureQuery)) ports.ProcedureQuery {
			q := ports.ProcedureQuery{TenantID: f.tenant}
			m(&q)
			return q
		}
		f.checkList(t, "all", q(func(*ports.ProcedureQuery) {}), all...)
		f.checkList(t, "Statuses", q(func(q *ports.ProcedureQuery) {
			q.Statuses = []string{ports.ProcedureDraft, ports.ProcedurePendingApproval}
		}), tied[0], tied[1], ei)
		f.checkList(t, "Types", q(func(q *ports.ProcedureQuery) {
			q.Types = []string{ports.ProcedureHealthPensionLoss, ports.ProcedureEmploymentInsuranceAcquisition}
		}), loss, ei)
		f.checkList(t, "EmployeeID", q(func(q *ports.ProcedureQuery) { q.EmployeeID = emp }), hp, ei)
		f.checkList(t, "DueBefore", q(func(q *ports.ProcedureQuery) { q.DueBefore = "2026-04-06" }), loss)
		f.checkList(t, "DueFrom and DueBefore", q(func(q *ports.ProcedureQuery) {
			q.DueFrom, q.DueBefore = "2026-04-06", "2026-04-07"
		}), tied...)
		f.checkList(t, "Limit", q(func(q *ports.ProcedureQuery) { q.Limit = 2 }), loss, tied[0])
		f.checkList(t, "after the first tie", q(func(q *ports.ProcedureQuery) {
			q.AfterKey, q.AfterID = tied[0].DueDate, tied[0].ID
		}), tied[1], ei)
		// Walk in pages of one: every procedure once, in order.
		var walked []string
		cursor := ports.ProcedureQuery{TenantID: f.tenant, Limit: 1}
		for range 10 {
			page, err := f.s.Procedures.ListProcedures(t.Context(), cursor)
			must(t, err, "ListProcedures(page)")
			if len(page) == 0 {
				break
			}
			walked = append(walked, page[0].ID)
			cursor.AfterKey, cursor.AfterID = page[0].DueDate, page[0].ID
		}
		checkStrings(t, "pages of one", walked, []string{loss.ID, tied[0].ID, tied[1].ID, ei.ID})
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		f := newProcedureFixture(t, factory)
		p := newProcedure(f.tenant, ports.ProcedureHealthPensionAcquisition, newID(), "2026-04-06")
		f.create(t, p)
		want := p
		want.Status, want.PreparedBy, want.ApprovedBy = ports.ProcedureFiled, "acct-1", "acct-2"
		want.FactDate, want.DueDate, want.Office, want.ArrivalNumber = "2026-04-02", "2026-04-07", ports.OfficeHealthInsuranceSociety, "20260407-0001"
		want.Data = []byte(`{"fields":{"family_name":"鈴木"}}`)
		want.History = append(slices.Clone(p.History), ports.ProcedureTransition{From: ports.ProcedureDraft, To: ports.ProcedureFiled, By: "acct-2", At: at(time.Hour), Comment: ""})
		want.UpdatedAt, want.Version = at(time.Hour), p.Version+1
		got, err := f.s.Procedures.UpdateProcedure(t.Context(), f.tenant, p.ID, func(r *ports.ProcedureRecord) error {
			checkProcedure(t, *r, p)
			id := r.ID
			*r = want
			// The identity is not the update's to change.
			r.ID, r.TenantID, r.Type, r.EmployeeID, r.DedupKey = id, f.otherTenant, ports.ProcedureNameChange, newID(), "other"
			r.CreatedAt, r.Version = at(time.Hour), 99
			return nil
		})
		must(t, err, "UpdateProcedure")
		checkProcedure(t, got, want)
		f.check(t, want)

		_, err = f.s.Procedures.UpdateProcedure(t.Context(), f.tenant, p.ID, func(r *ports.ProcedureRecord) error {
			r.Status = ports.ProcedureCancelled
			return errBoom
		})
		checkIs(t, "UpdateProcedure(fn fails)", err, errBoom)
		f.check(t, want)
		_, err = f.s.Procedures.UpdateProcedure(t.Context(), f.tenant, newID(), func(*ports.ProcedureRecord) error { return nil })
		checkIs(t, "UpdateProcedure(unknown)", err, ports.ErrNotFound)
	})

	t.Run("ConcurrentTransitions", func(t *testing.T) {
		t.Parallel()
		f := newProcedureFixture(t, factory)
		p := newProcedure(f.tenant, ports.ProcedureHealthPensionAcquisition, newID(), "2026-04-06")
		p.Status = ports.ProcedurePendingApproval
		f.create(t, p)
		// Twenty approvers at once: each approves only what is still pending, so exactly one wins.
		errTaken := errors.New("already approved")
		const n = 20
		var won atomic.Int32
		concurrently(n, func(i int) {
			_, err := f.s.Procedures.UpdateProcedure(t.Context(), f.tenant, p.ID, func(r *ports.ProcedureRecord) error {
				if r.Status != ports.ProcedurePendingApproval {
					return errTaken
				}
				r.Status, r.ApprovedBy = ports.ProcedureApproved, "approver-"+itoa(i)
				r.History = append(r.History, ports.ProcedureTransition{From: ports.ProcedurePendingApproval, To: ports.ProcedureApproved, By: r.ApprovedBy, At: at(time.Hour)})
				return nil
			})
			switch {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, errTaken):
				t.Errorf("approver %d: %v", i, err)
			}
		})
		checkEq(t, "approvals that won", won.Load(), 1)
		got, err := f.s.Procedures.ProcedureByID(t.Context(), f.tenant, p.ID)
		must(t, err, "ProcedureByID")
		checkEq(t, "Version", got.Version, p.Version+1)
		checkEq(t, "len(History)", len(got.History), 2)
	})

	t.Run("FiledProcedures", func(t *testing.T) {
		t.Parallel()
		f := newProcedureFixture(t, factory)
		var filed []ports.ProcedureKey
		for i, tenant := range []string{f.tenant, f.otherTenant, f.tenant} {
			p := newProcedure(tenant, ports.ProcedureHealthPensionAcquisition, newID(), "2026-04-06")
			p.Status, p.ArrivalNumber = ports.ProcedureFiled, "A-"+itoa(i)
			f.create(t, p)
			filed = append(filed, ports.ProcedureKey{TenantID: tenant, ID: p.ID})
		}
		paper := newProcedure(f.tenant, ports.ProcedureHealthPensionAcquisition, newID(), "2026-04-06")
		paper.Status = ports.ProcedureFiled // filed on paper: no arrival number
		done := newProcedure(f.tenant, ports.ProcedureHealthPensionAcquisition, newID(), "2026-04-06")
		done.Status, done.ArrivalNumber = ports.ProcedureCompleted, "A-9"
		f.create(t, paper, done)
		slices.SortFunc(filed, func(a, b ports.ProcedureKey) int {
			if a.ID < b.ID {
				return -1
			}
			return 1
		})
		got, err := f.s.Procedures.FiledProcedures(t.Context(), "", 0)
		must(t, err, "FiledProcedures")
		if !slices.Equal(got, filed) {
			t.Errorf("FiledProcedures = %v, want %v", got, filed)
		}
		got, err = f.s.Procedures.FiledProcedures(t.Context(), filed[0].ID, 1)
		must(t, err, "FiledProcedures(after, limit)")
		if !slices.Equal(got, filed[1:2]) {
			t.Errorf("FiledProcedures(after the first, 1) = %v, want %v", got, filed[1:2])
		}
	})

	testProcedureList(t, factory)
}

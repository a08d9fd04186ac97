package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// newOperationRequest returns a pending request made at requestedAt, with parameters that JSON must escape.
func newOperationRequest(id string, requestedAt time.Time) ports.OperationRequest {
	return ports.OperationRequest{ID: id, Kind: ports.OpTenantSuspend,
		Params: map[string]string{"tenant_id": newID(), "note": "未払い\tのため \"至急\""}, Reason: "契約解除の申し出\n2回目",
		Status: ports.OperationPending, RequestedBy: "op-1", RequestedByLogin: "alice", RequestedAt: requestedAt,
		ExpiresAt: requestedAt.Add(24 * time.Hour), UpdatedAt: requestedAt}
}

// executedOperation returns r approved, executed and finished, with every field of the work record set.
func executedOperation(r ports.OperationRequest) ports.OperationRequest {
	r.Status, r.DecidedBy, r.DecidedByLogin, r.DecidedAt, r.DecisionComment = ports.OperationExecuted, "op-2", "bob", at(time.Hour), "確認しました"
	r.ExecutedBy, r.ExecutedByLogin, r.StartedAt, r.FinishedAt = "op-2", "bob", at(time.Hour+time.Second), at(time.Hour+2*time.Second)
	r.Result, r.Error, r.UpdatedAt = "suspended", "partly: メール送信に失敗", at(time.Hour+2*time.Second)
	r.Params = map[string]string{"tenant_id": r.Params["tenant_id"]}
	return r
}

func checkOperationRequest(t *testing.T, got, want ports.OperationRequest) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "Kind", got.Kind, want.Kind)
	checkMap(t, "Params", got.Params, want.Params)
	checkEq(t, "Reason", got.Reason, want.Reason)
	checkEq(t, "Status", got.Status, want.Status)
	checkEq(t, "RequestedBy", got.RequestedBy, want.RequestedBy)
	checkEq(t, "RequestedByLogin", got.RequestedByLogin, want.RequestedByLogin)
	checkTime(t, "RequestedAt", got.RequestedAt, want.RequestedAt)
	checkTime(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	checkEq(t, "DecidedBy", got.DecidedBy, want.DecidedBy)
	checkEq(t, "DecidedByLogin", got.DecidedByLogin, want.DecidedByLogin)
	checkTime(t, "DecidedAt", got.DecidedAt, want.DecidedAt)
	checkEq(t, "DecisionComment", got.DecisionComment, want.DecisionComment)
	checkEq(t, "ExecutedBy", got.ExecutedBy, want.ExecutedBy)
	checkEq(t, "ExecutedByLogin", got.ExecutedByLogin, want.ExecutedByLogin)
	checkTime(t, "StartedAt", got.StartedAt, want.StartedAt)
	checkTime(t, "FinishedAt", got.FinishedAt, want.FinishedAt)
	checkEq(t, "Result", got.Result, want.Result)
	checkEq(t, "Error", got.Error, want.Error)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

// operationFixture is Stores with the OperationRequestStore and one pending request in it.
type operationFixture struct {
	s   Stores
	ops ports.OperationRequestStore
	req ports.OperationRequest
}

func newOperationFixture(t *testing.T, factory Factory, need ...string) operationFixture {
	t.Helper()
	s := open(t, factory, append(need, "OperationRequests")...)
	f := operationFixture{s: s, ops: s.OperationRequests, req: newOperationRequest(newID(), at(0))}
	must(t, f.ops.CreateOperationRequest(t.Context(), f.req), "CreateOperationRequest")
	return f
}

func (f operationFixture) check(t *testing.T, id string, want ports.OperationRequest) {
	t.Helper()
	got, err := f.ops.OperationRequest(t.Context(), id)
	must(t, err, "OperationRequest")
	checkOperationRequest(t, got, want)
}

// TestOperationRequestStore is the contract suite of ports.OperationRequestStore. Work records belong to no
// tenant.
func TestOperationRequestStore(t *testing.T, factory Factory) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		f := newOperationFixture(t, factory)
		f.check(t, f.req.ID, f.req) // zero decision and execution fields stay zero
		done := executedOperation(newOperationRequest(newID(), at(time.Minute)))
		must(t, f.ops.CreateOperationRequest(t.Context(), done), "CreateOperationRequest")
		f.check(t, done.ID, done)
		bare := newOperationRequest(newID(), at(time.Minute))
		bare.Params = nil
		must(t, f.ops.CreateOperationRequest(t.Context(), bare), "CreateOperationRequest(no params)")
		f.check(t, bare.ID, bare)
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		f := newOperationFixture(t, factory)
		_, err := f.ops.OperationRequest(t.Context(), newID())
		checkIs(t, "OperationRequest(unknown ID)", err, ports.ErrNotFound)
		_, err = f.ops.UpdateOperationRequest(t.Context(), newID(), func(*ports.OperationRequest) error { return nil })
		checkIs(t, "UpdateOperationRequest(unknown ID)", err, ports.ErrNotFound)
	})

	t.Run("IDConflict", func(t *testing.T) {
		t.Parallel()
		f := newOperationFixture(t, factory)
		dup := newOperationRequest(f.req.ID, at(time.Hour))
		dup.Kind = ports.OpKeyRotation
		checkIs(t, "CreateOperationRequest(same ID)", f.ops.CreateOperationRequest(t.Context(), dup), ports.ErrConflict)
		f.check(t, f.req.ID, f.req)
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		f := newOperationFixture(t, factory)
		want := executedOperation(f.req)
		got, err := f.ops.UpdateOperationRequest(t.Context(), f.req.ID, func(r *ports.OperationRequest) error {
			checkOperationRequest(t, *r, f.req) // fn sees the stored record
			*r = want
			r.ID = newID() // the identity is not fn's to change
			return nil
		})
		must(t, err, "UpdateOperationRequest")
		checkOperationRequest(t, got, want)
		f.check(t, f.req.ID, want)
	})

	t.Run("UpdateErrorChangesNothing", func(t *testing.T) {
		t.Parallel()
		f := newOperationFixture(t, factory)
		_, err := f.ops.UpdateOperationRequest(t.Context(), f.req.ID, func(r *ports.OperationRequest) error {
			r.Status = ports.OperationApproved
			r.Params["tenant_id"] = newID()
			return errBoom
		})
		checkIs(t, "UpdateOperationRequest(fn fails)", err, errBoom)
		f.check(t, f.req.ID, f.req)
	})

	t.Run("NoAliasing", func(t *testing.T) {
		t.Parallel()
		f := newOperationFixture(t, factory)
		in := newOperationRequest(newID(), at(time.Minute))
		want := in
		want.Params = map[string]string{"tenant_id": in.Params["tenant_id"], "note": in.Params["note"]}
		must(t, f.ops.CreateOperationRequest(t.Context(), in), "CreateOperationRequest")
		in.Params["note"] = "changed by the caller after Create"
		got, err := f.ops.OperationRequest(t.Context(), in.ID)
		must(t, err, "OperationRequest")
		got.Params["note"] = "changed by the caller after a read"
		params := map[string]string{"tenant_id": "t-2"}
		got, err = f.ops.UpdateOperationRequest(t.Context(), in.ID, func(r *ports.OperationRequest) error {
			r.Params = params
			return nil
		})
		must(t, err, "UpdateOperationRequest")
		params["tenant_id"] = "changed by fn's caller"
		got.Params["tenant_id"] = "changed by the caller after Update"
		list, err := f.ops.ListOperationRequests(t.Context(), ports.OperationFilter{})
		must(t, err, "ListOperationRequests")
		for _, r := range list {
			r.Params["tenant_id"] = "changed by the caller after a list"
		}
		want.Params = map[string]string{"tenant_id": "t-2"}
		f.check(t, in.ID, want)
	})

	t.Run("RollbackInTx", func(t *testing.T) {
		t.Parallel()
		f := newOperationFixture(t, factory, "Tx")
		lost := newOperationRequest(newID(), at(time.Minute))
		err := f.s.Tx.InTx(t.Context(), func(ctx context.Context) error {
			must(t, f.ops.CreateOperationRequest(ctx, lost), "CreateOperationRequest(in tx)")
			_, err := f.ops.UpdateOperationRequest(ctx, f.req.ID, func(r *ports.OperationRequest) error {
				r.Status = ports.OperationExecuting
				return nil
			})
			must(t, err, "UpdateOperationRequest(in tx)")
			return errBoom
		})
		checkIs(t, "InTx(fn fails)", err, errBoom)
		f.check(t, f.req.ID, f.req)
		_, err = f.ops.OperationRequest(t.Context(), lost.ID)
		checkIs(t, "OperationRequest(rolled back)", err, ports.ErrNotFound)
	})

	t.Run("ConcurrentApprovals", func(t *testing.T) {
		t.Parallel()
		f := newOperationFixture(t, factory)
		checkOneWins(t, "approvals", 20, ports.ErrConflict, func(i int) error {
			_, err := f.ops.UpdateOperationRequest(t.Context(), f.req.ID, func(r *ports.OperationRequest) error {
				if r.Status != ports.OperationPending {
					return ports.ErrConflict
				}
				r.Status, r.DecidedBy = ports.OperationApproved, "op-"+itoa(i)
				return nil
			})
			return err
		})
		got, err := f.ops.OperationRequest(t.Context(), f.req.ID)
		must(t, err, "OperationRequest")
		checkEq(t, "Status", got.Status, ports.OperationApproved)
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		f := newOperationFixture(t, factory) // f.req: pending, requested at t0
		a := newOperationRequest("a", at(0))
		b := newOperationRequest("b", at(time.Minute))
		b.Kind, b.Params = ports.OpKeyRotation, nil
		c := newOperationRequest("c", at(2*time.Minute))
		c.Status = ports.OperationRejected
		for _, r := range []ports.OperationRequest{c, a, b} {
			must(t, f.ops.CreateOperationRequest(t.Context(), r), "CreateOperationRequest")
		}
		// f.req and a were requested at the same instant: by ID.
		first, second := "a", f.req.ID
		if f.req.ID < "a" {
			first, second = f.req.ID, "a"
		}
		for _, tc := range []struct {
			name string
			f    ports.OperationFilter
			want []string
		}{
			{"all", ports.OperationFilter{}, []string{"c", "b", first, second}},
			{"limit", ports.OperationFilter{Limit: 1}, []string{"c"}},
			{"status", ports.OperationFilter{Status: ports.OperationPending}, []string{"b", first, second}},
			{"kind", ports.OperationFilter{Kind: ports.OpKeyRotation}, []string{"b"}},
			{"status and kind", ports.OperationFilter{Status: ports.OperationPending, Kind: ports.OpTenantSuspend, Limit: 1}, []string{first}},
			{"none", ports.OperationFilter{Status: ports.OperationRejected, Kind: ports.OpKeyRotation}, nil},
		} {
			got, err := f.ops.ListOperationRequests(t.Context(), tc.f)
			must(t, err, "ListOperationRequests")
			ids := make([]string, len(got))
			for i, r := range got {
				ids[i] = r.ID
			}
			checkStrings(t, tc.name, ids, tc.want)
		}
	})
}

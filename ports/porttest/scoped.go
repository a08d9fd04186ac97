package porttest

import (
	"context"
	"testing"

	"github.com/roumu/roumu/ports"
)

// updateFunc is the shape of the tenant-scoped update methods (UpdateDepartment, UpdateJob, and
// UpdateEmployee through plainUpdate): fn changes a copy of the record, atomically.
type updateFunc[R any] func(ctx context.Context, tenantID, id string, fn func(*R) error) (R, error)

// scoped describes one store's tenant-scoped records, for the checks that all such stores share: reading
// back, hiding from other tenants, atomic updates that keep the record's identity.
type scoped[R any] struct {
	get    func(ctx context.Context, tenantID, id string) (R, error)
	update updateFunc[R]
	check  func(t *testing.T, got, want R)
	// touch is a change an update function makes that the store must keep; applied n times it must
	// show n times (so it must not be idempotent).
	touch func(r *R)
	// move changes what the store owns and an update function may not: the tenant, the ID and, where the
	// store counts versions, the version.
	move func(r *R, tenantID, id string)
	// bump is what the store itself changes on every update (the version), or nil.
	bump func(r *R)
}

// updated returns r as after n updates that each touched it.
func (sc scoped[R]) updated(r R, n int) R {
	for range n {
		sc.touch(&r)
		if sc.bump != nil {
			sc.bump(&r)
		}
	}
	return r
}

// checkStored fails unless the record id of tenantID is want.
func (sc scoped[R]) checkStored(t *testing.T, tenantID, id string, want R) {
	t.Helper()
	got, err := sc.get(t.Context(), tenantID, id)
	must(t, err, "get "+id)
	sc.check(t, got, want)
}

// checkHidden fails unless reading or updating record id as tenantID is ErrNotFound, without calling fn.
func (sc scoped[R]) checkHidden(t *testing.T, what, tenantID, id string) {
	t.Helper()
	_, err := sc.get(t.Context(), tenantID, id)
	checkIs(t, "get("+what+")", err, ports.ErrNotFound)
	called := false
	_, err = sc.update(t.Context(), tenantID, id, func(r *R) error {
		called = true
		sc.touch(r)
		return nil
	})
	checkIs(t, "update("+what+")", err, ports.ErrNotFound)
	if called {
		t.Errorf("update(%s) called fn", what)
	}
}

// checkUpdate updates orig with a function that sees the stored record and touches it, and fails unless
// the result and the stored record show the touch (and the store's bump).
func (sc scoped[R]) checkUpdate(t *testing.T, tenantID, id string, orig R) R {
	t.Helper()
	want := sc.updated(orig, 1)
	got, err := sc.update(t.Context(), tenantID, id, func(r *R) error {
		sc.check(t, *r, orig) // fn sees the stored record
		sc.touch(r)
		return nil
	})
	must(t, err, "update")
	sc.check(t, got, want)
	sc.checkStored(t, tenantID, id, want)
	return want
}

// checkUpdateKeepsIdentity updates orig with a function that also tries to move it to otherTenant under a
// new ID, and fails unless the record stayed where it was. Refusing the change is as good as ignoring it.
func (sc scoped[R]) checkUpdateKeepsIdentity(t *testing.T, tenantID, id, otherTenant string, orig R) {
	t.Helper()
	movedID := newID()
	got, err := sc.update(t.Context(), tenantID, id, func(r *R) error {
		sc.touch(r)
		sc.move(r, otherTenant, movedID)
		return nil
	})
	want := orig
	if err == nil {
		want = sc.updated(orig, 1)
		sc.check(t, got, want)
	}
	sc.checkStored(t, tenantID, id, want)
	for _, tenant := range []string{tenantID, otherTenant} {
		_, err = sc.get(t.Context(), tenant, movedID)
		checkIs(t, "get(the ID fn set)", err, ports.ErrNotFound)
	}
	_, err = sc.get(t.Context(), otherTenant, id)
	checkIs(t, "get(the tenant fn set)", err, ports.ErrNotFound)
}

// checkUpdateErrorChangesNothing fails unless an update whose function fails, after changing everything
// it can, returns that error and leaves orig as it was.
func (sc scoped[R]) checkUpdateErrorChangesNothing(t *testing.T, tenantID, id string, orig R) {
	t.Helper()
	_, err := sc.update(t.Context(), tenantID, id, func(r *R) error {
		sc.touch(r)
		sc.move(r, tenantID, newID())
		return errBoom
	})
	checkIs(t, "update(fn fails)", err, errBoom)
	sc.checkStored(t, tenantID, id, orig)
}

// checkConcurrentUpdates runs n updates of orig at once, each touching it, and fails unless every touch
// was kept: no update lost.
func (sc scoped[R]) checkConcurrentUpdates(t *testing.T, n int, tenantID, id string, orig R) {
	t.Helper()
	concurrently(n, func(i int) {
		_, err := sc.update(t.Context(), tenantID, id, func(r *R) error {
			sc.touch(r)
			return nil
		})
		if err != nil {
			t.Errorf("update #%d: %v", i, err)
		}
	})
	sc.checkStored(t, tenantID, id, sc.updated(orig, n))
}

// checkUpdateRolledBack fails unless an update made in a transaction that then fails is undone, though
// visible inside the transaction.
func (sc scoped[R]) checkUpdateRolledBack(t *testing.T, tx ports.Transactor, tenantID, id string, orig R) {
	t.Helper()
	err := tx.InTx(t.Context(), func(ctx context.Context) error {
		_, err := sc.update(ctx, tenantID, id, func(r *R) error {
			sc.touch(r)
			return nil
		})
		must(t, err, "update(in tx)")
		got, err := sc.get(ctx, tenantID, id)
		must(t, err, "get(in tx)")
		sc.check(t, got, sc.updated(orig, 1))
		return errBoom
	})
	checkIs(t, "InTx(fn fails)", err, errBoom)
	sc.checkStored(t, tenantID, id, orig)
}

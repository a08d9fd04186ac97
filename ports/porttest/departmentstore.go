package porttest

import (
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// newDepartment returns a department of tenantID under parentID ("" for a root) with every field set.
func newDepartment(tenantID, code, parentID string) ports.DepartmentRecord {
	return ports.DepartmentRecord{
		ID: newID(), TenantID: tenantID, Code: code, Name: "人事部 " + code, ParentID: parentID,
		Version: 1, CreatedAt: at(0), UpdatedAt: at(time.Hour),
	}
}

func checkDepartment(t *testing.T, got, want ports.DepartmentRecord) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "TenantID", got.TenantID, want.TenantID)
	checkEq(t, "Code", got.Code, want.Code)
	checkEq(t, "Name", got.Name, want.Name)
	checkEq(t, "ParentID", got.ParentID, want.ParentID)
	checkEq(t, "Version", got.Version, want.Version)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func createDepartment(t *testing.T, s Stores, d ports.DepartmentRecord) ports.DepartmentRecord {
	t.Helper()
	must(t, s.Departments.CreateDepartment(t.Context(), d), "CreateDepartment "+d.Code)
	return d
}

// checkDepartments fails unless the tenant's departments are want, in any order (the port fixes none).
func checkDepartments(t *testing.T, s Stores, tenantID string, want ...ports.DepartmentRecord) {
	t.Helper()
	list, err := s.Departments.ListDepartments(t.Context(), tenantID)
	must(t, err, "ListDepartments")
	byID := map[string]ports.DepartmentRecord{}
	for _, d := range want {
		byID[d.ID] = d
	}
	checkEq(t, "len(ListDepartments)", len(list), len(want))
	for _, got := range list {
		w, ok := byID[got.ID]
		if !ok {
			t.Errorf("ListDepartments returned unknown or repeated department %s %q", got.Code, got.ID)
			continue
		}
		delete(byID, got.ID)
		checkDepartment(t, got, w)
	}
}

// departments describes the DepartmentStore for the shared checks of tenant-scoped stores.
func departments(s Stores) scoped[ports.DepartmentRecord] {
	return scoped[ports.DepartmentRecord]{
		get:    s.Departments.DepartmentByID,
		update: s.Departments.UpdateDepartment,
		check:  checkDepartment,
		touch:  func(d *ports.DepartmentRecord) { d.Name += "+" },
		move: func(d *ports.DepartmentRecord, tenantID, id string) {
			d.TenantID, d.ID, d.Version = tenantID, id, 1000
		},
		bump: func(d *ports.DepartmentRecord) { d.Version++ },
	}
}

// departmentFixture is a tenant with a root department and a child of it, and another tenant.
type departmentFixture struct {
	s                   Stores
	sc                  scoped[ports.DepartmentRecord]
	tenant, otherTenant string
	root, child         ports.DepartmentRecord
}

func newDepartmentFixture(t *testing.T, factory Factory, need ...string) departmentFixture {
	t.Helper()
	s := open(t, factory, append(need, "Tenants", "Departments")...)
	f := departmentFixture{s: s, sc: departments(s)}
	// Real tenants, so that an SQL store may keep a foreign key to them.
	f.tenant = createTenant(t, s, "t"+newID()[:8]).ID
	f.otherTenant = createTenant(t, s, "t"+newID()[:8]).ID
	f.root = createDepartment(t, s, newDepartment(f.tenant, "D100", ""))
	f.child = createDepartment(t, s, newDepartment(f.tenant, "D110", f.root.ID))
	return f
}

// TestDepartmentStore is the contract suite of ports.DepartmentStore. It uses the TenantStore to create the
// tenants, the EmployeeStore for the case of a department that has employees, and the Transactor for the
// case in a transaction.
// An update function cannot change the ID, TenantID or Version (the store counts versions): the store
// ignores or refuses such changes. Deleting an unknown department is ErrNotFound.
func TestDepartmentStore(t *testing.T, factory Factory) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		f := newDepartmentFixture(t, factory)
		f.sc.checkStored(t, f.tenant, f.root.ID, f.root)
		f.sc.checkStored(t, f.tenant, f.child.ID, f.child)
		bare := createDepartment(t, f.s, ports.DepartmentRecord{ID: newID(), TenantID: f.tenant, Code: "D200", Name: "総務部", CreatedAt: at(0)})
		f.sc.checkStored(t, f.tenant, bare.ID, bare) // zero Version and UpdatedAt stay zero
		checkDepartments(t, f.s, f.tenant, f.root, f.child, bare)
		checkDepartments(t, f.s, f.otherTenant)
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		f := newDepartmentFixture(t, factory)
		f.sc.checkHidden(t, "unknown", f.tenant, newID())
		checkIs(t, "DeleteDepartment(unknown)", f.s.Departments.DeleteDepartment(t.Context(), f.tenant, newID()), ports.ErrNotFound)
	})

	t.Run("CodeConflict", func(t *testing.T) {
		t.Parallel()
		f := newDepartmentFixture(t, factory)
		dup := newDepartment(f.tenant, f.root.Code, "")
		checkIs(t, "CreateDepartment(code taken)", f.s.Departments.CreateDepartment(t.Context(), dup), ports.ErrConflict)
		sameID := newDepartment(f.otherTenant, "D900", "")
		sameID.ID = f.root.ID
		checkIs(t, "CreateDepartment(ID taken)", f.s.Departments.CreateDepartment(t.Context(), sameID), ports.ErrConflict)
		checkDepartments(t, f.s, f.tenant, f.root, f.child)
		checkDepartments(t, f.s, f.otherTenant)
		// The same code in another tenant is another department.
		twin := createDepartment(t, f.s, newDepartment(f.otherTenant, f.root.Code, ""))
		checkDepartments(t, f.s, f.otherTenant, twin)
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		f := newDepartmentFixture(t, factory)
		other := createDepartment(t, f.s, newDepartment(f.tenant, "D200", ""))
		want := f.child
		want.Code, want.Name, want.ParentID, want.UpdatedAt = "D210", "経理課", other.ID, at(48*time.Hour)
		want.Version++
		got, err := f.s.Departments.UpdateDepartment(t.Context(), f.tenant, f.child.ID, func(d *ports.DepartmentRecord) error {
			checkDepartment(t, *d, f.child) // fn sees the stored record
			d.Code, d.Name, d.ParentID, d.UpdatedAt = want.Code, want.Name, want.ParentID, want.UpdatedAt
			return nil
		})
		must(t, err, "UpdateDepartment")
		checkDepartment(t, got, want)
		want = f.sc.checkUpdate(t, f.tenant, f.child.ID, want) // every update counts a version
		checkDepartments(t, f.s, f.tenant, f.root, want, other)
		createDepartment(t, f.s, newDepartment(f.tenant, f.child.Code, "")) // the old code is free
	})

	t.Run("UpdateCodeConflict", func(t *testing.T) {
		t.Parallel()
		f := newDepartmentFixture(t, factory)
		abroad := createDepartment(t, f.s, newDepartment(f.otherTenant, "D300", ""))
		_, err := f.s.Departments.UpdateDepartment(t.Context(), f.tenant, f.child.ID, func(d *ports.DepartmentRecord) error {
			d.Code, d.Name = f.root.Code, "changed"
			return nil
		})
		checkIs(t, "UpdateDepartment(code taken)", err, ports.ErrConflict)
		checkDepartments(t, f.s, f.tenant, f.root, f.child)

		// A code taken only in another tenant is free here.
		want := f.child
		want.Code, want.Version = abroad.Code, want.Version+1
		_, err = f.s.Departments.UpdateDepartment(t.Context(), f.tenant, f.child.ID, func(d *ports.DepartmentRecord) error {
			d.Code = abroad.Code
			return nil
		})
		must(t, err, "UpdateDepartment(code of another tenant)")
		checkDepartments(t, f.s, f.tenant, f.root, want)
	})

	t.Run("UpdateKeepsIdentity", func(t *testing.T) {
		t.Parallel()
		f := newDepartmentFixture(t, factory)
		f.sc.checkUpdateKeepsIdentity(t, f.tenant, f.child.ID, f.otherTenant, f.child)
		checkDepartments(t, f.s, f.otherTenant)
	})

	t.Run("UpdateErrorChangesNothing", func(t *testing.T) {
		t.Parallel()
		f := newDepartmentFixture(t, factory)
		f.sc.checkUpdateErrorChangesNothing(t, f.tenant, f.child.ID, f.child)
		checkDepartments(t, f.s, f.tenant, f.root, f.child)
	})

	t.Run("TenantScoping", func(t *testing.T) {
		t.Parallel()
		f := newDepartmentFixture(t, factory)
		for _, tenant := range []string{f.otherTenant, ""} {
			f.sc.checkHidden(t, "other tenant", tenant, f.child.ID)
			checkIs(t, "DeleteDepartment(other tenant)", f.s.Departments.DeleteDepartment(t.Context(), tenant, f.child.ID), ports.ErrNotFound)
			checkDepartments(t, f.s, tenant)
		}
		checkDepartments(t, f.s, f.tenant, f.root, f.child)
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		f := newDepartmentFixture(t, factory)
		must(t, f.s.Departments.DeleteDepartment(t.Context(), f.tenant, f.child.ID), "DeleteDepartment(leaf)")
		f.sc.checkHidden(t, "deleted", f.tenant, f.child.ID)
		checkIs(t, "DeleteDepartment(again)", f.s.Departments.DeleteDepartment(t.Context(), f.tenant, f.child.ID), ports.ErrNotFound)
		checkDepartments(t, f.s, f.tenant, f.root)
		// The root has no child left, and the code is free again.
		must(t, f.s.Departments.DeleteDepartment(t.Context(), f.tenant, f.root.ID), "DeleteDepartment(root)")
		again := createDepartment(t, f.s, newDepartment(f.tenant, f.child.Code, ""))
		checkDepartments(t, f.s, f.tenant, again)
	})

	t.Run("DeleteWithSubDepartment", func(t *testing.T) {
		t.Parallel()
		f := newDepartmentFixture(t, factory)
		checkIs(t, "DeleteDepartment(with a child)", f.s.Departments.DeleteDepartment(t.Context(), f.tenant, f.root.ID), ports.ErrConflict)
		checkDepartments(t, f.s, f.tenant, f.root, f.child)
		// Once the child is a root of its own, nothing refers to the old root.
		_, err := f.s.Departments.UpdateDepartment(t.Context(), f.tenant, f.child.ID, func(d *ports.DepartmentRecord) error {
			d.ParentID = ""
			return nil
		})
		must(t, err, "UpdateDepartment(to root)")
		must(t, f.s.Departments.DeleteDepartment(t.Context(), f.tenant, f.root.ID), "DeleteDepartment(no child left)")
	})

	t.Run("DeleteWithEmployee", func(t *testing.T) {
		t.Parallel()
		f := newDepartmentFixture(t, factory, "Employees")
		moving := createEmployee(t, f.s, newEmployee(f.tenant, "E0001", f.child.ID))
		leaving := createEmployee(t, f.s, newEmployee(f.tenant, "E0002", f.child.ID))
		checkIs(t, "DeleteDepartment(with employees)", f.s.Departments.DeleteDepartment(t.Context(), f.tenant, f.child.ID), ports.ErrConflict)
		_, err := plainUpdate(f.s)(t.Context(), f.tenant, moving.ID, func(e *ports.EmployeeRecord) error {
			e.DepartmentID = f.root.ID
			return nil
		})
		must(t, err, "UpdateEmployee(other department)")
		checkIs(t, "DeleteDepartment(with an employee)", f.s.Departments.DeleteDepartment(t.Context(), f.tenant, f.child.ID), ports.ErrConflict)
		checkDepartments(t, f.s, f.tenant, f.root, f.child)
		must(t, f.s.Employees.DeleteEmployee(t.Context(), f.tenant, leaving.ID), "DeleteEmployee")
		must(t, f.s.Departments.DeleteDepartment(t.Context(), f.tenant, f.child.ID), "DeleteDepartment(no employee left)")
		checkDepartments(t, f.s, f.tenant, f.root)
	})

	t.Run("RollbackInTx", func(t *testing.T) {
		t.Parallel()
		f := newDepartmentFixture(t, factory, "Tx")
		f.sc.checkUpdateRolledBack(t, f.s.Tx, f.tenant, f.child.ID, f.child)
		checkDepartments(t, f.s, f.tenant, f.root, f.child)
	})

	t.Run("ConcurrentUpdateDepartment", func(t *testing.T) {
		t.Parallel()
		f := newDepartmentFixture(t, factory)
		f.sc.checkConcurrentUpdates(t, 20, f.tenant, f.child.ID, f.child)
	})
}

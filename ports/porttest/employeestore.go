package porttest

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// employeeData is the JSON of an employee's state. It is written the way no JSON library writes it (keys
// out of order, odd spacing, \u escapes, 1.0) so that a store that parses and re-encodes it, as a Postgres
// jsonb column does, fails: the store keeps the bytes.
func employeeData(number string) []byte {
	return []byte(`{"number":"` + number + `",  "family_name" : "山田", "note":"\u5c71\u7530", "pay":{"cash":1.0},` +
		`"my_number":"sealed:AAECAwQFBgcICQ=="}`)
}

// newEmployee returns an active full-time employee of tenantID with every field set.
func newEmployee(tenantID, number, departmentID string) ports.EmployeeRecord {
	return ports.EmployeeRecord{
		ID: newID(), TenantID: tenantID, EmployeeNumber: number, Status: ports.EmployeeActive,
		EmploymentType: "full_time", DepartmentID: departmentID, HireDate: "2020-04-01",
		SortKana: "ヤマダタロウ", SearchText: "山田太郎 やまだたろう " + number + " taro.yamada@example.jp",
		Data: employeeData(number), EffectiveOn: "2020-04-01", NextChangeOn: "2025-10-01",
		Version: 1, CreatedAt: at(0), UpdatedAt: at(time.Hour),
	}
}

// newChange returns a change of e, effective from effectiveOn, recorded by the account recordedBy at
// recorded. Its Seq is nonsense: the store assigns Seq, whatever the caller says.
func newChange(e ports.EmployeeRecord, effectiveOn, recordedBy string, recorded time.Time) ports.EmployeeChangeRecord {
	return ports.EmployeeChangeRecord{
		ID: newID(), TenantID: e.TenantID, EmployeeID: e.ID, Seq: 99, EffectiveOn: effectiveOn, Kind: "change",
		Patch:      []byte(`{"position": "課長",  "my_number":"sealed:AAEC"}`),
		Trail:      []byte(`[{"field":"position","from":"","to":"課長"}, {"field":"my_number","from":"********9018","to":"********1234"}]`),
		RecordedAt: recorded, RecordedBy: recordedBy,
	}
}

// withSeq returns c as the store keeps it: with the Seq it assigned.
func withSeq(c ports.EmployeeChangeRecord, seq int64) ports.EmployeeChangeRecord {
	c.Seq = seq
	return c
}

func checkEmployee(t *testing.T, got, want ports.EmployeeRecord) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "TenantID", got.TenantID, want.TenantID)
	checkEq(t, "EmployeeNumber", got.EmployeeNumber, want.EmployeeNumber)
	checkEq(t, "Status", got.Status, want.Status)
	checkEq(t, "EmploymentType", got.EmploymentType, want.EmploymentType)
	checkEq(t, "DepartmentID", got.DepartmentID, want.DepartmentID)
	checkEq(t, "AccountID", got.AccountID, want.AccountID)
	checkEq(t, "HireDate", got.HireDate, want.HireDate)
	checkEq(t, "SortKana", got.SortKana, want.SortKana)
	checkEq(t, "SearchText", got.SearchText, want.SearchText)
	checkBytes(t, "Data", got.Data, want.Data)
	checkEq(t, "EffectiveOn", got.EffectiveOn, want.EffectiveOn)
	checkEq(t, "NextChangeOn", got.NextChangeOn, want.NextChangeOn)
	checkEq(t, "Version", got.Version, want.Version)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

// checkChangeList fails unless got is want, in that order, every field alike.
func checkChangeList(t *testing.T, what string, got, want []ports.EmployeeChangeRecord) {
	t.Helper()
	ids := func(cs []ports.EmployeeChangeRecord) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c.ID[:8]+"#"+itoa(int(c.Seq)))
		}
		return out
	}
	if len(got) != len(want) {
		t.Errorf("%s = %q, want %q", what, ids(got), ids(want))
		return
	}
	for i, w := range want {
		g := got[i]
		checkEq(t, what+" ID", g.ID, w.ID)
		checkEq(t, what+" TenantID", g.TenantID, w.TenantID)
		checkEq(t, what+" EmployeeID", g.EmployeeID, w.EmployeeID)
		checkEq(t, what+" Seq", g.Seq, w.Seq)
		checkEq(t, what+" EffectiveOn", g.EffectiveOn, w.EffectiveOn)
		checkEq(t, what+" Kind", g.Kind, w.Kind)
		checkBytes(t, what+" Patch", g.Patch, w.Patch)
		checkBytes(t, what+" Trail", g.Trail, w.Trail)
		checkTime(t, what+" RecordedAt", g.RecordedAt, w.RecordedAt)
		checkEq(t, what+" RecordedBy", g.RecordedBy, w.RecordedBy)
	}
}

// checkChanges fails unless the employee's changes are want, in that order.
func checkChanges(t *testing.T, s Stores, tenantID, employeeID string, want ...ports.EmployeeChangeRecord) {
	t.Helper()
	got, err := s.Employees.EmployeeChanges(t.Context(), tenantID, employeeID)
	must(t, err, "EmployeeChanges")
	checkChangeList(t, "EmployeeChanges", got, want)
}

// changeSeqs returns the Seq of each of the employee's changes, by change ID.
func changeSeqs(t *testing.T, s Stores, tenantID, employeeID string) map[string]int64 {
	t.Helper()
	got, err := s.Employees.EmployeeChanges(t.Context(), tenantID, employeeID)
	must(t, err, "EmployeeChanges")
	seqs := map[string]int64{}
	for _, c := range got {
		seqs[c.ID] = c.Seq
	}
	return seqs
}

// createEmployee stores e with its first changes and returns it.
func createEmployee(t *testing.T, s Stores, e ports.EmployeeRecord, changes ...ports.EmployeeChangeRecord) ports.EmployeeRecord {
	t.Helper()
	must(t, s.Employees.CreateEmployees(t.Context(), []ports.EmployeeRecord{e}, changes), "CreateEmployees "+e.EmployeeNumber)
	return e
}

// checkStoredEmployee fails unless the employee, read by ID and by number, is want.
func checkStoredEmployee(t *testing.T, s Stores, want ports.EmployeeRecord) {
	t.Helper()
	got, err := s.Employees.EmployeeByID(t.Context(), want.TenantID, want.ID)
	must(t, err, "EmployeeByID")
	checkEmployee(t, got, want)
	got, err = s.Employees.EmployeeByNumber(t.Context(), want.TenantID, want.EmployeeNumber)
	must(t, err, "EmployeeByNumber")
	checkEmployee(t, got, want)
}

// checkNoEmployee fails unless the tenant has no employee with that ID, nor with that number.
func checkNoEmployee(t *testing.T, s Stores, tenantID, id, number string) {
	t.Helper()
	_, err := s.Employees.EmployeeByID(t.Context(), tenantID, id)
	checkIs(t, "EmployeeByID(absent)", err, ports.ErrNotFound)
	_, err = s.Employees.EmployeeByNumber(t.Context(), tenantID, number)
	checkIs(t, "EmployeeByNumber(absent)", err, ports.ErrNotFound)
	_, err = s.Employees.EmployeeChanges(t.Context(), tenantID, id)
	checkIs(t, "EmployeeChanges(absent)", err, ports.ErrNotFound)
}

// plainUpdate adapts UpdateEmployee to the shape of the other stores' updates: fn changes the record
// only, and no change is appended or removed.
func plainUpdate(s Stores) updateFunc[ports.EmployeeRecord] {
	return func(ctx context.Context, tenantID, id string, fn func(*ports.EmployeeRecord) error) (ports.EmployeeRecord, error) {
		return s.Employees.UpdateEmployee(ctx, tenantID, id, func(r *ports.EmployeeRecord, _ []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
			return ports.EmployeeUpdate{}, fn(r)
		})
	}
}

// employees describes the EmployeeStore for the shared checks of tenant-scoped stores.
func employees(s Stores) scoped[ports.EmployeeRecord] {
	return scoped[ports.EmployeeRecord]{
		get:    s.Employees.EmployeeByID,
		update: plainUpdate(s),
		check:  checkEmployee,
		touch:  func(e *ports.EmployeeRecord) { e.SearchText += "+" },
		move: func(e *ports.EmployeeRecord, tenantID, id string) {
			e.TenantID, e.ID, e.Version = tenantID, id, 1000
		},
		bump: func(e *ports.EmployeeRecord) { e.Version++ },
	}
}

// seeing returns an update function that checks it is given want and wantChanges, the stored record and
// changes, then applies change to the record and returns up.
func seeing(t *testing.T, want ports.EmployeeRecord, wantChanges []ports.EmployeeChangeRecord, change func(*ports.EmployeeRecord), up ports.EmployeeUpdate) func(*ports.EmployeeRecord, []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
	return func(r *ports.EmployeeRecord, changes []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
		t.Helper()
		checkEmployee(t, *r, want)
		checkChangeList(t, "changes given to fn", changes, wantChanges)
		change(r)
		return up, nil
	}
}

// employeeFixture is two tenants, each with a member (who records changes) and a department, and an
// employee of the first with its hire and one scheduled change.
type employeeFixture struct {
	s                     Stores
	sc                    scoped[ports.EmployeeRecord]
	tenant, otherTenant   string
	account, otherAccount string
	dept, otherDept       string
	emp                   ports.EmployeeRecord
	hire, scheduled       ports.EmployeeChangeRecord // as stored: Seq 1 and 2
}

var employeeStores = []string{"Tenants", "Accounts", "Departments", "Employees"}

func newEmployeeFixture(t *testing.T, factory Factory, need ...string) employeeFixture {
	t.Helper()
	s := open(t, factory, append(need, employeeStores...)...)
	f := employeeFixture{s: s, sc: employees(s)}
	// Real tenants, accounts and departments, so that an SQL store may keep foreign keys to them.
	f.tenant, f.account = someone(t, s, false)
	f.otherTenant, f.otherAccount = someone(t, s, false)
	f.dept = createDepartment(t, s, newDepartment(f.tenant, "D100", "")).ID
	f.otherDept = createDepartment(t, s, newDepartment(f.otherTenant, "D100", "")).ID
	f.emp = newEmployee(f.tenant, "E0001", f.dept)
	hire := newChange(f.emp, "2020-04-01", f.account, at(0))
	hire.Kind = "hire"
	scheduled := newChange(f.emp, "2025-10-01", f.account, at(time.Minute))
	createEmployee(t, s, f.emp, hire, scheduled)
	f.hire, f.scheduled = withSeq(hire, 1), withSeq(scheduled, 2)
	return f
}

// hired creates an employee of tenantID (the fixture's or the other) in its department, with a hire
// recorded by its member, and returns both as stored.
func (f employeeFixture) hired(t *testing.T, tenantID, number string) (ports.EmployeeRecord, ports.EmployeeChangeRecord) {
	t.Helper()
	dept, member := f.dept, f.account
	if tenantID == f.otherTenant {
		dept, member = f.otherDept, f.otherAccount
	}
	e := newEmployee(tenantID, number, dept)
	hire := newChange(e, "2021-04-01", member, at(0))
	hire.Kind = "hire"
	createEmployee(t, f.s, e, hire)
	return e, withSeq(hire, 1)
}

// TestEmployeeStore is the contract suite of ports.EmployeeStore. It uses the TenantStore, AccountStore
// and DepartmentStore to create the tenants, the members who record changes and the departments employees
// belong to, and the Transactor for the case in a transaction. Interpretations of what the port leaves open:
//   - An update function cannot change the record's ID, TenantID or Version (the store counts versions):
//     the store ignores or refuses such changes.
//   - The store numbers appended changes after the employee's highest Seq, in the order of Append; after a
//     Remove, the next Seq is only promised to be above the remaining ones (reusing a removed one is fine).
//   - Remove naming a change of another employee or tenant does not touch it; the store may ignore that ID
//     or refuse the whole update. Rewrite ignores such IDs, as its port comment says.
//   - DeleteEmployee and EmployeeChanges of an unknown employee are ErrNotFound, like another tenant's.
//
// ListEmployees and EmployeesDue have their own cases in employeelist.go.
func TestEmployeeStore(t *testing.T, factory Factory) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		checkStoredEmployee(t, f.s, f.emp)
		checkChanges(t, f.s, f.tenant, f.emp.ID, f.hire, f.scheduled)

		bare := createEmployee(t, f.s, ports.EmployeeRecord{
			ID: newID(), TenantID: f.tenant, EmployeeNumber: "E0002", Status: ports.EmployeeActive,
			EmploymentType: "part_time", HireDate: "2024-12-01", Data: []byte(`{}`), EffectiveOn: "2024-12-01",
			Version: 1, CreatedAt: at(0), UpdatedAt: at(0),
		})
		checkStoredEmployee(t, f.s, bare) // no department, reading, search text or scheduled change
		checkChanges(t, f.s, f.tenant, bare.ID)
	})

	t.Run("CreateBatch", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		a, b, c := newEmployee(f.tenant, "E0101", f.dept), newEmployee(f.tenant, "E0102", ""), newEmployee(f.tenant, "E0103", f.dept)
		a1, b1 := newChange(a, "2021-04-01", f.account, at(0)), newChange(b, "2021-04-01", f.account, at(0))
		a2, a3 := newChange(a, "2020-01-01", f.account, at(0)), newChange(a, "2021-04-01", f.account, at(0))
		// Each employee's changes are numbered in the order given, whatever the other employees' changes.
		must(t, f.s.Employees.CreateEmployees(t.Context(), []ports.EmployeeRecord{a, b, c}, []ports.EmployeeChangeRecord{a1, b1, a2, a3}), "CreateEmployees")
		for _, e := range []ports.EmployeeRecord{a, b, c} {
			checkStoredEmployee(t, f.s, e)
		}
		checkChanges(t, f.s, f.tenant, a.ID, withSeq(a2, 2), withSeq(a1, 1), withSeq(a3, 3))
		checkChanges(t, f.s, f.tenant, b.ID, withSeq(b1, 1))
		checkChanges(t, f.s, f.tenant, c.ID)
		must(t, f.s.Employees.CreateEmployees(t.Context(), nil, nil), "CreateEmployees(none)")
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		unknown := newID()
		f.sc.checkHidden(t, "unknown", f.tenant, unknown)
		checkNoEmployee(t, f.s, f.tenant, unknown, "E9999")
		checkIs(t, "DeleteEmployee(unknown)", f.s.Employees.DeleteEmployee(t.Context(), f.tenant, unknown), ports.ErrNotFound)
	})

	t.Run("NumberConflict", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		dup := newEmployee(f.tenant, f.emp.EmployeeNumber, f.dept)
		sameID := newEmployee(f.tenant, "E0002", f.dept)
		sameID.ID = f.emp.ID
		fresh, fresh2 := newEmployee(f.tenant, "E0003", f.dept), newEmployee(f.tenant, "E0003", "")
		freshChange := newChange(fresh, "2020-04-01", f.account, at(0))
		takenChange := newChange(fresh, "2020-04-01", f.account, at(0))
		takenChange.ID = f.hire.ID
		for _, c := range []struct {
			name    string
			recs    []ports.EmployeeRecord
			changes []ports.EmployeeChangeRecord
		}{
			{"number taken", []ports.EmployeeRecord{dup}, nil},
			{"ID taken", []ports.EmployeeRecord{sameID}, nil},
			{"one row of the batch taken", []ports.EmployeeRecord{fresh, dup}, []ports.EmployeeChangeRecord{freshChange}},
			{"one number twice in the batch", []ports.EmployeeRecord{fresh, fresh2}, nil},
			{"change ID taken", []ports.EmployeeRecord{fresh}, []ports.EmployeeChangeRecord{freshChange, takenChange}},
		} {
			err := f.s.Employees.CreateEmployees(t.Context(), c.recs, c.changes)
			checkIs(t, "CreateEmployees("+c.name+")", err, ports.ErrConflict)
		}
		// All or none: nothing of a refused batch was stored, nor the employee with a taken ID.
		checkNoEmployee(t, f.s, f.tenant, fresh.ID, fresh.EmployeeNumber)
		checkNoEmployee(t, f.s, f.tenant, fresh2.ID, sameID.EmployeeNumber)
		checkStoredEmployee(t, f.s, f.emp)
		checkChanges(t, f.s, f.tenant, f.emp.ID, f.hire, f.scheduled)
		n, err := f.s.Employees.CountEmployees(t.Context(), ports.EmployeeQuery{TenantID: f.tenant})
		must(t, err, "CountEmployees")
		checkEq(t, "CountEmployees", n, 1)

		// The same number in another tenant is another employee; the refused batch is fine on its own.
		createEmployee(t, f.s, newEmployee(f.otherTenant, f.emp.EmployeeNumber, f.otherDept))
		must(t, f.s.Employees.CreateEmployees(t.Context(), []ports.EmployeeRecord{fresh}, []ports.EmployeeChangeRecord{freshChange}), "CreateEmployees(after refusals)")
		checkStoredEmployee(t, f.s, fresh)
		checkChanges(t, f.s, f.tenant, fresh.ID, withSeq(freshChange, 1))
	})

	t.Run("TenantScoping", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		twin := createEmployee(t, f.s, newEmployee(f.otherTenant, f.emp.EmployeeNumber, f.otherDept))
		for _, tenant := range []string{f.otherTenant, ""} {
			f.sc.checkHidden(t, "other tenant", tenant, f.emp.ID)
			_, err := f.s.Employees.EmployeeChanges(t.Context(), tenant, f.emp.ID)
			checkIs(t, "EmployeeChanges(other tenant)", err, ports.ErrNotFound)
			checkIs(t, "DeleteEmployee(other tenant)", f.s.Employees.DeleteEmployee(t.Context(), tenant, f.emp.ID), ports.ErrNotFound)
		}
		_, err := f.s.Employees.EmployeeByNumber(t.Context(), "", f.emp.EmployeeNumber)
		checkIs(t, "EmployeeByNumber(no tenant)", err, ports.ErrNotFound)
		checkStoredEmployee(t, f.s, f.emp)
		checkStoredEmployee(t, f.s, twin) // EmployeeByNumber finds each tenant's own
		checkChanges(t, f.s, f.tenant, f.emp.ID, f.hire, f.scheduled)
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		moved := createDepartment(t, f.s, newDepartment(f.tenant, "D200", f.dept)).ID
		want := f.emp
		want.EmployeeNumber, want.Status, want.EmploymentType, want.DepartmentID = "E0500", ports.EmployeeOnLeave, "contract", moved
		want.HireDate, want.SortKana, want.SearchText = "2020-05-01", "サトウハナコ", "佐藤花子 さとうはなこ E0500"
		want.Data, want.EffectiveOn, want.NextChangeOn = []byte(`{"family_name":"佐藤" }`), "2025-04-01", "2026-01-01"
		want.Version, want.UpdatedAt = f.emp.Version+1, at(48*time.Hour)
		backdated, later := newChange(f.emp, "2020-04-01", f.account, at(time.Hour)), newChange(f.emp, "2026-01-01", f.account, at(time.Hour))
		got, err := f.s.Employees.UpdateEmployee(t.Context(), f.tenant, f.emp.ID, seeing(t, f.emp, []ports.EmployeeChangeRecord{f.hire, f.scheduled},
			func(r *ports.EmployeeRecord) {
				version := r.Version
				*r = want
				r.Version = version
			},
			ports.EmployeeUpdate{Append: []ports.EmployeeChangeRecord{later, backdated}, Remove: []string{f.scheduled.ID}}))
		must(t, err, "UpdateEmployee")
		checkEmployee(t, got, want)
		checkStoredEmployee(t, f.s, want)
		// Numbered in recording order, above the hire (a removed change's Seq may be reused), and listed by
		// (EffectiveOn, Seq): the backdated change follows the hire it shares a day with.
		seq := changeSeqs(t, f.s, f.tenant, f.emp.ID)
		if !(f.hire.Seq < seq[later.ID] && seq[later.ID] < seq[backdated.ID]) {
			t.Errorf("Seq of hire, later, backdated = %d, %d, %d; want increasing", f.hire.Seq, seq[later.ID], seq[backdated.ID])
		}
		checkChanges(t, f.s, f.tenant, f.emp.ID, f.hire, withSeq(backdated, seq[backdated.ID]), withSeq(later, seq[later.ID]))
		_, err = f.s.Employees.EmployeeByNumber(t.Context(), f.tenant, f.emp.EmployeeNumber)
		checkIs(t, "EmployeeByNumber(old number)", err, ports.ErrNotFound)
		createEmployee(t, f.s, newEmployee(f.tenant, f.emp.EmployeeNumber, f.dept)) // the old number is free

		// Every update counts a version, even one that changes nothing else.
		f.sc.checkUpdate(t, f.tenant, f.emp.ID, want)
	})

	t.Run("ChangesOrderedByEffectiveDateThenSeq", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		want := []ports.EmployeeChangeRecord{f.hire}
		var sameDay []ports.EmployeeChangeRecord
		for i := range 10 {
			c := newChange(f.emp, "2024-01-01", f.account, at(time.Duration(i)*time.Second))
			sameDay = append(sameDay, c)
			want = append(want, withSeq(c, int64(3+i))) // past 9: numbers, not strings, are compared
		}
		want = append(want, f.scheduled)
		past := newChange(f.emp, "2019-12-31", f.account, at(time.Hour))
		_, err := f.s.Employees.UpdateEmployee(t.Context(), f.tenant, f.emp.ID, seeing(t, f.emp, []ports.EmployeeChangeRecord{f.hire, f.scheduled},
			func(*ports.EmployeeRecord) {}, ports.EmployeeUpdate{Append: sameDay}))
		must(t, err, "UpdateEmployee(same day)")
		updated := f.emp
		updated.Version++
		_, err = f.s.Employees.UpdateEmployee(t.Context(), f.tenant, f.emp.ID, seeing(t, updated, want,
			func(*ports.EmployeeRecord) {}, ports.EmployeeUpdate{Append: []ports.EmployeeChangeRecord{past}}))
		must(t, err, "UpdateEmployee(backdated)")
		checkChanges(t, f.s, f.tenant, f.emp.ID, slices.Concat([]ports.EmployeeChangeRecord{withSeq(past, 13)}, want)...)
	})

	t.Run("SeqAfterRemove", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		// Cancelling the scheduled change and recording a new one in the same update, then once more.
		for round := range 2 {
			next := newChange(f.emp, "2025-11-01", f.account, at(time.Hour))
			_, err := f.s.Employees.UpdateEmployee(t.Context(), f.tenant, f.emp.ID, func(_ *ports.EmployeeRecord, cs []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
				return ports.EmployeeUpdate{Append: []ports.EmployeeChangeRecord{next}, Remove: []string{cs[len(cs)-1].ID}}, nil
			})
			must(t, err, "UpdateEmployee")
			got, err := f.s.Employees.EmployeeChanges(t.Context(), f.tenant, f.emp.ID)
			must(t, err, "EmployeeChanges")
			if len(got) != 2 || got[0].ID != f.hire.ID || got[1].ID != next.ID {
				t.Fatalf("round %d: EmployeeChanges = %d changes, want the hire and the new change", round, len(got))
			}
			checkChangeList(t, "hire", got[:1], []ports.EmployeeChangeRecord{f.hire})
			if got[1].Seq <= got[0].Seq {
				t.Errorf("round %d: Seq of the new change = %d, want above the hire's %d", round, got[1].Seq, got[0].Seq)
			}
		}
	})

	t.Run("RemoveOnlyOwnChanges", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		colleague, colleagueHire := f.hired(t, f.tenant, "E0002")
		stranger, strangerHire := f.hired(t, f.otherTenant, "E0001")

		got, err := f.s.Employees.UpdateEmployee(t.Context(), f.tenant, f.emp.ID, func(*ports.EmployeeRecord, []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
			return ports.EmployeeUpdate{Remove: []string{colleagueHire.ID, strangerHire.ID, newID(), f.scheduled.ID}}, nil
		})
		// Ignoring the IDs that are not the employee's is as good as refusing the update.
		if err == nil {
			want := f.emp
			want.Version++
			checkEmployee(t, got, want)
			checkChanges(t, f.s, f.tenant, f.emp.ID, f.hire)
		} else {
			checkStoredEmployee(t, f.s, f.emp)
			checkChanges(t, f.s, f.tenant, f.emp.ID, f.hire, f.scheduled)
		}
		checkChanges(t, f.s, f.tenant, colleague.ID, colleagueHire)
		checkChanges(t, f.s, f.otherTenant, stranger.ID, strangerHire)
	})

	t.Run("RewriteChanges", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		colleague, colleagueHire := f.hired(t, f.tenant, "E0002")
		stranger, strangerHire := f.hired(t, f.otherTenant, "E0001")
		// Re-sealing: the record's Data and the hire's Patch and Trail change; what else the rewrite says
		// about the hire (its dates, order, kind, author) is not the rewrite's to change.
		resealed := f.hire
		resealed.Patch, resealed.Trail = []byte(`{"my_number":"sealed:v2:AAEC",  "position":"課長"}`), []byte(`[{"field":"my_number","to":"********1234"}]`)
		rewrite := resealed
		rewrite.Seq, rewrite.EffectiveOn, rewrite.Kind, rewrite.RecordedAt, rewrite.RecordedBy = 7, "1999-01-01", "import", at(time.Hour), f.otherAccount
		rewrite.TenantID, rewrite.EmployeeID = f.otherTenant, stranger.ID
		others := []ports.EmployeeChangeRecord{colleagueHire, strangerHire, {ID: newID()}}
		for i := range others {
			others[i].Patch, others[i].Trail = []byte(`{"stolen":true}`), []byte(`[]`)
		}
		want := f.emp
		want.Data, want.Version = []byte(`{"my_number":"sealed:v2:AAECAwQFBgcICQ=="}`), f.emp.Version+1
		got, err := f.s.Employees.UpdateEmployee(t.Context(), f.tenant, f.emp.ID, seeing(t, f.emp, []ports.EmployeeChangeRecord{f.hire, f.scheduled},
			func(r *ports.EmployeeRecord) { r.Data = want.Data },
			ports.EmployeeUpdate{Rewrite: append([]ports.EmployeeChangeRecord{rewrite}, others...)}))
		must(t, err, "UpdateEmployee(rewrite)")
		checkEmployee(t, got, want)
		checkChanges(t, f.s, f.tenant, f.emp.ID, resealed, f.scheduled)
		checkChanges(t, f.s, f.tenant, colleague.ID, colleagueHire)
		checkChanges(t, f.s, f.otherTenant, stranger.ID, strangerHire)

		// Rewritten and removed in one update: removed. Rewriting in an update that fails changes nothing.
		_, err = f.s.Employees.UpdateEmployee(t.Context(), f.tenant, f.emp.ID, func(*ports.EmployeeRecord, []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
			return ports.EmployeeUpdate{Rewrite: []ports.EmployeeChangeRecord{f.hire, f.scheduled}, Remove: []string{f.scheduled.ID}}, nil
		})
		must(t, err, "UpdateEmployee(rewrite and remove)")
		checkChanges(t, f.s, f.tenant, f.emp.ID, f.hire)
		_, err = f.s.Employees.UpdateEmployee(t.Context(), f.tenant, f.emp.ID, func(*ports.EmployeeRecord, []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
			return ports.EmployeeUpdate{Rewrite: []ports.EmployeeChangeRecord{resealed}}, errBoom
		})
		checkIs(t, "UpdateEmployee(fn fails)", err, errBoom)
		checkChanges(t, f.s, f.tenant, f.emp.ID, f.hire)
	})

	t.Run("UpdateNumberConflict", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		colleague := createEmployee(t, f.s, newEmployee(f.tenant, "E0002", f.dept))
		abroad := createEmployee(t, f.s, newEmployee(f.otherTenant, "E0003", f.otherDept))
		_, err := f.s.Employees.UpdateEmployee(t.Context(), f.tenant, f.emp.ID, func(r *ports.EmployeeRecord, _ []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
			r.EmployeeNumber, r.SearchText = colleague.EmployeeNumber, "changed"
			return ports.EmployeeUpdate{Append: []ports.EmployeeChangeRecord{newChange(*r, "2025-05-01", f.account, at(0))}, Remove: []string{f.scheduled.ID}}, nil
		})
		checkIs(t, "UpdateEmployee(number taken)", err, ports.ErrConflict)
		checkStoredEmployee(t, f.s, f.emp)
		checkStoredEmployee(t, f.s, colleague)
		checkChanges(t, f.s, f.tenant, f.emp.ID, f.hire, f.scheduled)

		// A number taken only in another tenant is free here.
		want := f.emp
		want.EmployeeNumber, want.Version = abroad.EmployeeNumber, want.Version+1
		_, err = f.s.Employees.UpdateEmployee(t.Context(), f.tenant, f.emp.ID, seeing(t, f.emp, []ports.EmployeeChangeRecord{f.hire, f.scheduled},
			func(r *ports.EmployeeRecord) { r.EmployeeNumber = abroad.EmployeeNumber }, ports.EmployeeUpdate{}))
		must(t, err, "UpdateEmployee(number of another tenant)")
		checkStoredEmployee(t, f.s, want)
		checkStoredEmployee(t, f.s, abroad)
	})

	t.Run("UpdateKeepsIdentity", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		f.sc.checkUpdateKeepsIdentity(t, f.tenant, f.emp.ID, f.otherTenant, f.emp)
		checkChanges(t, f.s, f.tenant, f.emp.ID, f.hire, f.scheduled)
	})

	t.Run("UpdateErrorChangesNothing", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		f.sc.checkUpdateErrorChangesNothing(t, f.tenant, f.emp.ID, f.emp)
		_, err := f.s.Employees.UpdateEmployee(t.Context(), f.tenant, f.emp.ID, func(r *ports.EmployeeRecord, _ []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
			r.EmployeeNumber, r.NextChangeOn = "E0777", ""
			return ports.EmployeeUpdate{Append: []ports.EmployeeChangeRecord{newChange(*r, "2025-05-01", f.account, at(0))}, Remove: []string{f.scheduled.ID}}, errBoom
		})
		checkIs(t, "UpdateEmployee(fn fails)", err, errBoom)
		checkStoredEmployee(t, f.s, f.emp)
		checkChanges(t, f.s, f.tenant, f.emp.ID, f.hire, f.scheduled)
		_, err = f.s.Employees.EmployeeByNumber(t.Context(), f.tenant, "E0777")
		checkIs(t, "EmployeeByNumber(number of the failed update)", err, ports.ErrNotFound)
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		colleague, colleagueHire := f.hired(t, f.tenant, "E0002")
		must(t, f.s.Employees.DeleteEmployee(t.Context(), f.tenant, f.emp.ID), "DeleteEmployee")
		checkNoEmployee(t, f.s, f.tenant, f.emp.ID, f.emp.EmployeeNumber)
		checkIs(t, "DeleteEmployee(again)", f.s.Employees.DeleteEmployee(t.Context(), f.tenant, f.emp.ID), ports.ErrNotFound)
		f.sc.checkHidden(t, "deleted", f.tenant, f.emp.ID)
		checkStoredEmployee(t, f.s, colleague)
		checkChanges(t, f.s, f.tenant, colleague.ID, colleagueHire)

		// The changes went with the employee: the same ID, number and change ID start afresh.
		again := f.emp
		again.SearchText = "again"
		rehire := newChange(again, "2026-04-01", f.account, at(time.Hour))
		rehire.ID = f.hire.ID
		createEmployee(t, f.s, again, rehire)
		checkStoredEmployee(t, f.s, again)
		checkChanges(t, f.s, f.tenant, again.ID, withSeq(rehire, 1))
	})

	t.Run("NoAliasing", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		in := newEmployee(f.tenant, "E0002", f.dept)
		change := newChange(in, "2021-04-01", f.account, at(0))
		want, wantChange := in, withSeq(change, 1)
		want.Data = bytes.Clone(in.Data)
		wantChange.Patch, wantChange.Trail = bytes.Clone(change.Patch), bytes.Clone(change.Trail)
		createEmployee(t, f.s, in, change)
		spoil := func(bs ...[]byte) {
			for _, b := range bs {
				b[0] ^= 0xff
			}
		}
		spoil(in.Data, change.Patch, change.Trail)

		got, err := f.s.Employees.EmployeeByID(t.Context(), f.tenant, in.ID)
		must(t, err, "EmployeeByID")
		spoil(got.Data)
		list, err := f.s.Employees.ListEmployees(t.Context(), ports.EmployeeQuery{TenantID: f.tenant})
		must(t, err, "ListEmployees")
		spoil(list[0].Data)
		changes, err := f.s.Employees.EmployeeChanges(t.Context(), f.tenant, in.ID)
		must(t, err, "EmployeeChanges")
		spoil(changes[0].Patch, changes[0].Trail)
		added := newChange(in, "2022-04-01", f.account, at(0))
		wantAdded := withSeq(added, 2)
		wantAdded.Patch = bytes.Clone(added.Patch)
		got, err = f.s.Employees.UpdateEmployee(t.Context(), f.tenant, in.ID, func(r *ports.EmployeeRecord, cs []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
			spoil(cs[0].Patch, cs[0].Trail) // fn's copies, not the store's
			return ports.EmployeeUpdate{Append: []ports.EmployeeChangeRecord{added}}, nil
		})
		must(t, err, "UpdateEmployee")
		spoil(got.Data, added.Patch)
		want.Version++
		checkStoredEmployee(t, f.s, want)
		checkChanges(t, f.s, f.tenant, in.ID, wantChange, wantAdded)
		checkStoredEmployee(t, f.s, f.emp)
	})

	t.Run("RollbackInTx", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory, "Tx")
		colleague := createEmployee(t, f.s, newEmployee(f.tenant, "E0002", f.dept))
		hired := newEmployee(f.tenant, "E0003", f.dept)
		err := f.s.Tx.InTx(t.Context(), func(ctx context.Context) error {
			must(t, f.s.Employees.CreateEmployees(ctx, []ports.EmployeeRecord{hired}, []ports.EmployeeChangeRecord{newChange(hired, "2025-04-01", f.account, at(0))}), "CreateEmployees")
			_, err := f.s.Employees.UpdateEmployee(ctx, f.tenant, f.emp.ID, func(r *ports.EmployeeRecord, _ []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
				r.EmployeeNumber = "E0004"
				return ports.EmployeeUpdate{Append: []ports.EmployeeChangeRecord{newChange(*r, "2025-05-01", f.account, at(0))}, Remove: []string{f.scheduled.ID}}, nil
			})
			must(t, err, "UpdateEmployee")
			must(t, f.s.Employees.DeleteEmployee(ctx, f.tenant, colleague.ID), "DeleteEmployee")
			return errBoom
		})
		checkIs(t, "InTx(fn fails)", err, errBoom)
		checkNoEmployee(t, f.s, f.tenant, hired.ID, hired.EmployeeNumber)
		checkStoredEmployee(t, f.s, f.emp)
		checkChanges(t, f.s, f.tenant, f.emp.ID, f.hire, f.scheduled)
		checkStoredEmployee(t, f.s, colleague)
	})

	t.Run("ConcurrentUpdateEmployee", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		const n = 20
		added := make([]string, n)
		concurrently(n, func(i int) {
			_, err := f.s.Employees.UpdateEmployee(t.Context(), f.tenant, f.emp.ID, func(r *ports.EmployeeRecord, _ []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
				r.SearchText += "+"
				c := newChange(*r, "2025-06-01", f.account, at(time.Duration(i)*time.Second))
				added[i] = c.ID
				return ports.EmployeeUpdate{Append: []ports.EmployeeChangeRecord{c}}, nil
			})
			if err != nil {
				t.Errorf("UpdateEmployee #%d: %v", i, err)
			}
		})
		want := f.emp
		want.SearchText += strings.Repeat("+", n) // no update lost
		want.Version += n
		checkStoredEmployee(t, f.s, want)

		// Every change kept, numbered 1 … n+2 each once, listed by (EffectiveOn, Seq).
		got, err := f.s.Employees.EmployeeChanges(t.Context(), f.tenant, f.emp.ID)
		must(t, err, "EmployeeChanges")
		if len(got) != n+2 {
			t.Fatalf("EmployeeChanges returned %d changes, want %d", len(got), n+2)
		}
		checkChangeList(t, "first and last", []ports.EmployeeChangeRecord{got[0], got[n+1]}, []ports.EmployeeChangeRecord{f.hire, f.scheduled})
		appended := got[1 : n+1]
		var ids []string
		for i, c := range appended {
			ids = append(ids, c.ID)
			if i > 0 && c.Seq <= appended[i-1].Seq {
				t.Errorf("change %d has Seq %d after Seq %d on the same day", i+1, c.Seq, appended[i-1].Seq)
			}
		}
		checkStringSet(t, "appended changes", ids, added)
		seqs := map[int64]bool{}
		for _, c := range got {
			seqs[c.Seq] = true
		}
		for seq := int64(1); seq <= n+2; seq++ {
			if !seqs[seq] {
				t.Errorf("no change has Seq %d", seq)
			}
		}
	})

	t.Run("AccountLink", func(t *testing.T) {
		t.Parallel()
		f := newEmployeeFixture(t, factory)
		// Records linked to logins: the fixture's member, a second login, and in the other tenant a record
		// that claims the fixture's member too (which only that tenant may see).
		second := createAccount(t, f.s, newMember(f.tenant, "m-"+newID()[:8])).ID
		mine := newEmployee(f.tenant, "E0201", f.dept)
		mine.AccountID = f.account
		theirs := newEmployee(f.tenant, "E0202", "")
		theirs.AccountID = second
		twin := newEmployee(f.otherTenant, "E0201", f.otherDept)
		twin.AccountID = f.account
		must(t, f.s.Employees.CreateEmployees(t.Context(), []ports.EmployeeRecord{mine, theirs}, nil), "CreateEmployees")
		createEmployee(t, f.s, twin)
		checkStoredEmployee(t, f.s, mine)
		checkStoredEmployee(t, f.s, twin)

		byAccount := func(tenantID, accountID string, want ...ports.EmployeeRecord) {
			t.Helper()
			q := ports.EmployeeQuery{TenantID: tenantID, AccountID: accountID}
			got, err := f.s.Employees.ListEmployees(t.Context(), q)
			must(t, err, "ListEmployees(AccountID)")
			if len(got) != len(want) {
				t.Fatalf("ListEmployees(tenant %s, account %s) = %d records, want %d", tenantID[:8], accountID[:8], len(got), len(want))
			}
			for i := range want {
				checkEmployee(t, got[i], want[i])
			}
			n, err := f.s.Employees.CountEmployees(t.Context(), q)
			must(t, err, "CountEmployees(AccountID)")
			checkEq(t, "CountEmployees(AccountID)", n, len(want))
		}
		byAccount(f.tenant, f.account, mine)
		byAccount(f.tenant, second, theirs)
		byAccount(f.otherTenant, f.account, twin)
		byAccount(f.otherTenant, second)
		byAccount(f.tenant, newID())

		// The link is written by updates: unlinking hides the record from its former login.
		unlinked, err := f.s.Employees.UpdateEmployee(t.Context(), f.tenant, mine.ID, seeing(t, mine, nil, func(r *ports.EmployeeRecord) { r.AccountID = "" }, ports.EmployeeUpdate{}))
		must(t, err, "UpdateEmployee(unlink)")
		checkEq(t, "AccountID after unlinking", unlinked.AccountID, "")
		byAccount(f.tenant, f.account)
		relinked, err := f.s.Employees.UpdateEmployee(t.Context(), f.tenant, theirs.ID, seeing(t, theirs, nil, func(r *ports.EmployeeRecord) { r.AccountID = f.account }, ports.EmployeeUpdate{}))
		must(t, err, "UpdateEmployee(relink)")
		byAccount(f.tenant, f.account, relinked)
		byAccount(f.tenant, second)
	})

	testEmployeeList(t, factory)
}

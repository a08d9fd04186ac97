package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/ports"
)

// newEmployee returns an employee of tenantID numbered n, with every field set.
func newEmployee(tenantID string, n int, kana, text, dept string) ports.EmployeeRecord {
	return ports.EmployeeRecord{
		ID: fmt.Sprintf("e-%s-%04d", tenantID, n), TenantID: tenantID, EmployeeNumber: fmt.Sprintf("%04d", n),
		Status: "active", EmploymentType: "regular", DepartmentID: dept,
		HireDate: fmt.Sprintf("2020-04-%02d", 1+n%28), SortKana: kana, SearchText: text,
		Data: []byte(`{"n":` + fmt.Sprint(n) + `}`), EffectiveOn: "2020-04-01", Version: 1,
		CreatedAt: t0, UpdatedAt: t0.Add(time.Duration(n) * time.Second),
	}
}

func hire(e ports.EmployeeRecord) ports.EmployeeChangeRecord {
	return ports.EmployeeChangeRecord{
		ID: "c-" + e.ID, TenantID: e.TenantID, EmployeeID: e.ID, EffectiveOn: e.HireDate, Kind: "hire",
		Patch: []byte(`{"status":"active"}`), Trail: []byte(`{}`), RecordedAt: t0, RecordedBy: "someone",
	}
}

func ids(recs []ports.EmployeeRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// registerFixture is a tenant with two departments (a parent and its child) and five employees, and
// another tenant with one employee numbered like the first.
func registerFixture(t *testing.T, s *sqlstore.Store) (tenantID string, emps []ports.EmployeeRecord) {
	t.Helper()
	ctx := t.Context()
	tenantID, _ = fixture(t, s)
	other, _ := fixture(t, s)
	must(t, s.CreateDepartment(ctx, ports.DepartmentRecord{ID: "d-root", TenantID: tenantID, Code: "100", Name: "本社", Version: 1, CreatedAt: t0}))
	must(t, s.CreateDepartment(ctx, ports.DepartmentRecord{ID: "d-sales", TenantID: tenantID, Code: "110", Name: "営業部", ParentID: "d-root", Version: 1, CreatedAt: t0}))
	emps = []ports.EmployeeRecord{
		newEmployee(tenantID, 1, "やまだ たろう", "山田太郎 やまだたろう 0001", "d-sales"),
		newEmployee(tenantID, 2, "すずき はなこ", "鈴木花子 すずきはなこ 0002 100%_off", "d-sales"),
		newEmployee(tenantID, 3, "たなか いちろう", "田中一郎 たなかいちろう 0003 100x off", "d-root"),
		newEmployee(tenantID, 4, "やまだ はなこ", "山田花子 やまだはなこ 0004", ""),
		newEmployee(tenantID, 5, "あべ じろう", `阿部次郎 あべじろう 0005 a\b`, "d-sales"),
	}
	emps[3].Status = "on_leave"
	changes := make([]ports.EmployeeChangeRecord, 0, len(emps))
	for _, e := range emps {
		changes = append(changes, hire(e))
	}
	must(t, s.CreateEmployees(ctx, emps, changes))
	stranger := newEmployee(other, 1, "やまだ たろう", "山田太郎 やまだたろう 0001", "")
	must(t, s.CreateEmployees(ctx, []ports.EmployeeRecord{stranger}, []ports.EmployeeChangeRecord{hire(stranger)}))
	return tenantID, emps
}

func TestEmployeeListing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		s := open(t, d.name, d.dsn(t))
		tenantID, emps := registerFixture(t, s)
		ctx := t.Context()
		cases := []struct {
			name string
			q    ports.EmployeeQuery
			want []string
		}{
			{"all by number", ports.EmployeeQuery{}, ids(emps)},
			{"kana", ports.EmployeeQuery{Sort: ports.EmployeeSortKana}, ids([]ports.EmployeeRecord{emps[4], emps[1], emps[2], emps[0], emps[3]})},
			{"text", ports.EmployeeQuery{Text: "やまだ", Sort: ports.EmployeeSortKana}, ids([]ports.EmployeeRecord{emps[0], emps[3]})},
			{"percent is literal", ports.EmployeeQuery{Text: "100%"}, ids(emps[1:2])},
			{"underscore is literal", ports.EmployeeQuery{Text: "%_o"}, ids(emps[1:2])},
			{"backslash is literal", ports.EmployeeQuery{Text: `a\b`}, ids(emps[4:5])},
			{"no case folding", ports.EmployeeQuery{Text: "OFF"}, nil},
			{"status", ports.EmployeeQuery{Statuses: []string{"on_leave"}}, ids(emps[3:4])},
			{"department", ports.EmployeeQuery{DepartmentIDs: []string{"d-root", "d-sales"}, Text: "はなこ"}, ids(emps[1:2])},
			{"no department", ports.EmployeeQuery{DepartmentIDs: []string{""}}, ids(emps[3:4])},
			{"department or none", ports.EmployeeQuery{DepartmentIDs: []string{"", "d-root"}}, ids(emps[2:4])},
			{"number", ports.EmployeeQuery{EmployeeNumber: "0003"}, ids(emps[2:3])},
			{"hired", ports.EmployeeQuery{HiredFrom: "2020-04-03", HiredTo: "2020-04-04", Sort: ports.EmployeeSortHireDate}, ids(emps[1:3])},
			{"updated since", ports.EmployeeQuery{UpdatedSince: t0.Add(4 * time.Second), Sort: ports.EmployeeSortUpdated}, ids(emps[3:])},
			{"limit", ports.EmployeeQuery{Limit: 2}, ids(emps[:2])},
		}
		for _, c := range cases {
			q := c.q
			q.TenantID = tenantID
			got, err := s.ListEmployees(ctx, q)
			must(t, err)
			if !slices.Equal(ids(got), c.want) && len(got)+len(c.want) > 0 {
				t.Errorf("%s: ListEmployees = %q, want %q", c.name, ids(got), c.want)
			}
			q.Limit = 0
			n, err := s.CountEmployees(ctx, q)
			must(t, err)
			if c.q.Limit == 0 && n != len(c.want) {
				t.Errorf("%s: CountEmployees = %d, want %d", c.name, n, len(c.want))
			}
		}
		// Walking every order two rows at a time finds every row once, in order.
		for _, sort := range []string{"", ports.EmployeeSortNumber, ports.EmployeeSortKana, ports.EmployeeSortHireDate, ports.EmployeeSortUpdated} {
			all, err := s.ListEmployees(ctx, ports.EmployeeQuery{TenantID: tenantID, Sort: sort})
			must(t, err)
			var walked []ports.EmployeeRecord
			q := ports.EmployeeQuery{TenantID: tenantID, Sort: sort, Limit: 2}
			for range 10 {
				page, err := s.ListEmployees(ctx, q)
				must(t, err)
				if len(page) == 0 {
					break
				}
				walked = append(walked, page...)
				last := page[len(page)-1]
				q.AfterID, q.AfterKey = last.ID, sortKey(sort, last)
			}
			if !slices.Equal(ids(walked), ids(all)) {
				t.Errorf("sort %q: pages = %q, want %q", sort, ids(walked), ids(all))
			}
		}
		_, err := s.ListEmployees(ctx, ports.EmployeeQuery{TenantID: tenantID, Sort: "salary"})
		if !errors.Is(err, ports.ErrInvalid) {
			t.Errorf("ListEmployees(unknown sort) = %v, want ErrInvalid", err)
		}
	})
}

// sortKey is the AfterKey of r in sort's order.
func sortKey(sort string, r ports.EmployeeRecord) string {
	switch sort {
	case ports.EmployeeSortKana:
		return r.SortKana
	case ports.EmployeeSortHireDate:
		return r.HireDate
	case ports.EmployeeSortUpdated:
		return r.UpdatedAt.In(time.Local).Format(time.RFC3339Nano)
	}
	return r.EmployeeNumber
}

func TestEmployeeUpdateAndChanges(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		s := open(t, d.name, d.dsn(t))
		tenantID, emps := registerFixture(t, s)
		ctx := t.Context()
		e := emps[0]

		// Concurrent updates each append one change: no update lost, seqs 2…n+1 without gaps.
		const n = 10
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, err := s.UpdateEmployee(ctx, tenantID, e.ID, func(rec *ports.EmployeeRecord, changes []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
					rec.NextChangeOn = "2030-01-01"
					return ports.EmployeeUpdate{Append: []ports.EmployeeChangeRecord{{
						ID: fmt.Sprint("sched-", i), TenantID: "elsewhere", EffectiveOn: "2030-01-01", Kind: "change", RecordedAt: t0,
					}}}, nil
				})
				if err != nil {
					t.Errorf("UpdateEmployee: %v", err)
				}
			})
		}
		wg.Wait()
		changes, err := s.EmployeeChanges(ctx, tenantID, e.ID)
		must(t, err)
		var seqs []int64
		for _, c := range changes {
			seqs = append(seqs, c.Seq)
			if c.TenantID != tenantID || c.EmployeeID != e.ID {
				t.Errorf("change %s belongs to %s/%s", c.ID, c.TenantID, c.EmployeeID)
			}
		}
		slices.Sort(seqs)
		if len(seqs) != n+1 || seqs[0] != 1 || seqs[n] != n+1 {
			t.Errorf("seqs = %v, want 1…%d", seqs, n+1)
		}
		got, err := s.EmployeeByID(ctx, tenantID, e.ID)
		must(t, err)
		if got.Version != e.Version+n {
			t.Errorf("Version = %d, want %d", got.Version, e.Version+n)
		}

		// Removing is scoped to the employee: another employee's change ID is left alone.
		_, err = s.UpdateEmployee(ctx, tenantID, e.ID, func(rec *ports.EmployeeRecord, changes []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
			if len(changes) != n+1 || changes[0].Kind != "hire" {
				t.Errorf("fn got %d changes, first %q; want %d, the hire first", len(changes), changes[0].Kind, n+1)
			}
			rec.NextChangeOn = ""
			remove := []string{"c-" + emps[1].ID}
			for _, c := range changes[1:] {
				remove = append(remove, c.ID)
			}
			return ports.EmployeeUpdate{Remove: remove, Append: []ports.EmployeeChangeRecord{{ID: "late", EffectiveOn: "2019-01-01", RecordedAt: t0}}}, nil
		})
		must(t, err)
		changes, err = s.EmployeeChanges(ctx, tenantID, e.ID)
		must(t, err)
		if len(changes) != 2 || changes[0].ID != "late" || changes[0].Seq != n+2 || changes[1].Kind != "hire" {
			t.Errorf("changes = %+v, want the late change (seq %d) before the hire", changes, n+2)
		}
		if other, _ := s.EmployeeChanges(ctx, tenantID, emps[1].ID); len(other) != 1 {
			t.Errorf("another employee's changes = %+v, want its hire kept", other)
		}

		// A taken number is a conflict, and changes nothing, inside a caller's transaction too.
		err = s.InTx(ctx, func(ctx context.Context) error {
			_, err := s.UpdateEmployee(ctx, tenantID, e.ID, func(rec *ports.EmployeeRecord, _ []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
				rec.EmployeeNumber = emps[1].EmployeeNumber
				return ports.EmployeeUpdate{Append: []ports.EmployeeChangeRecord{{ID: "lost", RecordedAt: t0}}}, nil
			})
			if !errors.Is(err, ports.ErrConflict) {
				t.Errorf("UpdateEmployee(taken number) = %v, want ErrConflict", err)
			}
			_, err = s.EmployeeByID(ctx, tenantID, e.ID)
			return err
		})
		must(t, err)
		if changes, _ := s.EmployeeChanges(ctx, tenantID, e.ID); len(changes) != 2 {
			t.Errorf("a failed update appended: %+v", changes)
		}

		// Scheduled changes are due across tenants.
		_, err = s.UpdateEmployee(ctx, tenantID, emps[2].ID, func(rec *ports.EmployeeRecord, _ []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
			rec.NextChangeOn = "2026-04-01"
			return ports.EmployeeUpdate{}, nil
		})
		must(t, err)
		due, err := s.EmployeesDue(ctx, "2026-04-01", 10)
		must(t, err)
		if len(due) != 1 || due[0] != (ports.EmployeeKey{TenantID: tenantID, ID: emps[2].ID}) {
			t.Errorf("EmployeesDue = %+v, want %s", due, emps[2].ID)
		}
		if due, _ := s.EmployeesDue(ctx, "2026-03-31", 10); len(due) != 0 {
			t.Errorf("EmployeesDue(before) = %+v, want none", due)
		}

		// Deleting takes the changes along; another tenant cannot.
		if err := s.DeleteEmployee(ctx, "elsewhere", e.ID); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("DeleteEmployee(other tenant) = %v, want ErrNotFound", err)
		}
		must(t, s.DeleteEmployee(ctx, tenantID, e.ID))
		if changes, _ := s.EmployeeChanges(ctx, tenantID, e.ID); len(changes) != 0 {
			t.Errorf("changes of a deleted employee: %+v", changes)
		}
	})
}

func TestEmployeeCreateIsAllOrNone(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		s := open(t, d.name, d.dsn(t))
		tenantID, emps := registerFixture(t, s)
		ctx := t.Context()
		// 1,200 new employees, three batches, the last with a taken number: none is stored.
		var batch []ports.EmployeeRecord
		for i := range 1200 {
			batch = append(batch, newEmployee(tenantID, 100+i, "", "", ""))
		}
		batch[1199].EmployeeNumber = emps[0].EmployeeNumber
		if err := s.CreateEmployees(ctx, batch, nil); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("CreateEmployees(taken number) = %v, want ErrConflict", err)
		}
		// A department of another tenant is a conflict too (the foreign key carries the tenant).
		other, _ := fixture(t, s)
		stray := newEmployee(other, 9, "", "", "d-sales")
		if err := s.CreateEmployees(ctx, []ports.EmployeeRecord{stray}, nil); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("CreateEmployees(another tenant's department) = %v, want ErrConflict", err)
		}
		if n, _ := s.CountEmployees(ctx, ports.EmployeeQuery{TenantID: tenantID}); n != len(emps) {
			t.Errorf("CountEmployees = %d, want %d", n, len(emps))
		}
		batch[1199].EmployeeNumber = "9999"
		must(t, s.CreateEmployees(ctx, batch, nil))
		if n, _ := s.CountEmployees(ctx, ports.EmployeeQuery{TenantID: tenantID}); n != len(emps)+len(batch) {
			t.Errorf("CountEmployees = %d, want %d", n, len(emps)+len(batch))
		}
	})
}

func TestDepartments(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		s := open(t, d.name, d.dsn(t))
		tenantID, emps := registerFixture(t, s)
		ctx := t.Context()
		for _, id := range []string{"d-root", "d-sales"} {
			if err := s.DeleteDepartment(ctx, tenantID, id); !errors.Is(err, ports.ErrConflict) {
				t.Errorf("DeleteDepartment(%s, referenced) = %v, want ErrConflict", id, err)
			}
		}
		if err := s.DeleteDepartment(ctx, tenantID, "d-none"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("DeleteDepartment(unknown) = %v, want ErrNotFound", err)
		}
		got, err := s.UpdateDepartment(ctx, tenantID, "d-sales", func(d *ports.DepartmentRecord) error {
			d.Name, d.Version = "営業本部", 99
			return nil
		})
		must(t, err)
		if got.Name != "営業本部" || got.Version != 2 || got.ParentID != "d-root" {
			t.Errorf("UpdateDepartment = %+v, want the new name, version 2", got)
		}
		_, err = s.UpdateDepartment(ctx, tenantID, "d-sales", func(d *ports.DepartmentRecord) error {
			d.Code = "100"
			return nil
		})
		if !errors.Is(err, ports.ErrConflict) {
			t.Errorf("UpdateDepartment(taken code) = %v, want ErrConflict", err)
		}
		// Once nothing refers to them, both go, child first.
		for _, e := range emps {
			_, err := s.UpdateEmployee(ctx, tenantID, e.ID, func(rec *ports.EmployeeRecord, _ []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
				rec.DepartmentID = ""
				return ports.EmployeeUpdate{}, nil
			})
			must(t, err)
		}
		err = s.InTx(ctx, func(ctx context.Context) error {
			if err := s.DeleteDepartment(ctx, tenantID, "d-root"); !errors.Is(err, ports.ErrConflict) {
				t.Errorf("DeleteDepartment(parent) in tx = %v, want ErrConflict", err)
			}
			return s.DeleteDepartment(ctx, tenantID, "d-sales") // the transaction is still usable
		})
		must(t, err)
		must(t, s.DeleteDepartment(ctx, tenantID, "d-root"))
		if list, _ := s.ListDepartments(ctx, tenantID); len(list) != 0 {
			t.Errorf("ListDepartments = %+v, want none", list)
		}
	})
}

func TestOutbox(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		s := open(t, d.name, d.dsn(t))
		ctx := t.Context()
		ev := func(id string, at time.Duration) ports.OutboxEvent {
			return ports.OutboxEvent{ID: id, TenantID: "t", Type: "employee.hired", SubjectID: "e", Payload: []byte(`{"a":1}`), OccurredAt: t0.Add(at)}
		}
		must(t, s.AppendEvents(ctx, ev("b", 0), ev("a", 0), ev("c", -time.Second)))
		must(t, s.AppendEvents(ctx))
		if err := s.AppendEvents(ctx, ev("d", 0), ev("a", 0)); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("AppendEvents(taken ID) = %v, want ErrConflict", err)
		}
		pending, err := s.PendingEvents(ctx, 10)
		must(t, err)
		var got []string
		for _, e := range pending {
			got = append(got, e.ID)
		}
		if !slices.Equal(got, []string{"c", "a", "b"}) {
			t.Errorf("PendingEvents = %q, want c a b (no d: all or none)", got)
		}
		must(t, s.MarkDispatched(ctx, "a", t0))
		must(t, s.MarkDispatched(ctx, "a", t0.Add(time.Hour)))
		if err := s.MarkDispatched(ctx, "zz", t0); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("MarkDispatched(unknown) = %v, want ErrNotFound", err)
		}
		if pending, _ := s.PendingEvents(ctx, 1); len(pending) != 1 || pending[0].ID != "c" {
			t.Errorf("PendingEvents(1) = %+v, want c", pending)
		}
	})
}

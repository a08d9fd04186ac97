package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// TestEmployeeSearchText: the text filter is a plain, case-sensitive substring in both dialects (LIKE
// with its wildcards and escape character escaped on Postgres, instr on SQLite), and a "" among the
// department filters selects the employees without one, whose department_id is NULL.
func TestEmployeeSearchText(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		s := open(t, d.name, d.dsn(t))
		tenantID, emps := registerFixture(t, s)
		cases := []struct {
			name string
			q    ports.EmployeeQuery
			want []string
		}{
			{"reading", ports.EmployeeQuery{Text: "やまだ", Sort: ports.EmployeeSortKana}, ids([]ports.EmployeeRecord{emps[0], emps[3]})},
			{"percent is literal", ports.EmployeeQuery{Text: "100%"}, ids(emps[1:2])},
			{"underscore is literal", ports.EmployeeQuery{Text: "%_o"}, ids(emps[1:2])},
			{"backslash is literal", ports.EmployeeQuery{Text: `a\b`}, ids(emps[4:5])},
			{"no case folding", ports.EmployeeQuery{Text: "OFF"}, nil},
			{"department and text", ports.EmployeeQuery{DepartmentIDs: []string{"d-root", "d-sales"}, Text: "はなこ"}, ids(emps[1:2])},
			{"no department", ports.EmployeeQuery{DepartmentIDs: []string{""}}, ids(emps[3:4])},
			{"department or none", ports.EmployeeQuery{DepartmentIDs: []string{"", "d-root"}}, ids(emps[2:4])},
		}
		for _, c := range cases {
			q := c.q
			q.TenantID = tenantID
			got, err := s.ListEmployees(t.Context(), q)
			must(t, err)
			if !slices.Equal(ids(got), c.want) && len(got)+len(c.want) > 0 {
				t.Errorf("%s: ListEmployees = %q, want %q", c.name, ids(got), c.want)
			}
			n, err := s.CountEmployees(t.Context(), q)
			must(t, err)
			if n != len(c.want) {
				t.Errorf("%s: CountEmployees = %d, want %d", c.name, n, len(c.want))
			}
		}
	})
}

func TestEmployeeCreateIsAllOrNone(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		s := open(t, d.name, d.dsn(t))
		tenantID, emps := registerFixture(t, s)
		ctx := t.Context()
		// 1,200 new employees, several INSERTs, the last with a taken number: none is stored.
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

// TestConflictsKeepTheTransaction: a taken employee number and a department still referred to are
// conflicts that leave a caller's transaction usable (savepoints, which Postgres needs), and the failed
// update appends nothing.
func TestConflictsKeepTheTransaction(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		s := open(t, d.name, d.dsn(t))
		tenantID, emps := registerFixture(t, s)
		ctx := t.Context()
		err := s.InTx(ctx, func(ctx context.Context) error {
			_, err := s.UpdateEmployee(ctx, tenantID, emps[0].ID, func(rec *ports.EmployeeRecord, _ []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
				rec.EmployeeNumber = emps[1].EmployeeNumber
				return ports.EmployeeUpdate{Append: []ports.EmployeeChangeRecord{{ID: "lost", RecordedAt: t0}}}, nil
			})
			if !errors.Is(err, ports.ErrConflict) {
				t.Errorf("UpdateEmployee(taken number) = %v, want ErrConflict", err)
			}
			if err := s.DeleteDepartment(ctx, tenantID, "d-root"); !errors.Is(err, ports.ErrConflict) {
				t.Errorf("DeleteDepartment(referenced) = %v, want ErrConflict", err)
			}
			_, err = s.UpdateEmployee(ctx, tenantID, emps[2].ID, func(rec *ports.EmployeeRecord, _ []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
				rec.DepartmentID = ""
				return ports.EmployeeUpdate{}, nil
			})
			return err
		})
		must(t, err)
		if changes, _ := s.EmployeeChanges(ctx, tenantID, emps[0].ID); len(changes) != 1 {
			t.Errorf("changes after a failed update = %+v, want the hire only", changes)
		}
		if got, _ := s.EmployeeByID(ctx, tenantID, emps[2].ID); got.DepartmentID != "" || got.Version != 2 {
			t.Errorf("employee updated in the committed transaction = %+v", got)
		}
	})
}

// TestStatisticsFollowImports: an import stored as the domain stores it (calls of 500 employees in one
// transaction) leaves the planner statistics of the register, which SQLite never gathers itself, and which
// Postgres's autovacuum last took of an empty table and cannot take of rows not committed yet.
func TestStatisticsFollowImports(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.dsn(t)
		s := open(t, d.name, dsn)
		tenantID, _ := fixture(t, s)
		raw := rawDB(t, d.name, dsn)
		must(t, raw.Exec("ANALYZE employees").Error) // as autovacuum would have, the table empty
		err := s.InTx(t.Context(), func(ctx context.Context) error {
			for call := range 5 {
				var batch []ports.EmployeeRecord
				for i := range 500 {
					batch = append(batch, newEmployee(tenantID, call*500+i, "", "", ""))
				}
				if err := s.CreateEmployees(ctx, batch, nil); err != nil {
					return err
				}
			}
			return nil
		})
		must(t, err)
		query := "SELECT CAST(stat AS INTEGER) FROM sqlite_stat1 WHERE idx = 'employees_kana_idx'"
		if d.name == sqlstore.DriverPostgres {
			query = "SELECT CAST(reltuples AS INTEGER) FROM pg_class WHERE oid = 'employees'::regclass"
		}
		var rows int
		must(t, raw.Raw(query).Scan(&rows).Error)
		if rows < 1000 {
			t.Errorf("statistics of the employees table count %d rows, want those of the import (at least 1,000)", rows)
		}
	})
}

// TestMigrateBackfillsAccountID: migration 00003 gives the employees stored before it their account link
// from their data, leaves unlinked ones (no key, an empty value, data that is not JSON) NULL, and the
// filter then finds the linked one in its tenant only.
func TestMigrateBackfillsAccountID(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		ctx := t.Context()
		s, err := sqlstore.Open(ctx, d.name, d.dsn(t), sqlstore.WithMaxOpenConns(4))
		must(t, err)
		t.Cleanup(func() { _ = s.Close() })
		must(t, s.MigrateUpTo(ctx, 2))
		tenantID, accountID := fixture(t, s)
		other, _ := fixture(t, s)
		stamp := t0.UTC().Format("2006-01-02T15:04:05.000000Z") // how the store writes instants
		for i, row := range []struct{ tenant, data string }{
			{tenantID, `{"account_id":"` + accountID + `","family_name":"山田"}`},
			{tenantID, `{"family_name":"鈴木"}`},
			{tenantID, `{"account_id":""}`},
			{tenantID, `not json "account_id"`},
			{other, `{"account_id":"` + accountID + `"}`},
		} {
			must(t, s.Exec(ctx, `INSERT INTO employees (id, tenant_id, employee_number, status, employment_type,
				hire_date, sort_kana, search_text, data, effective_on, version, created_at, updated_at)
				VALUES (?, ?, ?, 'active', 'regular', '2020-04-01', '', '', ?, '2020-04-01', 1, ?, ?)`,
				fmt.Sprintf("e%d", i), row.tenant, fmt.Sprintf("%04d", i), []byte(row.data), stamp, stamp))
		}
		must(t, s.Migrate(ctx))
		for _, c := range []struct {
			tenant, id, want string
		}{{tenantID, "e0", accountID}, {tenantID, "e1", ""}, {tenantID, "e2", ""}, {tenantID, "e3", ""}, {other, "e4", accountID}} {
			e, err := s.EmployeeByID(ctx, c.tenant, c.id)
			must(t, err)
			if e.AccountID != c.want {
				t.Errorf("%s: AccountID = %q, want %q", c.id, e.AccountID, c.want)
			}
		}
		got, err := s.ListEmployees(ctx, ports.EmployeeQuery{TenantID: tenantID, AccountID: accountID})
		must(t, err)
		if !slices.Equal(ids(got), []string{"e0"}) {
			t.Errorf("ListEmployees(AccountID) = %q, want [e0]", ids(got))
		}
	})
}

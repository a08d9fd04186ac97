package porttest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// employeeSorts are the sort orders of ListEmployees.
var employeeSorts = []string{ports.EmployeeSortNumber, ports.EmployeeSortKana, ports.EmployeeSortHireDate, ports.EmployeeSortUpdated}

// rosterEntry is one employee of the listing cases. Sort keys are upper-case ASCII, digits and katakana
// without voiced marks, spaces or hyphens, so that byte order and any SQL collation agree on them; the
// roster has ties in kana, hire date and updated_at, and an employee without a kana reading.
type rosterEntry struct {
	name, number, kana, status, kind, dept, hired string
	updated                                       time.Duration
	search                                        string
}

var roster = []rosterEntry{
	{"aoki", "A001", "アオキ", ports.EmployeeActive, "full_time", "d1", "2019-04-01", time.Hour, "青木花子 あおきはなこ A001 aoki@example.jp"},
	{"ueno", "A0011", "ウエノ", ports.EmployeeActive, "full_time", "d1", "2022-04-01", time.Hour, "上野健 うえのけん A0011 ueno@example.jp"},
	{"sato", "A002", "サトウ", ports.EmployeeActive, "part_time", "d2", "2020-04-01", 3 * time.Hour, "佐藤一郎 さとういちろう A002 ichiro_sato@example.jp"},
	{"yamada", "A003", "ヤマダ", ports.EmployeeOnLeave, "full_time", "d1", "2020-04-01", 2 * time.Hour, "山田太郎 やまだたろう A003 taro.yamada@example.jp"},
	{"ito", "A004", "イトウ", ports.EmployeeSeparated, "contract", "", "2018-10-01", 2 * time.Hour, "伊藤誠 いとうまこと A004 itoh@example.jp"},
	{"hanako", "A005", "ヤマダ", ports.EmployeeActive, "full_time", "d2", "2021-03-31", 4 * time.Hour, "山田花子 やまだはなこ A005 hanako.yamada@example.jp"},
	{"smith", "A006", "", ports.EmployeeActive, "full_time", "d2", "2020-04-01", 2*time.Hour + time.Microsecond, "A006 j.smith@example.jp"},
	{"tanaka", "A010", "タナカ", ports.EmployeeActive, "contract", "d1", "2021-04-01", 3 * time.Hour, "田中次郎 たなかじろう A010 Tanaka.J@example.jp"},
}

// rosterFixture is the roster in one tenant, with departments d1, d2 and d3 (empty), and in another
// tenant a twin of yamada that shares every value the listing filters and sorts on.
type rosterFixture struct {
	s                   Stores
	tenant, otherTenant string
	dept                map[string]string // d1, d2, d3 → ID
	emp                 map[string]ports.EmployeeRecord
	names               map[string]string // ID → name, for messages
	all                 []ports.EmployeeRecord
}

func newRosterFixture(t *testing.T, factory Factory) rosterFixture {
	t.Helper()
	s := open(t, factory, "Tenants", "Departments", "Employees")
	f := rosterFixture{s: s, dept: map[string]string{"": ""}, emp: map[string]ports.EmployeeRecord{}, names: map[string]string{}}
	f.tenant = createTenant(t, s, "t"+newID()[:8]).ID
	f.otherTenant = createTenant(t, s, "t"+newID()[:8]).ID
	for _, d := range []string{"d1", "d2", "d3"} {
		f.dept[d] = createDepartment(t, s, newDepartment(f.tenant, strings.ToUpper(d), "")).ID
	}
	var recs []ports.EmployeeRecord
	for _, r := range roster {
		e := newEmployee(f.tenant, r.number, f.dept[r.dept])
		e.SortKana, e.Status, e.EmploymentType, e.HireDate = r.kana, r.status, r.kind, r.hired
		e.SearchText, e.UpdatedAt = r.search, at(r.updated)
		recs = append(recs, f.add(r.name, e))
	}
	must(t, s.Employees.CreateEmployees(t.Context(), recs, nil), "CreateEmployees(roster)")
	f.all = recs
	twin := f.emp["yamada"]
	twin.ID, twin.TenantID = newID(), f.otherTenant
	twin.DepartmentID = createDepartment(t, s, newDepartment(f.otherTenant, "D1", "")).ID
	createEmployee(t, s, f.add("twin", twin))
	return f
}

// add names e for messages and returns it.
func (f rosterFixture) add(name string, e ports.EmployeeRecord) ports.EmployeeRecord {
	f.emp[name], f.names[e.ID] = e, name
	return e
}

// nameList returns the names of recs, in order.
func (f rosterFixture) nameList(recs []ports.EmployeeRecord) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, cmp.Or(f.names[r.ID], r.ID))
	}
	return out
}

// checkList fails unless ListEmployees(q) returns the employees named want, in that order, every field as
// stored, and CountEmployees(q) counts them.
func (f rosterFixture) checkList(t *testing.T, what string, q ports.EmployeeQuery, want ...string) {
	t.Helper()
	list, err := f.s.Employees.ListEmployees(t.Context(), q)
	must(t, err, "ListEmployees("+what+")")
	checkStrings(t, "ListEmployees("+what+")", f.nameList(list), want)
	if len(list) == len(want) {
		for _, got := range list {
			checkEmployee(t, got, f.emp[f.names[got.ID]])
		}
	}
	n, err := f.s.Employees.CountEmployees(t.Context(), q)
	must(t, err, "CountEmployees("+what+")")
	checkEq(t, "CountEmployees("+what+")", n, len(want))
}

// sortValue is what a caller passes as AfterKey to continue after r: the sort column's value, an
// updated_at instant in RFC 3339 (here in JST, so that the store must compare instants, not text).
func sortValue(r ports.EmployeeRecord, sortBy string) string {
	switch sortBy {
	case ports.EmployeeSortKana:
		return r.SortKana
	case ports.EmployeeSortHireDate:
		return r.HireDate
	case ports.EmployeeSortUpdated:
		return r.UpdatedAt.In(jst).Format(time.RFC3339Nano)
	}
	return r.EmployeeNumber
}

// sortedNames returns the names of recs in the documented order of sortBy: the column ascending, then ID.
func (f rosterFixture) sortedNames(recs []ports.EmployeeRecord, sortBy string) []string {
	recs = slices.Clone(recs)
	slices.SortFunc(recs, func(a, b ports.EmployeeRecord) int {
		byColumn := strings.Compare(sortValue(a, sortBy), sortValue(b, sortBy))
		if sortBy == ports.EmployeeSortUpdated {
			byColumn = a.UpdatedAt.Compare(b.UpdatedAt)
		}
		return cmp.Or(byColumn, strings.Compare(a.ID, b.ID))
	})
	return f.nameList(recs)
}

// walk lists q page by page, limit employees a page, continuing after the last row of each page, and
// returns the names of every row; between(page) runs after each page.
func (f rosterFixture) walk(t *testing.T, q ports.EmployeeQuery, limit int, between func(page int)) []string {
	t.Helper()
	q.Limit = limit
	rows := walkKeyset(t, "employees by "+q.Sort, func(after *ports.EmployeeRecord) ([]ports.EmployeeRecord, error) {
		if after != nil {
			q.AfterKey, q.AfterID = sortValue(*after, q.Sort), after.ID
		}
		return f.s.Employees.ListEmployees(t.Context(), q)
	}, limit, len(f.emp), between)
	return f.nameList(rows)
}

// testEmployeeList holds the cases of ListEmployees, CountEmployees, EmployeesDue and EmployeeKeys. Interpretations of
// what the port leaves open:
//   - TenantID is always a filter: a query without one lists nothing (or fails), never every tenant.
//   - A Limit of 0 does not limit (as for the other zero fields); an empty, non-nil list filter does not
//     filter either. CountEmployees counts every row the filters select, whatever the cursor and limit.
//   - Sort "" is employee_number, the register's default order.
//   - The cursor applies when AfterID is set; AfterKey may then be "" (an employee without a reading).
//     For updated_at, AfterKey is the instant in RFC 3339 (time.RFC3339Nano), in any zone.
//   - Text is a plain, case-sensitive substring: "%" and "_" are no wildcards.
//   - UpdatedSince is inclusive, at the stored precision: a row updated at the instant itself is listed, and
//     so is one updated in the same microsecond (the store keeps microseconds, and a since between two
//     stored instants must not lose the earlier one to a sync that asked from it).
//   - EmployeesDue fixes no order; with a limit it returns that many of the due employees.
//   - EmployeeKeys orders by (TenantID, ID) in byte order (the IDs are UUIDs, ordered alike by every
//     collation).
func testEmployeeList(t *testing.T, factory Factory) {
	t.Run("ListFilters", func(t *testing.T) {
		t.Parallel()
		f := newRosterFixture(t, factory)
		all := []string{"aoki", "ueno", "sato", "yamada", "ito", "hanako", "smith", "tanaka"}
		d := f.dept
		for _, c := range []struct {
			name string
			q    ports.EmployeeQuery
			want []string
		}{
			{"no filter", ports.EmployeeQuery{}, all},
			{"Text in kana", ports.EmployeeQuery{Text: "やまだ"}, []string{"yamada", "hanako"}},
			{"Text inside a number", ports.EmployeeQuery{Text: "A001"}, []string{"aoki", "ueno"}},
			{"Text with _", ports.EmployeeQuery{Text: "_"}, []string{"sato"}},
			{"Text with %", ports.EmployeeQuery{Text: "%"}, nil},
			{"Text in other case", ports.EmployeeQuery{Text: "tanaka"}, nil},
			{"Text in its case", ports.EmployeeQuery{Text: "Tanaka"}, []string{"tanaka"}},
			{"EmployeeNumber", ports.EmployeeQuery{EmployeeNumber: "A001"}, []string{"aoki"}},
			{"EmployeeNumber prefix", ports.EmployeeQuery{EmployeeNumber: "A00"}, nil},
			{"Statuses", ports.EmployeeQuery{Statuses: []string{ports.EmployeeOnLeave, ports.EmployeeSeparated}}, []string{"yamada", "ito"}},
			{"empty Statuses", ports.EmployeeQuery{Statuses: []string{}}, all},
			{"EmploymentTypes", ports.EmployeeQuery{EmploymentTypes: []string{"contract"}}, []string{"ito", "tanaka"}},
			{"two EmploymentTypes", ports.EmployeeQuery{EmploymentTypes: []string{"part_time", "contract"}}, []string{"sato", "ito", "tanaka"}},
			{"DepartmentIDs", ports.EmployeeQuery{DepartmentIDs: []string{d["d2"]}}, []string{"sato", "hanako", "smith"}},
			{"two DepartmentIDs", ports.EmployeeQuery{DepartmentIDs: []string{d["d1"], d["d3"]}}, []string{"aoki", "ueno", "yamada", "tanaka"}},
			{"empty department", ports.EmployeeQuery{DepartmentIDs: []string{d["d3"]}}, nil},
			{"HiredFrom", ports.EmployeeQuery{HiredFrom: "2020-04-01"}, []string{"ueno", "sato", "yamada", "hanako", "smith", "tanaka"}},
			{"HiredTo", ports.EmployeeQuery{HiredTo: "2020-04-01"}, []string{"aoki", "sato", "yamada", "ito", "smith"}},
			{"HiredFrom and HiredTo", ports.EmployeeQuery{HiredFrom: "2020-04-01", HiredTo: "2021-03-31"}, []string{"sato", "yamada", "hanako", "smith"}},
			{"UpdatedSince", ports.EmployeeQuery{UpdatedSince: at(150 * time.Minute)}, []string{"sato", "hanako", "tanaka"}},
			{"UpdatedSince in UTC", ports.EmployeeQuery{UpdatedSince: at(150 * time.Minute).UTC()}, []string{"sato", "hanako", "tanaka"}},
			{"UpdatedSince at the boundary instant", ports.EmployeeQuery{UpdatedSince: at(2 * time.Hour)}, []string{"sato", "yamada", "ito", "hanako", "smith", "tanaka"}},
			{"UpdatedSince at the boundary instant in UTC", ports.EmployeeQuery{UpdatedSince: at(2 * time.Hour).UTC()}, []string{"sato", "yamada", "ito", "hanako", "smith", "tanaka"}},
			{"UpdatedSince within the boundary microsecond", ports.EmployeeQuery{UpdatedSince: at(2*time.Hour + 999*time.Nanosecond)}, []string{"sato", "yamada", "ito", "hanako", "smith", "tanaka"}},
			{"UpdatedSince a microsecond after the boundary", ports.EmployeeQuery{UpdatedSince: at(2*time.Hour + time.Microsecond)}, []string{"sato", "hanako", "smith", "tanaka"}},
			{"UpdatedSince just after the last update", ports.EmployeeQuery{UpdatedSince: at(4*time.Hour + time.Microsecond)}, nil},
			{"Statuses, DepartmentIDs and Text", ports.EmployeeQuery{Statuses: []string{ports.EmployeeActive}, DepartmentIDs: []string{d["d2"]}, Text: "やまだ"}, []string{"hanako"}},
			{"EmploymentTypes, HiredFrom and UpdatedSince", ports.EmployeeQuery{EmploymentTypes: []string{"full_time"}, HiredFrom: "2020-04-01", UpdatedSince: at(90 * time.Minute)}, []string{"yamada", "hanako", "smith"}},
		} {
			c.q.TenantID, c.q.Sort = f.tenant, ports.EmployeeSortNumber
			f.checkList(t, c.name, c.q, c.want...)
		}

		// Another tenant's twin matches every filter above that yamada matches, yet only its own tenant sees it.
		f.checkList(t, "other tenant", ports.EmployeeQuery{TenantID: f.otherTenant, Text: "やまだ"}, "twin")
		f.checkList(t, "unknown tenant", ports.EmployeeQuery{TenantID: newID()})
		if list, err := f.s.Employees.ListEmployees(t.Context(), ports.EmployeeQuery{}); err == nil && len(list) > 0 {
			t.Errorf("ListEmployees(no tenant) = %q, want nothing", f.nameList(list))
		}
		if n, err := f.s.Employees.CountEmployees(t.Context(), ports.EmployeeQuery{}); err == nil && n > 0 {
			t.Errorf("CountEmployees(no tenant) = %d, want 0", n)
		}
	})

	t.Run("ListSorts", func(t *testing.T) {
		t.Parallel()
		f := newRosterFixture(t, factory)
		for _, sortBy := range employeeSorts {
			want := f.sortedNames(f.all, sortBy)
			f.checkList(t, sortBy, ports.EmployeeQuery{TenantID: f.tenant, Sort: sortBy}, want...)
			// Pages of every size, so that page boundaries fall inside ties too.
			for limit := 1; limit <= len(want)+1; limit++ {
				checkStrings(t, "walk by "+sortBy+" in pages of "+itoa(limit), f.walk(t, ports.EmployeeQuery{TenantID: f.tenant, Sort: sortBy}, limit, nil), want)
			}
			active := slices.DeleteFunc(slices.Clone(f.all), func(e ports.EmployeeRecord) bool { return e.Status != ports.EmployeeActive })
			q := ports.EmployeeQuery{TenantID: f.tenant, Sort: sortBy, Statuses: []string{ports.EmployeeActive}}
			checkStrings(t, "walk active by "+sortBy, f.walk(t, q, 2, nil), f.sortedNames(active, sortBy))
		}
		f.checkList(t, "default sort", ports.EmployeeQuery{TenantID: f.tenant}, f.sortedNames(f.all, ports.EmployeeSortNumber)...)
	})

	t.Run("ListLimit", func(t *testing.T) {
		t.Parallel()
		f := newRosterFixture(t, factory)
		byNumber := f.sortedNames(f.all, ports.EmployeeSortNumber)
		for _, limit := range []int{1, 3, len(f.all), 100} {
			list, err := f.s.Employees.ListEmployees(t.Context(), ports.EmployeeQuery{TenantID: f.tenant, Sort: ports.EmployeeSortNumber, Limit: limit})
			must(t, err, "ListEmployees")
			checkStrings(t, "ListEmployees(Limit "+itoa(limit)+")", f.nameList(list), byNumber[:min(limit, len(byNumber))])
		}
		// The count is of every selected row, not of one page.
		ueno := f.emp["ueno"]
		q := ports.EmployeeQuery{TenantID: f.tenant, Sort: ports.EmployeeSortNumber, AfterKey: ueno.EmployeeNumber, AfterID: ueno.ID, Limit: 1}
		n, err := f.s.Employees.CountEmployees(t.Context(), q)
		must(t, err, "CountEmployees(after a row, Limit 1)")
		checkEq(t, "CountEmployees(after a row, Limit 1)", n, len(f.all))
	})

	t.Run("ListPagesStableUnderInserts", func(t *testing.T) {
		t.Parallel()
		for _, sortBy := range employeeSorts {
			f := newRosterFixture(t, factory)
			// Inserted after the first page: early sorts before its last row in every order, mid and late
			// after it, so the walk must show mid and late, not early, and every other row once.
			early, mid, late := newEmployee(f.tenant, "A000", ""), newEmployee(f.tenant, "A0051", ""), newEmployee(f.tenant, "A999", "")
			early.SortKana, early.HireDate, early.UpdatedAt = "ア", "2000-01-01", at(-time.Hour)
			mid.SortKana, mid.HireDate, mid.UpdatedAt = "タ", "2021-01-01", at(210*time.Minute)
			late.SortKana, late.HireDate, late.UpdatedAt = "ワ", "2099-12-31", at(100*time.Hour)
			got := f.walk(t, ports.EmployeeQuery{TenantID: f.tenant, Sort: sortBy}, 3, func(page int) {
				if page == 0 {
					must(t, f.s.Employees.CreateEmployees(t.Context(), []ports.EmployeeRecord{
						f.add("early", early), f.add("mid", mid), f.add("late", late),
					}, nil), "CreateEmployees(between pages)")
				}
			})
			checkStrings(t, "walk by "+sortBy+" with inserts", got, f.sortedNames(slices.Concat(f.all, []ports.EmployeeRecord{mid, late}), sortBy))
		}
	})

	t.Run("EmployeesDue", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Employees")
		tenant, other := createTenant(t, s, "t"+newID()[:8]).ID, createTenant(t, s, "t"+newID()[:8]).ID
		employee := func(tenantID, number, next string) ports.EmployeeRecord {
			e := newEmployee(tenantID, number, "")
			e.NextChangeOn = next
			return createEmployee(t, s, e)
		}
		a1, a2 := employee(tenant, "A1", "2025-03-15"), employee(tenant, "A2", "2025-04-01")
		employee(tenant, "A3", "2025-04-02")
		employee(tenant, "A4", "")
		b1 := employee(other, "A1", "2025-04-01")
		employee(other, "B2", "2026-01-01")
		key := func(e ports.EmployeeRecord) string { return e.TenantID + "/" + e.ID }
		due := func(day string, limit int) []string {
			t.Helper()
			keys, err := s.Employees.EmployeesDue(t.Context(), day, limit)
			must(t, err, "EmployeesDue")
			out := []string{}
			for _, k := range keys {
				out = append(out, k.TenantID+"/"+k.ID)
			}
			return out
		}
		checkStringSet(t, "EmployeesDue(2025-04-01)", due("2025-04-01", 0), []string{key(a1), key(a2), key(b1)})
		checkStringSet(t, "EmployeesDue(2025-04-01, 10)", due("2025-04-01", 10), []string{key(a1), key(a2), key(b1)})
		checkStringSet(t, "EmployeesDue(2024-12-31)", due("2024-12-31", 0), nil)
		checkEq(t, "len(EmployeesDue(2099-12-31))", len(due("2099-12-31", 0)), 5)
		some := due("2025-04-01", 2)
		checkEq(t, "len(EmployeesDue(2025-04-01, 2))", len(some), 2)
		for i, k := range some {
			if (k != key(a1) && k != key(a2) && k != key(b1)) || slices.Index(some, k) != i {
				t.Errorf("EmployeesDue(2025-04-01, 2) = %q, want two of the three due", some)
			}
		}

		// Applied or postponed changes, and deleted employees, are no longer due.
		for _, c := range []struct {
			e    ports.EmployeeRecord
			next string
		}{{a1, ""}, {a2, "2025-05-01"}} {
			_, err := plainUpdate(s)(t.Context(), tenant, c.e.ID, func(e *ports.EmployeeRecord) error {
				e.NextChangeOn = c.next
				return nil
			})
			must(t, err, "UpdateEmployee")
		}
		checkStringSet(t, "EmployeesDue(after updates)", due("2025-04-01", 0), []string{key(b1)})
		must(t, s.Employees.DeleteEmployee(t.Context(), other, b1.ID), "DeleteEmployee")
		checkStringSet(t, "EmployeesDue(after delete)", due("2025-04-01", 0), nil)
	})
	t.Run("EmployeeKeys", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Employees")
		var all []ports.EmployeeKey
		for range 3 {
			tenant := createTenant(t, s, "t"+newID()[:8]).ID
			for _, number := range []string{"A1", "A2", "A3"} {
				e := createEmployee(t, s, newEmployee(tenant, number, ""))
				all = append(all, ports.EmployeeKey{TenantID: e.TenantID, ID: e.ID})
			}
		}
		slices.SortFunc(all, func(a, b ports.EmployeeKey) int {
			return cmp.Or(strings.Compare(a.TenantID, b.TenantID), strings.Compare(a.ID, b.ID))
		})
		keys := func(after ports.EmployeeKey, limit int) []ports.EmployeeKey {
			t.Helper()
			got, err := s.Employees.EmployeeKeys(t.Context(), after, limit)
			must(t, err, "EmployeeKeys")
			return got
		}
		checkEq(t, "EmployeeKeys(from the start, all)", fmt.Sprint(keys(ports.EmployeeKey{}, 0)), fmt.Sprint(all))
		checkEq(t, "EmployeeKeys(after the last)", len(keys(all[len(all)-1], 0)), 0)
		checkEq(t, "EmployeeKeys(after the 4th, 2)", fmt.Sprint(keys(all[3], 2)), fmt.Sprint(all[4:6]))
		// Across the tenant boundary, in pages of 2 (the cursor is the last key of a page).
		var walked []ports.EmployeeKey
		for after := (ports.EmployeeKey{}); ; {
			page := keys(after, 2)
			if len(page) == 0 {
				break
			}
			walked, after = append(walked, page...), page[len(page)-1]
		}
		checkEq(t, "EmployeeKeys walked in pages of 2", fmt.Sprint(walked), fmt.Sprint(all))
		// The cursor need not name a stored employee: the walk goes on after a deleted one.
		must(t, s.Employees.DeleteEmployee(t.Context(), all[4].TenantID, all[4].ID), "DeleteEmployee")
		checkEq(t, "EmployeeKeys(after a deleted one)", fmt.Sprint(keys(all[4], 0)), fmt.Sprint(all[5:]))
	})
}

package porttest

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// procedureSorts are the sort orders of ListProcedures.
var procedureSorts = []string{ports.ProcedureSortDue, ports.ProcedureSortCreated, ports.ProcedureSortUpdated}

// procedureRoster is the procedures of the listing cases, with ties in every sort column: due dates,
// creation and update instants (two of them a microsecond apart).
var procedureRoster = []struct {
	name, due        string
	created, updated time.Duration
}{
	{"a", "2026-04-06", 0, time.Hour},
	{"b", "2026-04-06", 0, 2 * time.Hour},
	{"c", "2026-03-31", time.Minute, 2 * time.Hour},
	{"d", "2026-05-11", time.Minute, 2*time.Hour + time.Microsecond},
	{"e", "2026-04-10", 2 * time.Minute, 3 * time.Hour},
	{"f", "2026-04-06", 2 * time.Minute, 3 * time.Hour},
}

// procedureRosterFixture is the roster in one tenant, and in another a twin of b with the same sort values.
type procedureRosterFixture struct {
	procedureFixture
	all   []ports.ProcedureRecord
	names map[string]string // ID → name
}

func newProcedureRosterFixture(t *testing.T, factory Factory) procedureRosterFixture {
	t.Helper()
	f := procedureRosterFixture{procedureFixture: newProcedureFixture(t, factory), names: map[string]string{}}
	for _, r := range procedureRoster {
		p := newProcedure(f.tenant, ports.ProcedureHealthPensionAcquisition, newID(), r.due)
		p.CreatedAt, p.UpdatedAt = at(r.created), at(r.updated)
		f.create(t, p)
		f.all = append(f.all, p)
		f.names[p.ID] = r.name
	}
	twin := f.all[1]
	twin.ID, twin.TenantID, twin.DedupKey = newID(), f.otherTenant, ""
	f.create(t, twin)
	f.names[twin.ID] = "twin"
	return f
}

func (f procedureRosterFixture) nameList(recs []ports.ProcedureRecord) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, cmp.Or(f.names[r.ID], r.ID))
	}
	return out
}

// procedureSortValue is what a caller passes as AfterKey to continue after r: the due date, or an instant
// in RFC 3339 (here in JST, so that the store must compare instants, not text).
func procedureSortValue(r ports.ProcedureRecord, sortBy string) string {
	switch sortBy {
	case ports.ProcedureSortCreated:
		return r.CreatedAt.In(jst).Format(time.RFC3339Nano)
	case ports.ProcedureSortUpdated:
		return r.UpdatedAt.In(jst).Format(time.RFC3339Nano)
	}
	return r.DueDate
}

// sortedNames returns the names of recs in the documented order of sortBy: the column ascending, then ID.
func (f procedureRosterFixture) sortedNames(recs []ports.ProcedureRecord, sortBy string) []string {
	recs = slices.Clone(recs)
	slices.SortFunc(recs, func(a, b ports.ProcedureRecord) int {
		var byColumn int
		switch sortBy {
		case ports.ProcedureSortCreated:
			byColumn = a.CreatedAt.Compare(b.CreatedAt)
		case ports.ProcedureSortUpdated:
			byColumn = a.UpdatedAt.Compare(b.UpdatedAt)
		default:
			byColumn = strings.Compare(a.DueDate, b.DueDate)
		}
		return cmp.Or(byColumn, strings.Compare(a.ID, b.ID))
	})
	return f.nameList(recs)
}

// walk lists q page by page, limit procedures a page, and returns the names of every row; between(page)
// runs after each page.
func (f procedureRosterFixture) walk(t *testing.T, q ports.ProcedureQuery, limit int, between func(page int)) []string {
	t.Helper()
	q.Limit = limit
	rows := walkKeyset(t, "procedures by "+q.Sort, func(after *ports.ProcedureRecord) ([]ports.ProcedureRecord, error) {
		if after != nil {
			q.AfterKey, q.AfterID = procedureSortValue(*after, q.Sort), after.ID
		}
		return f.s.Procedures.ListProcedures(t.Context(), q)
	}, limit, len(f.names), between)
	return f.nameList(rows)
}

// testProcedureList holds the cases of ListProcedures' sorts and UpdatedSince. Interpretations:
//   - Sort "" is due_date. The cursor applies when AfterID is set; for created_at and updated_at its
//     AfterKey is an instant in RFC 3339 (time.RFC3339Nano), in any zone, and anything else is ErrInvalid.
//   - UpdatedSince is inclusive at the stored precision, as for employees: a procedure updated at the
//     instant itself, or within the same microsecond, is listed.
func testProcedureList(t *testing.T, factory Factory) {
	t.Run("ListUpdatedSince", func(t *testing.T) {
		t.Parallel()
		f := newProcedureRosterFixture(t, factory)
		for _, c := range []struct {
			name  string
			since time.Time
			want  []string
		}{
			{"before every update", at(0), []string{"a", "b", "c", "d", "e", "f"}},
			{"at the boundary instant", at(2 * time.Hour), []string{"b", "c", "d", "e", "f"}},
			{"at the boundary instant in UTC", at(2 * time.Hour).UTC(), []string{"b", "c", "d", "e", "f"}},
			{"within the boundary microsecond", at(2*time.Hour + 999*time.Nanosecond), []string{"b", "c", "d", "e", "f"}},
			{"a microsecond after the boundary", at(2*time.Hour + time.Microsecond), []string{"d", "e", "f"}},
			{"at the last update", at(3 * time.Hour), []string{"e", "f"}},
			{"after the last update", at(3*time.Hour + time.Microsecond), nil},
		} {
			q := ports.ProcedureQuery{TenantID: f.tenant, Sort: ports.ProcedureSortUpdated, UpdatedSince: c.since}
			list, err := f.s.Procedures.ListProcedures(t.Context(), q)
			must(t, err, "ListProcedures(UpdatedSince "+c.name+")")
			want := slices.DeleteFunc(f.sortedNames(f.all, ports.ProcedureSortUpdated), func(n string) bool { return !slices.Contains(c.want, n) })
			checkStrings(t, "ListProcedures(UpdatedSince "+c.name+")", f.nameList(list), want)
			n, err := f.s.Procedures.CountProcedures(t.Context(), q)
			must(t, err, "CountProcedures(UpdatedSince "+c.name+")")
			checkEq(t, "CountProcedures(UpdatedSince "+c.name+")", n, len(c.want))
		}
		// With the other filters, and continuing a page.
		q := ports.ProcedureQuery{TenantID: f.tenant, UpdatedSince: at(2 * time.Hour), DueBefore: "2026-04-07"}
		checkStrings(t, "UpdatedSince and DueBefore", f.walk(t, q, 1, nil),
			slices.DeleteFunc(f.sortedNames(f.all, ports.ProcedureSortDue), func(n string) bool { return n == "a" || n == "d" || n == "e" }))
	})

	t.Run("ListSorts", func(t *testing.T) {
		t.Parallel()
		f := newProcedureRosterFixture(t, factory)
		for _, sortBy := range append(procedureSorts, "") {
			want := f.sortedNames(f.all, cmp.Or(sortBy, ports.ProcedureSortDue))
			// Pages of every size, so that page boundaries fall inside ties too.
			for limit := 1; limit <= len(want)+1; limit++ {
				checkStrings(t, "walk by "+sortBy+" in pages of "+itoa(limit),
					f.walk(t, ports.ProcedureQuery{TenantID: f.tenant, Sort: sortBy}, limit, nil), want)
			}
		}
		_, err := f.s.Procedures.ListProcedures(t.Context(), ports.ProcedureQuery{TenantID: f.tenant, Sort: "employee_id"})
		checkIs(t, "ListProcedures(unknown sort)", err, ports.ErrInvalid)
		for _, sortBy := range []string{ports.ProcedureSortCreated, ports.ProcedureSortUpdated} {
			_, err := f.s.Procedures.ListProcedures(t.Context(), ports.ProcedureQuery{TenantID: f.tenant, Sort: sortBy,
				AfterKey: "2026-04-06", AfterID: f.all[0].ID})
			checkIs(t, "ListProcedures(by "+sortBy+" after a date)", err, ports.ErrInvalid)
		}
	})

	t.Run("ListPagesStableUnderInserts", func(t *testing.T) {
		t.Parallel()
		for _, sortBy := range procedureSorts {
			f := newProcedureRosterFixture(t, factory)
			// Inserted after the first page of three: early sorts before its last row in every order, mid
			// and late after it, so the walk must show mid and late, not early, and every other row once.
			early := newProcedure(f.tenant, ports.ProcedureDependentChange, newID(), "2026-01-01")
			mid := newProcedure(f.tenant, ports.ProcedureDependentChange, newID(), "2026-04-08")
			late := newProcedure(f.tenant, ports.ProcedureDependentChange, newID(), "2099-12-31")
			early.CreatedAt, early.UpdatedAt = at(-time.Hour), at(-time.Hour)
			mid.CreatedAt, mid.UpdatedAt = at(90*time.Second), at(150*time.Minute)
			late.CreatedAt, late.UpdatedAt = at(time.Hour), at(100*time.Hour)
			got := f.walk(t, ports.ProcedureQuery{TenantID: f.tenant, Sort: sortBy}, 3, func(page int) {
				if page == 0 {
					f.create(t, early, mid, late)
					f.names[early.ID], f.names[mid.ID], f.names[late.ID] = "early", "mid", "late"
				}
			})
			checkStrings(t, "walk by "+sortBy+" with inserts", got, f.sortedNames(append(slices.Clone(f.all), mid, late), sortBy))
		}
	})
}

package memory

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/roumu/roumu/ports"
)

// tenantKey is a value unique within one tenant: an employee number or a department code.
type tenantKey struct{ tenantID, key string }

// takenBy reports whether key is in index under another ID than id.
func takenBy(index map[tenantKey]string, key tenantKey, id string) bool {
	other, ok := index[key]
	return ok && other != id
}

// ofTenant returns m[id] when tenantOf says it belongs to tenantID: another tenant's record is not found,
// exactly like a missing one, so that no caller can learn that it exists.
func ofTenant[R any](m map[string]R, tenantOf func(R) string, what, tenantID, id string) (R, error) {
	r, ok := m[id]
	if !ok || tenantOf(r) != tenantID {
		var none R
		return none, notFound(what, id)
	}
	return r, nil
}

// employeeCopy returns r as the store keeps it: its own Data, normalised instants.
func employeeCopy(r ports.EmployeeRecord) ports.EmployeeRecord {
	r.Data = bytes.Clone(r.Data)
	r.CreatedAt = norm(r.CreatedAt)
	r.UpdatedAt = norm(r.UpdatedAt)
	return r
}

// changeCopy returns c as the store keeps it: its own Patch and Trail, a normalised instant.
func changeCopy(c ports.EmployeeChangeRecord) ports.EmployeeChangeRecord {
	c.Patch = bytes.Clone(c.Patch)
	c.Trail = bytes.Clone(c.Trail)
	c.RecordedAt = norm(c.RecordedAt)
	return c
}

// CreateEmployees stores the employees and their first changes, all or none: every record is checked
// before the first is written. Each employee's changes get Seq 1, 2, … in the order given.
func (s *Store) CreateEmployees(ctx context.Context, recs []ports.EmployeeRecord, changes []ports.EmployeeChangeRecord) error {
	defer s.lock(ctx)()
	tenants := map[string]string{} // new employee ID → tenant ID
	numbers := map[tenantKey]bool{}
	for _, r := range recs {
		k := tenantKey{r.TenantID, r.EmployeeNumber}
		if _, ok := s.st.employees[r.ID]; ok || tenants[r.ID] != "" {
			return conflict("employee", r.ID)
		}
		if _, ok := s.st.empNumbers[k]; ok || numbers[k] {
			return conflict("employee number", r.EmployeeNumber)
		}
		tenants[r.ID], numbers[k] = r.TenantID, true
	}
	changeIDs := map[string]bool{}
	for _, c := range changes {
		if tenant, ok := tenants[c.EmployeeID]; !ok || tenant != c.TenantID {
			// An SQL store's foreign key refuses it too: a first change belongs to an employee of the batch.
			return fmt.Errorf("memory: change %q is not of a new employee of its tenant: %w", c.ID, ports.ErrInvalid)
		}
		if _, ok := s.st.changeOwners[c.ID]; ok || changeIDs[c.ID] {
			return conflict("employee change", c.ID)
		}
		changeIDs[c.ID] = true
	}
	for _, r := range recs {
		s.st.employees[r.ID] = employeeCopy(r)
		s.st.empNumbers[tenantKey{r.TenantID, r.EmployeeNumber}] = r.ID
	}
	for _, c := range changes {
		s.st.changes[c.EmployeeID] = s.appendChanges(c.TenantID, c.EmployeeID, s.st.changes[c.EmployeeID], c)
	}
	return nil
}

// appendChanges returns a new slice (snapshots share the old one) of kept followed by copies of add, which
// get the Seq values after the highest kept and are filed under the employee whatever they say.
func (s *Store) appendChanges(tenantID, employeeID string, kept []ports.EmployeeChangeRecord, add ...ports.EmployeeChangeRecord) []ports.EmployeeChangeRecord {
	out := make([]ports.EmployeeChangeRecord, 0, len(kept)+len(add))
	var seq int64
	for _, c := range kept {
		seq = max(seq, c.Seq)
		out = append(out, c)
	}
	for _, c := range add {
		seq++
		c = changeCopy(c)
		c.TenantID, c.EmployeeID, c.Seq = tenantID, employeeID, seq
		out = append(out, c)
		s.st.changeOwners[c.ID] = employeeID
	}
	return out
}

// employee returns the employee id of tenantID; another tenant's employee is not found.
func (s *Store) employee(tenantID, id string) (ports.EmployeeRecord, error) {
	return ofTenant(s.st.employees, func(r ports.EmployeeRecord) string { return r.TenantID }, "employee", tenantID, id)
}

// EmployeeByID returns the employee of tenantID; ErrNotFound otherwise.
func (s *Store) EmployeeByID(ctx context.Context, tenantID, id string) (ports.EmployeeRecord, error) {
	defer s.lock(ctx)()
	r, err := s.employee(tenantID, id)
	return employeeCopy(r), err
}

// EmployeeByNumber returns the employee of tenantID with that number; ErrNotFound when there is none.
func (s *Store) EmployeeByNumber(ctx context.Context, tenantID, number string) (ports.EmployeeRecord, error) {
	defer s.lock(ctx)()
	id, ok := s.st.empNumbers[tenantKey{tenantID, number}]
	if !ok {
		return ports.EmployeeRecord{}, notFound("employee number", number)
	}
	return employeeCopy(s.st.employees[id]), nil
}

// sortKey returns the function giving an employee's value of the sort column.
func sortKey(sortBy string) (func(ports.EmployeeRecord) string, error) {
	switch sortBy {
	case ports.EmployeeSortNumber, "":
		return func(r ports.EmployeeRecord) string { return r.EmployeeNumber }, nil
	case ports.EmployeeSortKana:
		return func(r ports.EmployeeRecord) string { return r.SortKana }, nil
	case ports.EmployeeSortHireDate:
		return func(r ports.EmployeeRecord) string { return r.HireDate }, nil
	case ports.EmployeeSortUpdated:
		return func(r ports.EmployeeRecord) string { return instantKey(r.UpdatedAt) }, nil
	}
	return nil, fmt.Errorf("memory: employee sort %q: %w", sortBy, ports.ErrInvalid)
}

// oneOf reports whether v is in list; an empty list does not filter.
func oneOf(list []string, v string) bool {
	return len(list) == 0 || slices.Contains(list, v)
}

// selects reports whether q's filters select r; it ignores the sort, the cursor and the limit.
func selects(q ports.EmployeeQuery, r ports.EmployeeRecord) bool {
	return r.TenantID == q.TenantID &&
		strings.Contains(r.SearchText, q.Text) &&
		(q.EmployeeNumber == "" || r.EmployeeNumber == q.EmployeeNumber) &&
		oneOf(q.Statuses, r.Status) &&
		oneOf(q.EmploymentTypes, r.EmploymentType) &&
		oneOf(q.DepartmentIDs, r.DepartmentID) &&
		(q.AccountID == "" || r.AccountID == q.AccountID) &&
		(q.HiredFrom == "" || r.HireDate >= q.HiredFrom) &&
		(q.HiredTo == "" || r.HireDate <= q.HiredTo) &&
		updatedSince(r.UpdatedAt, q.UpdatedSince)
}

// ListEmployees returns the employees q selects in q.Sort order (then by ID) after (AfterKey, AfterID),
// at most q.Limit of them (all when Limit is 0). The cursor applies when AfterID is set: AfterKey may be
// empty, as the SortKana of an employee without a reading is.
func (s *Store) ListEmployees(ctx context.Context, q ports.EmployeeQuery) ([]ports.EmployeeRecord, error) {
	defer s.lock(ctx)()
	key, err := sortKey(q.Sort)
	if err != nil {
		return nil, err
	}
	after := keyset{id: q.AfterID, key: q.AfterKey}
	if q.Sort == ports.EmployeeSortUpdated {
		if err := after.instant(); err != nil {
			return nil, err
		}
	}
	out := []ports.EmployeeRecord{}
	for _, r := range s.st.employees {
		if selects(q, r) {
			out = append(out, employeeCopy(r))
		}
	}
	return page(out, key, func(r ports.EmployeeRecord) string { return r.ID }, after, q.Limit), nil
}

// CountEmployees counts the employees q's filters select, whatever its cursor and limit.
func (s *Store) CountEmployees(ctx context.Context, q ports.EmployeeQuery) (int, error) {
	defer s.lock(ctx)()
	n := 0
	for _, r := range s.st.employees {
		if selects(q, r) {
			n++
		}
	}
	return n, nil
}

// orderedChanges returns copies of the employee's changes in (EffectiveOn, Seq) order.
func (s *Store) orderedChanges(employeeID string) []ports.EmployeeChangeRecord {
	out := make([]ports.EmployeeChangeRecord, 0, len(s.st.changes[employeeID]))
	for _, c := range s.st.changes[employeeID] {
		out = append(out, changeCopy(c))
	}
	slices.SortFunc(out, func(a, b ports.EmployeeChangeRecord) int {
		return cmp.Or(strings.Compare(a.EffectiveOn, b.EffectiveOn), cmp.Compare(a.Seq, b.Seq))
	})
	return out
}

// UpdateEmployee gives fn copies of the employee and its changes under the store lock, then stores the
// record with the next Version, removes and rewrites the changes fn names (IDs of other employees' changes
// are ignored) and appends fn's, which the store files under this employee with the next Seq values. Changes fn makes
// to ID, TenantID or Version are discarded. Every check precedes the first write, so a refusal changes
// nothing.
func (s *Store) UpdateEmployee(ctx context.Context, tenantID, id string, fn func(rec *ports.EmployeeRecord, changes []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error)) (ports.EmployeeRecord, error) {
	defer s.lock(ctx)()
	old, err := s.employee(tenantID, id)
	if err != nil {
		return ports.EmployeeRecord{}, err
	}
	r := employeeCopy(old)
	up, err := fn(&r, s.orderedChanges(id))
	if err != nil {
		return ports.EmployeeRecord{}, err
	}
	r.ID, r.TenantID, r.Version = old.ID, old.TenantID, old.Version+1
	number := tenantKey{r.TenantID, r.EmployeeNumber}
	if takenBy(s.st.empNumbers, number, id) {
		return ports.EmployeeRecord{}, conflict("employee number", r.EmployeeNumber)
	}
	added := map[string]bool{}
	for _, c := range up.Append {
		if _, ok := s.st.changeOwners[c.ID]; ok || added[c.ID] {
			return ports.EmployeeRecord{}, conflict("employee change", c.ID)
		}
		added[c.ID] = true
	}

	rewrites := map[string]ports.EmployeeChangeRecord{}
	for _, c := range up.Rewrite {
		rewrites[c.ID] = c
	}
	kept := []ports.EmployeeChangeRecord{}
	for _, c := range s.st.changes[id] {
		if slices.Contains(up.Remove, c.ID) {
			delete(s.st.changeOwners, c.ID)
			continue
		}
		if rw, ok := rewrites[c.ID]; ok {
			c.Patch, c.Trail = bytes.Clone(rw.Patch), bytes.Clone(rw.Trail)
		}
		kept = append(kept, c)
	}
	s.st.changes[id] = s.appendChanges(r.TenantID, id, kept, up.Append...)
	delete(s.st.empNumbers, tenantKey{old.TenantID, old.EmployeeNumber})
	s.st.empNumbers[number] = id
	r = employeeCopy(r)
	s.st.employees[id] = r
	return employeeCopy(r), nil
}

// EmployeeChanges returns the employee's changes in (EffectiveOn, Seq) order; ErrNotFound when tenantID
// has no such employee.
func (s *Store) EmployeeChanges(ctx context.Context, tenantID, employeeID string) ([]ports.EmployeeChangeRecord, error) {
	defer s.lock(ctx)()
	if _, err := s.employee(tenantID, employeeID); err != nil {
		return nil, err
	}
	return s.orderedChanges(employeeID), nil
}

// DeleteEmployee removes the employee and its changes; ErrNotFound when tenantID has no such employee.
func (s *Store) DeleteEmployee(ctx context.Context, tenantID, id string) error {
	defer s.lock(ctx)()
	r, err := s.employee(tenantID, id)
	if err != nil {
		return err
	}
	for _, c := range s.st.changes[id] {
		delete(s.st.changeOwners, c.ID)
	}
	delete(s.st.changes, id)
	delete(s.st.empNumbers, tenantKey{r.TenantID, r.EmployeeNumber})
	delete(s.st.employees, id)
	return nil
}

// EmployeesDue lists the employees of every tenant whose NextChangeOn is set and on or before day, the
// earliest first, at most limit of them (all when limit is 0).
func (s *Store) EmployeesDue(ctx context.Context, day string, limit int) ([]ports.EmployeeKey, error) {
	defer s.lock(ctx)()
	due := []ports.EmployeeRecord{}
	for _, r := range s.st.employees {
		if r.NextChangeOn != "" && r.NextChangeOn <= day {
			due = append(due, r)
		}
	}
	slices.SortFunc(due, func(a, b ports.EmployeeRecord) int {
		return cmp.Or(strings.Compare(a.NextChangeOn, b.NextChangeOn), strings.Compare(a.TenantID, b.TenantID), strings.Compare(a.ID, b.ID))
	})
	if limit > 0 && len(due) > limit {
		due = due[:limit]
	}
	out := make([]ports.EmployeeKey, len(due))
	for i, r := range due {
		out[i] = ports.EmployeeKey{TenantID: r.TenantID, ID: r.ID}
	}
	return out, nil
}

// EmployeeKeys lists the employees of every tenant by (TenantID, ID) after the key after, at most limit of
// them (all when limit is 0).
func (s *Store) EmployeeKeys(ctx context.Context, after ports.EmployeeKey, limit int) ([]ports.EmployeeKey, error) {
	defer s.lock(ctx)()
	order := func(a, b ports.EmployeeKey) int {
		return cmp.Or(strings.Compare(a.TenantID, b.TenantID), strings.Compare(a.ID, b.ID))
	}
	out := []ports.EmployeeKey{}
	for _, r := range s.st.employees {
		if k := (ports.EmployeeKey{TenantID: r.TenantID, ID: r.ID}); order(k, after) > 0 {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, order)
	return firstN(out, limit), nil
}

package memory

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/roumu/roumu/ports"
)

func departmentCopy(d ports.DepartmentRecord) ports.DepartmentRecord {
	d.CreatedAt = norm(d.CreatedAt)
	d.UpdatedAt = norm(d.UpdatedAt)
	return d
}

// CreateDepartment stores a department; ErrConflict when its ID or its code in the tenant is taken.
func (s *Store) CreateDepartment(ctx context.Context, d ports.DepartmentRecord) error {
	defer s.lock(ctx)()
	if _, ok := s.st.departments[d.ID]; ok {
		return conflict("department", d.ID)
	}
	code := tenantKey{d.TenantID, d.Code}
	if takenBy(s.st.deptCodes, code, d.ID) {
		return conflict("department code", d.Code)
	}
	s.st.departments[d.ID] = departmentCopy(d)
	s.st.deptCodes[code] = d.ID
	return nil
}

// department returns the department id of tenantID; another tenant's department is not found.
func (s *Store) department(tenantID, id string) (ports.DepartmentRecord, error) {
	return ofTenant(s.st.departments, func(d ports.DepartmentRecord) string { return d.TenantID }, "department", tenantID, id)
}

// DepartmentByID returns the department of tenantID; ErrNotFound otherwise.
func (s *Store) DepartmentByID(ctx context.Context, tenantID, id string) (ports.DepartmentRecord, error) {
	defer s.lock(ctx)()
	d, err := s.department(tenantID, id)
	return departmentCopy(d), err
}

// ListDepartments lists the tenant's departments ordered by code.
func (s *Store) ListDepartments(ctx context.Context, tenantID string) ([]ports.DepartmentRecord, error) {
	defer s.lock(ctx)()
	out := []ports.DepartmentRecord{}
	for _, d := range s.st.departments {
		if d.TenantID == tenantID {
			out = append(out, departmentCopy(d))
		}
	}
	slices.SortFunc(out, func(a, b ports.DepartmentRecord) int {
		return cmp.Or(strings.Compare(a.Code, b.Code), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// UpdateDepartment applies fn to a copy of the department under the store lock and stores the result with
// the next Version. Changes fn makes to ID, TenantID or Version are discarded; a new code must be free in
// the tenant.
func (s *Store) UpdateDepartment(ctx context.Context, tenantID, id string, fn func(*ports.DepartmentRecord) error) (ports.DepartmentRecord, error) {
	defer s.lock(ctx)()
	old, err := s.department(tenantID, id)
	if err != nil {
		return ports.DepartmentRecord{}, err
	}
	d := departmentCopy(old)
	if err := fn(&d); err != nil {
		return ports.DepartmentRecord{}, err
	}
	d.ID, d.TenantID, d.Version = old.ID, old.TenantID, old.Version+1
	code := tenantKey{d.TenantID, d.Code}
	if takenBy(s.st.deptCodes, code, id) {
		return ports.DepartmentRecord{}, conflict("department code", d.Code)
	}
	delete(s.st.deptCodes, tenantKey{old.TenantID, old.Code})
	s.st.deptCodes[code] = id
	d = departmentCopy(d)
	s.st.departments[id] = d
	return d, nil
}

// DeleteDepartment removes a department; ErrConflict while a department of the tenant has it as parent or
// an employee belongs to it, as an SQL store's foreign keys refuse.
func (s *Store) DeleteDepartment(ctx context.Context, tenantID, id string) error {
	defer s.lock(ctx)()
	d, err := s.department(tenantID, id)
	if err != nil {
		return err
	}
	for _, child := range s.st.departments {
		if child.TenantID == tenantID && child.ParentID == id {
			return conflict("department with sub-departments", id)
		}
	}
	for _, e := range s.st.employees {
		if e.TenantID == tenantID && e.DepartmentID == id {
			return conflict("department with employees", id)
		}
	}
	delete(s.st.deptCodes, tenantKey{d.TenantID, d.Code})
	delete(s.st.departments, id)
	return nil
}

package employees

import (
	"context"
	"errors"
	"slices"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// deptIndex is a tenant's departments by code and by ID, loaded once per write or import.
type deptIndex struct {
	idOf   map[string]string // code → ID
	codeOf map[string]string // ID → code
}

func (s *Service) departmentIndex(ctx context.Context, tenantID string) (deptIndex, error) {
	ds, err := s.Departments.ListDepartments(ctx, tenantID)
	if err != nil {
		return deptIndex{}, err
	}
	ix := deptIndex{idOf: map[string]string{}, codeOf: map[string]string{}}
	for _, d := range ds {
		ix.idOf[d.Code], ix.codeOf[d.ID] = d.ID, d.Code
	}
	return ix, nil
}

// resolve turns department_code into department_id and checks that the department exists in the tenant
// (another tenant's department is as unknown as one that does not exist).
func (ix deptIndex) resolve(values map[string]string) []ports.FieldError {
	unknown := func(field string) []ports.FieldError {
		return []ports.FieldError{{Field: field, Code: "unknown_department",
			MessageEN: "is not a department of this company", MessageJA: "存在しない部署です"}}
	}
	code, hasCode := values[fDepartmentCode]
	delete(values, fDepartmentCode)
	if hasCode {
		id, ok := ix.idOf[code]
		if code != "" && !ok {
			return unknown(fDepartmentCode)
		}
		if other, set := values[fDepartmentID]; set && other != id {
			return []ports.FieldError{{Field: fDepartmentCode, Code: "department_mismatch",
				MessageEN: "names another department than department_id", MessageJA: "部署コードと部署IDが一致しません"}}
		}
		values[fDepartmentID] = id
	}
	if id := values[fDepartmentID]; id != "" && ix.codeOf[id] == "" {
		return unknown(fDepartmentID)
	}
	return nil
}

func departmentView(d ports.DepartmentRecord) ports.Department {
	return ports.Department{ID: d.ID, Code: d.Code, Name: d.Name, ParentID: d.ParentID, Version: d.Version}
}

func departmentNotFound() error {
	return ports.NewError(ports.ErrNotFound, "not_found", "The department was not found.", "部署が見つかりません。")
}

func departmentConflict(err error) error {
	if _, ours := ports.AsError(err); ours {
		return err
	}
	if errors.Is(err, ports.ErrConflict) {
		return ports.NewError(ports.ErrConflict, "department_conflict",
			"The department code is taken, or the department is still in use.",
			"部署コードが既に使われているか、部署が使用中です。")
	}
	if errors.Is(err, ports.ErrNotFound) {
		return departmentNotFound()
	}
	return err
}

var departmentName = textOf(100)

// ListDepartments implements ports.Employees: every member of the tenant may read the tree.
func (s *Service) ListDepartments(ctx context.Context, p ports.Principal) ([]ports.Department, error) {
	if err := require(AccessOf(p).Any()); err != nil {
		return nil, err
	}
	ds, err := s.Departments.ListDepartments(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	out := make([]ports.Department, len(ds))
	for i, d := range ds {
		out[i] = departmentView(d)
	}
	return out, nil
}

// applyDepartment validates the input onto d: code and name rules, and a parent that exists in the tenant
// and is not d itself or below it (the tree stays a tree).
func (s *Service) applyDepartment(ctx context.Context, tenantID string, d *ports.DepartmentRecord, in ports.DepartmentInput) error {
	var errs []ports.FieldError
	if in.Code != nil {
		code, p := parseDepartmentCode(*in.Code)
		if p != nil {
			errs = append(errs, p.fieldError("code"))
		}
		d.Code = code
	}
	if in.Name != nil {
		name, p := departmentName(*in.Name)
		if p == nil && name == "" {
			p = &problem{"required", "is required", "必須項目です"}
		}
		if p != nil {
			errs = append(errs, p.fieldError("name"))
		}
		d.Name = name
	}
	if in.ParentID != nil {
		d.ParentID = *in.ParentID
		if d.ParentID != "" {
			if err := s.checkParent(ctx, tenantID, d.ID, d.ParentID); err != nil {
				e, ok := ports.AsError(err)
				if !ok {
					return err
				}
				errs = append(errs, e.Fields...)
			}
		}
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	return nil
}

// checkParent walks up from parentID: it must exist and never reach id.
func (s *Service) checkParent(ctx context.Context, tenantID, id, parentID string) error {
	ds, err := s.Departments.ListDepartments(ctx, tenantID)
	if err != nil {
		return err
	}
	parentOf := map[string]string{}
	for _, d := range ds {
		parentOf[d.ID] = d.ParentID
	}
	for cur, steps := parentID, 0; cur != ""; cur, steps = parentOf[cur], steps+1 {
		if _, ok := parentOf[cur]; !ok {
			return invalid([]ports.FieldError{{Field: "parent_id", Code: "unknown_department",
				MessageEN: "is not a department of this company", MessageJA: "存在しない部署です"}})
		}
		if cur == id || steps > len(ds) {
			return invalid([]ports.FieldError{{Field: "parent_id", Code: "department_cycle",
				MessageEN: "must not be the department itself or below it", MessageJA: "自部署またはその配下は親部署に指定できません"}})
		}
	}
	return nil
}

// CreateDepartment implements ports.Employees.
func (s *Service) CreateDepartment(ctx context.Context, p ports.Principal, in ports.DepartmentInput) (ports.Department, error) {
	if err := require(AccessOf(p).Full()); err != nil {
		return ports.Department{}, err
	}
	now := s.Clock.Now()
	d := ports.DepartmentRecord{ID: kernel.NewID(), TenantID: p.TenantID, Version: 1, CreatedAt: now, UpdatedAt: now}
	for _, missing := range []struct {
		field string
		v     *string
	}{{"code", in.Code}, {"name", in.Name}} {
		if missing.v == nil {
			return ports.Department{}, invalid([]ports.FieldError{required(missing.field)})
		}
	}
	if err := s.applyDepartment(ctx, p.TenantID, &d, in); err != nil {
		return ports.Department{}, err
	}
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Departments.CreateDepartment(ctx, d); err != nil {
			return departmentConflict(err)
		}
		return s.record(ctx, auditEvent(p, "department.create", "department:"+d.ID, map[string]string{"code": d.Code}))
	})
	if err != nil {
		return ports.Department{}, err
	}
	return departmentView(d), nil
}

// UpdateDepartment implements ports.Employees.
func (s *Service) UpdateDepartment(ctx context.Context, p ports.Principal, id string, in ports.DepartmentInput) (ports.Department, error) {
	if err := require(AccessOf(p).Full()); err != nil {
		return ports.Department{}, err
	}
	// The parent is checked before the store's update function runs: that function may not call the store.
	if in.ParentID != nil && *in.ParentID != "" {
		if err := s.checkParent(ctx, p.TenantID, id, *in.ParentID); err != nil {
			return ports.Department{}, err
		}
	}
	noParent := in
	noParent.ParentID = nil
	var out ports.DepartmentRecord
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.Departments.UpdateDepartment(ctx, p.TenantID, id, func(d *ports.DepartmentRecord) error {
			if in.IfVersion != 0 && in.IfVersion != d.Version {
				return staleVersion()
			}
			if in.ParentID != nil {
				d.ParentID = *in.ParentID
			}
			d.UpdatedAt = s.Clock.Now()
			return s.applyDepartment(ctx, p.TenantID, d, noParent)
		})
		if err != nil {
			return departmentConflict(err)
		}
		return s.record(ctx, auditEvent(p, "department.update", "department:"+id, nil))
	})
	if err != nil {
		return ports.Department{}, err
	}
	return departmentView(out), nil
}

// DeleteDepartment implements ports.Employees; a department still in use is ErrConflict.
func (s *Service) DeleteDepartment(ctx context.Context, p ports.Principal, id string) error {
	if err := require(AccessOf(p).Full()); err != nil {
		return err
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Departments.DeleteDepartment(ctx, p.TenantID, id); err != nil {
			return departmentConflict(err)
		}
		return s.record(ctx, auditEvent(p, "department.delete", "department:"+id, nil))
	})
}

// departmentIDs keeps the IDs of a filter in a stable order, for the store.
func departmentIDs(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

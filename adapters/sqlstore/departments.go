package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

type departmentRow struct {
	ID        string  `gorm:"column:id;primaryKey"`
	TenantID  string  `gorm:"column:tenant_id"`
	Code      string  `gorm:"column:code"`
	Name      string  `gorm:"column:name"`
	ParentID  optText `gorm:"column:parent_id"`
	Version   int64   `gorm:"column:version"`
	CreatedAt instant `gorm:"column:created_at"`
	UpdatedAt instant `gorm:"column:updated_at"`
}

func (departmentRow) TableName() string { return "departments" }

// departmentColumns are what UpdateDepartment writes: everything but the identity (ID, TenantID).
var departmentColumns = []string{"code", "name", "parent_id", "version", "created_at", "updated_at"}

func departmentRowOf(d ports.DepartmentRecord) departmentRow {
	return departmentRow{
		ID: d.ID, TenantID: d.TenantID, Code: d.Code, Name: d.Name, ParentID: optText(d.ParentID),
		Version: d.Version, CreatedAt: instant(d.CreatedAt), UpdatedAt: instant(d.UpdatedAt),
	}
}

func (r *departmentRow) record() ports.DepartmentRecord {
	return ports.DepartmentRecord{
		ID: r.ID, TenantID: r.TenantID, Code: r.Code, Name: r.Name, ParentID: string(r.ParentID),
		Version: r.Version, CreatedAt: time.Time(r.CreatedAt), UpdatedAt: time.Time(r.UpdatedAt),
	}
}

// setRecord keeps the identity and makes the version the stored one plus one, whatever fn did with them.
func (r *departmentRow) setRecord(d, stored ports.DepartmentRecord) {
	d.ID, d.TenantID, d.Version = stored.ID, stored.TenantID, stored.Version+1
	*r = departmentRowOf(d)
}

// CreateDepartment stores a department; ErrConflict when its ID or its code is taken in the tenant, or
// its parent is not a department of the tenant.
func (s *Store) CreateDepartment(ctx context.Context, d ports.DepartmentRecord) error {
	row := departmentRowOf(d)
	return s.insert(ctx, "create department", &row)
}

func department(tenantID, id string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB { return inTenant(tenantID)(db).Where("id = ?", id) }
}

// DepartmentByID returns the department of tenantID; another tenant's is ErrNotFound.
func (s *Store) DepartmentByID(ctx context.Context, tenantID, id string) (ports.DepartmentRecord, error) {
	return first(ctx, s, "department by id", department(tenantID, id), (*departmentRow).record)
}

// ListDepartments lists the tenant's departments ordered by code.
func (s *Store) ListDepartments(ctx context.Context, tenantID string) ([]ports.DepartmentRecord, error) {
	return list(ctx, s, "list departments", func(db *gorm.DB) *gorm.DB {
		return inTenant(tenantID)(db).Order("code").Order("id")
	}, (*departmentRow).record)
}

// UpdateDepartment applies fn to the department with its row locked and stores the result with Version
// incremented; fn's changes to ID and TenantID are discarded. ErrConflict when the new code is taken or
// the new parent is not a department of the tenant. The store does not look for cycles: the tree's shape
// is the domain's rule.
func (s *Store) UpdateDepartment(ctx context.Context, tenantID, id string, fn func(*ports.DepartmentRecord) error) (ports.DepartmentRecord, error) {
	return update[ports.DepartmentRecord, departmentRow](ctx, s, "update department", department(tenantID, id),
		departmentColumns, fn)
}

// DeleteDepartment removes the department; ErrNotFound when the tenant has none such, ErrConflict while a
// department or an employee refers to it (the foreign keys RESTRICT, so no check can race a new reference).
func (s *Store) DeleteDepartment(ctx context.Context, tenantID, id string) error {
	return s.guard(ctx, "delete department", func(db *gorm.DB) error {
		res := department(tenantID, id)(db).Delete(&departmentRow{})
		if res.Error == nil && res.RowsAffected == 0 {
			return gorm.ErrRecordNotFound
		}
		return res.Error
	})
}

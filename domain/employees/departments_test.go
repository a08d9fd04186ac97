package employees_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/roumu/roumu/ports"
)

func deptInput(code, name, parent string) ports.DepartmentInput {
	return ports.DepartmentInput{Code: &code, Name: &name, ParentID: &parent}
}

func TestDepartments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root, err := e.svc.CreateDepartment(ctx, e.admin, deptInput("HQ", "本社", ""))
	if err != nil {
		t.Fatal(err)
	}
	sales, err := e.svc.CreateDepartment(ctx, e.hr, deptInput("ＳＡＬＥＳ", "営業部", root.ID))
	if err != nil || sales.Code != "SALES" || sales.ParentID != root.ID {
		t.Fatalf("child: %+v %v", sales, err)
	}
	if _, err := e.svc.CreateDepartment(ctx, e.admin, deptInput("HQ", "重複", "")); code(err) != "department_conflict" {
		t.Errorf("duplicate code: %v", err)
	}
	if _, err := e.svc.CreateDepartment(ctx, e.admin, deptInput("bad code", "", "nosuch")); !slices.Equal(fieldCodes(t, err),
		[]string{"code:department_code", "name:required", "parent_id:unknown_department"}) {
		t.Errorf("invalid department: %v", fieldCodes(t, err))
	}
	if _, err := e.svc.CreateDepartment(ctx, e.admin, ports.DepartmentInput{}); code(err) != "validation_failed" {
		t.Errorf("empty input: %v", err)
	}
	parent := sales.ID
	if _, err := e.svc.UpdateDepartment(ctx, e.admin, root.ID, ports.DepartmentInput{ParentID: &parent}); !slices.Equal(fieldCodes(t, err), []string{"parent_id:department_cycle"}) {
		t.Errorf("cycle: %v", err)
	}
	name := "営業本部"
	if got, err := e.svc.UpdateDepartment(ctx, e.admin, sales.ID, ports.DepartmentInput{Name: &name, IfVersion: sales.Version}); err != nil || got.Name != name || got.Version != sales.Version+1 {
		t.Errorf("rename: %+v %v", got, err)
	}
	if _, err := e.svc.UpdateDepartment(ctx, e.admin, sales.ID, ports.DepartmentInput{Name: &name, IfVersion: sales.Version}); code(err) != "stale_version" {
		t.Errorf("stale rename: %v", err)
	}
	_, err = e.svc.CreateEmployee(ctx, e.admin, ports.EmployeeInput{Fields: fields("E1", "department_code", "sales")})
	if !slices.Equal(fieldCodes(t, err), []string{"department_code:unknown_department"}) {
		t.Fatalf("department codes are case-sensitive, yet %q matched", "sales")
	}
	emp := e.create(t, "E1")
	emp = e.update(t, emp.ID, "", "department_code", "SALES")
	if emp.DepartmentID != sales.ID {
		t.Fatalf("department by code: %q", emp.DepartmentID)
	}
	if err := e.svc.DeleteDepartment(ctx, e.admin, sales.ID); !errors.Is(err, ports.ErrConflict) {
		t.Errorf("delete a department in use: %v", err)
	}
	e.update(t, emp.ID, "", "department_code", "")
	if err := e.svc.DeleteDepartment(ctx, e.admin, sales.ID); err != nil {
		t.Errorf("delete: %v", err)
	}
	list, err := e.svc.ListDepartments(ctx, member("t1", ports.RoleEmployee))
	if err != nil || len(list) != 1 || list[0].Code != "HQ" {
		t.Errorf("list: %+v %v", list, err)
	}
	if len(e.audits(t, "department.create")) != 2 || len(e.audits(t, "department.delete")) != 1 {
		t.Error("department changes not audited")
	}
}

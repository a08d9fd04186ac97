package web_test

import (
	"context"

	"github.com/roumu/roumu/ports"
)

// fakeEmployees stands in for the employee register in the tests of this package, which drive the register
// through its real module in test/e2e. Every call is refused as the module refuses a caller without access,
// so a route reached by mistake shows as a 403, never as a panic.
type fakeEmployees struct{ ports.Employees }

func (fakeEmployees) ListDepartments(context.Context, ports.Principal) ([]ports.Department, error) {
	return nil, ports.ErrForbidden
}

func (fakeEmployees) OwnEmployee(context.Context, ports.Principal) (ports.Employee, error) {
	return ports.Employee{}, ports.ErrNotFound
}

package employees_test

import (
	"errors"
	"testing"

	"github.com/roumu/roumu/ports"
)

// TestOwnEmployee: an employee finds the record whose account_id is their login, and only that; a login
// with no record, and the same login seen from another tenant, find nothing.
func TestOwnEmployee(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	self := e.account(t, member("t1", ports.RoleEmployee))
	mine := e.create(t, "E1", "account_id", self.AccountID)
	e.create(t, "E2", "account_id", e.account(t, member("t1", ports.RoleEmployee)).AccountID)
	e.create(t, "E3")

	got, err := e.svc.OwnEmployee(ctx, self)
	if err != nil {
		t.Fatalf("OwnEmployee: %v", err)
	}
	if got.ID != mine.ID || got.EmployeeNumber != "E1" || got.AccountID != self.AccountID {
		t.Errorf("OwnEmployee = %s (%s), want %s (E1)", got.ID, got.EmployeeNumber, mine.ID)
	}
	if got.MyNumberMasked != "********9018" || got.BankAccount.AccountNumber != "****" {
		t.Errorf("OwnEmployee shows sensitive values in clear: %q %q", got.MyNumberMasked, got.BankAccount.AccountNumber)
	}

	unlinked := member("t1", ports.RoleEmployee)
	elsewhere := self
	elsewhere.TenantID, elsewhere.TenantCode = "t2", "t2"
	for name, p := range map[string]ports.Principal{"another account": unlinked, "another tenant": elsewhere} {
		if _, err := e.svc.OwnEmployee(ctx, p); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("OwnEmployee(%s) = %v, want not found", name, err)
		}
	}

	// Unlinking the record takes it away from its login.
	e.update(t, mine.ID, "", "account_id", "")
	if _, err := e.svc.OwnEmployee(ctx, self); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("OwnEmployee after unlinking = %v, want not found", err)
	}
}

package employees

import (
	"github.com/roumu/roumu/ports"
)

// Access is what a principal may do in the register: the role rule of the specification as one small type.
// admin and hr of a tenant see and edit everything in it; an employee sees only the record linked to their
// account (its account_id) and changes only its contact fields and dependents; anyone else nothing.
type Access struct {
	level     accessLevel
	accountID string
}

type accessLevel int

const (
	accessNone accessLevel = iota
	accessSelf
	accessFull
)

// AccessOf derives a principal's access. Only a fully logged-in member of a tenant has any.
func AccessOf(p ports.Principal) Access {
	if p.Kind != ports.KindMember || p.TenantID == "" || p.Stage != ports.StageFull {
		return Access{}
	}
	switch {
	case p.HasRole(ports.RoleAdmin), p.HasRole(ports.RoleHR):
		return Access{level: accessFull, accountID: p.AccountID}
	case p.HasRole(ports.RoleEmployee) && p.AccountID != "":
		return Access{level: accessSelf, accountID: p.AccountID}
	}
	return Access{}
}

// Full tells whether the principal manages the register (admin or hr).
func (a Access) Full() bool { return a.level == accessFull }

// Any tells whether the principal may use the register at all.
func (a Access) Any() bool { return a.level != accessNone }

// CanRead tells whether the principal may see the employee linked to accountID ("" when none). Callers turn
// false into ErrNotFound, so that an employee cannot tell which other records exist.
func (a Access) CanRead(accountID string) bool {
	return a.level == accessFull || a.level == accessSelf && accountID != "" && accountID == a.accountID
}

// CanWrite tells whether the principal may set the employee field name on a record it can read.
func (a Access) CanWrite(name string) bool {
	if a.level == accessFull {
		return true
	}
	f, ok := employeeFields.field(name)
	return a.level == accessSelf && ok && f.SelfService
}

// SeesSensitive tells whether views show insurance numbers and the bank account in clear (My Number is
// always masked; RevealMyNumber shows it).
func (a Access) SeesSensitive() bool { return a.level == accessFull }

// require returns ErrForbidden unless ok.
func require(ok bool) error {
	if !ok {
		return forbidden()
	}
	return nil
}

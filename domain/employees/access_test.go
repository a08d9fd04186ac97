package employees

import (
	"testing"

	"github.com/roumu/roumu/ports"
)

func TestAccessPolicy(t *testing.T) {
	t.Parallel()
	member := func(roles ...string) ports.Principal {
		return ports.Principal{AccountID: "acct-1", TenantID: "t1", Kind: ports.KindMember, Stage: ports.StageFull, Roles: roles}
	}
	mfaStage := member(ports.RoleAdmin)
	mfaStage.Stage = ports.StageMFA
	operator := member(ports.RoleAdmin)
	operator.Kind, operator.TenantID = ports.KindOperator, ""
	cases := []struct {
		name          string
		p             ports.Principal
		full, any     bool
		readOwn       bool // the record linked to acct-1
		readOther     bool // a record linked to another account
		readUnlinked  bool // a record linked to no account
		email, salary bool // may write address-like contact data / pay
	}{
		{"admin", member(ports.RoleAdmin), true, true, true, true, true, true, true},
		{"hr", member(ports.RoleHR), true, true, true, true, true, true, true},
		{"hr and employee", member(ports.RoleEmployee, ports.RoleHR), true, true, true, true, true, true, true},
		{"employee", member(ports.RoleEmployee), false, true, true, false, false, true, false},
		{"no role", member(), false, false, false, false, false, false, false},
		{"admin before MFA", mfaStage, false, false, false, false, false, false, false},
		{"operator", operator, false, false, false, false, false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := AccessOf(tc.p)
			got := []bool{a.Full(), a.Any(), a.CanRead("acct-1"), a.CanRead("acct-2"), a.CanRead(""),
				a.CanWrite("address.city"), a.CanWrite(fPayCash)}
			want := []bool{tc.full, tc.any, tc.readOwn, tc.readOther, tc.readUnlinked, tc.email, tc.salary}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("Full, Any, CanRead own/other/unlinked, CanWrite contact/pay = %v, want %v", got, want)
				}
			}
		})
	}
	self := AccessOf(member(ports.RoleEmployee))
	for _, f := range []string{fEmail, "phone", "address.postal_code", "address.prefecture", "address.city", "address.street", "address.building"} {
		if !self.CanWrite(f) {
			t.Errorf("an employee cannot change their own %s", f)
		}
	}
	for _, f := range []string{fAccountID, fMyNumber, fStatus, fDepartmentCode, "bank_account.account_number", "no_such_field"} {
		if self.CanWrite(f) {
			t.Errorf("an employee may change their own %s", f)
		}
	}
}

package porttest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// newMember returns a member of tenantID with every field set except LastLoginAt (never logged in).
func newMember(tenantID, login string) ports.AccountRecord {
	return ports.AccountRecord{
		ID:                 newID(),
		TenantID:           tenantID,
		Kind:               ports.KindMember,
		Login:              login,
		LoginKey:           strings.ToLower(login),
		Name:               "山田 太郎 " + login,
		Roles:              []string{ports.RoleHR, ports.RoleAdmin},
		Status:             ports.AccountActive,
		PasswordHash:       "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA",
		MustChangePassword: true,
		PasswordChangedAt:  at(-24 * time.Hour),
		CreatedAt:          at(-48 * time.Hour),
		UpdatedAt:          at(-24 * time.Hour),
	}
}

// newOperator returns a provider operator (no tenant).
func newOperator(login string) ports.AccountRecord {
	a := newMember("", login)
	a.Kind = ports.KindOperator
	a.Roles = nil
	return a
}

func checkAccount(t *testing.T, got, want ports.AccountRecord) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "TenantID", got.TenantID, want.TenantID)
	checkEq(t, "Kind", got.Kind, want.Kind)
	checkEq(t, "Login", got.Login, want.Login)
	checkEq(t, "LoginKey", got.LoginKey, want.LoginKey)
	checkEq(t, "Name", got.Name, want.Name)
	checkStringSet(t, "Roles", got.Roles, want.Roles)
	checkEq(t, "Status", got.Status, want.Status)
	checkEq(t, "PasswordHash", got.PasswordHash, want.PasswordHash)
	checkEq(t, "MustChangePassword", got.MustChangePassword, want.MustChangePassword)
	checkTime(t, "PasswordChangedAt", got.PasswordChangedAt, want.PasswordChangedAt)
	checkTime(t, "LastLoginAt", got.LastLoginAt, want.LastLoginAt)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

// createAccount stores a and returns it.
func createAccount(t *testing.T, s Stores, a ports.AccountRecord) ports.AccountRecord {
	t.Helper()
	must(t, s.Accounts.CreateAccount(t.Context(), a), "CreateAccount "+a.Login)
	return a
}

// checkStored fails when the stored account differs from want.
func checkStored(t *testing.T, s Stores, want ports.AccountRecord) {
	t.Helper()
	got, err := s.Accounts.AccountByID(t.Context(), want.TenantID, want.ID)
	must(t, err, "AccountByID")
	checkAccount(t, got, want)
}

// accountFixture is two tenants, a member in each with the same login, and an operator with that login too.
type accountFixture struct {
	s                Stores
	tenantA, tenantB string
	memberA, memberB ports.AccountRecord
	operator         ports.AccountRecord
}

func newAccountFixture(t *testing.T, factory Factory) accountFixture {
	t.Helper()
	s := open(t, factory, "Tenants", "Accounts")
	f := accountFixture{s: s}
	// Accounts are created under real tenants, so an SQL store may keep a foreign key to tenants.
	f.tenantA = createTenant(t, s, "acme").ID
	f.tenantB = createTenant(t, s, "beta").ID
	f.memberA = createAccount(t, s, newMember(f.tenantA, "Hanako"))
	f.memberB = createAccount(t, s, newMember(f.tenantB, "Hanako"))
	f.operator = createAccount(t, s, newOperator("Hanako"))
	return f
}

// TestAccountStore is the contract suite of ports.AccountStore. It uses the TenantStore to create the
// tenants the accounts belong to.
func TestAccountStore(t *testing.T, factory Factory) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		f := newAccountFixture(t, factory)
		want := newMember(f.tenantA, "Taro")
		want.LastLoginAt = at(-time.Minute)
		want.Roles = []string{ports.RoleEmployee}
		createAccount(t, f.s, want)

		got, err := f.s.Accounts.AccountByID(t.Context(), f.tenantA, want.ID)
		must(t, err, "AccountByID")
		checkAccount(t, got, want)
		got, err = f.s.Accounts.AccountByLogin(t.Context(), f.tenantA, "taro")
		must(t, err, "AccountByLogin")
		checkAccount(t, got, want)
	})

	t.Run("ZeroValuesRoundTrip", func(t *testing.T) {
		t.Parallel()
		f := newAccountFixture(t, factory)
		want := ports.AccountRecord{
			ID: newID(), TenantID: f.tenantA, Kind: ports.KindMember, Login: "min", LoginKey: "min",
			Status: ports.AccountDisabled, CreatedAt: at(0),
		}
		createAccount(t, f.s, want)
		checkStored(t, f.s, want) // nil Roles, zero PasswordChangedAt and LastLoginAt stay empty and zero
		checkStored(t, f.s, f.memberA)
	})

	t.Run("OperatorsAreSeparateFromMembers", func(t *testing.T) {
		t.Parallel()
		f := newAccountFixture(t, factory)
		for _, a := range []ports.AccountRecord{f.memberA, f.memberB, f.operator} {
			got, err := f.s.Accounts.AccountByLogin(t.Context(), a.TenantID, "hanako")
			must(t, err, "AccountByLogin")
			checkAccount(t, got, a)
			checkStored(t, f.s, a)
		}
		_, err := f.s.Accounts.AccountByID(t.Context(), "", f.memberA.ID)
		checkIs(t, "AccountByID(operators, member)", err, ports.ErrNotFound)
		_, err = f.s.Accounts.AccountByID(t.Context(), f.tenantA, f.operator.ID)
		checkIs(t, "AccountByID(tenant, operator)", err, ports.ErrNotFound)

		ops, err := f.s.Accounts.ListAccounts(t.Context(), "")
		must(t, err, "ListAccounts(operators)")
		if len(ops) != 1 {
			t.Fatalf("ListAccounts(operators) returned %d accounts, want 1", len(ops))
		}
		checkAccount(t, ops[0], f.operator)
	})

	t.Run("LoginConflict", func(t *testing.T) {
		t.Parallel()
		f := newAccountFixture(t, factory)
		dup := newMember(f.tenantA, "HANAKO") // another spelling, the same key
		dup.LoginKey = f.memberA.LoginKey
		checkIs(t, "CreateAccount(same tenant, same login key)", f.s.Accounts.CreateAccount(t.Context(), dup), ports.ErrConflict)
		op := newOperator("hanako")
		checkIs(t, "CreateAccount(operator, same login key)", f.s.Accounts.CreateAccount(t.Context(), op), ports.ErrConflict)
		sameID := newMember(f.tenantA, "other")
		sameID.ID = f.memberB.ID
		checkIs(t, "CreateAccount(same ID)", f.s.Accounts.CreateAccount(t.Context(), sameID), ports.ErrConflict)

		for _, a := range []ports.AccountRecord{f.memberA, f.memberB, f.operator} {
			checkStored(t, f.s, a)
		}
		for _, id := range []string{dup.ID, op.ID} {
			_, err := f.s.Accounts.AccountByID(t.Context(), f.tenantA, id)
			checkIs(t, "AccountByID(refused)", err, ports.ErrNotFound)
			_, err = f.s.Accounts.AccountByID(t.Context(), "", id)
			checkIs(t, "AccountByID(refused)", err, ports.ErrNotFound)
		}
		_, err := f.s.Accounts.AccountByLogin(t.Context(), f.tenantA, "other")
		checkIs(t, "AccountByLogin(refused)", err, ports.ErrNotFound)
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		f := newAccountFixture(t, factory)
		_, err := f.s.Accounts.AccountByID(t.Context(), f.tenantA, newID())
		checkIs(t, "AccountByID(unknown)", err, ports.ErrNotFound)
		_, err = f.s.Accounts.AccountByLogin(t.Context(), f.tenantA, "nobody")
		checkIs(t, "AccountByLogin(unknown)", err, ports.ErrNotFound)
		_, err = f.s.Accounts.AccountByLogin(t.Context(), newID(), "hanako")
		checkIs(t, "AccountByLogin(unknown tenant)", err, ports.ErrNotFound)
		called := false
		_, err = f.s.Accounts.UpdateAccount(t.Context(), f.tenantA, newID(), func(*ports.AccountRecord) error { called = true; return nil })
		checkIs(t, "UpdateAccount(unknown)", err, ports.ErrNotFound)
		if called {
			t.Error("UpdateAccount(unknown) called fn")
		}
	})

	t.Run("TenantScoping", func(t *testing.T) {
		t.Parallel()
		f := newAccountFixture(t, factory)
		_, err := f.s.Accounts.AccountByID(t.Context(), f.tenantB, f.memberA.ID)
		checkIs(t, "AccountByID(other tenant)", err, ports.ErrNotFound)
		only := createAccount(t, f.s, newMember(f.tenantA, "onlyA"))
		_, err = f.s.Accounts.AccountByLogin(t.Context(), f.tenantB, only.LoginKey)
		checkIs(t, "AccountByLogin(other tenant)", err, ports.ErrNotFound)

		for _, tenant := range []string{f.tenantB, ""} {
			called := false
			_, err = f.s.Accounts.UpdateAccount(t.Context(), tenant, f.memberA.ID, func(r *ports.AccountRecord) error {
				called = true
				r.Name, r.Status, r.PasswordHash = "hijacked", ports.AccountDisabled, "x"
				return nil
			})
			checkIs(t, "UpdateAccount(other tenant)", err, ports.ErrNotFound)
			if called {
				t.Error("UpdateAccount(other tenant) called fn")
			}
		}
		checkStored(t, f.s, f.memberA)
		checkStored(t, f.s, f.memberB)
	})

	t.Run("ListByLogin", func(t *testing.T) {
		t.Parallel()
		f := newAccountFixture(t, factory)
		empty := createTenant(t, f.s, "gamma").ID
		list, err := f.s.Accounts.ListAccounts(t.Context(), empty)
		must(t, err, "ListAccounts(no accounts)")
		checkEq(t, "len(ListAccounts(no accounts))", len(list), 0)

		// Lower-case ASCII logins, so that byte order, case-insensitive order and any SQL collation agree.
		var want []ports.AccountRecord
		for _, login := range []string{"carol", "alice", "dave", "bob", "alice.b"} {
			want = append(want, createAccount(t, f.s, newMember(empty, login)))
		}
		createAccount(t, f.s, newMember(f.tenantB, "bob"))
		createAccount(t, f.s, newOperator("aaron"))
		slices.SortFunc(want, func(a, b ports.AccountRecord) int { return strings.Compare(a.Login, b.Login) })

		list, err = f.s.Accounts.ListAccounts(t.Context(), empty)
		must(t, err, "ListAccounts")
		if len(list) != len(want) {
			t.Fatalf("ListAccounts returned %d accounts, want %d", len(list), len(want))
		}
		for i := range want {
			checkAccount(t, list[i], want[i])
		}
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		f := newAccountFixture(t, factory)
		want := f.memberA
		want.Login, want.LoginKey = "Hanako.Sato", "hanako.sato"
		want.Name = "佐藤 花子"
		want.Roles = []string{ports.RoleEmployee}
		want.Status = ports.AccountDisabled
		want.PasswordHash = "$argon2id$v=19$m=131072,t=4,p=2$bmV3$bmV3"
		want.MustChangePassword = false
		want.PasswordChangedAt = at(time.Hour)
		want.LastLoginAt = at(2 * time.Hour)
		want.UpdatedAt = at(3 * time.Hour)

		got, err := f.s.Accounts.UpdateAccount(t.Context(), f.tenantA, f.memberA.ID, func(r *ports.AccountRecord) error {
			checkAccount(t, *r, f.memberA) // fn sees the stored record
			id, tenant, kind := r.ID, r.TenantID, r.Kind
			*r = want
			r.Roles = []string{ports.RoleEmployee}
			r.ID, r.TenantID, r.Kind = id, tenant, kind
			return nil
		})
		must(t, err, "UpdateAccount")
		checkAccount(t, got, want)
		checkStored(t, f.s, want)
		got, err = f.s.Accounts.AccountByLogin(t.Context(), f.tenantA, "hanako.sato")
		must(t, err, "AccountByLogin(new login)")
		checkAccount(t, got, want)
		_, err = f.s.Accounts.AccountByLogin(t.Context(), f.tenantA, "hanako")
		checkIs(t, "AccountByLogin(old login)", err, ports.ErrNotFound)
		checkStored(t, f.s, f.memberB)
		checkStored(t, f.s, f.operator)

		// The old key is free again.
		createAccount(t, f.s, newMember(f.tenantA, "Hanako"))
	})

	t.Run("UpdateLoginConflict", func(t *testing.T) {
		t.Parallel()
		f := newAccountFixture(t, factory)
		taro := createAccount(t, f.s, newMember(f.tenantA, "taro"))
		_, err := f.s.Accounts.UpdateAccount(t.Context(), f.tenantA, taro.ID, func(r *ports.AccountRecord) error {
			r.Login, r.LoginKey, r.Name = "hanako", "hanako", "changed"
			return nil
		})
		checkIs(t, "UpdateAccount(login key taken)", err, ports.ErrConflict)
		checkStored(t, f.s, taro)
		checkStored(t, f.s, f.memberA)
	})

	t.Run("UpdateKeepsIdentity", func(t *testing.T) {
		t.Parallel()
		f := newAccountFixture(t, factory)
		newTenantID, newAccountID := f.tenantB, newID()
		got, err := f.s.Accounts.UpdateAccount(t.Context(), f.tenantA, f.memberA.ID, func(r *ports.AccountRecord) error {
			r.ID, r.TenantID, r.Kind = newAccountID, newTenantID, ports.KindOperator
			r.Login, r.LoginKey = "moved", "moved"
			return nil
		})
		// Refusing the change is as good as ignoring it; what matters is that nothing moved.
		want := f.memberA
		want.Login, want.LoginKey = "moved", "moved"
		if err == nil {
			checkAccount(t, got, want)
		} else {
			want = f.memberA
		}
		checkStored(t, f.s, want)
		for _, tenant := range []string{f.tenantA, f.tenantB, ""} {
			_, err = f.s.Accounts.AccountByID(t.Context(), tenant, newAccountID)
			checkIs(t, "AccountByID(new ID)", err, ports.ErrNotFound)
		}
		_, err = f.s.Accounts.AccountByID(t.Context(), f.tenantB, f.memberA.ID)
		checkIs(t, "AccountByID(new tenant)", err, ports.ErrNotFound)
		_, err = f.s.Accounts.AccountByID(t.Context(), "", f.memberA.ID)
		checkIs(t, "AccountByID(operators)", err, ports.ErrNotFound)
	})

	t.Run("UpdateErrorChangesNothing", func(t *testing.T) {
		t.Parallel()
		f := newAccountFixture(t, factory)
		_, err := f.s.Accounts.UpdateAccount(t.Context(), f.tenantA, f.memberA.ID, func(r *ports.AccountRecord) error {
			r.Name, r.Status, r.LoginKey = "changed", ports.AccountDisabled, "changed"
			r.Roles = append(r.Roles, ports.RoleEmployee)
			r.LastLoginAt = at(time.Hour)
			return errBoom
		})
		checkIs(t, "UpdateAccount(fn fails)", err, errBoom)
		checkStored(t, f.s, f.memberA)
		_, err = f.s.Accounts.AccountByLogin(t.Context(), f.tenantA, "changed")
		checkIs(t, "AccountByLogin(login of failed update)", err, ports.ErrNotFound)
	})

	t.Run("NoAliasing", func(t *testing.T) {
		t.Parallel()
		f := newAccountFixture(t, factory)
		in := newMember(f.tenantA, "taro")
		want := in
		want.Roles = slices.Clone(in.Roles)
		createAccount(t, f.s, in)
		in.Roles[0] = "root"

		got, err := f.s.Accounts.AccountByID(t.Context(), f.tenantA, in.ID)
		must(t, err, "AccountByID")
		got.Roles[0] = "root"
		got, err = f.s.Accounts.AccountByLogin(t.Context(), f.tenantA, "taro")
		must(t, err, "AccountByLogin")
		got.Roles[0] = "root"
		list, err := f.s.Accounts.ListAccounts(t.Context(), f.tenantA)
		must(t, err, "ListAccounts")
		for _, a := range list {
			a.Roles = append(a.Roles[:0], "root")
		}
		got, err = f.s.Accounts.UpdateAccount(t.Context(), f.tenantA, in.ID, func(*ports.AccountRecord) error { return nil })
		must(t, err, "UpdateAccount")
		got.Roles[0] = "root"
		checkStored(t, f.s, want)
	})

	t.Run("ConcurrentUpdate", func(t *testing.T) {
		t.Parallel()
		f := newAccountFixture(t, factory)
		const n = 20
		concurrently(n, func(i int) {
			_, err := f.s.Accounts.UpdateAccount(t.Context(), f.tenantA, f.memberA.ID, func(r *ports.AccountRecord) error {
				r.Name += "+"
				return nil
			})
			if err != nil {
				t.Errorf("UpdateAccount #%d: %v", i, err)
			}
		})
		want := f.memberA
		want.Name += strings.Repeat("+", n) // no update lost
		checkStored(t, f.s, want)
	})
}

// someone creates a tenant with one member (or, with operator, an operator account) and returns the
// tenant ID ("" for the operator) and the account ID. The suites of stores that keep per-account data
// use real accounts, so an SQL store is free to keep foreign keys to them.
func someone(t *testing.T, s Stores, operator bool) (tenantID, accountID string) {
	t.Helper()
	if operator {
		a := createAccount(t, s, newOperator("op-"+newID()[:8]))
		return "", a.ID
	}
	tenant := createTenant(t, s, "t"+newID()[:8])
	a := createAccount(t, s, newMember(tenant.ID, "m-"+newID()[:8]))
	return tenant.ID, a.ID
}

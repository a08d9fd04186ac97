package porttest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// newTenant returns a tenant with every field set.
func newTenant(code string) ports.TenantRecord {
	return ports.TenantRecord{
		ID:            newID(),
		Code:          code,
		Name:          "株式会社" + code,
		Status:        ports.TenantActive,
		MFARequired:   true,
		IPRestriction: true,
		AllowedCIDRs:  []string{"203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32"},
		Seats:         250,
		CreatedAt:     at(0),
		UpdatedAt:     at(time.Hour),
	}
}

func checkTenant(t *testing.T, got, want ports.TenantRecord) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "Code", got.Code, want.Code)
	checkEq(t, "Name", got.Name, want.Name)
	checkEq(t, "Status", got.Status, want.Status)
	checkEq(t, "MFARequired", got.MFARequired, want.MFARequired)
	checkEq(t, "IPRestriction", got.IPRestriction, want.IPRestriction)
	checkStrings(t, "AllowedCIDRs", got.AllowedCIDRs, want.AllowedCIDRs)
	checkEq(t, "Seats", got.Seats, want.Seats)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

// createTenant stores a new tenant with every field set and returns it.
func createTenant(t *testing.T, s Stores, code string) ports.TenantRecord {
	t.Helper()
	r := newTenant(code)
	must(t, s.Tenants.CreateTenant(t.Context(), r), "CreateTenant "+code)
	return r
}

// TestTenantStore is the contract suite of ports.TenantStore.
func TestTenantStore(t *testing.T, factory Factory) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants")
		want := createTenant(t, s, "acme")
		got, err := s.Tenants.TenantByID(t.Context(), want.ID)
		must(t, err, "TenantByID")
		checkTenant(t, got, want)
		got, err = s.Tenants.TenantByCode(t.Context(), "acme")
		must(t, err, "TenantByCode")
		checkTenant(t, got, want)
	})

	t.Run("ZeroValuesRoundTrip", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants")
		want := ports.TenantRecord{ID: newID(), Code: "bare", Name: "Bare", Status: ports.TenantSuspended, CreatedAt: at(0)}
		must(t, s.Tenants.CreateTenant(t.Context(), want), "CreateTenant")
		got, err := s.Tenants.TenantByID(t.Context(), want.ID)
		must(t, err, "TenantByID")
		checkTenant(t, got, want)
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants")
		createTenant(t, s, "acme")
		_, err := s.Tenants.TenantByID(t.Context(), newID())
		checkIs(t, "TenantByID(unknown)", err, ports.ErrNotFound)
		_, err = s.Tenants.TenantByCode(t.Context(), "nope")
		checkIs(t, "TenantByCode(unknown)", err, ports.ErrNotFound)
		called := false
		_, err = s.Tenants.UpdateTenant(t.Context(), newID(), func(*ports.TenantRecord) error { called = true; return nil })
		checkIs(t, "UpdateTenant(unknown)", err, ports.ErrNotFound)
		if called {
			t.Error("UpdateTenant(unknown) called fn")
		}
	})

	t.Run("CodeConflict", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants")
		first := createTenant(t, s, "acme")
		dup := newTenant("acme")
		dup.Name = "Impostor"
		checkIs(t, "CreateTenant(same code)", s.Tenants.CreateTenant(t.Context(), dup), ports.ErrConflict)
		sameID := newTenant("other")
		sameID.ID = first.ID
		checkIs(t, "CreateTenant(same ID)", s.Tenants.CreateTenant(t.Context(), sameID), ports.ErrConflict)

		got, err := s.Tenants.TenantByCode(t.Context(), "acme")
		must(t, err, "TenantByCode")
		checkTenant(t, got, first)
		_, err = s.Tenants.TenantByCode(t.Context(), "other")
		checkIs(t, "TenantByCode(other)", err, ports.ErrNotFound)
		list, err := s.Tenants.ListTenants(t.Context())
		must(t, err, "ListTenants")
		checkEq(t, "len(ListTenants)", len(list), 1)
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants")
		list, err := s.Tenants.ListTenants(t.Context())
		must(t, err, "ListTenants(empty)")
		checkEq(t, "len(ListTenants(empty))", len(list), 0)

		want := map[string]ports.TenantRecord{}
		for _, code := range []string{"gamma", "alpha", "beta"} {
			r := createTenant(t, s, code)
			want[r.ID] = r
		}
		list, err = s.Tenants.ListTenants(t.Context())
		must(t, err, "ListTenants")
		checkEq(t, "len(ListTenants)", len(list), len(want))
		for _, got := range list {
			w, ok := want[got.ID]
			if !ok {
				t.Errorf("ListTenants returned unknown or repeated tenant %q", got.ID)
				continue
			}
			delete(want, got.ID)
			checkTenant(t, got, w)
		}
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants")
		orig := createTenant(t, s, "acme")
		other := createTenant(t, s, "other")
		want := orig
		want.Name = "ACME Holdings"
		want.Status = ports.TenantSuspended
		want.MFARequired = false
		want.IPRestriction = false
		want.AllowedCIDRs = []string{"192.0.2.0/24"}
		want.Seats = 0
		want.UpdatedAt = at(48 * time.Hour)

		got, err := s.Tenants.UpdateTenant(t.Context(), orig.ID, func(r *ports.TenantRecord) error {
			checkTenant(t, *r, orig) // fn sees the stored record
			r.Name, r.Status, r.MFARequired, r.IPRestriction = want.Name, want.Status, want.MFARequired, want.IPRestriction
			r.AllowedCIDRs, r.Seats, r.UpdatedAt = []string{"192.0.2.0/24"}, want.Seats, want.UpdatedAt
			return nil
		})
		must(t, err, "UpdateTenant")
		checkTenant(t, got, want)
		got, err = s.Tenants.TenantByID(t.Context(), orig.ID)
		must(t, err, "TenantByID")
		checkTenant(t, got, want)
		got, err = s.Tenants.TenantByCode(t.Context(), "acme")
		must(t, err, "TenantByCode")
		checkTenant(t, got, want)
		got, err = s.Tenants.TenantByID(t.Context(), other.ID)
		must(t, err, "TenantByID(other)")
		checkTenant(t, got, other)
	})

	t.Run("UpdateErrorChangesNothing", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants")
		orig := createTenant(t, s, "acme")
		_, err := s.Tenants.UpdateTenant(t.Context(), orig.ID, func(r *ports.TenantRecord) error {
			r.Name = "changed"
			r.AllowedCIDRs = append(r.AllowedCIDRs, "0.0.0.0/0")
			r.Seats = 1
			return fmt.Errorf("rule says no: %w", errBoom)
		})
		checkIs(t, "UpdateTenant(fn fails)", err, errBoom)
		got, err := s.Tenants.TenantByID(t.Context(), orig.ID)
		must(t, err, "TenantByID")
		checkTenant(t, got, orig)
	})

	t.Run("NoAliasing", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants")
		in := newTenant("acme")
		want := in
		want.AllowedCIDRs = slices.Clone(in.AllowedCIDRs)
		must(t, s.Tenants.CreateTenant(t.Context(), in), "CreateTenant")
		in.AllowedCIDRs[0] = "0.0.0.0/0" // the caller's slice is the caller's

		got, err := s.Tenants.TenantByID(t.Context(), in.ID)
		must(t, err, "TenantByID")
		checkTenant(t, got, want)
		got.AllowedCIDRs[0] = "0.0.0.0/0"
		list, err := s.Tenants.ListTenants(t.Context())
		must(t, err, "ListTenants")
		list[0].AllowedCIDRs[1] = "0.0.0.0/0"
		upd, err := s.Tenants.UpdateTenant(t.Context(), in.ID, func(*ports.TenantRecord) error { return nil })
		must(t, err, "UpdateTenant")
		upd.AllowedCIDRs[2] = "0.0.0.0/0"

		got, err = s.Tenants.TenantByID(t.Context(), in.ID)
		must(t, err, "TenantByID")
		checkTenant(t, got, want)
	})

	t.Run("ConcurrentUpdate", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants")
		orig := createTenant(t, s, "acme")
		const n = 20
		concurrently(n, func(i int) {
			_, err := s.Tenants.UpdateTenant(t.Context(), orig.ID, func(r *ports.TenantRecord) error {
				r.Seats++
				r.Name += "+"
				return nil
			})
			if err != nil {
				t.Errorf("UpdateTenant #%d: %v", i, err)
			}
		})
		got, err := s.Tenants.TenantByID(t.Context(), orig.ID)
		must(t, err, "TenantByID")
		checkEq(t, "Seats (one increment per update)", got.Seats, orig.Seats+n)
		checkEq(t, "Name", got.Name, orig.Name+strings.Repeat("+", n))
	})
}

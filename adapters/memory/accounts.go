package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/roumu/roumu/ports"
)

func notFound(what, id string) error {
	return fmt.Errorf("memory: %s %q: %w", what, id, ports.ErrNotFound)
}

func conflict(what, id string) error {
	return fmt.Errorf("memory: %s %q: %w", what, id, ports.ErrConflict)
}

// tenantCopy returns t as the store keeps it: its own slice, normalised instants.
func tenantCopy(t ports.TenantRecord) ports.TenantRecord {
	t.AllowedCIDRs = slices.Clone(t.AllowedCIDRs)
	t.CreatedAt = norm(t.CreatedAt)
	t.UpdatedAt = norm(t.UpdatedAt)
	return t
}

// CreateTenant stores a new tenant; ErrConflict when its ID or code is taken.
func (s *Store) CreateTenant(ctx context.Context, t ports.TenantRecord) error {
	defer s.lock(ctx)()
	if _, ok := s.st.tenants[t.ID]; ok {
		return conflict("tenant", t.ID)
	}
	if _, ok := s.st.tenantCodes[t.Code]; ok {
		return conflict("tenant code", t.Code)
	}
	s.st.tenants[t.ID] = tenantCopy(t)
	s.st.tenantCodes[t.Code] = t.ID
	return nil
}

// TenantByID returns the tenant; ErrNotFound when there is none.
func (s *Store) TenantByID(ctx context.Context, id string) (ports.TenantRecord, error) {
	defer s.lock(ctx)()
	t, ok := s.st.tenants[id]
	if !ok {
		return ports.TenantRecord{}, notFound("tenant", id)
	}
	return tenantCopy(t), nil
}

// TenantByCode returns the tenant with that code; ErrNotFound when there is none.
func (s *Store) TenantByCode(ctx context.Context, code string) (ports.TenantRecord, error) {
	defer s.lock(ctx)()
	id, ok := s.st.tenantCodes[code]
	if !ok {
		return ports.TenantRecord{}, notFound("tenant code", code)
	}
	return tenantCopy(s.st.tenants[id]), nil
}

// ListTenants returns every tenant, ordered by code.
func (s *Store) ListTenants(ctx context.Context) ([]ports.TenantRecord, error) {
	defer s.lock(ctx)()
	out := make([]ports.TenantRecord, 0, len(s.st.tenants))
	for _, t := range s.st.tenants {
		out = append(out, tenantCopy(t))
	}
	slices.SortFunc(out, func(a, b ports.TenantRecord) int { return strings.Compare(a.Code, b.Code) })
	return out, nil
}

// UpdateTenant applies fn to a copy of the tenant under the store lock and stores the result. The ID cannot
// change; a new code must be free.
func (s *Store) UpdateTenant(ctx context.Context, id string, fn func(*ports.TenantRecord) error) (ports.TenantRecord, error) {
	defer s.lock(ctx)()
	old, ok := s.st.tenants[id]
	if !ok {
		return ports.TenantRecord{}, notFound("tenant", id)
	}
	t := tenantCopy(old)
	if err := fn(&t); err != nil {
		return ports.TenantRecord{}, err
	}
	t.ID = id
	if t.Code != old.Code {
		if _, taken := s.st.tenantCodes[t.Code]; taken {
			return ports.TenantRecord{}, conflict("tenant code", t.Code)
		}
		delete(s.st.tenantCodes, old.Code)
		s.st.tenantCodes[t.Code] = id
	}
	t = tenantCopy(t)
	s.st.tenants[id] = t
	return tenantCopy(t), nil
}

// accountCopy returns a as the store keeps it: its own slice, normalised instants.
func accountCopy(a ports.AccountRecord) ports.AccountRecord {
	a.Roles = slices.Clone(a.Roles)
	a.PasswordChangedAt = norm(a.PasswordChangedAt)
	a.LastLoginAt = norm(a.LastLoginAt)
	a.CreatedAt = norm(a.CreatedAt)
	a.UpdatedAt = norm(a.UpdatedAt)
	return a
}

// CreateAccount stores a new account; ErrConflict when its ID or (TenantID, LoginKey) is taken.
func (s *Store) CreateAccount(ctx context.Context, a ports.AccountRecord) error {
	defer s.lock(ctx)()
	if _, ok := s.st.accounts[a.ID]; ok {
		return conflict("account", a.ID)
	}
	k := loginKey{a.TenantID, a.LoginKey}
	if _, ok := s.st.logins[k]; ok {
		return conflict("login", a.LoginKey)
	}
	s.st.accounts[a.ID] = accountCopy(a)
	s.st.logins[k] = a.ID
	return nil
}

// account returns the account id of tenantID; another tenant's account is not found.
func (s *Store) account(tenantID, id string) (ports.AccountRecord, error) {
	a, ok := s.st.accounts[id]
	if !ok || a.TenantID != tenantID {
		return ports.AccountRecord{}, notFound("account", id)
	}
	return a, nil
}

// AccountByID returns the account of tenantID ("" for operators); ErrNotFound otherwise.
func (s *Store) AccountByID(ctx context.Context, tenantID, id string) (ports.AccountRecord, error) {
	defer s.lock(ctx)()
	a, err := s.account(tenantID, id)
	if err != nil {
		return ports.AccountRecord{}, err
	}
	return accountCopy(a), nil
}

// AccountByLogin returns the account of tenantID with that login key; ErrNotFound when there is none.
func (s *Store) AccountByLogin(ctx context.Context, tenantID, key string) (ports.AccountRecord, error) {
	defer s.lock(ctx)()
	id, ok := s.st.logins[loginKey{tenantID, key}]
	if !ok {
		return ports.AccountRecord{}, notFound("login", key)
	}
	return accountCopy(s.st.accounts[id]), nil
}

// ListAccounts lists the accounts of tenantID ("" for operators) ordered by login key.
func (s *Store) ListAccounts(ctx context.Context, tenantID string) ([]ports.AccountRecord, error) {
	defer s.lock(ctx)()
	out := []ports.AccountRecord{}
	for _, a := range s.st.accounts {
		if a.TenantID == tenantID {
			out = append(out, accountCopy(a))
		}
	}
	// By the case-folded key, so the order is the one a person expects whatever the case of the logins.
	slices.SortFunc(out, func(a, b ports.AccountRecord) int {
		return cmp.Or(strings.Compare(a.LoginKey, b.LoginKey), strings.Compare(a.Login, b.Login), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// UpdateAccount applies fn to a copy of the account under the store lock and stores the result. Changes fn
// makes to ID, TenantID or Kind are discarded; a new login key must be free in the tenant.
func (s *Store) UpdateAccount(ctx context.Context, tenantID, id string, fn func(*ports.AccountRecord) error) (ports.AccountRecord, error) {
	defer s.lock(ctx)()
	old, err := s.account(tenantID, id)
	if err != nil {
		return ports.AccountRecord{}, err
	}
	a := accountCopy(old)
	if err := fn(&a); err != nil {
		return ports.AccountRecord{}, err
	}
	a.ID, a.TenantID, a.Kind = old.ID, old.TenantID, old.Kind
	if a.LoginKey != old.LoginKey {
		k := loginKey{a.TenantID, a.LoginKey}
		if _, taken := s.st.logins[k]; taken {
			return ports.AccountRecord{}, conflict("login", a.LoginKey)
		}
		delete(s.st.logins, loginKey{old.TenantID, old.LoginKey})
		s.st.logins[k] = id
	}
	a = accountCopy(a)
	s.st.accounts[id] = a
	return accountCopy(a), nil
}

package porttest

import (
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// newAPIToken returns a token of the account with every field set that a new token has, created at created.
func newAPIToken(tenantID, accountID string, created time.Time) ports.APITokenRecord {
	id := newID()
	return ports.APITokenRecord{
		ID:         id[:8] + id[9:13] + id[14:18], // short, as the accounts module makes them
		TenantID:   tenantID,
		Name:       "給与計算システム連携 " + id[:4],
		Scopes:     []string{ports.ScopeEmployeesRead, ports.ScopeProceduresWrite},
		SecretHash: hashOf(id),
		CreatedBy:  accountID,
		CreatedAt:  created,
		ExpiresAt:  created.Add(90 * 24 * time.Hour),
	}
}

func checkAPIToken(t *testing.T, got, want ports.APITokenRecord) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "TenantID", got.TenantID, want.TenantID)
	checkEq(t, "Name", got.Name, want.Name)
	checkStrings(t, "Scopes", got.Scopes, want.Scopes)
	checkEq(t, "SecretHash", got.SecretHash, want.SecretHash)
	checkEq(t, "CreatedBy", got.CreatedBy, want.CreatedBy)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	checkTime(t, "LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	checkEq(t, "LastUsedIP", got.LastUsedIP, want.LastUsedIP)
	checkTime(t, "RevokedAt", got.RevokedAt, want.RevokedAt)
	checkEq(t, "RevokedBy", got.RevokedBy, want.RevokedBy)
}

func createAPIToken(t *testing.T, s Stores, r ports.APITokenRecord) ports.APITokenRecord {
	t.Helper()
	must(t, s.APITokens.CreateAPIToken(t.Context(), r), "CreateAPIToken")
	return r
}

// checkAPITokenStored fails unless the stored token is want.
func checkAPITokenStored(t *testing.T, s Stores, want ports.APITokenRecord) {
	t.Helper()
	got, err := s.APITokens.APITokenByID(t.Context(), want.ID)
	must(t, err, "APITokenByID")
	checkAPIToken(t, got, want)
}

// TestAPITokenStore is the contract suite of ports.APITokenStore. It uses the TenantStore and AccountStore
// to create the admins the tokens belong to.
func TestAPITokenStore(t *testing.T, factory Factory) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "APITokens")
		tenant, admin := someone(t, s, false)
		tok := createAPIToken(t, s, newAPIToken(tenant, admin, at(0)))
		checkAPITokenStored(t, s, tok)
		bare := newAPIToken(tenant, admin, at(time.Hour))
		bare.Scopes = []string{ports.ScopeWebhooksManage}
		createAPIToken(t, s, bare)
		checkAPITokenStored(t, s, bare)
	})

	t.Run("UnknownAndTakenIDs", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "APITokens")
		tenant, admin := someone(t, s, false)
		tok := createAPIToken(t, s, newAPIToken(tenant, admin, at(0)))
		_, err := s.APITokens.APITokenByID(t.Context(), "0123456789abcdef")
		checkIs(t, "APITokenByID(unknown)", err, ports.ErrNotFound)
		again := newAPIToken(tenant, admin, at(time.Minute))
		again.ID = tok.ID
		checkIs(t, "CreateAPIToken(taken ID)", s.APITokens.CreateAPIToken(t.Context(), again), ports.ErrConflict)
		checkAPITokenStored(t, s, tok)
	})

	t.Run("ListByTenantNewestFirst", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "APITokens")
		tenantA, adminA := someone(t, s, false)
		tenantB, adminB := someone(t, s, false)
		old := createAPIToken(t, s, newAPIToken(tenantA, adminA, at(0)))
		newer := createAPIToken(t, s, newAPIToken(tenantA, adminA, at(time.Hour)))
		other := createAPIToken(t, s, newAPIToken(tenantB, adminB, at(2*time.Hour)))
		got, err := s.APITokens.ListAPITokens(t.Context(), tenantA)
		must(t, err, "ListAPITokens")
		if len(got) != 2 {
			t.Fatalf("ListAPITokens(A) = %d tokens, want 2", len(got))
		}
		checkAPIToken(t, got[0], newer)
		checkAPIToken(t, got[1], old)
		got, err = s.APITokens.ListAPITokens(t.Context(), tenantB)
		must(t, err, "ListAPITokens")
		if len(got) != 1 || got[0].ID != other.ID {
			t.Errorf("ListAPITokens(B) = %+v, want only B's token", got)
		}
		none, err := s.APITokens.ListAPITokens(t.Context(), newID())
		must(t, err, "ListAPITokens(unknown tenant)")
		if none == nil || len(none) != 0 {
			t.Errorf("ListAPITokens(unknown tenant) = %#v, want an empty list", none)
		}
	})

	t.Run("RevokeOnceScopedByTenant", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "APITokens")
		tenant, admin := someone(t, s, false)
		otherTenant, _ := someone(t, s, false)
		tok := createAPIToken(t, s, newAPIToken(tenant, admin, at(0)))
		_, _, err := s.APITokens.RevokeAPIToken(t.Context(), otherTenant, tok.ID, admin, at(time.Hour))
		checkIs(t, "RevokeAPIToken(other tenant)", err, ports.ErrNotFound)
		_, _, err = s.APITokens.RevokeAPIToken(t.Context(), tenant, "0123456789abcdef", admin, at(time.Hour))
		checkIs(t, "RevokeAPIToken(unknown)", err, ports.ErrNotFound)
		checkAPITokenStored(t, s, tok)

		got, revoked, err := s.APITokens.RevokeAPIToken(t.Context(), tenant, tok.ID, admin, at(time.Hour))
		must(t, err, "RevokeAPIToken")
		checkEq(t, "revoked", revoked, true)
		tok.RevokedAt, tok.RevokedBy = at(time.Hour), admin
		checkAPIToken(t, got, tok)
		checkAPITokenStored(t, s, tok)

		got, revoked, err = s.APITokens.RevokeAPIToken(t.Context(), tenant, tok.ID, "someone-else", at(2*time.Hour))
		must(t, err, "RevokeAPIToken again")
		checkEq(t, "revoked again", revoked, false)
		checkAPIToken(t, got, tok)
		checkAPITokenStored(t, s, tok)
	})

	t.Run("ConcurrentRevokesOneWins", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "APITokens")
		tenant, admin := someone(t, s, false)
		tok := createAPIToken(t, s, newAPIToken(tenant, admin, at(0)))
		checkOneWins(t, "revoke", 8, errBoom, func(i int) error {
			_, revoked, err := s.APITokens.RevokeAPIToken(t.Context(), tenant, tok.ID, admin, at(time.Duration(i+1)*time.Second))
			if err == nil && !revoked {
				return errBoom
			}
			return err
		})
	})

	t.Run("TouchNeverMovesBack", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "APITokens")
		tenant, admin := someone(t, s, false)
		otherTenant, _ := someone(t, s, false)
		tok := createAPIToken(t, s, newAPIToken(tenant, admin, at(0)))
		checkIs(t, "TouchAPIToken(other tenant)",
			s.APITokens.TouchAPIToken(t.Context(), otherTenant, tok.ID, at(time.Hour), "192.0.2.1"), ports.ErrNotFound)
		checkIs(t, "TouchAPIToken(unknown)",
			s.APITokens.TouchAPIToken(t.Context(), tenant, "0123456789abcdef", at(time.Hour), "192.0.2.1"), ports.ErrNotFound)
		checkAPITokenStored(t, s, tok)

		must(t, s.APITokens.TouchAPIToken(t.Context(), tenant, tok.ID, at(time.Hour), "2001:db8::7"), "TouchAPIToken")
		tok.LastUsedAt, tok.LastUsedIP = at(time.Hour), "2001:db8::7"
		checkAPITokenStored(t, s, tok)
		must(t, s.APITokens.TouchAPIToken(t.Context(), tenant, tok.ID, at(time.Minute), "192.0.2.9"), "TouchAPIToken(older)")
		checkAPITokenStored(t, s, tok)

		// Concurrent touches leave the latest use, whatever order they land in.
		concurrently(8, func(i int) {
			if err := s.APITokens.TouchAPIToken(t.Context(), tenant, tok.ID, at(2*time.Hour+time.Duration(i)*time.Second), "192.0.2."+itoa(i)); err != nil {
				t.Errorf("TouchAPIToken %d: %v", i, err)
			}
		})
		tok.LastUsedAt, tok.LastUsedIP = at(2*time.Hour+7*time.Second), "192.0.2.7"
		checkAPITokenStored(t, s, tok)
	})
}

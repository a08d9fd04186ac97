package porttest

import (
	"errors"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// newSession returns a session of the account with every field set, created at created.
func newSession(tenantID, accountID string, created time.Time) ports.SessionRecord {
	return ports.SessionRecord{
		TokenHash:  hashOf(newID()),
		AccountID:  accountID,
		TenantID:   tenantID,
		Stage:      ports.StageFull,
		CreatedAt:  created,
		LastSeenAt: created.Add(time.Minute),
		ExpiresAt:  created.Add(12 * time.Hour),
		IP:         "2001:db8::1",
		UserAgent:  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) 日本語",
	}
}

func checkSession(t *testing.T, got, want ports.SessionRecord) {
	t.Helper()
	checkEq(t, "TokenHash", got.TokenHash, want.TokenHash)
	checkEq(t, "AccountID", got.AccountID, want.AccountID)
	checkEq(t, "TenantID", got.TenantID, want.TenantID)
	checkEq(t, "Stage", got.Stage, want.Stage)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "LastSeenAt", got.LastSeenAt, want.LastSeenAt)
	checkTime(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	checkEq(t, "IP", got.IP, want.IP)
	checkEq(t, "UserAgent", got.UserAgent, want.UserAgent)
}

func createSession(t *testing.T, s Stores, r ports.SessionRecord) ports.SessionRecord {
	t.Helper()
	must(t, s.Sessions.CreateSession(t.Context(), r), "CreateSession")
	return r
}

// checkSessions fails unless exactly the sessions in want exist out of all.
func checkSessions(t *testing.T, s Stores, all []ports.SessionRecord, want ...ports.SessionRecord) {
	t.Helper()
	alive := map[string]ports.SessionRecord{}
	for _, r := range want {
		alive[r.TokenHash] = r
	}
	for _, r := range all {
		got, err := s.Sessions.SessionByHash(t.Context(), r.TokenHash)
		if w, ok := alive[r.TokenHash]; ok {
			if err != nil {
				t.Errorf("SessionByHash(%s of %s): %v, want the session", r.UserAgent, r.AccountID, err)
				continue
			}
			checkSession(t, got, w)
		} else if !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("SessionByHash(%s of %s): error = %v, want ErrNotFound", r.UserAgent, r.AccountID, err)
		}
	}
}

// TestSessionStore is the contract suite of ports.SessionStore. It uses the TenantStore and AccountStore
// to create the accounts the sessions belong to.
func TestSessionStore(t *testing.T, factory Factory) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "Sessions")
		tenant, account := someone(t, s, false)
		member := createSession(t, s, newSession(tenant, account, at(0)))
		_, operator := someone(t, s, true)
		op := newSession("", operator, at(time.Hour))
		op.Stage = ports.StageMFA
		op.IP, op.UserAgent = "", ""
		createSession(t, s, op)
		checkSessions(t, s, []ports.SessionRecord{member, op}, member, op)
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "Sessions")
		tenant, account := someone(t, s, false)
		createSession(t, s, newSession(tenant, account, at(0)))
		_, err := s.Sessions.SessionByHash(t.Context(), hashOf("unknown"))
		checkIs(t, "SessionByHash(unknown)", err, ports.ErrNotFound)
	})

	t.Run("HashConflict", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "Sessions")
		tenant, account := someone(t, s, false)
		first := createSession(t, s, newSession(tenant, account, at(0)))
		tenant2, account2 := someone(t, s, false)
		dup := newSession(tenant2, account2, at(time.Hour))
		dup.TokenHash = first.TokenHash
		checkIs(t, "CreateSession(same hash)", s.Sessions.CreateSession(t.Context(), dup), ports.ErrConflict)
		checkSessions(t, s, []ports.SessionRecord{first}, first)
	})

	t.Run("Touch", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "Sessions")
		tenant, account := someone(t, s, false)
		r := createSession(t, s, newSession(tenant, account, at(0)))
		other := createSession(t, s, newSession(tenant, account, at(0)))
		must(t, s.Sessions.TouchSession(t.Context(), r.TokenHash, at(2*time.Hour)), "TouchSession")
		want := r
		want.LastSeenAt = at(2 * time.Hour)
		checkSessions(t, s, []ports.SessionRecord{r, other}, want, other)
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "Sessions")
		tenant, account := someone(t, s, false)
		r := createSession(t, s, newSession(tenant, account, at(0)))
		other := createSession(t, s, newSession(tenant, account, at(0)))
		must(t, s.Sessions.DeleteSession(t.Context(), r.TokenHash), "DeleteSession")
		checkSessions(t, s, []ports.SessionRecord{r, other}, other)
	})

	t.Run("DeleteAccountSessions", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "Sessions")
		tenant, account := someone(t, s, false)
		otherTenant, otherAccount := someone(t, s, false)
		a1 := createSession(t, s, newSession(tenant, account, at(0)))
		a2 := createSession(t, s, newSession(tenant, account, at(time.Hour)))
		a3 := createSession(t, s, newSession(tenant, account, at(2*time.Hour)))
		b := createSession(t, s, newSession(otherTenant, otherAccount, at(0)))
		all := []ports.SessionRecord{a1, a2, a3, b}

		n, err := s.Sessions.DeleteAccountSessions(t.Context(), account, a2.TokenHash)
		must(t, err, "DeleteAccountSessions(except current)")
		checkEq(t, "DeleteAccountSessions(except current)", n, 2)
		checkSessions(t, s, all, a2, b)

		n, err = s.Sessions.DeleteAccountSessions(t.Context(), account, b.TokenHash) // not the account's
		must(t, err, "DeleteAccountSessions(except another account's)")
		checkEq(t, "DeleteAccountSessions(except another account's)", n, 1)
		checkSessions(t, s, all, b)

		n, err = s.Sessions.DeleteAccountSessions(t.Context(), account, "")
		must(t, err, "DeleteAccountSessions(none left)")
		checkEq(t, "DeleteAccountSessions(none left)", n, 0)

		n, err = s.Sessions.DeleteAccountSessions(t.Context(), b.AccountID, "")
		must(t, err, "DeleteAccountSessions(all)")
		checkEq(t, "DeleteAccountSessions(all)", n, 1)
		checkSessions(t, s, all)
	})

	t.Run("DeleteSessionsBefore", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "Sessions")
		idleBefore, createdBefore := at(0), at(-8*time.Hour)
		tenant, account := someone(t, s, false)
		session := func(created, seen time.Time) ports.SessionRecord {
			r := newSession(tenant, account, created)
			r.LastSeenAt = seen
			return createSession(t, s, r)
		}
		fresh := session(at(-time.Hour), at(time.Minute))
		idle := session(at(-time.Hour), at(-time.Microsecond))
		old := session(at(-8*time.Hour-time.Microsecond), at(time.Minute))
		both := session(at(-9*time.Hour), at(-2*time.Hour))
		// "Before" is strict: a session exactly at both limits stays.
		edge := session(createdBefore, idleBefore)
		all := []ports.SessionRecord{fresh, idle, old, both, edge}

		n, err := s.Sessions.DeleteSessionsBefore(t.Context(), idleBefore, createdBefore)
		must(t, err, "DeleteSessionsBefore")
		checkEq(t, "DeleteSessionsBefore", n, 3)
		checkSessions(t, s, all, fresh, edge)

		n, err = s.Sessions.DeleteSessionsBefore(t.Context(), idleBefore, createdBefore)
		must(t, err, "DeleteSessionsBefore(again)")
		checkEq(t, "DeleteSessionsBefore(again)", n, 0)
	})
}

package porttest

import (
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// TestIdempotencyStore is the contract suite of ports.IdempotencyStore.
func TestIdempotencyStore(t *testing.T, factory Factory) {
	const tenant, principal, key = "tenant-a", "account:a1", "order-2025-0001"

	// claim builds a record in progress of key, made at t0 and held for a minute.
	claim := func(tenant, principal, key string) ports.IdempotencyRecord {
		return ports.IdempotencyRecord{
			IdempotencyClaim: ports.IdempotencyClaim{TenantID: tenant, Principal: principal, Key: key, ID: newID()},
			Fingerprint:      hashOf(newID()), Header: map[string]string{}, CreatedAt: at(0), ExpiresAt: at(time.Minute),
		}
	}
	claimAt := func(t *testing.T, s ports.IdempotencyStore, rec ports.IdempotencyRecord, now time.Time) (ports.IdempotencyRecord, bool) {
		t.Helper()
		held, won, err := s.ClaimIdempotencyKey(t.Context(), rec, now)
		must(t, err, "ClaimIdempotencyKey")
		return held, won
	}
	// complete stores an answer on rec's claim, kept for a day.
	complete := func(t *testing.T, s ports.IdempotencyStore, rec ports.IdempotencyRecord) ports.IdempotencyRecord {
		t.Helper()
		rec.Status = 201
		rec.Header = map[string]string{"Content-Type": "application/json; charset=utf-8", "Location": "/api/v1/employees/e1", "ETag": `"1"`}
		rec.Body = randomBytes(300)
		rec.ExpiresAt = at(24 * time.Hour)
		must(t, s.CompleteIdempotencyKey(t.Context(), rec), "CompleteIdempotencyKey")
		return rec
	}
	checkRecord := func(t *testing.T, what string, got, want ports.IdempotencyRecord) {
		t.Helper()
		checkEq(t, what+" claim", got.IdempotencyClaim, want.IdempotencyClaim)
		checkEq(t, what+" fingerprint", got.Fingerprint, want.Fingerprint)
		checkEq(t, what+" status", got.Status, want.Status)
		checkMap(t, what+" header", got.Header, want.Header)
		checkBytes(t, what+" body", got.Body, want.Body)
		checkTime(t, what+" created", got.CreatedAt, want.CreatedAt)
		checkTime(t, what+" expires", got.ExpiresAt, want.ExpiresAt)
	}

	t.Run("ClaimCompleteReplay", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Idempotency").Idempotency
		first := claim(tenant, principal, key)
		held, won := claimAt(t, s, first, at(0))
		checkEq(t, "first claim won", won, true)
		checkRecord(t, "first claim", held, first)

		// A second request with the key finds the first in progress, whatever its own fingerprint.
		held, won = claimAt(t, s, claim(tenant, principal, key), at(time.Second))
		checkEq(t, "second claim won", won, false)
		checkRecord(t, "in progress", held, first)

		done := complete(t, s, first)
		held, won = claimAt(t, s, claim(tenant, principal, key), at(2*time.Minute))
		checkEq(t, "claim of an answered key won", won, false)
		checkRecord(t, "answered", held, done)

		// The answer is final: the claim no longer holds the key in progress.
		checkIs(t, "completing again", s.CompleteIdempotencyKey(t.Context(), done), ports.ErrNotFound)
		must(t, s.ReleaseIdempotencyKey(t.Context(), done.IdempotencyClaim), "releasing an answered key")
		held, _ = claimAt(t, s, claim(tenant, principal, key), at(3*time.Minute))
		checkRecord(t, "after release of an answered key", held, done)
	})

	t.Run("OnlyTheClaimCompletesOrReleases", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Idempotency").Idempotency
		first := claim(tenant, principal, key)
		claimAt(t, s, first, at(0))
		other := first
		other.ID = newID()
		checkIs(t, "completing another claim", s.CompleteIdempotencyKey(t.Context(), other), ports.ErrNotFound)
		must(t, s.ReleaseIdempotencyKey(t.Context(), other.IdempotencyClaim), "releasing another claim")
		held, won := claimAt(t, s, claim(tenant, principal, key), at(time.Second))
		checkEq(t, "claim after a stranger's release won", won, false)
		checkRecord(t, "still in progress", held, first)

		must(t, s.ReleaseIdempotencyKey(t.Context(), first.IdempotencyClaim), "ReleaseIdempotencyKey")
		must(t, s.ReleaseIdempotencyKey(t.Context(), first.IdempotencyClaim), "releasing twice")
		checkIs(t, "completing a released claim", s.CompleteIdempotencyKey(t.Context(), first), ports.ErrNotFound)
		retry := claim(tenant, principal, key)
		held, won = claimAt(t, s, retry, at(time.Second))
		checkEq(t, "retry after release won", won, true)
		checkRecord(t, "retry", held, retry)
	})

	t.Run("KeysAreScopedByTenantAndPrincipal", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Idempotency").Idempotency
		done := complete(t, s, func() ports.IdempotencyRecord {
			r := claim(tenant, principal, key)
			claimAt(t, s, r, at(0))
			return r
		}())
		for _, r := range []ports.IdempotencyRecord{
			claim("tenant-b", principal, key), // the same account ID and key in another tenant
			claim(tenant, "account:a2", key),  // another account of the tenant
			claim(tenant, "token:a1", key),    // an API token
			claim("", principal, key),         // an operator
			claim(tenant, principal, key+" "), // another key
			claim(tenant, principal, strings.ToUpper(key)),
		} {
			held, won := claimAt(t, s, r, at(time.Second))
			checkEq(t, "claim of "+r.TenantID+"/"+r.Principal+"/"+r.Key+" won", won, true)
			checkRecord(t, "other scope", held, r)
		}
		held, _ := claimAt(t, s, claim(tenant, principal, key), at(time.Second))
		checkRecord(t, "own answer", held, done)
	})

	t.Run("ExpiredRecordsAreIgnored", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Idempotency").Idempotency
		stale := claim(tenant, principal, key) // a request that never finished (its instance died)
		claimAt(t, s, stale, at(0))
		held, won := claimAt(t, s, claim(tenant, principal, key), stale.ExpiresAt.Add(-time.Microsecond))
		checkEq(t, "claim before the claim expires won", won, false)
		checkRecord(t, "in progress", held, stale)

		retry := claim(tenant, principal, key)
		retry.CreatedAt, retry.ExpiresAt = stale.ExpiresAt, stale.ExpiresAt.Add(time.Minute)
		held, won = claimAt(t, s, retry, stale.ExpiresAt)
		checkEq(t, "claim of an expired claim won", won, true)
		checkRecord(t, "retry", held, retry)
		checkIs(t, "completing the expired claim", s.CompleteIdempotencyKey(t.Context(), stale), ports.ErrNotFound)

		done := complete(t, s, retry)
		again := claim(tenant, principal, key)
		again.CreatedAt, again.ExpiresAt = done.ExpiresAt, done.ExpiresAt.Add(time.Minute)
		held, won = claimAt(t, s, again, done.ExpiresAt.In(time.UTC))
		checkEq(t, "claim of an expired answer won", won, true)
		checkRecord(t, "after the answer expired", held, again)
	})

	t.Run("ConcurrentClaimsOneWins", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Idempotency").Idempotency
		const n = 20
		recs := make([]ports.IdempotencyRecord, n)
		held := make([]ports.IdempotencyRecord, n)
		for i := range recs {
			recs[i] = claim(tenant, principal, key)
		}
		checkOneWins(t, "claims", n, ports.ErrConflict, func(i int) error {
			h, won, err := s.ClaimIdempotencyKey(t.Context(), recs[i], at(0))
			held[i] = h
			switch {
			case err != nil:
				return err
			case !won:
				return ports.ErrConflict
			}
			return nil
		})
		for i := range held {
			checkEq(t, "holder seen by claim "+itoa(i), held[i].ID, held[0].ID)
		}
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Idempotency").Idempotency
		short, long, answered := claim(tenant, principal, "a"), claim(tenant, principal, "b"), claim(tenant, principal, "c")
		long.ExpiresAt = at(time.Hour)
		for _, r := range []ports.IdempotencyRecord{short, long, answered} {
			claimAt(t, s, r, at(0))
		}
		complete(t, s, answered) // kept for a day

		n, err := s.DeleteIdempotencyKeys(t.Context(), short.ExpiresAt.Add(-time.Microsecond))
		must(t, err, "DeleteIdempotencyKeys(none expired)")
		checkEq(t, "deleted before expiry", n, 0)
		n, err = s.DeleteIdempotencyKeys(t.Context(), at(time.Hour))
		must(t, err, "DeleteIdempotencyKeys")
		checkEq(t, "deleted at expiry", n, 2)
		checkIs(t, "completing a deleted claim", s.CompleteIdempotencyKey(t.Context(), long), ports.ErrNotFound)
		_, won := claimAt(t, s, claim(tenant, principal, "c"), at(time.Hour))
		checkEq(t, "claim of a kept answer won", won, false)
		n, err = s.DeleteIdempotencyKeys(t.Context(), at(24*time.Hour))
		must(t, err, "DeleteIdempotencyKeys(answers)")
		checkEq(t, "deleted answers", n, 1)
	})

	t.Run("OddKeys", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Idempotency").Idempotency
		for _, k := range []string{`"quoted"`, "x'; DROP TABLE idempotency_keys; --", `back\slash%_`, strings.Repeat("~", 255)} {
			r := claim(tenant, principal, k)
			_, won := claimAt(t, s, r, at(0))
			checkEq(t, "claim of "+k+" won", won, true)
			done := complete(t, s, r)
			held, won := claimAt(t, s, claim(tenant, principal, k), at(time.Second))
			checkEq(t, "second claim of "+k+" won", won, false)
			checkRecord(t, k, held, done)
		}
	})
}

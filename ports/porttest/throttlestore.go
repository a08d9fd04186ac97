package porttest

import (
	"slices"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

const lockFor = 30 * time.Minute

func checkThrottle(t *testing.T, what string, got ports.ThrottleState, key string, failures int, lockedUntil time.Time) {
	t.Helper()
	if got.Key != key || got.Failures != failures || !equalTime(got.LockedUntil, lockedUntil) || got.LockedUntil.IsZero() != lockedUntil.IsZero() {
		t.Errorf("%s = {Key:%q Failures:%d LockedUntil:%v}, want {Key:%q Failures:%d LockedUntil:%v}",
			what, got.Key, got.Failures, got.LockedUntil, key, failures, lockedUntil)
	}
}

// stored fails when the stored state of key is not as given.
func checkStoredThrottle(t *testing.T, s Stores, key string, failures int, lockedUntil time.Time) {
	t.Helper()
	got, err := s.Throttle.Throttle(t.Context(), key)
	must(t, err, "Throttle")
	checkThrottle(t, "Throttle("+key+")", got, key, failures, lockedUntil)
}

// failTimes counts n failures for key at now.
func failTimes(t *testing.T, s Stores, key string, n int, now time.Time) {
	t.Helper()
	for range n {
		_, err := s.Throttle.AddFailure(t.Context(), key, now)
		must(t, err, "AddFailure")
	}
}

// TestThrottleStore is the contract suite of ports.ThrottleStore. A lock is in force while now is before
// LockedUntil; the suites avoid the exact boundary instant.
func TestThrottleStore(t *testing.T, factory Factory) {
	const key = "login:acme:hanako"

	t.Run("UnknownKeyIsZero", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Throttle")
		got, err := s.Throttle.Throttle(t.Context(), "never-seen")
		must(t, err, "Throttle(never seen)")
		// The key of a zero state may be echoed or left empty; the counters must be zero.
		if got.Failures != 0 || !got.LockedUntil.IsZero() {
			t.Errorf("Throttle(never seen) = %+v, want zero failures and no lock", got)
		}
		must(t, s.Throttle.ResetThrottle(t.Context(), "never-seen"), "ResetThrottle(never seen)")
	})

	t.Run("AddFailureCounts", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Throttle")
		for i := 1; i <= 4; i++ {
			got, err := s.Throttle.AddFailure(t.Context(), key, at(time.Duration(i)*time.Second))
			must(t, err, "AddFailure")
			checkThrottle(t, "AddFailure", got, key, i, time.Time{})
		}
		checkStoredThrottle(t, s, key, 4, time.Time{})
		failTimes(t, s, "login:acme:taro", 1, at(0))
		checkStoredThrottle(t, s, "login:acme:taro", 1, time.Time{})
		checkStoredThrottle(t, s, key, 4, time.Time{})
	})

	t.Run("Reset", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Throttle")
		failTimes(t, s, key, 5, at(0))
		_, err := s.Throttle.LockUntil(t.Context(), key, at(lockFor), at(0))
		must(t, err, "LockUntil")
		failTimes(t, s, "other", 2, at(0))
		must(t, s.Throttle.ResetThrottle(t.Context(), key), "ResetThrottle")
		got, err := s.Throttle.Throttle(t.Context(), key)
		must(t, err, "Throttle")
		if got.Failures != 0 || !got.LockedUntil.IsZero() {
			t.Errorf("Throttle after reset = %+v, want zero failures and no lock", got)
		}
		checkStoredThrottle(t, s, "other", 2, time.Time{})
		got, err = s.Throttle.AddFailure(t.Context(), key, at(time.Second))
		must(t, err, "AddFailure after reset")
		checkThrottle(t, "AddFailure after reset", got, key, 1, time.Time{})
	})

	t.Run("LockUntil", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Throttle")
		failTimes(t, s, key, 5, at(0))
		got, err := s.Throttle.LockUntil(t.Context(), key, at(lockFor), at(0))
		must(t, err, "LockUntil")
		checkThrottle(t, "LockUntil", got, key, 5, at(lockFor))
		checkStoredThrottle(t, s, key, 5, at(lockFor))

		fresh, err := s.Throttle.LockUntil(t.Context(), "admin-locked", at(time.Hour), at(0))
		must(t, err, "LockUntil(never seen)")
		checkThrottle(t, "LockUntil(never seen)", fresh, "admin-locked", 0, at(time.Hour))
	})

	t.Run("LockIsNeverExtended", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Throttle")
		failTimes(t, s, key, 5, at(0))
		_, err := s.Throttle.LockUntil(t.Context(), key, at(lockFor), at(0))
		must(t, err, "LockUntil")
		got, err := s.Throttle.LockUntil(t.Context(), key, at(time.Minute+lockFor), at(time.Minute))
		must(t, err, "LockUntil(while locked)")
		checkThrottle(t, "LockUntil(while locked)", got, key, 5, at(lockFor))
		got, err = s.Throttle.LockUntil(t.Context(), key, at(time.Minute), at(time.Minute/2))
		must(t, err, "LockUntil(shorter, while locked)")
		checkThrottle(t, "LockUntil(shorter, while locked)", got, key, 5, at(lockFor))
		checkStoredThrottle(t, s, key, 5, at(lockFor))
	})

	t.Run("LockAfterExpiry", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Throttle")
		failTimes(t, s, key, 5, at(0))
		_, err := s.Throttle.LockUntil(t.Context(), key, at(lockFor), at(0))
		must(t, err, "LockUntil")
		later := at(lockFor + time.Minute)
		got, err := s.Throttle.LockUntil(t.Context(), key, later.Add(lockFor), later)
		must(t, err, "LockUntil(after expiry)")
		checkThrottle(t, "LockUntil(after expiry)", got, key, 5, later.Add(lockFor))
		checkStoredThrottle(t, s, key, 5, later.Add(lockFor))
	})

	t.Run("FailureWhileLockedKeepsLock", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Throttle")
		failTimes(t, s, key, 5, at(0))
		_, err := s.Throttle.LockUntil(t.Context(), key, at(lockFor), at(0))
		must(t, err, "LockUntil")
		got, err := s.Throttle.AddFailure(t.Context(), key, at(lockFor-time.Second))
		must(t, err, "AddFailure(while locked)")
		checkThrottle(t, "AddFailure(while locked)", got, key, 6, at(lockFor))
		checkStoredThrottle(t, s, key, 6, at(lockFor))
	})

	t.Run("FailureAfterExpiryRestarts", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Throttle")
		failTimes(t, s, key, 5, at(0))
		_, err := s.Throttle.LockUntil(t.Context(), key, at(lockFor), at(0))
		must(t, err, "LockUntil")
		got, err := s.Throttle.AddFailure(t.Context(), key, at(lockFor+time.Second))
		must(t, err, "AddFailure(after expiry)")
		checkThrottle(t, "AddFailure(after expiry)", got, key, 1, time.Time{})
		checkStoredThrottle(t, s, key, 1, time.Time{})
	})

	t.Run("ConcurrentAddFailure", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Throttle")
		const n = 50
		counts := make([]int, n)
		concurrently(n, func(i int) {
			got, err := s.Throttle.AddFailure(t.Context(), key, at(0))
			if err != nil {
				t.Errorf("AddFailure #%d: %v", i, err)
			}
			counts[i] = got.Failures
		})
		checkStoredThrottle(t, s, key, n, time.Time{})
		// Each call saw its own increment: the states returned are 1 … n, each once.
		slices.Sort(counts)
		for i, c := range counts {
			if c != i+1 {
				t.Fatalf("AddFailure returned failure counts %v, want 1 … %d each once", counts, n)
			}
		}
	})

	t.Run("ConcurrentAddFailureWhileLocked", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Throttle")
		failTimes(t, s, key, 5, at(0))
		_, err := s.Throttle.LockUntil(t.Context(), key, at(lockFor), at(0))
		must(t, err, "LockUntil")
		const n = 20
		concurrently(n, func(i int) {
			if _, err := s.Throttle.AddFailure(t.Context(), key, at(time.Minute)); err != nil {
				t.Errorf("AddFailure #%d: %v", i, err)
			}
		})
		checkStoredThrottle(t, s, key, 5+n, at(lockFor))
	})

	t.Run("ConcurrentLockUntil", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Throttle")
		failTimes(t, s, key, 5, at(0))
		const n = 20
		states := make([]ports.ThrottleState, n)
		concurrently(n, func(i int) {
			// Every caller asks for a different instant; exactly one of them may win.
			st, err := s.Throttle.LockUntil(t.Context(), key, at(lockFor+time.Duration(i)*time.Second), at(time.Duration(i)*time.Millisecond))
			if err != nil {
				t.Errorf("LockUntil #%d: %v", i, err)
			}
			states[i] = st
		})
		winner := states[0].LockedUntil
		valid := false
		for i := range n {
			if equalTime(winner, at(lockFor+time.Duration(i)*time.Second)) {
				valid = true
			}
		}
		if !valid {
			t.Fatalf("LockUntil returned LockedUntil %v, not one of the instants asked for", winner)
		}
		for i, st := range states {
			checkThrottle(t, "LockUntil #"+itoa(i), st, key, 5, winner)
		}
		checkStoredThrottle(t, s, key, 5, winner)
	})
}

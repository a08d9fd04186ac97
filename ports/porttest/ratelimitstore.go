package porttest

import (
	"slices"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// TestRateLimitStore is the contract suite of ports.RateLimitStore.
func TestRateLimitStore(t *testing.T, factory Factory) {
	const key = "token:0b9c"
	minute := at(0).Truncate(time.Minute)

	hit := func(t *testing.T, s ports.RateLimitStore, key string, start time.Time) int {
		t.Helper()
		n, err := s.HitRateWindow(t.Context(), key, start, start.Add(time.Minute))
		must(t, err, "HitRateWindow")
		return n
	}

	t.Run("CountsPerKeyAndWindow", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "RateLimits").RateLimits
		for want := 1; want <= 3; want++ {
			checkEq(t, "hit", hit(t, s, key, minute), want)
		}
		checkEq(t, "other key", hit(t, s, "address:192.0.2.1", minute), 1)
		checkEq(t, "next window", hit(t, s, key, minute.Add(time.Minute)), 1)
		checkEq(t, "first window again", hit(t, s, key, minute), 4)
		// The start is an instant: the same window given in another zone is the same window.
		checkEq(t, "same window in UTC", hit(t, s, key, minute.UTC()), 5)
	})

	t.Run("ConcurrentHitsAreAllCounted", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "RateLimits").RateLimits
		const n = 40
		counts := make([]int, n)
		concurrently(n, func(i int) {
			c, err := s.HitRateWindow(t.Context(), key, minute, minute.Add(time.Minute))
			if err != nil {
				t.Errorf("HitRateWindow: %v", err)
			}
			counts[i] = c
		})
		slices.Sort(counts)
		for i, c := range counts {
			if c != i+1 {
				t.Fatalf("concurrent counts = %v, want 1…%d each once", counts, n)
			}
		}
		checkEq(t, "after the race", hit(t, s, key, minute), n+1)
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "RateLimits").RateLimits
		hit(t, s, key, minute)
		hit(t, s, key, minute)
		hit(t, s, key, minute.Add(time.Minute))
		hit(t, s, "login:192.0.2.9", minute)

		n, err := s.DeleteRateWindows(t.Context(), minute.Add(30*time.Second))
		must(t, err, "DeleteRateWindows(none expired)")
		checkEq(t, "deleted before expiry", n, 0)
		n, err = s.DeleteRateWindows(t.Context(), minute.Add(time.Minute))
		must(t, err, "DeleteRateWindows")
		checkEq(t, "deleted at expiry", n, 2)
		checkEq(t, "expired window starts again", hit(t, s, key, minute), 1)
		checkEq(t, "later window kept", hit(t, s, key, minute.Add(time.Minute)), 2)
	})

	t.Run("OddKeys", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "RateLimits").RateLimits
		for _, k := range []string{"address:2001:db8::1", "login:名前", "x'; DROP TABLE rate_windows; --"} {
			checkEq(t, "hit "+k, hit(t, s, k, minute), 1)
			checkEq(t, "hit "+k, hit(t, s, k, minute), 2)
		}
	})
}

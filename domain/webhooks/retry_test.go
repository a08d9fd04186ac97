package webhooks_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/webhooks"
)

func TestRetryCeilingDoublesUpToTheCap(t *testing.T) {
	t.Parallel()
	p := webhooks.DefaultRetryPolicy
	for attempts, want := range map[int]time.Duration{
		1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 9: 256 * time.Minute, 10: 6 * time.Hour,
		11: 6 * time.Hour, 1000: 6 * time.Hour,
	} {
		if got := p.Ceiling(attempts); got != want {
			t.Errorf("Ceiling(%d) = %v, want %v", attempts, got, want)
		}
	}
}

func TestRetryNextIsAJitteredDrawBelowTheCeilingWithinTheWindow(t *testing.T) {
	t.Parallel()
	p := webhooks.DefaultRetryPolicy
	queued := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		attempts int
		at       time.Duration // after queued
		draw     float64
		wait     time.Duration // 0: given up
	}{
		{1, 0, 0, 30 * time.Second}, // the floor
		{1, 0, 0.75, 45 * time.Second},
		{3, time.Hour, 0.5, 2 * time.Minute},
		{20, 10 * time.Hour, 0.5, 3 * time.Hour},
		{20, 70 * time.Hour, 0.9, 2 * time.Hour}, // clamped to the end of the window
		{20, 72*time.Hour - time.Second, 0.9, time.Second},
		{20, 72 * time.Hour, 0.5, 0}, // the window is over
	} {
		next, retry := p.Next(tc.attempts, queued, queued.Add(tc.at), tc.draw)
		switch {
		case tc.wait == 0 && retry:
			t.Errorf("%+v: retry at %v, want given up", tc, next)
		case tc.wait != 0 && (!retry || next.Sub(queued.Add(tc.at)) != tc.wait):
			t.Errorf("%+v: next after %v (retry %v), want %v", tc, next.Sub(queued.Add(tc.at)), retry, tc.wait)
		}
	}
}

// TestRetryScheduleSpansThreeDays simulates many failing deliveries with a real random source: every one is
// retried for exactly the window, with a bounded number of attempts.
func TestRetryScheduleSpansThreeDays(t *testing.T) {
	t.Parallel()
	p := webhooks.DefaultRetryPolicy
	rng := rand.New(rand.NewPCG(1, 2))
	queued := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	var counts []int
	for range 5000 {
		at, attempts := queued, 1
		for {
			next, retry := p.Next(attempts, queued, at, rng.Float64())
			if !retry {
				break
			}
			at, attempts = next, attempts+1
		}
		if span := at.Sub(queued); span != 72*time.Hour {
			t.Fatalf("last attempt %v after queueing, want 72h", span)
		}
		counts = append(counts, attempts)
	}
	slices.Sort(counts)
	lo, median, hi := counts[0], counts[len(counts)/2], counts[len(counts)-1]
	t.Logf("attempts over 72h in 5000 schedules: min %d, median %d, max %d", lo, median, hi)
	if lo < 20 || hi > 80 {
		t.Errorf("attempts from %d to %d, want about 20 to 60", lo, hi)
	}
}

func TestNewRefusesAnInconsistentRetryPolicy(t *testing.T) {
	t.Parallel()
	deps := newEnv(t).svc.Deps
	deps.Retry = webhooks.RetryPolicy{First: time.Hour, Cap: time.Minute, MinDelay: time.Second, Window: time.Hour}
	if _, err := webhooks.New(deps); err == nil {
		t.Error("New accepted a cap below the first wait")
	}
	if _, err := webhooks.New(webhooks.Deps{}); err == nil {
		t.Error("New accepted missing dependencies")
	}
}

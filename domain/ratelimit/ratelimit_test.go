package ratelimit_test

import (
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/memory"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/ratelimit"
	"github.com/roumu/roumu/ports"
)

var start = time.Date(2026, 4, 1, 9, 0, 0, 0, kernel.Tokyo)

func newLimiter(t *testing.T, p ratelimit.Policy) (*ratelimit.Limiter, *kernel.FakeClock, *memory.Store) {
	t.Helper()
	clock, store := kernel.NewFakeClock(start), memory.New()
	l, err := ratelimit.New(store, clock, p)
	if err != nil {
		t.Fatal(err)
	}
	return l, clock, store
}

func TestAllow(t *testing.T) {
	login := ports.RateSubject{Kind: ports.RateLogin, ID: "192.0.2.1"}
	tests := []struct {
		name    string
		hits    int           // earlier requests in the window
		advance time.Duration // clock moves after them, from 09:00:00
		want    ports.RateDecision
	}{
		{"first", 0, 0, ports.RateDecision{Allowed: true, Limit: 3, Remaining: 2, Reset: time.Minute}},
		{"last allowed", 2, 20 * time.Second, ports.RateDecision{Allowed: true, Limit: 3, Remaining: 0, Reset: 40 * time.Second}},
		{"over", 3, 59*time.Second + time.Millisecond, ports.RateDecision{Allowed: false, Limit: 3, Remaining: 0, Reset: time.Second}},
		{"far over", 10, 500 * time.Millisecond, ports.RateDecision{Allowed: false, Limit: 3, Remaining: 0, Reset: time.Minute}},
		{"next window", 5, time.Minute, ports.RateDecision{Allowed: true, Limit: 3, Remaining: 2, Reset: time.Minute}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, clock, _ := newLimiter(t, ratelimit.Policy{ports.RateLogin: {Requests: 3, Window: time.Minute}})
			for range tc.hits {
				if _, err := l.Allow(t.Context(), login); err != nil {
					t.Fatal(err)
				}
			}
			clock.Advance(tc.advance)
			got, err := l.Allow(t.Context(), login)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Allow = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSubjectsAreSeparate(t *testing.T) {
	l, _, _ := newLimiter(t, ratelimit.DefaultPolicy)
	subjects := []ports.RateSubject{
		{Kind: ports.RateLogin, ID: "192.0.2.1"}, {Kind: ports.RateAddress, ID: "192.0.2.1"},
		{Kind: ports.RateLogin, ID: "192.0.2.2"}, {Kind: ports.RateToken, ID: "t1"}, {Kind: ports.RateSession, ID: "t1"},
	}
	for range 10 {
		if d, _ := l.Allow(t.Context(), subjects[0]); !d.Allowed {
			t.Fatal("the first 10 logins from one address are allowed")
		}
	}
	if d, _ := l.Allow(t.Context(), subjects[0]); d.Allowed {
		t.Fatal("the 11th login from one address in a minute is refused")
	}
	want := map[string]int{ports.RateLogin: 10, ports.RateAddress: 300, ports.RateToken: 600, ports.RateSession: 600}
	for _, s := range subjects[1:] {
		d, err := l.Allow(t.Context(), s)
		if err != nil || !d.Allowed || d.Limit != want[s.Kind] || d.Remaining != want[s.Kind]-1 {
			t.Errorf("Allow(%+v) = %+v, %v: another subject has its own count", s, d, err)
		}
	}
}

func TestUnknownKindIsUncounted(t *testing.T) {
	l, _, _ := newLimiter(t, ratelimit.Policy{})
	d, err := l.Allow(t.Context(), ports.RateSubject{Kind: ports.RateToken, ID: "x"})
	if err != nil || !d.Allowed {
		t.Fatalf("Allow without a limit = %+v, %v", d, err)
	}
}

func TestSweep(t *testing.T) {
	l, clock, _ := newLimiter(t, ratelimit.DefaultPolicy)
	s := ports.RateSubject{Kind: ports.RateLogin, ID: "192.0.2.1"}
	for range 11 {
		_, _ = l.Allow(t.Context(), s)
	}
	if n, err := l.Sweep(t.Context()); err != nil || n != 0 {
		t.Fatalf("Sweep in the window = %d, %v; want 0", n, err)
	}
	clock.Advance(time.Minute)
	if n, err := l.Sweep(t.Context()); err != nil || n != 1 {
		t.Fatalf("Sweep after the window = %d, %v; want 1", n, err)
	}
}

func TestNewRefusesBadPolicy(t *testing.T) {
	for _, p := range []ratelimit.Policy{
		{ports.RateLogin: {Requests: 0, Window: time.Minute}},
		{ports.RateLogin: {Requests: 1, Window: time.Millisecond}},
	} {
		if _, err := ratelimit.New(memory.New(), kernel.NewFakeClock(start), p); err == nil {
			t.Errorf("New(%v) accepted", p)
		}
	}
	if _, err := ratelimit.New(nil, kernel.NewFakeClock(start), ratelimit.DefaultPolicy); err == nil {
		t.Error("New without a store accepted")
	}
}

// Package ratelimit is the request-rate policy: how many requests a token, a session, a client address and
// login attempts from one address may make per window, counted in a store that every instance shares.
//
// Counting uses fixed windows (one counter per subject and minute): one upsert per request, and exact under
// concurrency. A client can burst up to twice the limit across a window boundary; that is the price of one
// statement per request, and still bounds any sustained rate by the limit.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/roumu/roumu/ports"
)

// Limit allows Requests per Window.
type Limit struct {
	Requests int
	Window   time.Duration
}

// Policy holds the limit of each subject kind (ports.Rate* constants).
type Policy map[string]Limit

// DefaultPolicy is the service's limits, which the configuration's defaults repeat (cmd/roumu tests that they
// agree; README, "Rate limits"):
//   - An API token or a login session: 600 requests a minute (10 a second on average), far above what a
//     synchronising partner needs, and low enough that one misbehaving client cannot starve the others.
//   - Unauthenticated API calls (a missing or rejected token, the public endpoints): 300 a minute per
//     client address.
//   - Login attempts (API and pages, members and operators): 10 a minute per client address. The per-login
//     lockout (5 failures, 30 minutes) guards one account; this stops one address from trying many.
var DefaultPolicy = PerMinute(600, 300, 10)

// PerMinute is the policy of client requests a minute for each API token and each login session, address
// requests a minute for unauthenticated API calls per client address, and login attempts a minute per
// client address.
func PerMinute(client, address, login int) Policy {
	return Policy{
		ports.RateToken:   {Requests: client, Window: time.Minute},
		ports.RateSession: {Requests: client, Window: time.Minute},
		ports.RateAddress: {Requests: address, Window: time.Minute},
		ports.RateLogin:   {Requests: login, Window: time.Minute},
	}
}

// Limiter implements ports.RateLimiter.
type Limiter struct {
	store  ports.RateLimitStore
	clock  ports.Clock
	policy Policy
}

var _ ports.RateLimiter = (*Limiter)(nil)

// New returns a limiter counting in store under policy.
func New(store ports.RateLimitStore, clock ports.Clock, policy Policy) (*Limiter, error) {
	if store == nil || clock == nil {
		return nil, errors.New("ratelimit: store and clock are required")
	}
	for kind, l := range policy {
		if l.Requests < 1 || l.Window < time.Second {
			return nil, fmt.Errorf("ratelimit: the %s limit needs at least 1 request per window of at least a second", kind)
		}
	}
	return &Limiter{store: store, clock: clock, policy: policy}, nil
}

// Allow counts one request of s in the current window and decides. A subject kind without a limit is
// always allowed, uncounted.
func (l *Limiter) Allow(ctx context.Context, s ports.RateSubject) (ports.RateDecision, error) {
	limit, ok := l.policy[s.Kind]
	if !ok {
		return ports.RateDecision{Allowed: true}, nil
	}
	now := l.clock.Now()
	start := now.Truncate(limit.Window)
	end := start.Add(limit.Window)
	count, err := l.store.HitRateWindow(ctx, s.Kind+":"+s.ID, start, end)
	if err != nil {
		return ports.RateDecision{}, fmt.Errorf("ratelimit: %w", err)
	}
	return ports.RateDecision{
		Allowed:   count <= limit.Requests,
		Limit:     limit.Requests,
		Remaining: max(0, limit.Requests-count),
		Reset:     wholeSeconds(end.Sub(now)),
	}, nil
}

// Sweep deletes the expired windows (a periodic job) and returns how many.
func (l *Limiter) Sweep(ctx context.Context) (int, error) {
	return l.store.DeleteRateWindows(ctx, l.clock.Now())
}

// wholeSeconds rounds d up to whole seconds, so that a client waiting that long finds the window over.
func wholeSeconds(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}

package webhooks

import (
	"errors"
	"time"
)

// RetryPolicy is the schedule of a failing delivery: exponential backoff with full jitter, for a window.
// After the k-th failed attempt the ceiling is First·2^(k-1), at most Cap, and the wait is a uniform draw
// below the ceiling (full jitter, so that the retries of many deliveries failing together spread out), but
// at least MinDelay. Retries go on until the delivery is Window old; the last one is made at the end of the
// window, so a receiver that is down for less than Window always gets the delivery.
type RetryPolicy struct {
	First    time.Duration
	Cap      time.Duration
	MinDelay time.Duration
	Window   time.Duration
}

// DefaultRetryPolicy: 1 minute doubling up to 6 hours, for 3 days (about 20 to 35 attempts).
var DefaultRetryPolicy = RetryPolicy{First: time.Minute, Cap: 6 * time.Hour, MinDelay: 30 * time.Second,
	Window: 72 * time.Hour}

func (p RetryPolicy) validate() error {
	if p.MinDelay <= 0 || p.First < p.MinDelay || p.Cap < p.First || p.Window < p.Cap {
		return errors.New("webhooks: retry policy needs 0 < MinDelay <= First <= Cap <= Window")
	}
	return nil
}

// Ceiling is the longest wait after the attempts-th failed attempt (attempts ≥ 1).
func (p RetryPolicy) Ceiling(attempts int) time.Duration {
	d := p.First
	for i := 1; i < attempts && d < p.Cap; i++ {
		d *= 2
	}
	return min(d, p.Cap)
}

// Next returns when to try a delivery queued at queued again after its attempts-th failed attempt, made at
// at; r is a uniform draw from [0, 1). It reports false when the window is over and the delivery is given up.
func (p RetryPolicy) Next(attempts int, queued, at time.Time, r float64) (time.Time, bool) {
	end := queued.Add(p.Window)
	if !at.Before(end) {
		return time.Time{}, false
	}
	wait := max(time.Duration(r*float64(p.Ceiling(attempts))), p.MinDelay)
	next := at.Add(wait)
	if next.After(end) {
		next = end
	}
	return next, true
}

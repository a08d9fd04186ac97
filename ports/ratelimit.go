package ports

import (
	"context"
	"time"
)

// Rate-limit subjects: what a request is counted against.
const (
	RateToken   = "token"   // an API token (SubjectID: the token's ID)
	RateSession = "session" // a login session used on the API (SubjectID: the account ID)
	RateAddress = "address" // an unauthenticated API call (SubjectID: the client address)
	RateLogin   = "login"   // a login attempt, on the API or a page (SubjectID: the client address)
)

// RateSubject names one rate-limit bucket.
type RateSubject struct {
	Kind string // Rate* constant
	ID   string
}

// RateDecision is the verdict on one request and what the RateLimit-* headers say.
type RateDecision struct {
	Allowed   bool
	Limit     int           // requests per window
	Remaining int           // left in this window after this request, never below 0
	Reset     time.Duration // until the window ends (whole seconds, at least 1)
}

// RateLimiter counts a request against its subject's limit (domain/ratelimit implements it).
type RateLimiter interface {
	// Allow counts one request and tells whether it is within the limit. Requests over the limit are
	// counted too.
	Allow(ctx context.Context, s RateSubject) (RateDecision, error)
}

// RateLimitStore keeps the request counters of fixed windows, shared by every instance of the service.
type RateLimitStore interface {
	// HitRateWindow counts one request for key in the window starting at start, in one atomic statement,
	// and returns the window's count including this request: N concurrent hits on a new window return 1…N.
	// The window is kept at least until expires.
	HitRateWindow(ctx context.Context, key string, start, expires time.Time) (int, error)
	// DeleteRateWindows forgets the windows that expire at or before now and returns how many.
	DeleteRateWindows(ctx context.Context, now time.Time) (int, error)
}

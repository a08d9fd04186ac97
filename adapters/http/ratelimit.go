package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// rateLimitedProblem is the answer over a limit: problem+json on the API, the bilingual error page on pages.
func rateLimitedProblem(d ports.RateDecision) *problemError {
	p := newProblem(http.StatusTooManyRequests, "rate_limited",
		"Too many requests. Please wait a moment and try again.",
		"リクエストが多すぎます。少し時間をおいてから、もう一度お試しください。")
	p.retryAfter = d.Reset
	return p
}

// API routes counted by client address whatever the request carries: they authenticate nobody, so a token
// sent to them says nothing about who is calling. Logins count against the stricter login limit.
var (
	apiLoginRoutes  = map[string]bool{"/api/v1/auth/login": true, "/api/v1/ops/auth/login": true}
	publicAPIRoutes = map[string]bool{"/api/v1/notices": true, "/api/v1/openapi.yaml": true}
)

// limit counts the request against subject, sets the RateLimit-* headers (IETF draft
// draft-ietf-httpapi-ratelimit-headers: the limit, what is left, and seconds until the window resets) and
// refuses with 429 and Retry-After over the limit. Without a limiter nothing is limited.
func (s *Server) limit(c echo.Context, subject ports.RateSubject) error {
	if s.limiter == nil {
		return nil
	}
	d, err := s.limiter.Allow(c.Request().Context(), subject)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(int(d.Reset.Seconds())))
	if !d.Allowed {
		return rateLimitedProblem(d)
	}
	return nil
}

// addressSubject is the bucket of the client address, for logins or for unauthenticated calls.
func addressSubject(c echo.Context, kind string) ports.RateSubject {
	return ports.RateSubject{Kind: kind, ID: c.RealIP()}
}

// principalSubject is the bucket of an authenticated caller: an API token's own, or its session's account
// (every session of one account shares it, so logging in again buys no more requests).
func principalSubject(p ports.Principal) ports.RateSubject {
	if p.IsAPIToken() {
		return ports.RateSubject{Kind: ports.RateToken, ID: p.TokenID}
	}
	return ports.RateSubject{Kind: ports.RateSession, ID: p.TenantID + "/" + p.AccountID}
}

// apiRateLimit counts every API request (it runs after routing, on every route, and passes pages by). One that carries a bearer token to an authenticating route is
// counted by bearer, once the token names the caller (or, when it does not, against the client address).
func (s *Server) apiRateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		route := c.Path()
		if !isAPI(c.Request().URL.Path) {
			return next(c)
		}
		subject := addressSubject(c, ports.RateAddress)
		switch {
		case apiLoginRoutes[route]:
			subject = addressSubject(c, ports.RateLogin)
		case publicAPIRoutes[route] || !routed(c):
		default:
			if _, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization)); ok {
				return next(c)
			}
		}
		if err := s.limit(c, subject); err != nil {
			return err
		}
		return next(c)
	}
}

// routed tells a registered route from an unknown path.
func routed(c echo.Context) bool { return c.Path() != "" }

func isAPI(path string) bool { return path == "/api" || strings.HasPrefix(path, "/api/") }

// loginRateLimit counts a login attempt on a page against the client address.
func (s *Server) loginRateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.limit(c, addressSubject(c, ports.RateLogin)); err != nil {
			return err
		}
		return next(c)
	}
}

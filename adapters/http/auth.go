package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// gate names the session stages a route admits. A login that still owes a step (a password change, a second
// factor, an MFA enrolment) gets a restricted session; the gate keeps it to the routes of that step.
type gate []string

var (
	gateAny      = gate{ports.StageFull, ports.StagePasswordChange, ports.StageMFA, ports.StageMFAEnrol}
	gateFull     = gate{ports.StageFull}
	gateSelf     = gate{ports.StageFull, ports.StagePasswordChange, ports.StageMFAEnrol} // one's own account
	gatePassword = gate{ports.StageFull, ports.StagePasswordChange}
	gateMFA      = gate{ports.StageMFA}
	gateEnrol    = gate{ports.StageFull, ports.StageMFAEnrol} // adding a second factor
)

func (g gate) admits(stage string) bool { return slices.Contains(g, stage) }

// pendingStep is the API's answer to a session used outside its gate: the code tells the client which step
// is pending.
func pendingStep(stage string) *problemError {
	switch stage {
	case ports.StagePasswordChange:
		return newProblem(http.StatusForbidden, "password_change_required",
			"Change your password before continuing.", "続行する前にパスワードを変更してください。")
	case ports.StageMFA:
		return newProblem(http.StatusForbidden, "mfa_required",
			"Complete the second authentication step first.", "先に2段階認証を完了してください。")
	case ports.StageMFAEnrol:
		return newProblem(http.StatusForbidden, "mfa_enrolment_required",
			"Register a second factor before continuing.", "続行する前に2段階認証を設定してください。")
	}
	return errForbidden
}

// stagePage is where a page session that owes a step is sent.
func stagePage(p ports.Principal) string {
	switch p.Stage {
	case ports.StagePasswordChange, ports.StageMFAEnrol:
		return "/settings/security"
	case ports.StageMFA:
		return "/login/mfa"
	}
	if p.Kind == ports.KindOperator {
		return "/ops"
	}
	return "/"
}

const (
	keyPrincipal = "roumu.principal"
	keyToken     = "roumu.token"
	maxTokenLen  = 512
)

func principalOf(c echo.Context) ports.Principal {
	p, _ := c.Get(keyPrincipal).(ports.Principal)
	return p
}

func tokenOf(c echo.Context) string {
	t, _ := c.Get(keyToken).(string)
	return t
}

// bearer authenticates an API request by its Authorization header (cookies are never read on the API, which
// is why it needs no CSRF protection) and admits it when its stage passes g and it holds every role; an API
// token also needs the scope of the route (checkScope). An admitted request runs under its Idempotency-Key
// (see idempotent).
func (s *Server) bearer(g gate, roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
			if !ok {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="roumu"`)
				return errNoCredentials
			}
			p, err := s.accounts.Authenticate(c.Request().Context(), token, source(c))
			if err != nil {
				if lerr := s.limit(c, addressSubject(c, ports.RateAddress)); lerr != nil {
					return lerr
				}
				if errors.Is(err, ports.ErrUnauthenticated) {
					c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="roumu", error="invalid_token"`)
				}
				return err
			}
			if err := s.limit(c, principalSubject(p)); err != nil {
				return err
			}
			if err := checkScope(c, p); err != nil {
				return err
			}
			if !g.admits(p.Stage) {
				return pendingStep(p.Stage)
			}
			if !hasRoles(p, roles) {
				return errForbidden
			}
			c.Set(keyPrincipal, p)
			c.Set(keyToken, token)
			return s.idempotent(c, p, next)
		}
	}
}

// bearerToken extracts the token of "Bearer <token>"; a token is at most maxTokenLen visible ASCII characters,
// so nothing odd reaches the token lookup.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !plainToken(token) {
		return "", false
	}
	return token, true
}

func plainToken(t string) bool { return visibleASCII(t, maxTokenLen) }

// visibleASCII tells whether s is 1 to maxLen visible ASCII characters (no space, no control character).
func visibleASCII(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := range len(s) {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func hasRoles(p ports.Principal, roles []string) bool {
	for _, r := range roles {
		if !p.HasRole(r) {
			return false
		}
	}
	return true
}

// area is the part of the site a page belongs to: tenant members and provider operators log in separately.
type area int

const (
	memberArea area = iota
	opsArea
	anyArea
)

func (a area) admits(kind string) bool {
	switch a {
	case memberArea:
		return kind == ports.KindMember
	case opsArea:
		return kind == ports.KindOperator
	}
	return true
}

// loginPath is the login form for a page path: the operators' one for /ops pages.
func loginPath(path string) string {
	if path == "/ops" || strings.HasPrefix(path, "/ops/") {
		return "/ops/login"
	}
	return "/login"
}

// session authenticates a page request by its session cookie. Without a valid session, or in the wrong area,
// the browser is sent to the login form; a session that owes a step is sent to that step's page.
func (s *Server) session(a area, g gate, roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			login := loginPath(c.Request().URL.Path)
			ck, err := c.Cookie(s.sessionCookie())
			if err != nil || !plainToken(ck.Value) {
				return leave(c, login, errSessionEnded)
			}
			p, err := s.accounts.Authenticate(c.Request().Context(), ck.Value, source(c))
			// An integration token opens no page, whatever cookie it is put in.
			if errors.Is(err, ports.ErrUnauthenticated) || (err == nil && p.IsAPIToken()) {
				s.clearSessionCookie(c)
				return leave(c, login, errSessionEnded)
			}
			if err != nil {
				return err
			}
			if !a.admits(p.Kind) {
				if p.Kind == ports.KindOperator {
					return leave(c, stagePage(p), errForbidden) // the operators' own pages
				}
				return leave(c, login, errForbidden) // a member needs an operator login here
			}
			if !g.admits(p.Stage) {
				return leave(c, stagePage(p), pendingStep(p.Stage))
			}
			if !hasRoles(p, roles) {
				return errForbidden
			}
			c.Set(keyPrincipal, p)
			c.Set(keyToken, ck.Value)
			return next(c)
		}
	}
}

var errSessionEnded = newProblem(http.StatusUnauthorized, "unauthenticated",
	"Your session has ended. Reload the page and log in again.", "セッションが終了しました。ページを再読み込みして、もう一度ログインしてください。")

// wantsJSON tells a request of the page script (a fetch with Accept: application/json) from a browser's
// navigation. The script gets problem documents, never an HTML page or a redirect, which it could not read;
// deciding by the header rather than the route also covers errors raised before routing (413).
func wantsJSON(c echo.Context) bool {
	for part := range strings.SplitSeq(c.Request().Header.Get(echo.HeaderAccept), ",") {
		mt, _, _ := strings.Cut(part, ";")
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case echo.MIMEApplicationJSON, "application/problem+json":
			return true
		}
	}
	return false
}

// leave sends a page request to another page (303); the page script gets the problem p instead.
func leave(c echo.Context, to string, p *problemError) error {
	if wantsJSON(c) {
		return p
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// cookieName applies the __Host- prefix over https: the browser then insists on Secure, Path=/ and no Domain,
// so a sibling subdomain cannot plant or shadow the cookie.
func (s *Server) cookieName(base string) string {
	if s.https {
		return "__Host-" + base
	}
	return base
}

func (s *Server) sessionCookie() string { return s.cookieName("roumu_session") }

// setCookie writes one of the service's cookies; maxAge < 0 deletes it.
func (s *Server) setCookie(c echo.Context, name, value string, expires time.Time, maxAge int, same http.SameSite) {
	c.SetCookie(&http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		MaxAge:   maxAge,
		Secure:   s.https,
		HttpOnly: true,
		SameSite: same,
	})
}

// setSessionCookie stores a page session. SameSite=Lax keeps the session on top-level navigation from a
// link (a mail from HR) while the CSRF token guards the forms.
func (s *Server) setSessionCookie(c echo.Context, token string, expires time.Time) {
	s.setCookie(c, s.sessionCookie(), token, expires.UTC(), 0, http.SameSiteLaxMode)
}

// replaceSession hands the browser the session a port call opened in place of its old one (a login, a second
// factor, a new factor or password, each of which ends the session before): the cookie, and a fresh CSRF
// token to go with it.
func (s *Server) replaceSession(c echo.Context, res ports.LoginResult) {
	s.setSessionCookie(c, res.Token, res.ExpiresAt)
	s.rotateCSRF(c)
}

func (s *Server) clearSessionCookie(c echo.Context) {
	s.setCookie(c, s.sessionCookie(), "", time.Unix(0, 0), -1, http.SameSiteLaxMode)
}

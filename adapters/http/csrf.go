package web

import (
	"crypto/rand"
	"encoding/base64"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// CSRF protection for the pages is Echo's CSRF middleware, configured for the double-submit pattern: a random
// token in a SameSite=Strict, HttpOnly cookie (with the __Host- prefix over https), repeated in the hidden
// _csrf form field or the X-CSRF-Token header (the page scripts' fetch calls); a state-changing request whose
// two copies differ is refused. Browsers that send Fetch Metadata are judged by it first: same-origin requests
// pass without the token, cross-site ones are refused whatever they carry, same-site ones (a sibling
// subdomain) must still show the token.
const (
	csrfField  = "_csrf"
	csrfHeader = "X-CSRF-Token"
	keyCSRF    = "roumu.csrf"
	// csrfTokenLen is the size of a token in bytes (rotateCSRF) or characters (Echo's generator).
	csrfTokenLen = 32
)

// csrfTTL is how long a token lives in the browser; a form left open longer must be reloaded.
const csrfTTL = 12 * time.Hour

func (s *Server) csrfCookie() string { return s.cookieName("roumu_csrf") }

// newCSRF builds the middleware once the cookie names are known (they depend on https).
func (s *Server) newCSRF() echo.MiddlewareFunc {
	check := middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLength:    csrfTokenLen,
		TokenLookup:    "header:" + csrfHeader + ",form:" + csrfField,
		ContextKey:     keyCSRF,
		CookieName:     s.csrfCookie(),
		CookiePath:     "/",
		CookieMaxAge:   int(csrfTTL.Seconds()),
		CookieSecure:   s.https,
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteStrictMode,
		// Every refusal is the one bilingual problem, whichever copy was missing or wrong.
		ErrorHandler: func(error, echo.Context) error { return errCSRF },
		// Called for state-changing requests that are not same-origin: a same-site one falls back on the
		// token, a cross-site one is refused outright.
		AllowSecFetchSiteFunc: func(c echo.Context) (bool, error) {
			if c.Request().Header.Get(echo.HeaderSecFetchSite) == "same-site" {
				return false, nil
			}
			return false, errCSRF
		},
	})
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		checked := check(next)
		return func(c echo.Context) error {
			if !safeMethod(c.Request().Method) {
				// The form is parsed here, before the token lookup reads it, so that an oversized or malformed
				// body is 413 or 400 rather than a missing token, and every page handler reads a checked PostForm.
				if err := parseForm(c); err != nil {
					return err
				}
			}
			return checked(c)
		}
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

var errMalformedForm = newProblem(http.StatusBadRequest, "malformed_form",
	"The form could not be read.", "フォームを読み取れませんでした。")

// multipartMemory is how much of a multipart form is held in memory; the rest goes to temporary files.
const multipartMemory = 8 << 20

// parseForm parses a urlencoded or multipart body once; a body over the limit is 413, anything else unreadable 400. Values
// with NUL characters or invalid UTF-8 are refused as well, as in JSON bodies.
func parseForm(c echo.Context) error {
	req := c.Request()
	parse := req.ParseForm
	if mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); mt == echo.MIMEMultipartForm {
		// An upload (the CSV import): its fields join PostForm, its file waits in memory or a temporary file.
		parse = func() error { return req.ParseMultipartForm(multipartMemory) }
	}
	if err := parse(); err != nil {
		if tooLarge(err) || isMaxBytes(err) {
			return errBodyTooLarge
		}
		return errMalformedForm
	}
	for _, values := range req.PostForm {
		for _, v := range values {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return errMalformedForm
			}
		}
	}
	return nil
}

// rotateCSRF issues a fresh token whenever a session is opened or replaced, so that a token planted before
// the login is worthless after it. The cookie Echo's middleware may already have set on this response is
// dropped, so the browser sees one cookie of that name.
func (s *Server) rotateCSRF(c echo.Context) {
	var b [csrfTokenLen]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	token := base64.RawURLEncoding.EncodeToString(b[:])
	h := c.Response().Header()
	var kept []string
	for _, sc := range h.Values(echo.HeaderSetCookie) {
		if !strings.HasPrefix(sc, s.csrfCookie()+"=") {
			kept = append(kept, sc)
		}
	}
	h[echo.HeaderSetCookie] = kept
	s.setCookie(c, s.csrfCookie(), token, time.Now().Add(csrfTTL).UTC(), int(csrfTTL.Seconds()), http.SameSiteStrictMode)
	c.Set(keyCSRF, token)
}

func csrfOf(c echo.Context) string {
	t, _ := c.Get(keyCSRF).(string)
	return t
}

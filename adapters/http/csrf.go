package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// CSRF protection for the pages is the double-submit pattern Echo's CSRF middleware uses: a random token in a
// SameSite=Strict cookie, repeated in a hidden form field (or the X-CSRF-Token header); a state-changing
// request whose two copies differ is refused. It lives here rather than in echo/middleware because that
// package pulls in golang.org/x/time, which the module does not require.
const (
	csrfField    = "_csrf"
	csrfHeader   = "X-CSRF-Token"
	keyCSRF      = "roumu.csrf"
	csrfTokenLen = 32
)

// csrfTTL is how long a token lives in the browser; a form left open longer must be reloaded.
const csrfTTL = 12 * time.Hour

func (s *Server) csrfCookie() string { return s.cookieName("roumu_csrf") }

func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := ""
		if ck, err := c.Cookie(s.csrfCookie()); err == nil && validCSRFToken(ck.Value) {
			token = ck.Value
		}
		if !safeMethod(c.Request().Method) {
			// The form is parsed here for the handlers too, so every page handler reads a checked PostForm.
			if err := parseForm(c); err != nil {
				return err
			}
			if err := checkCSRF(c, token); err != nil {
				return err
			}
		}
		if token == "" {
			s.rotateCSRF(c)
		} else {
			c.Set(keyCSRF, token)
		}
		return next(c)
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF compares the submitted token with the cookie's. Browsers that say the request is cross-site are
// refused outright, whatever they send.
func checkCSRF(c echo.Context, cookieToken string) error {
	req := c.Request()
	if cookieToken == "" || req.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return errCSRF
	}
	sent := req.Header.Get(csrfHeader)
	if sent == "" {
		sent = req.PostForm.Get(csrfField)
	}
	if subtle.ConstantTimeCompare([]byte(sent), []byte(cookieToken)) != 1 {
		return errCSRF
	}
	return nil
}

var errMalformedForm = newProblem(http.StatusBadRequest, "malformed_form",
	"The form could not be read.", "フォームを読み取れませんでした。")

// parseForm parses a urlencoded body once; a body over the limit is 413, anything else unreadable 400. Values
// with NUL characters or invalid UTF-8 are refused as well, as in JSON bodies.
func parseForm(c echo.Context) error {
	req := c.Request()
	if err := req.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
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

// rotateCSRF issues a fresh token: on first visit, and after a login so that a token planted before the
// login is worthless after it.
func (s *Server) rotateCSRF(c echo.Context) {
	var b [csrfTokenLen]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	token := base64.RawURLEncoding.EncodeToString(b[:])
	s.setCookie(c, s.csrfCookie(), token, time.Now().Add(csrfTTL).UTC(), int(csrfTTL.Seconds()), http.SameSiteStrictMode)
	c.Set(keyCSRF, token)
}

func validCSRFToken(t string) bool {
	b, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil && len(b) == csrfTokenLen
}

func csrfOf(c echo.Context) string {
	t, _ := c.Get(keyCSRF).(string)
	return t
}

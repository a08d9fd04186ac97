package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// contentSecurityPolicy allows nothing inline and nothing from elsewhere: the pages use one stylesheet and
// one script from /static/, images from there or data: URLs (the QR code of a TOTP enrolment, rendered on the
// server), and nothing may frame them.
const contentSecurityPolicy = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; " +
	"form-action 'self'; script-src 'self'; object-src 'none'; img-src 'self' data:"

const (
	headerRequestID = "X-Request-Id"
	keyRequestID    = "roumu.request_id"
	maxRequestIDLen = 64
)

// requestID gives every request an ID, echoed in X-Request-Id and in every problem document and log line, so a
// user's error report leads to the log entry. An inbound ID (from a proxy) is kept only when it is short and
// plain, because it ends up in logs.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(headerRequestID)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		c.Set(keyRequestID, id)
		c.Response().Header().Set(headerRequestID, id)
		return next(c)
	}
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':'
		if !ok {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// requestIDOf returns the ID the requestID middleware assigned.
func requestIDOf(c echo.Context) string {
	id, _ := c.Get(keyRequestID).(string)
	return id
}

// source describes the caller for the domain's audit log and IP restriction. The user agent is cut short: it
// is client-controlled and only informative.
func source(c echo.Context) ports.Source {
	ua := c.Request().UserAgent()
	if len(ua) > 256 {
		ua = ua[:256]
	}
	return ports.Source{IP: c.RealIP(), UserAgent: ua, RequestID: requestIDOf(c)}
}

// securityHeaders sets the browser protections on every response, errors and 404s included. Nothing the
// service returns is meant to be cached by the browser or a proxy, except the static files, which override
// Cache-Control themselves.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if s.https {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		return next(c)
	}
}

// accessLog writes one structured line per request and feeds the metrics. It hands errors to the error
// handler itself so that it logs the status actually sent. It logs the path without the query string and no
// header values, so tokens, cookies and bodies never reach the log.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		elapsed := time.Since(start)
		req, res := c.Request(), c.Response()
		route := s.metrics.route(c.Path())
		s.metrics.observe(req.Method, route, res.Status, elapsed)

		level := slog.LevelInfo
		if res.Status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
		path := req.URL.Path
		if len(path) > 256 {
			path = path[:256] + "…"
		}
		s.log.LogAttrs(req.Context(), level, "http request",
			slog.String("method", req.Method),
			slog.String("path", path),
			slog.String("route", route),
			slog.Int("status", res.Status),
			slog.Int64("bytes", res.Size),
			slog.Duration("duration", elapsed),
			slog.String("request_id", requestIDOf(c)),
			slog.String("client_ip", c.RealIP()),
		)
		return nil
	}
}

// errPanic stands for a recovered panic; the error handler answers it with a generic 500.
var errPanic = errors.New("panic recovered")

// recover turns a panic in a handler into a logged 500 instead of a dropped connection.
func (s *Server) recover(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				panic(r) // the deliberate way to abort a response; net/http handles it
			}
			s.log.LogAttrs(c.Request().Context(), slog.LevelError, "panic in handler",
				slog.String("request_id", requestIDOf(c)),
				slog.String("panic", fmt.Sprint(r)),
				slog.String("stack", string(debug.Stack())),
			)
			err = errPanic
		}()
		return next(c)
	}
}

package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// Idempotency-Key on the API's POST routes (draft-ietf-httpapi-idempotency-key-header): a client that sends
// a key may send the same request again and gets the first answer back, byte for byte, marked
// Idempotent-Replayed: true. What a key may be used for and how long is the port's rule (ports.Idempotency);
// here are the header's syntax, the routes that take it and the recording of the answer.
const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
	maxIdempotencyKeyLen = 255
)

var errIdempotencyKeyInvalid = newProblem(http.StatusBadRequest, "idempotency_key_invalid",
	"Send one Idempotency-Key of 1 to 255 visible ASCII characters.",
	"Idempotency-Key は表示可能な ASCII 文字 1〜255 文字で、1つだけ送信してください。")

// replayedHeaders are the headers of an answer that describe its body or the resource, repeated by a replay.
var replayedHeaders = []string{echo.HeaderContentType, echo.HeaderLocation, "ETag"}

// POST routes that ignore Idempotency-Key: sessions (/auth, /ops/auth, /me), answers that show a secret once
// (an account's initial password, a token, a webhook's signing secret, an operator's password), My Number
// reveals (each one is audited, and the number must not be kept again, even sealed), and uploads whose bodies
// are too large to hold in memory for their digest (CSV imports, which have jobs, and attachments).
var (
	unreplayedRoutes = map[string]bool{
		"/api/v1/accounts":                                          true,
		"/api/v1/api-tokens":                                        true,
		"/api/v1/webhooks":                                          true,
		"/api/v1/webhooks/:id/rotate-secret":                        true,
		"/api/v1/ops/operators/:id/password":                        true,
		"/api/v1/employees/:id/my-number/reveal":                    true,
		"/api/v1/employees/:id/dependents/:dep_id/my-number/reveal": true,
		apiImportPath:                                               true,
		"/api/v1/procedures/:id/attachments":                        true,
	}
	unreplayedPrefixes = []string{"/api/v1/auth/", "/api/v1/ops/auth/", "/api/v1/me/"}
)

// replayable tells whether the request's route takes an Idempotency-Key.
func replayable(c echo.Context) bool {
	route := c.Path()
	if c.Request().Method != http.MethodPost || unreplayedRoutes[route] {
		return false
	}
	for _, p := range unreplayedPrefixes {
		if strings.HasPrefix(route, p) {
			return false
		}
	}
	return true
}

// idempotent runs next for p's request under its Idempotency-Key, when it sends one to a route that takes it:
// the first request with the key runs and its answer is kept; the same request again gets that answer.
// bearer calls it once the caller is known, so that keys belong to their principal.
func (s *Server) idempotent(c echo.Context, p ports.Principal, next echo.HandlerFunc) error {
	keys := c.Request().Header.Values(headerIdempotencyKey)
	if s.idempotency == nil || len(keys) == 0 || !replayable(c) {
		return next(c)
	}
	if len(keys) > 1 || !visibleASCII(keys[0], maxIdempotencyKeyLen) {
		return errIdempotencyKeyInvalid
	}
	req := c.Request()
	body, err := io.ReadAll(req.Body) // bounded by the body limit, which answers 413 beyond it
	if err != nil {
		return err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	replay, claim, err := s.idempotency.Begin(req.Context(), p, keys[0],
		ports.IdempotentRequest{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Body: body})
	switch {
	case err != nil:
		return err
	case replay != nil:
		return writeReplay(c, replay)
	}
	return s.keepAnswer(c, claim, next)
}

// keepAnswer runs next and hands its answer, errors included, to the port to keep under claim. The error
// is answered here rather than by the outer error handler, so that the answer kept is the one sent. A panic
// releases the key (the recover middleware then answers 500).
func (s *Server) keepAnswer(c echo.Context, claim ports.IdempotencyClaim, next echo.HandlerFunc) error {
	res := c.Response()
	tee := &teeWriter{ResponseWriter: res.Writer}
	res.Writer = tee
	// The answer is kept even when the client is gone: it is the one that will retry.
	ctx := context.WithoutCancel(c.Request().Context())
	answered := false
	defer func() {
		res.Writer = tee.ResponseWriter
		if !answered {
			s.logIdempotency(c, "releasing", s.idempotency.Release(ctx, claim))
		}
	}()
	if err := next(c); err != nil {
		c.Error(err)
	}
	answered = true
	header := map[string]string{}
	for _, name := range replayedHeaders {
		if v := res.Header().Get(name); v != "" {
			header[name] = v
		}
	}
	s.logIdempotency(c, "keeping", s.idempotency.Complete(ctx, claim,
		ports.IdempotentResponse{Status: res.Status, Header: header, Body: tee.body.Bytes()}))
	return nil
}

// logIdempotency logs a failure to keep or release an answer: the client has its answer either way, and a
// retry then finds the key in progress until its lease ends.
func (s *Server) logIdempotency(c echo.Context, what string, err error) {
	if err != nil {
		s.log.LogAttrs(c.Request().Context(), slog.LevelError, what+" the idempotent answer failed",
			slog.String("request_id", requestIDOf(c)), slog.String("error", err.Error()))
	}
}

// writeReplay sends a kept answer again.
func writeReplay(c echo.Context, r *ports.IdempotentResponse) error {
	h := c.Response().Header()
	for name, v := range r.Header {
		h.Set(name, v)
	}
	h.Set(headerReplayed, "true")
	c.Response().WriteHeader(r.Status)
	_, err := c.Response().Write(r.Body)
	return err
}

// teeWriter copies the body written through it.
type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer (Flush).
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

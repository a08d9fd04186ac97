package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// problemError is an error the adapter itself raises (a malformed body, a missing token, a CSRF failure) or a
// port error already translated: a status code with a machine-readable code and messages in both languages.
type problemError struct {
	status     int
	code       string
	en, ja     string
	fields     []ports.FieldError
	retryAfter time.Duration
}

func (p *problemError) Error() string { return p.code + ": " + p.en }

func newProblem(status int, code, en, ja string) *problemError {
	return &problemError{status: status, code: code, en: en, ja: ja}
}

// The adapter's own problems.
var (
	errBodyTooLarge = newProblem(http.StatusRequestEntityTooLarge, "body_too_large",
		"The request body is too large.", "リクエストの本文が大きすぎます。")
	errUnsupportedMedia = newProblem(http.StatusUnsupportedMediaType, "unsupported_media_type",
		"Send the body as application/json (UTF-8).", "本文は application/json（UTF-8）で送信してください。")
	errNotFound = newProblem(http.StatusNotFound, "not_found",
		"The resource was not found.", "対象が見つかりません。")
	errForbidden = newProblem(http.StatusForbidden, "forbidden",
		"You are not allowed to do this.", "この操作を行う権限がありません。")
	errNoCredentials = newProblem(http.StatusUnauthorized, "unauthenticated",
		"Send a valid token as Authorization: Bearer <token>.",
		"Authorization: Bearer <トークン> で有効なトークンを送信してください。")
	errCSRF = newProblem(http.StatusForbidden, "csrf",
		"The form has expired or was not sent from this site. Reload the page and try again.",
		"フォームの有効期限が切れたか、このサイト以外から送信されました。ページを再読み込みしてもう一度お試しください。")
	errInternal = newProblem(http.StatusInternalServerError, "internal_error",
		"An unexpected error occurred. Please quote the request ID when you contact support.",
		"予期しないエラーが発生しました。お問い合わせの際はリクエストIDをお伝えください。")
)

// codeIPNotAllowed is the domain's refusal of an address outside the tenant's IP allow-list.
const codeIPNotAllowed = "ip_not_allowed"

// kinds maps each boundary error kind to its status, with the code and messages used when the domain returns
// the bare sentinel. It is the one place where port errors become status codes.
var kinds = []struct {
	kind    error
	problem *problemError
}{
	{ports.ErrInvalid, newProblem(http.StatusUnprocessableEntity, "invalid",
		"The request contains invalid values.", "入力内容に誤りがあります。")},
	{ports.ErrNotFound, errNotFound},
	{ports.ErrConflict, newProblem(http.StatusConflict, "conflict",
		"The request conflicts with the current state.", "現在の状態と矛盾するため処理できません。")},
	{ports.ErrForbidden, errForbidden},
	{ports.ErrUnauthenticated, newProblem(http.StatusUnauthorized, "unauthenticated",
		"Please log in.", "ログインしてください。")},
	{ports.ErrPreconditionFailed, newProblem(http.StatusPreconditionFailed, "precondition_failed",
		"The resource has changed since you read it.", "読み込んだ後に対象が更新されています。")},
	{ports.ErrLocked, newProblem(http.StatusLocked, "account_locked",
		"The account is temporarily locked.", "アカウントは一時的にロックされています。")},
	{ports.ErrRateLimited, newProblem(http.StatusTooManyRequests, "rate_limited",
		"Too many requests. Please try again later.", "リクエストが多すぎます。しばらくしてからお試しください。")},
	{ports.ErrUnavailable, newProblem(http.StatusServiceUnavailable, "unavailable",
		"The service is temporarily unavailable.", "サービスは一時的に利用できません。")},
}

// statusProblems covers Echo's own errors (unknown route, wrong method …), by status.
var statusProblems = map[int]*problemError{
	http.StatusBadRequest: newProblem(http.StatusBadRequest, "bad_request",
		"The request is malformed.", "リクエストの形式が正しくありません。"),
	http.StatusNotFound: errNotFound,
	http.StatusMethodNotAllowed: newProblem(http.StatusMethodNotAllowed, "method_not_allowed",
		"This method is not allowed here.", "このメソッドは使用できません。"),
	http.StatusRequestEntityTooLarge: errBodyTooLarge,
	http.StatusUnsupportedMediaType:  errUnsupportedMedia,
	http.StatusUnauthorized:          errNoCredentials,
	http.StatusForbidden:             errForbidden,
}

// toProblem translates any error into the problem sent to the client. internal reports an error the client
// must not learn about (its text may hold database or file details): it becomes a generic 500 and is logged.
func toProblem(err error) (p *problemError, internal bool) {
	if errors.As(err, &p) {
		return p, false
	}
	if pe, ok := ports.AsError(err); ok {
		for _, k := range kinds {
			if errors.Is(pe.Kind, k.kind) {
				return fromPortError(pe, k.problem), false
			}
		}
		return errInternal, true
	}
	for _, k := range kinds {
		if errors.Is(err, k.kind) {
			return k.problem, false
		}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if sp, ok := statusProblems[he.Code]; ok {
			return sp, false
		}
		if he.Code >= 400 && he.Code < 500 {
			return newProblem(he.Code, "bad_request", http.StatusText(he.Code), "リクエストを処理できません。"), false
		}
		return errInternal, true
	}
	return errInternal, true
}

// fromPortError keeps the domain's code and messages and falls back on the kind's defaults for empty ones.
func fromPortError(pe *ports.Error, def *problemError) *problemError {
	p := *def
	if pe.Code != "" {
		p.code = pe.Code
	}
	if pe.MessageEN != "" {
		p.en = pe.MessageEN
	}
	if pe.MessageJA != "" {
		p.ja = pe.MessageJA
	}
	p.fields = pe.Fields
	p.retryAfter = pe.RetryAfter
	return &p
}

// problemBody is the RFC 7807 document. type is about:blank because code carries the machine-readable
// meaning; title is then the status phrase, as RFC 7807 asks.
type problemBody struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail"`
	DetailJA  string         `json:"detail_ja"`
	Code      string         `json:"code"`
	RequestID string         `json:"request_id"`
	Errors    []fieldProblem `json:"errors,omitempty"`
}

type fieldProblem struct {
	Field     string `json:"field"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageJA string `json:"message_ja"`
}

// handleError is Echo's one error handler: API paths and the page script get problem+json, pages the bilingual
// error page (or, for an expired session, the way back to the login form).
func (s *Server) handleError(err error, c echo.Context) {
	p, internal := toProblem(err)
	if internal || errors.Is(err, errPanic) {
		s.log.LogAttrs(c.Request().Context(), slog.LevelError, "request failed",
			slog.String("request_id", requestIDOf(c)),
			slog.String("route", c.Path()),
			slog.String("error", err.Error()),
		)
	}
	if c.Response().Committed {
		return // too late to change the status; the log line above is all we can do
	}
	setRetryAfter(c, p)
	var werr error
	switch {
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(p.status)
	case !isPage(c.Request().URL.Path) || wantsJSON(c):
		werr = writeProblem(c, p)
	case p.status == http.StatusUnauthorized:
		s.clearSessionCookie(c)
		werr = c.Redirect(http.StatusSeeOther, loginPath(c.Request().URL.Path))
	default:
		werr = s.renderError(c, p)
	}
	if werr != nil {
		s.log.LogAttrs(c.Request().Context(), slog.LevelWarn, "writing the error response failed",
			slog.String("request_id", requestIDOf(c)), slog.String("error", werr.Error()))
	}
}

// setRetryAfter tells the client when to try again, in whole seconds rounded up (never 0, which would invite
// an immediate retry).
func setRetryAfter(c echo.Context, p *problemError) {
	if p.retryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(p.retryAfter.Seconds()))))
	}
}

// isPage tells browser pages (HTML errors) from the API and the machine endpoints (problem+json).
func isPage(path string) bool {
	switch {
	case path == "/api" || strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/static/"):
		return false
	case path == "/healthz" || path == "/readyz" || path == "/metrics":
		return false
	}
	return true
}

func writeProblem(c echo.Context, p *problemError) error {
	body := problemBody{
		Type:      "about:blank",
		Title:     http.StatusText(p.status),
		Status:    p.status,
		Detail:    p.en,
		DetailJA:  p.ja,
		Code:      p.code,
		RequestID: requestIDOf(c),
	}
	for _, f := range p.fields {
		body.Errors = append(body.Errors, fieldProblem{Field: f.Field, Code: f.Code, Message: f.MessageEN, MessageJA: f.MessageJA})
	}
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.Blob(p.status, "application/problem+json; charset=utf-8", append(data, '\n'))
}

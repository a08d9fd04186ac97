package ports

import (
	"errors"
	"fmt"
	"time"
)

// The closed set of error kinds that cross the boundary. Stores translate driver errors into these once;
// the HTTP adapter translates them into status codes once. Check them with errors.Is.
var (
	ErrNotFound           = errors.New("not found")
	ErrConflict           = errors.New("conflict")
	ErrInvalid            = errors.New("invalid")
	ErrForbidden          = errors.New("forbidden")
	ErrUnauthenticated    = errors.New("unauthenticated")
	ErrPreconditionFailed = errors.New("precondition failed")
	ErrLocked             = errors.New("locked")
	ErrRateLimited        = errors.New("rate limited")
	ErrUnavailable        = errors.New("unavailable")
)

// FieldError names one invalid field, with a stable code and messages in Japanese and English.
type FieldError struct {
	Field     string
	Code      string
	MessageJA string
	MessageEN string
}

// Error is a boundary error with a machine-readable code (e.g. "invalid_credentials") and human messages
// in both languages. Kind is one of the sentinel errors above. Messages never contain secrets.
type Error struct {
	Kind       error
	Code       string
	MessageEN  string
	MessageJA  string
	Fields     []FieldError
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.MessageEN)
	}
	return fmt.Sprintf("%s: %s (%d field errors)", e.Code, e.MessageEN, len(e.Fields))
}

func (e *Error) Unwrap() error { return e.Kind }

// NewError builds an *Error of the given kind.
func NewError(kind error, code, en, ja string) *Error {
	return &Error{Kind: kind, Code: code, MessageEN: en, MessageJA: ja}
}

// Invalid builds a validation error listing every invalid field.
func Invalid(code, en, ja string, fields ...FieldError) *Error {
	return &Error{Kind: ErrInvalid, Code: code, MessageEN: en, MessageJA: ja, Fields: fields}
}

// AsError returns err as an *Error when it is one (or wraps one).
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

package ports

import (
	"context"
	"time"
)

// Idempotency-Key: a client that sends a POST with a key of its choosing may send it again (after a timeout,
// a dropped connection) and get the first answer back instead of doing the work twice.

// IdempotentRequest is what makes two requests the same request: a key sent again with another request is
// refused rather than answered with the first one's response.
type IdempotentRequest struct {
	Method string
	Path   string
	Query  string // the raw query string, as sent
	Body   []byte
}

// IdempotentResponse is the part of an answer that a replay repeats byte for byte: the status, the headers
// that describe the body or the resource (Content-Type, Location, ETag) and the body.
type IdempotentResponse struct {
	Status int
	Header map[string]string
	Body   []byte
}

// IdempotencyClaim is one request's hold on its key, from Begin until Complete or Release. ID tells this
// request's claim from a later one on the same key (after this one was released or expired).
type IdempotencyClaim struct {
	TenantID  string // "" for operators
	Principal string // whose key it is: one account's sessions, or one API token
	Key       string
	ID        string
}

// Idempotency decides what a request with an Idempotency-Key does (domain/idempotency implements it).
type Idempotency interface {
	// Begin claims p's key for req. When the key answered the same request before, it returns that response
	// to replay instead (and no claim). A key already used for another request (another body, method or
	// path) is ErrInvalid with code "idempotency_key_reused"; a key whose request is still running is
	// ErrConflict with code "idempotency_in_progress". The key's syntax is the caller's to check.
	Begin(ctx context.Context, p Principal, key string, req IdempotentRequest) (*IdempotentResponse, IdempotencyClaim, error)
	// Complete keeps res as the answer to the claimed request, for replays of it.
	Complete(ctx context.Context, c IdempotencyClaim, res IdempotentResponse) error
	// Release gives the key up without an answer (the request failed on the server's side), so that the
	// client's retry runs again.
	Release(ctx context.Context, c IdempotencyClaim) error
}

// IdempotencyRecord is a key as stored: claimed by a request in progress (Status 0, no Body) or holding its
// answer. A record that expires at or before now is as good as none.
type IdempotencyRecord struct {
	IdempotencyClaim
	Fingerprint string // the request's digest (hex SHA-256)
	Status      int    // 0 while the request is in progress
	Header      map[string]string
	Body        []byte // the answer's body as the caller gives it (sealed by the domain: it holds personal data)
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// IdempotencyStore keeps Idempotency-Key records, shared by every instance of the service. A key is unique
// per (TenantID, Principal, Key): one tenant's or principal's key never meets another's.
type IdempotencyStore interface {
	// ClaimIdempotencyKey stores rec, in progress, unless a record of its key that expires after now
	// exists, atomically: of concurrent claims of one key exactly one wins. It returns the record that holds
	// the key and whether that is rec.
	ClaimIdempotencyKey(ctx context.Context, rec IdempotencyRecord, now time.Time) (IdempotencyRecord, bool, error)
	// CompleteIdempotencyKey stores rec's Status, Header, Body and ExpiresAt on the record in progress that
	// rec's claim (with its ID) holds; ErrNotFound when that claim no longer holds the key.
	CompleteIdempotencyKey(ctx context.Context, rec IdempotencyRecord) error
	// ReleaseIdempotencyKey deletes the record in progress that c holds; nothing when it holds none.
	ReleaseIdempotencyKey(ctx context.Context, c IdempotencyClaim) error
	// DeleteIdempotencyKeys deletes the records that expire at or before now and returns how many.
	DeleteIdempotencyKeys(ctx context.Context, now time.Time) (int, error)
}

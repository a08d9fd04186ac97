// Package idempotency is the Idempotency-Key policy of the API's POST requests: a request sent again with its
// key gets the first answer back instead of running twice, a key sent with another request is refused, and
// a key whose request still runs answers "in progress". It implements ports.Idempotency over a store that
// every instance shares.
//
// A key belongs to one principal of one tenant (an account's sessions, or one API token), so one caller's key
// never meets another's. The answers are kept for Retention and their bodies sealed under the keyring, as
// they hold personal data (an employee's record). A claim expires after Lease: a request that has not
// finished by then was lost with its instance, and the client's retry may run again.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

const (
	// Retention is how long an answer is replayed: a day, long enough for any client's retries (the IETF
	// draft's and the payment APIs' usual window), short enough that the sealed answers do not pile up.
	Retention = 24 * time.Hour
	// Lease is how long a request in progress holds its key, far above the server's 60-second write timeout.
	Lease = 10 * time.Minute
	// firstServerError is the lowest status of a server error (5xx): the server failed, the request may not.
	firstServerError = 500
)

var (
	errKeyReused = ports.Invalid("idempotency_key_reused",
		"This Idempotency-Key was already used for a different request. Send a new key with a new request.",
		"この Idempotency-Key は別のリクエストで使用済みです。新しいリクエストには新しいキーを指定してください。")
	errInProgress = ports.NewError(ports.ErrConflict, "idempotency_in_progress",
		"A request with this Idempotency-Key is still being processed. Try again shortly.",
		"この Idempotency-Key のリクエストはまだ処理中です。しばらくしてからもう一度お試しください。")
)

// Service implements ports.Idempotency.
type Service struct {
	store  ports.IdempotencyStore
	cipher ports.Cipher
	clock  ports.Clock
}

var _ ports.Idempotency = (*Service)(nil)

// New returns the policy over store, sealing answers with cipher.
func New(store ports.IdempotencyStore, cipher ports.Cipher, clock ports.Clock) (*Service, error) {
	if store == nil || cipher == nil || clock == nil {
		return nil, errors.New("idempotency: store, cipher and clock are required")
	}
	return &Service{store: store, cipher: cipher, clock: clock}, nil
}

// Begin claims p's key for req, or returns the answer to replay, or refuses a reused or busy key.
func (s *Service) Begin(ctx context.Context, p ports.Principal, key string, req ports.IdempotentRequest) (*ports.IdempotentResponse, ports.IdempotencyClaim, error) {
	owner, err := principalOf(p)
	if err != nil {
		return nil, ports.IdempotencyClaim{}, err
	}
	now := s.clock.Now()
	rec := ports.IdempotencyRecord{
		IdempotencyClaim: ports.IdempotencyClaim{TenantID: p.TenantID, Principal: owner, Key: key, ID: kernel.NewID()},
		Fingerprint:      fingerprint(req), CreatedAt: now, ExpiresAt: now.Add(Lease),
	}
	held, won, err := s.store.ClaimIdempotencyKey(ctx, rec, now)
	switch {
	case err != nil:
		return nil, ports.IdempotencyClaim{}, fmt.Errorf("idempotency: %w", err)
	case won:
		return nil, held.IdempotencyClaim, nil
	case held.Fingerprint != rec.Fingerprint:
		return nil, ports.IdempotencyClaim{}, errKeyReused
	case held.Status == 0:
		return nil, ports.IdempotencyClaim{}, errInProgress
	}
	body, err := s.cipher.Open(ctx, held.Body, sealedFor(held.IdempotencyClaim))
	if err != nil {
		return nil, ports.IdempotencyClaim{}, fmt.Errorf("idempotency: opening the answer: %w", err)
	}
	return &ports.IdempotentResponse{Status: held.Status, Header: held.Header, Body: body}, ports.IdempotencyClaim{}, nil
}

// Complete keeps res as the answer to c's request, for Retention. A server error (5xx) is not an answer to
// keep: the key is released instead, so that the client's retry runs again.
func (s *Service) Complete(ctx context.Context, c ports.IdempotencyClaim, res ports.IdempotentResponse) error {
	if res.Status < 100 || res.Status > 599 {
		return fmt.Errorf("idempotency: status %d is no HTTP status", res.Status)
	}
	if res.Status >= firstServerError {
		return s.Release(ctx, c)
	}
	sealed, err := s.cipher.Seal(ctx, res.Body, sealedFor(c))
	if err != nil {
		return fmt.Errorf("idempotency: sealing the answer: %w", err)
	}
	err = s.store.CompleteIdempotencyKey(ctx, ports.IdempotencyRecord{IdempotencyClaim: c, Status: res.Status,
		Header: res.Header, Body: sealed, ExpiresAt: s.clock.Now().Add(Retention)})
	if err != nil {
		return fmt.Errorf("idempotency: %w", err)
	}
	return nil
}

// Release gives c's key up without an answer.
func (s *Service) Release(ctx context.Context, c ports.IdempotencyClaim) error {
	if err := s.store.ReleaseIdempotencyKey(ctx, c); err != nil {
		return fmt.Errorf("idempotency: %w", err)
	}
	return nil
}

// Sweep deletes the expired records (a periodic job) and returns how many.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	return s.store.DeleteIdempotencyKeys(ctx, s.clock.Now())
}

// principalOf names whose key it is: an API token's own, or its account's (every session of one account
// shares its keys, so a retry after logging in again still finds the first answer).
func principalOf(p ports.Principal) (string, error) {
	switch {
	case p.IsAPIToken():
		return "token:" + p.TokenID, nil
	case p.AccountID != "":
		return "account:" + p.AccountID, nil
	}
	return "", ports.ErrUnauthenticated
}

// fingerprint is the request's digest: SHA-256 over its method, path, query and body, each preceded by its
// length so that no two different requests run together into the same bytes.
func fingerprint(r ports.IdempotentRequest) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(r.Method), []byte(r.Path), []byte(r.Query), r.Body} {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(part))))
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sealedFor is the additional data of an answer's seal: it binds the sealed body to its claim, so that it
// cannot be moved to another tenant's, principal's or key's record.
func sealedFor(c ports.IdempotencyClaim) []byte {
	return []byte("idempotency:" + c.TenantID + ":" + c.Principal + ":" + c.ID + ":" + c.Key)
}

// SealedData returns the kept answers as a key rotation job walks them, read and replaced through store
// (each replaced only if it did not change meanwhile).
func (s *Service) SealedData(store ports.SealedValueStore) ports.SealedData {
	return kernel.SealedSecrets{Name: "idempotency_answers", Kind: ports.SealedIdempotencyAnswer, Store: store, Cipher: s.cipher,
		AD: func(v ports.SealedValue) []byte {
			c := ports.IdempotencyClaim{TenantID: v.TenantID, ID: v.ID}
			if len(v.Names) == 2 {
				c.Principal, c.Key = v.Names[0], v.Names[1]
			}
			return sealedFor(c)
		}}
}

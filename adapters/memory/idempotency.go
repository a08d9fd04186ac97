package memory

import (
	"bytes"
	"context"
	"maps"
	"time"

	"github.com/roumu/roumu/ports"
)

// idempotencyKey names a key within its tenant and principal.
type idempotencyKey struct{ tenantID, principal, key string }

func keyOf(c ports.IdempotencyClaim) idempotencyKey {
	return idempotencyKey{tenantID: c.TenantID, principal: c.Principal, key: c.Key}
}

// idempotencyCopy returns r as the store keeps it: its own map and bytes, normalised instants.
func idempotencyCopy(r ports.IdempotencyRecord) ports.IdempotencyRecord {
	r.Header = maps.Clone(r.Header)
	r.Body = bytes.Clone(r.Body)
	r.CreatedAt, r.ExpiresAt = norm(r.CreatedAt), norm(r.ExpiresAt)
	return r
}

// ClaimIdempotencyKey stores rec in progress unless a live record holds its key.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, rec ports.IdempotencyRecord, now time.Time) (ports.IdempotencyRecord, bool, error) {
	defer s.lock(ctx)()
	k := keyOf(rec.IdempotencyClaim)
	if held, ok := s.st.idempotency[k]; ok && held.ExpiresAt.After(now) {
		return idempotencyCopy(held), false, nil
	}
	rec.Status, rec.Header, rec.Body = 0, nil, nil
	s.st.idempotency[k] = idempotencyCopy(rec)
	return idempotencyCopy(rec), true, nil
}

// inProgress returns the record of c's key and whether c still holds it with a request in progress.
func (s *Store) inProgress(c ports.IdempotencyClaim) (ports.IdempotencyRecord, bool) {
	held, ok := s.st.idempotency[keyOf(c)]
	return held, ok && held.ID == c.ID && held.Status == 0
}

// CompleteIdempotencyKey stores the answer on the record in progress that rec's claim holds.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, rec ports.IdempotencyRecord) error {
	defer s.lock(ctx)()
	held, ok := s.inProgress(rec.IdempotencyClaim)
	if !ok {
		return notFound("idempotency claim", rec.ID)
	}
	held.Status, held.Header, held.Body, held.ExpiresAt = rec.Status, rec.Header, rec.Body, rec.ExpiresAt
	s.st.idempotency[keyOf(rec.IdempotencyClaim)] = idempotencyCopy(held)
	return nil
}

// ReleaseIdempotencyKey deletes the record in progress that c holds.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, c ports.IdempotencyClaim) error {
	defer s.lock(ctx)()
	if _, ok := s.inProgress(c); ok {
		delete(s.st.idempotency, keyOf(c))
	}
	return nil
}

// DeleteIdempotencyKeys deletes the records that expire at or before now.
func (s *Store) DeleteIdempotencyKeys(ctx context.Context, now time.Time) (int, error) {
	defer s.lock(ctx)()
	n := 0
	for k, r := range s.st.idempotency {
		if !r.ExpiresAt.After(now) {
			delete(s.st.idempotency, k)
			n++
		}
	}
	return n, nil
}

package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/roumu/roumu/ports"
)

// apiTokenCopy returns r as the store keeps it: its own slice, normalised instants.
func apiTokenCopy(r ports.APITokenRecord) ports.APITokenRecord {
	r.Scopes = slices.Clone(r.Scopes)
	for _, t := range []*time.Time{&r.CreatedAt, &r.ExpiresAt, &r.LastUsedAt, &r.RevokedAt} {
		*t = norm(*t)
	}
	return r
}

// CreateAPIToken stores a new token; ErrConflict when its ID is taken.
func (s *Store) CreateAPIToken(ctx context.Context, r ports.APITokenRecord) error {
	defer s.lock(ctx)()
	if _, ok := s.st.apiTokens[r.ID]; ok {
		return conflict("api token", r.ID)
	}
	s.st.apiTokens[r.ID] = apiTokenCopy(r)
	return nil
}

// APITokenByID returns the token of any tenant; ErrNotFound when there is none.
func (s *Store) APITokenByID(ctx context.Context, id string) (ports.APITokenRecord, error) {
	defer s.lock(ctx)()
	r, ok := s.st.apiTokens[id]
	if !ok {
		return ports.APITokenRecord{}, notFound("api token", id)
	}
	return apiTokenCopy(r), nil
}

// ListAPITokens lists the tenant's tokens, newest first, then by ID.
func (s *Store) ListAPITokens(ctx context.Context, tenantID string) ([]ports.APITokenRecord, error) {
	defer s.lock(ctx)()
	out := []ports.APITokenRecord{}
	for _, r := range s.st.apiTokens {
		if r.TenantID == tenantID {
			out = append(out, apiTokenCopy(r))
		}
	}
	slices.SortFunc(out, func(a, b ports.APITokenRecord) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// apiToken returns the tenant's token id; another tenant's is not found. The caller holds the lock.
func (s *Store) apiToken(tenantID, id string) (ports.APITokenRecord, error) {
	r, ok := s.st.apiTokens[id]
	if !ok || r.TenantID != tenantID {
		return ports.APITokenRecord{}, notFound("api token", id)
	}
	return r, nil
}

// RevokeAPIToken marks the token revoked unless it is already, and returns it.
func (s *Store) RevokeAPIToken(ctx context.Context, tenantID, id, accountID string, at time.Time) (ports.APITokenRecord, bool, error) {
	defer s.lock(ctx)()
	r, err := s.apiToken(tenantID, id)
	if err != nil || !r.RevokedAt.IsZero() {
		return apiTokenCopy(r), false, err
	}
	r.RevokedAt, r.RevokedBy = norm(at), accountID
	s.st.apiTokens[id] = r
	return apiTokenCopy(r), true, nil
}

// TouchAPIToken records a use, unless a later one is recorded already.
func (s *Store) TouchAPIToken(ctx context.Context, tenantID, id string, at time.Time, ip string) error {
	defer s.lock(ctx)()
	r, err := s.apiToken(tenantID, id)
	if err != nil {
		return err
	}
	if at = norm(at); at.After(r.LastUsedAt) {
		r.LastUsedAt, r.LastUsedIP = at, ip
		s.st.apiTokens[id] = r
	}
	return nil
}

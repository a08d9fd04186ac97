package memory

import (
	"context"
	"time"

	"github.com/roumu/roumu/ports"
)

// AddFailure counts one failure for key. A lock that has expired by now is cleared first, so counting
// restarts at 1; a failure while locked is counted and leaves the lock as it is.
func (s *Store) AddFailure(ctx context.Context, key string, now time.Time) (ports.ThrottleState, error) {
	defer s.lock(ctx)()
	st := s.st.throttle[key]
	st.Key = key
	if !st.LockedUntil.IsZero() && !now.Before(st.LockedUntil) {
		st.Failures, st.LockedUntil = 0, time.Time{}
	}
	st.Failures++
	s.st.throttle[key] = st
	return st, nil
}

// LockUntil locks key until the given instant unless a lock is still in force at now (now before
// LockedUntil), so the first lock wins and is never extended.
func (s *Store) LockUntil(ctx context.Context, key string, until, now time.Time) (ports.ThrottleState, error) {
	defer s.lock(ctx)()
	st := s.st.throttle[key]
	st.Key = key
	if now.Before(st.LockedUntil) {
		return st, nil
	}
	st.LockedUntil = norm(until)
	s.st.throttle[key] = st
	return st, nil
}

// Throttle returns the state of key; a key never seen has zero failures and no lock.
func (s *Store) Throttle(ctx context.Context, key string) (ports.ThrottleState, error) {
	defer s.lock(ctx)()
	st := s.st.throttle[key]
	st.Key = key
	return st, nil
}

// ResetThrottle forgets key; forgetting a key never seen is not an error.
func (s *Store) ResetThrottle(ctx context.Context, key string) error {
	defer s.lock(ctx)()
	delete(s.st.throttle, key)
	return nil
}

func sessionCopy(r ports.SessionRecord) ports.SessionRecord {
	r.CreatedAt = norm(r.CreatedAt)
	r.LastSeenAt = norm(r.LastSeenAt)
	r.ExpiresAt = norm(r.ExpiresAt)
	return r
}

// CreateSession stores a new session; ErrConflict when the token hash is taken.
func (s *Store) CreateSession(ctx context.Context, r ports.SessionRecord) error {
	defer s.lock(ctx)()
	if _, ok := s.st.sessions[r.TokenHash]; ok {
		return conflict("session", "…")
	}
	s.st.sessions[r.TokenHash] = sessionCopy(r)
	return nil
}

// SessionByHash returns the session; ErrNotFound when there is none.
func (s *Store) SessionByHash(ctx context.Context, tokenHash string) (ports.SessionRecord, error) {
	defer s.lock(ctx)()
	r, ok := s.st.sessions[tokenHash]
	if !ok {
		return ports.SessionRecord{}, notFound("session", "…")
	}
	return r, nil
}

// TouchSession records activity; ErrNotFound when the session has ended.
func (s *Store) TouchSession(ctx context.Context, tokenHash string, seen time.Time) error {
	defer s.lock(ctx)()
	r, ok := s.st.sessions[tokenHash]
	if !ok {
		return notFound("session", "…")
	}
	r.LastSeenAt = norm(seen)
	s.st.sessions[tokenHash] = r
	return nil
}

// DeleteSession ends a session; ending one that has already ended is not an error (a double logout).
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	defer s.lock(ctx)()
	delete(s.st.sessions, tokenHash)
	return nil
}

// DeleteAccountSessions ends every session of the account except exceptTokenHash and returns how many.
func (s *Store) DeleteAccountSessions(ctx context.Context, accountID, exceptTokenHash string) (int, error) {
	defer s.lock(ctx)()
	n := 0
	for h, r := range s.st.sessions {
		if r.AccountID == accountID && h != exceptTokenHash {
			delete(s.st.sessions, h)
			n++
		}
	}
	return n, nil
}

// DeleteSessionsBefore removes the sessions last seen before idleBefore or created before createdBefore
// and returns how many.
func (s *Store) DeleteSessionsBefore(ctx context.Context, idleBefore, createdBefore time.Time) (int, error) {
	defer s.lock(ctx)()
	n := 0
	for h, r := range s.st.sessions {
		if r.LastSeenAt.Before(idleBefore) || r.CreatedAt.Before(createdBefore) {
			delete(s.st.sessions, h)
			n++
		}
	}
	return n, nil
}

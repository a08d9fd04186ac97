package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// SessionPolicy sets how long sessions live. A session ends after IdleTimeout without use or AbsoluteTimeout
// after login, whichever comes first. A restricted session (password change, second factor, enrolment) lives
// at most StepTimeout: it exists only to finish the login.
type SessionPolicy struct {
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	StepTimeout     time.Duration
}

// DefaultSessionPolicy is 30 minutes idle, 12 hours absolute, 10 minutes for a login step.
var DefaultSessionPolicy = SessionPolicy{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour, StepTimeout: 10 * time.Minute}

// sessionTokenBytes gives 256 bits of entropy.
const sessionTokenBytes = 32

// touchInterval limits writes: a session's last-seen time is refreshed at most this often.
const touchInterval = time.Minute

func (p SessionPolicy) lifetime(stage string) time.Duration {
	if stage == ports.StageFull {
		return p.AbsoluteTimeout
	}
	return min(p.StepTimeout, p.AbsoluteTimeout)
}

// Expired reports whether s has ended at now.
func (p SessionPolicy) Expired(s ports.SessionRecord, now time.Time) bool {
	return !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) >= p.IdleTimeout
}

// newSessionToken returns a fresh opaque token and the hash under which it is stored.
func newSessionToken() (token, hash string) {
	token = kernel.RandomToken(sessionTokenBytes)
	return token, hashToken(token)
}

// hashToken is the stored form of a token: a database leak must not yield usable sessions. SHA-256 suffices
// because the token has 256 random bits; a slow hash would only slow every request.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// SweepSessions deletes the sessions that have ended by now and returns how many; expiry is enforced on every
// request regardless, this only keeps the table small.
func (s *Service) SweepSessions(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	return s.Sessions.DeleteSessionsBefore(ctx, now.Add(-s.sessions.IdleTimeout), now.Add(-s.sessions.AbsoluteTimeout))
}

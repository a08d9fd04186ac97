package memory

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/roumu/roumu/ports"
)

func totpCopy(r ports.TOTPRecord) ports.TOTPRecord {
	r.SecretSealed = bytes.Clone(r.SecretSealed)
	r.CreatedAt = norm(r.CreatedAt)
	return r
}

// PutTOTP stores the account's TOTP authenticator, replacing any earlier one of the same tenant's account.
func (s *Store) PutTOTP(ctx context.Context, r ports.TOTPRecord) error {
	defer s.lock(ctx)()
	s.st.totp[owner{r.TenantID, r.AccountID}] = totpCopy(r)
	return nil
}

// TOTPByAccount returns the account's TOTP authenticator; ErrNotFound when there is none.
func (s *Store) TOTPByAccount(ctx context.Context, tenantID, accountID string) (ports.TOTPRecord, error) {
	defer s.lock(ctx)()
	r, ok := s.st.totp[owner{tenantID, accountID}]
	if !ok {
		return ports.TOTPRecord{}, notFound("totp", accountID)
	}
	return totpCopy(r), nil
}

// ConfirmTOTP marks the authenticator confirmed with step used; ErrNotFound when there is none.
func (s *Store) ConfirmTOTP(ctx context.Context, tenantID, accountID string, step int64) error {
	defer s.lock(ctx)()
	k := owner{tenantID, accountID}
	r, ok := s.st.totp[k]
	if !ok {
		return notFound("totp", accountID)
	}
	r.Confirmed, r.LastStep = true, step
	s.st.totp[k] = r
	return nil
}

// AdvanceTOTPStep moves LastStep forward to step and reports whether it did; ErrNotFound when there is no
// authenticator.
func (s *Store) AdvanceTOTPStep(ctx context.Context, tenantID, accountID string, step int64) (bool, error) {
	defer s.lock(ctx)()
	k := owner{tenantID, accountID}
	r, ok := s.st.totp[k]
	if !ok {
		return false, notFound("totp", accountID)
	}
	if step <= r.LastStep {
		return false, nil
	}
	r.LastStep = step
	s.st.totp[k] = r
	return true, nil
}

// DeleteTOTP removes the account's TOTP authenticator; ErrNotFound when there is none.
func (s *Store) DeleteTOTP(ctx context.Context, tenantID, accountID string) error {
	defer s.lock(ctx)()
	k := owner{tenantID, accountID}
	if _, ok := s.st.totp[k]; !ok {
		return notFound("totp", accountID)
	}
	delete(s.st.totp, k)
	return nil
}

func credentialCopy(c ports.WebAuthnCredentialRecord) ports.WebAuthnCredentialRecord {
	c.CredentialID = bytes.Clone(c.CredentialID)
	c.PublicKey = bytes.Clone(c.PublicKey)
	c.AAGUID = bytes.Clone(c.AAGUID)
	c.Transports = slices.Clone(c.Transports)
	c.CreatedAt = norm(c.CreatedAt)
	c.LastUsedAt = norm(c.LastUsedAt)
	return c
}

// AddWebAuthnCredential stores a credential; ErrConflict when its ID or CredentialID is registered already.
func (s *Store) AddWebAuthnCredential(ctx context.Context, c ports.WebAuthnCredentialRecord) error {
	defer s.lock(ctx)()
	if _, ok := s.st.webauthn[c.ID]; ok {
		return conflict("webauthn credential", c.ID)
	}
	if _, ok := s.st.credIDs[string(c.CredentialID)]; ok {
		return conflict("webauthn credential ID", "…")
	}
	s.st.webauthn[c.ID] = credentialCopy(c)
	s.st.credIDs[string(c.CredentialID)] = c.ID
	return nil
}

// WebAuthnCredentials lists the account's credentials, oldest first.
func (s *Store) WebAuthnCredentials(ctx context.Context, tenantID, accountID string) ([]ports.WebAuthnCredentialRecord, error) {
	defer s.lock(ctx)()
	out := []ports.WebAuthnCredentialRecord{}
	for _, c := range s.st.webauthn {
		if c.TenantID == tenantID && c.AccountID == accountID {
			out = append(out, credentialCopy(c))
		}
	}
	slices.SortFunc(out, func(a, b ports.WebAuthnCredentialRecord) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// credential returns the credential id of the account; another account's or tenant's is not found.
func (s *Store) credential(tenantID, accountID, id string) (ports.WebAuthnCredentialRecord, error) {
	c, ok := s.st.webauthn[id]
	if !ok || c.TenantID != tenantID || c.AccountID != accountID {
		return ports.WebAuthnCredentialRecord{}, notFound("webauthn credential", id)
	}
	return c, nil
}

// UpdateWebAuthnCredential applies fn to a copy of the credential under the store lock and stores the
// result. Its identity (ID, TenantID, AccountID, CredentialID) cannot change: fn's changes to it are
// discarded.
func (s *Store) UpdateWebAuthnCredential(ctx context.Context, tenantID, accountID, id string, fn func(*ports.WebAuthnCredentialRecord) error) (ports.WebAuthnCredentialRecord, error) {
	defer s.lock(ctx)()
	old, err := s.credential(tenantID, accountID, id)
	if err != nil {
		return ports.WebAuthnCredentialRecord{}, err
	}
	c := credentialCopy(old)
	if err := fn(&c); err != nil {
		return ports.WebAuthnCredentialRecord{}, err
	}
	c.ID, c.TenantID, c.AccountID, c.CredentialID = old.ID, old.TenantID, old.AccountID, old.CredentialID
	c = credentialCopy(c)
	s.st.webauthn[id] = c
	return credentialCopy(c), nil
}

// DeleteWebAuthnCredential removes the credential; ErrNotFound when the account has no such credential.
func (s *Store) DeleteWebAuthnCredential(ctx context.Context, tenantID, accountID, id string) error {
	defer s.lock(ctx)()
	c, err := s.credential(tenantID, accountID, id)
	if err != nil {
		return err
	}
	delete(s.st.webauthn, id)
	delete(s.st.credIDs, string(c.CredentialID))
	return nil
}

// ReplaceRecoveryCodes discards the account's recovery codes and stores these hashes, all unused.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, tenantID, accountID string, hashes []string, _ time.Time) error {
	defer s.lock(ctx)()
	codes := make(map[string]bool, len(hashes))
	for _, h := range hashes {
		codes[h] = false
	}
	s.st.recovery[owner{tenantID, accountID}] = codes
	return nil
}

// UseRecoveryCode marks the unused code with that hash used and reports whether there was one.
func (s *Store) UseRecoveryCode(ctx context.Context, tenantID, accountID, hash string, _ time.Time) (bool, error) {
	defer s.lock(ctx)()
	k := owner{tenantID, accountID}
	used, ok := s.st.recovery[k][hash]
	if !ok || used {
		return false, nil
	}
	codes := maps.Clone(s.st.recovery[k]) // copy on write: snapshots share the old map
	codes[hash] = true
	s.st.recovery[k] = codes
	return true, nil
}

// RemainingRecoveryCodes counts the account's unused codes.
func (s *Store) RemainingRecoveryCodes(ctx context.Context, tenantID, accountID string) (int, error) {
	defer s.lock(ctx)()
	n := 0
	for _, used := range s.st.recovery[owner{tenantID, accountID}] {
		if !used {
			n++
		}
	}
	return n, nil
}

func challengeCopy(c ports.ChallengeRecord) ports.ChallengeRecord {
	c.Data = bytes.Clone(c.Data)
	c.ExpiresAt = norm(c.ExpiresAt)
	return c
}

// PutChallenge stores a ceremony, replacing one with the same ID.
func (s *Store) PutChallenge(ctx context.Context, c ports.ChallengeRecord) error {
	defer s.lock(ctx)()
	s.st.challenges[c.ID] = challengeCopy(c)
	return nil
}

// TakeChallenge removes the ceremony and returns it; ErrNotFound when absent. Expired ceremonies are
// returned too: expiry is the caller's rule.
func (s *Store) TakeChallenge(ctx context.Context, id string) (ports.ChallengeRecord, error) {
	defer s.lock(ctx)()
	c, ok := s.st.challenges[id]
	if !ok {
		return ports.ChallengeRecord{}, notFound("challenge", id)
	}
	delete(s.st.challenges, id)
	return c, nil
}

// DeleteMFA removes every factor, recovery code and challenge of the account; an account without any is
// not an error.
func (s *Store) DeleteMFA(ctx context.Context, tenantID, accountID string) error {
	defer s.lock(ctx)()
	k := owner{tenantID, accountID}
	delete(s.st.totp, k)
	delete(s.st.recovery, k)
	for id, c := range s.st.webauthn {
		if c.TenantID == tenantID && c.AccountID == accountID {
			delete(s.st.webauthn, id)
			delete(s.st.credIDs, string(c.CredentialID))
		}
	}
	for id, c := range s.st.challenges {
		if c.TenantID == tenantID && c.AccountID == accountID {
			delete(s.st.challenges, id)
		}
	}
	return nil
}

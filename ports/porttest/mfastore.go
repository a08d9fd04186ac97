package porttest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

func newTOTP(tenantID, accountID string) ports.TOTPRecord {
	return ports.TOTPRecord{TenantID: tenantID, AccountID: accountID, SecretSealed: randomBytes(48), CreatedAt: at(0)}
}

func checkTOTP(t *testing.T, got, want ports.TOTPRecord) {
	t.Helper()
	checkEq(t, "TenantID", got.TenantID, want.TenantID)
	checkEq(t, "AccountID", got.AccountID, want.AccountID)
	checkBytes(t, "SecretSealed", got.SecretSealed, want.SecretSealed)
	checkEq(t, "Confirmed", got.Confirmed, want.Confirmed)
	checkEq(t, "LastStep", got.LastStep, want.LastStep)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
}

func checkStoredTOTP(t *testing.T, s Stores, want ports.TOTPRecord) {
	t.Helper()
	got, err := s.MFA.TOTPByAccount(t.Context(), want.TenantID, want.AccountID)
	must(t, err, "TOTPByAccount")
	checkTOTP(t, got, want)
}

func putTOTP(t *testing.T, s Stores, r ports.TOTPRecord) ports.TOTPRecord {
	t.Helper()
	must(t, s.MFA.PutTOTP(t.Context(), r), "PutTOTP")
	return r
}

// newCredential returns a credential with every field set except LastUsedAt (never used). The sign count
// is above the int32 range, so a store must keep the whole uint32.
func newCredential(tenantID, accountID string, created time.Time) ports.WebAuthnCredentialRecord {
	return ports.WebAuthnCredentialRecord{
		ID:              newID(),
		TenantID:        tenantID,
		AccountID:       accountID,
		Name:            "YubiKey 5 の鍵",
		CredentialID:    randomBytes(64),
		PublicKey:       randomBytes(77),
		AttestationType: "packed",
		AAGUID:          randomBytes(16),
		SignCount:       3_000_000_000,
		CloneWarning:    true,
		BackupEligible:  true,
		BackupState:     true,
		UserPresent:     true,
		UserVerified:    true,
		Transports:      []string{"usb", "nfc", "hybrid"},
		CreatedAt:       created,
	}
}

func checkCredential(t *testing.T, got, want ports.WebAuthnCredentialRecord) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "TenantID", got.TenantID, want.TenantID)
	checkEq(t, "AccountID", got.AccountID, want.AccountID)
	checkEq(t, "Name", got.Name, want.Name)
	checkBytes(t, "CredentialID", got.CredentialID, want.CredentialID)
	checkBytes(t, "PublicKey", got.PublicKey, want.PublicKey)
	checkEq(t, "AttestationType", got.AttestationType, want.AttestationType)
	checkBytes(t, "AAGUID", got.AAGUID, want.AAGUID)
	checkEq(t, "SignCount", got.SignCount, want.SignCount)
	checkEq(t, "CloneWarning", got.CloneWarning, want.CloneWarning)
	checkEq(t, "BackupEligible", got.BackupEligible, want.BackupEligible)
	checkEq(t, "BackupState", got.BackupState, want.BackupState)
	checkEq(t, "UserPresent", got.UserPresent, want.UserPresent)
	checkEq(t, "UserVerified", got.UserVerified, want.UserVerified)
	checkStrings(t, "Transports", got.Transports, want.Transports)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "LastUsedAt", got.LastUsedAt, want.LastUsedAt)
}

func addCredential(t *testing.T, s Stores, c ports.WebAuthnCredentialRecord) ports.WebAuthnCredentialRecord {
	t.Helper()
	must(t, s.MFA.AddWebAuthnCredential(t.Context(), c), "AddWebAuthnCredential")
	return c
}

// checkCredentials fails unless the account's credentials are exactly want, in that order.
func checkCredentials(t *testing.T, s Stores, tenantID, accountID string, want ...ports.WebAuthnCredentialRecord) {
	t.Helper()
	got, err := s.MFA.WebAuthnCredentials(t.Context(), tenantID, accountID)
	must(t, err, "WebAuthnCredentials")
	if len(got) != len(want) {
		t.Errorf("WebAuthnCredentials returned %d credentials, want %d", len(got), len(want))
		return
	}
	for i := range want {
		checkCredential(t, got[i], want[i])
	}
}

func checkRemaining(t *testing.T, s Stores, tenantID, accountID string, want int) {
	t.Helper()
	n, err := s.MFA.RemainingRecoveryCodes(t.Context(), tenantID, accountID)
	must(t, err, "RemainingRecoveryCodes")
	checkEq(t, "RemainingRecoveryCodes", n, want)
}

func newChallenge(tenantID, accountID string) ports.ChallengeRecord {
	return ports.ChallengeRecord{
		ID: hashOf(newID()), TenantID: tenantID, AccountID: accountID, Purpose: "login",
		Data: []byte(`{"challenge":"q83vEjRWeJA","rpId":"roumu.example"}` + "\x00"), ExpiresAt: at(5 * time.Minute),
	}
}

func checkChallenge(t *testing.T, got, want ports.ChallengeRecord) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "TenantID", got.TenantID, want.TenantID)
	checkEq(t, "AccountID", got.AccountID, want.AccountID)
	checkEq(t, "Purpose", got.Purpose, want.Purpose)
	checkBytes(t, "Data", got.Data, want.Data)
	checkTime(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

// recoveryHashes returns n distinct code hashes.
func recoveryHashes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = hashOf(newID())
	}
	return out
}

// TestMFAStore is the contract suite of ports.MFAStore. It uses the TenantStore and AccountStore to create
// the accounts the factors belong to.
func TestMFAStore(t *testing.T, factory Factory) {
	need := []string{"Tenants", "Accounts", "MFA"}

	t.Run("TOTPRoundTrip", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		for _, operator := range []bool{false, true} {
			want := putTOTP(t, s, newTOTP(someone(t, s, operator)))
			checkStoredTOTP(t, s, want)
		}
		confirmed := newTOTP(someone(t, s, false))
		confirmed.Confirmed, confirmed.LastStep = true, 58_000_000
		putTOTP(t, s, confirmed)
		checkStoredTOTP(t, s, confirmed)
	})

	t.Run("TOTPPutReplaces", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		first := newTOTP(someone(t, s, false))
		first.Confirmed, first.LastStep = true, 1000
		putTOTP(t, s, first)
		second := newTOTP(first.TenantID, first.AccountID)
		second.CreatedAt = at(time.Hour)
		putTOTP(t, s, second)
		checkStoredTOTP(t, s, second)
	})

	t.Run("TOTPNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		putTOTP(t, s, newTOTP(someone(t, s, false)))
		tenant, account := someone(t, s, false)
		_, err := s.MFA.TOTPByAccount(t.Context(), tenant, account)
		checkIs(t, "TOTPByAccount(none)", err, ports.ErrNotFound)
		checkIs(t, "ConfirmTOTP(none)", s.MFA.ConfirmTOTP(t.Context(), tenant, account, 10), ports.ErrNotFound)
		ok, err := s.MFA.AdvanceTOTPStep(t.Context(), tenant, account, 10)
		checkIs(t, "AdvanceTOTPStep(none)", err, ports.ErrNotFound)
		checkEq(t, "AdvanceTOTPStep(none)", ok, false)
		checkIs(t, "DeleteTOTP(none)", s.MFA.DeleteTOTP(t.Context(), tenant, account), ports.ErrNotFound)
	})

	t.Run("TOTPConfirm", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		r := putTOTP(t, s, newTOTP(someone(t, s, false)))
		must(t, s.MFA.ConfirmTOTP(t.Context(), r.TenantID, r.AccountID, 58_000_123), "ConfirmTOTP")
		want := r
		want.Confirmed, want.LastStep = true, 58_000_123
		checkStoredTOTP(t, s, want)
	})

	t.Run("TOTPAdvanceStep", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		r := newTOTP(someone(t, s, false))
		r.Confirmed, r.LastStep = true, 100
		putTOTP(t, s, r)
		for _, c := range []struct {
			step int64
			ok   bool
			last int64
		}{{101, true, 101}, {101, false, 101}, {100, false, 101}, {50, false, 101}, {105, true, 105}, {104, false, 105}} {
			ok, err := s.MFA.AdvanceTOTPStep(t.Context(), r.TenantID, r.AccountID, c.step)
			must(t, err, "AdvanceTOTPStep")
			if ok != c.ok {
				t.Errorf("AdvanceTOTPStep(%d) = %v, want %v", c.step, ok, c.ok)
			}
			got, err := s.MFA.TOTPByAccount(t.Context(), r.TenantID, r.AccountID)
			must(t, err, "TOTPByAccount")
			checkEq(t, fmt.Sprintf("LastStep after AdvanceTOTPStep(%d)", c.step), got.LastStep, c.last)
		}
	})

	t.Run("TOTPDelete", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		r := putTOTP(t, s, newTOTP(someone(t, s, false)))
		other := putTOTP(t, s, newTOTP(r.TenantID, createAccount(t, s, newMember(r.TenantID, "other")).ID))
		must(t, s.MFA.DeleteTOTP(t.Context(), r.TenantID, r.AccountID), "DeleteTOTP")
		_, err := s.MFA.TOTPByAccount(t.Context(), r.TenantID, r.AccountID)
		checkIs(t, "TOTPByAccount(deleted)", err, ports.ErrNotFound)
		checkStoredTOTP(t, s, other)
	})

	t.Run("TOTPTenantScoping", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		r := newTOTP(someone(t, s, false))
		r.Confirmed, r.LastStep = true, 100
		putTOTP(t, s, r)
		otherTenant, _ := someone(t, s, false)
		for _, tenant := range []string{otherTenant, ""} {
			_, err := s.MFA.TOTPByAccount(t.Context(), tenant, r.AccountID)
			checkIs(t, "TOTPByAccount(other tenant)", err, ports.ErrNotFound)
			checkIs(t, "ConfirmTOTP(other tenant)", s.MFA.ConfirmTOTP(t.Context(), tenant, r.AccountID, 200), ports.ErrNotFound)
			ok, err := s.MFA.AdvanceTOTPStep(t.Context(), tenant, r.AccountID, 200)
			checkIs(t, "AdvanceTOTPStep(other tenant)", err, ports.ErrNotFound)
			checkEq(t, "AdvanceTOTPStep(other tenant)", ok, false)
			checkIs(t, "DeleteTOTP(other tenant)", s.MFA.DeleteTOTP(t.Context(), tenant, r.AccountID), ports.ErrNotFound)
		}
		checkStoredTOTP(t, s, r)
		// Whether a store refuses it or keeps it apart, another tenant's PutTOTP must not replace this one.
		_ = s.MFA.PutTOTP(t.Context(), newTOTP(otherTenant, r.AccountID))
		checkStoredTOTP(t, s, r)
	})

	t.Run("TOTPNoAliasing", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		in := newTOTP(someone(t, s, false))
		want := in
		want.SecretSealed = bytes.Clone(in.SecretSealed)
		putTOTP(t, s, in)
		in.SecretSealed[1] ^= 0xff
		got, err := s.MFA.TOTPByAccount(t.Context(), want.TenantID, want.AccountID)
		must(t, err, "TOTPByAccount")
		got.SecretSealed[1] ^= 0xff
		checkStoredTOTP(t, s, want)
	})

	t.Run("ConcurrentAdvanceTOTPStep", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		r := newTOTP(someone(t, s, false))
		r.Confirmed, r.LastStep = true, 100
		putTOTP(t, s, r)
		const n = 20
		wins := make([]bool, n)
		concurrently(n, func(i int) {
			ok, err := s.MFA.AdvanceTOTPStep(t.Context(), r.TenantID, r.AccountID, 101)
			if err != nil {
				t.Errorf("AdvanceTOTPStep #%d: %v", i, err)
			}
			wins[i] = ok
		})
		checkEq(t, "uses of one code accepted", count(wins), 1)
		r.LastStep = 101
		checkStoredTOTP(t, s, r)
	})

	t.Run("WebAuthnRoundTrip", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		for _, operator := range []bool{false, true} {
			tenant, account := someone(t, s, operator)
			never := addCredential(t, s, newCredential(tenant, account, at(0)))
			used := newCredential(tenant, account, at(time.Hour))
			used.LastUsedAt = at(2 * time.Hour)
			used.SignCount, used.CloneWarning, used.BackupEligible, used.BackupState = 0, false, false, false
			used.UserPresent, used.UserVerified, used.Transports, used.AttestationType = false, false, nil, "none"
			addCredential(t, s, used)
			checkCredentials(t, s, tenant, account, never, used)
		}
	})

	t.Run("WebAuthnListOldestFirst", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		c2 := addCredential(t, s, newCredential(tenant, account, at(2*time.Hour)))
		c0 := addCredential(t, s, newCredential(tenant, account, at(0)))
		c1 := addCredential(t, s, newCredential(tenant, account, at(time.Hour)))
		otherAccount := createAccount(t, s, newMember(tenant, "other")).ID
		o := addCredential(t, s, newCredential(tenant, otherAccount, at(-time.Hour)))
		checkCredentials(t, s, tenant, account, c0, c1, c2)
		checkCredentials(t, s, tenant, otherAccount, o)
		nobody, none := someone(t, s, false)
		checkCredentials(t, s, nobody, none)
	})

	t.Run("WebAuthnConflict", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		first := addCredential(t, s, newCredential(tenant, account, at(0)))
		otherTenant, otherAccount := someone(t, s, false)
		dup := newCredential(otherTenant, otherAccount, at(time.Hour))
		dup.CredentialID = bytes.Clone(first.CredentialID) // unique across the system, not per tenant
		checkIs(t, "AddWebAuthnCredential(CredentialID taken)", s.MFA.AddWebAuthnCredential(t.Context(), dup), ports.ErrConflict)
		sameID := newCredential(tenant, account, at(time.Hour))
		sameID.ID = first.ID
		checkIs(t, "AddWebAuthnCredential(ID taken)", s.MFA.AddWebAuthnCredential(t.Context(), sameID), ports.ErrConflict)
		checkCredentials(t, s, tenant, account, first)
		checkCredentials(t, s, otherTenant, otherAccount)
	})

	t.Run("WebAuthnUpdate", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		orig := addCredential(t, s, newCredential(tenant, account, at(0)))
		other := addCredential(t, s, newCredential(tenant, account, at(time.Hour)))
		want := orig
		want.Name, want.SignCount, want.CloneWarning = "MacBook の Touch ID", 4_294_967_295, false
		want.BackupState, want.UserVerified, want.LastUsedAt = false, false, at(3*time.Hour)
		got, err := s.MFA.UpdateWebAuthnCredential(t.Context(), tenant, account, orig.ID, func(c *ports.WebAuthnCredentialRecord) error {
			checkCredential(t, *c, orig) // fn sees the stored record
			c.Name, c.SignCount, c.CloneWarning = want.Name, want.SignCount, want.CloneWarning
			c.BackupState, c.UserVerified, c.LastUsedAt = want.BackupState, want.UserVerified, want.LastUsedAt
			return nil
		})
		must(t, err, "UpdateWebAuthnCredential")
		checkCredential(t, got, want)
		checkCredentials(t, s, tenant, account, want, other)
	})

	t.Run("WebAuthnUpdateErrorChangesNothing", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		orig := addCredential(t, s, newCredential(tenant, account, at(0)))
		_, err := s.MFA.UpdateWebAuthnCredential(t.Context(), tenant, account, orig.ID, func(c *ports.WebAuthnCredentialRecord) error {
			c.SignCount, c.Name, c.LastUsedAt = 1, "changed", at(time.Hour)
			c.Transports = append(c.Transports, "ble")
			return errBoom
		})
		checkIs(t, "UpdateWebAuthnCredential(fn fails)", err, errBoom)
		checkCredentials(t, s, tenant, account, orig)
	})

	t.Run("WebAuthnDelete", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		c := addCredential(t, s, newCredential(tenant, account, at(0)))
		keep := addCredential(t, s, newCredential(tenant, account, at(time.Hour)))
		must(t, s.MFA.DeleteWebAuthnCredential(t.Context(), tenant, account, c.ID), "DeleteWebAuthnCredential")
		checkCredentials(t, s, tenant, account, keep)
		checkIs(t, "DeleteWebAuthnCredential(again)", s.MFA.DeleteWebAuthnCredential(t.Context(), tenant, account, c.ID), ports.ErrNotFound)
		_, err := s.MFA.UpdateWebAuthnCredential(t.Context(), tenant, account, c.ID, func(*ports.WebAuthnCredentialRecord) error { return nil })
		checkIs(t, "UpdateWebAuthnCredential(deleted)", err, ports.ErrNotFound)
		// The credential ID is free again: the same authenticator may be registered anew.
		again := newCredential(tenant, account, at(2*time.Hour))
		again.CredentialID = c.CredentialID
		addCredential(t, s, again)
		checkCredentials(t, s, tenant, account, keep, again)
	})

	t.Run("WebAuthnTenantScoping", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		c := addCredential(t, s, newCredential(tenant, account, at(0)))
		otherTenant, _ := someone(t, s, false)
		otherAccount := createAccount(t, s, newMember(tenant, "other")).ID
		for _, owner := range [][2]string{{otherTenant, account}, {"", account}, {tenant, otherAccount}} {
			checkCredentials(t, s, owner[0], owner[1])
			called := false
			_, err := s.MFA.UpdateWebAuthnCredential(t.Context(), owner[0], owner[1], c.ID, func(r *ports.WebAuthnCredentialRecord) error {
				called = true
				r.Name, r.SignCount = "hijacked", 0
				return nil
			})
			checkIs(t, "UpdateWebAuthnCredential(not the owner)", err, ports.ErrNotFound)
			if called {
				t.Error("UpdateWebAuthnCredential(not the owner) called fn")
			}
			checkIs(t, "DeleteWebAuthnCredential(not the owner)", s.MFA.DeleteWebAuthnCredential(t.Context(), owner[0], owner[1], c.ID), ports.ErrNotFound)
		}
		checkCredentials(t, s, tenant, account, c)
	})

	t.Run("WebAuthnNoAliasing", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		in := newCredential(tenant, account, at(0))
		want := in
		want.CredentialID, want.PublicKey = bytes.Clone(in.CredentialID), bytes.Clone(in.PublicKey)
		want.AAGUID, want.Transports = bytes.Clone(in.AAGUID), slices.Clone(in.Transports)
		addCredential(t, s, in)
		spoil := func(c ports.WebAuthnCredentialRecord) {
			c.CredentialID[1] ^= 0xff
			c.PublicKey[1] ^= 0xff
			c.AAGUID[1] ^= 0xff
			c.Transports[0] = "spoiled"
		}
		spoil(in)
		list, err := s.MFA.WebAuthnCredentials(t.Context(), tenant, account)
		must(t, err, "WebAuthnCredentials")
		spoil(list[0])
		got, err := s.MFA.UpdateWebAuthnCredential(t.Context(), tenant, account, want.ID, func(*ports.WebAuthnCredentialRecord) error { return nil })
		must(t, err, "UpdateWebAuthnCredential")
		spoil(got)
		checkCredentials(t, s, tenant, account, want)
	})

	t.Run("ConcurrentUpdateWebAuthnCredential", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		c := newCredential(tenant, account, at(0))
		c.SignCount = 7
		addCredential(t, s, c)
		const n = 20
		concurrently(n, func(i int) {
			_, err := s.MFA.UpdateWebAuthnCredential(t.Context(), tenant, account, c.ID, func(r *ports.WebAuthnCredentialRecord) error {
				r.SignCount++
				return nil
			})
			if err != nil {
				t.Errorf("UpdateWebAuthnCredential #%d: %v", i, err)
			}
		})
		c.SignCount += n // no increment lost
		checkCredentials(t, s, tenant, account, c)
	})

	t.Run("RecoveryCodes", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		checkRemaining(t, s, tenant, account, 0)
		codes := recoveryHashes(10)
		must(t, s.MFA.ReplaceRecoveryCodes(t.Context(), tenant, account, codes, at(0)), "ReplaceRecoveryCodes")
		checkRemaining(t, s, tenant, account, 10)

		use := func(hash string, want bool) {
			t.Helper()
			ok, err := s.MFA.UseRecoveryCode(t.Context(), tenant, account, hash, at(time.Hour))
			must(t, err, "UseRecoveryCode")
			if ok != want {
				t.Errorf("UseRecoveryCode = %v, want %v", ok, want)
			}
		}
		use(codes[3], true)
		checkRemaining(t, s, tenant, account, 9)
		use(codes[3], false) // single use
		use(hashOf("not a code"), false)
		checkRemaining(t, s, tenant, account, 9)
		use(codes[9], true)
		checkRemaining(t, s, tenant, account, 8)

		// A fresh set discards the old one, used or not, and is all unused.
		fresh := recoveryHashes(5)
		must(t, s.MFA.ReplaceRecoveryCodes(t.Context(), tenant, account, fresh, at(2*time.Hour)), "ReplaceRecoveryCodes(again)")
		checkRemaining(t, s, tenant, account, 5)
		use(codes[0], false)
		use(codes[3], false)
		use(fresh[0], true)
		checkRemaining(t, s, tenant, account, 4)

		must(t, s.MFA.ReplaceRecoveryCodes(t.Context(), tenant, account, nil, at(3*time.Hour)), "ReplaceRecoveryCodes(none)")
		checkRemaining(t, s, tenant, account, 0)
		use(fresh[1], false)
	})

	t.Run("RecoveryCodesTenantScoping", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		codes := recoveryHashes(3)
		must(t, s.MFA.ReplaceRecoveryCodes(t.Context(), tenant, account, codes, at(0)), "ReplaceRecoveryCodes")
		otherTenant, _ := someone(t, s, false)
		otherAccount := createAccount(t, s, newMember(tenant, "other")).ID
		for _, owner := range [][2]string{{otherTenant, account}, {"", account}, {tenant, otherAccount}} {
			// The store may answer ErrNotFound or simply find nothing; either way nothing is used.
			ok, err := s.MFA.UseRecoveryCode(t.Context(), owner[0], owner[1], codes[0], at(time.Hour))
			if ok || (err != nil && !errors.Is(err, ports.ErrNotFound)) {
				t.Errorf("UseRecoveryCode(not the owner) = %v, %v; want false", ok, err)
			}
			n, err := s.MFA.RemainingRecoveryCodes(t.Context(), owner[0], owner[1])
			if n != 0 || (err != nil && !errors.Is(err, ports.ErrNotFound)) {
				t.Errorf("RemainingRecoveryCodes(not the owner) = %d, %v; want 0", n, err)
			}
		}
		// Another account storing its own set leaves this one alone.
		must(t, s.MFA.ReplaceRecoveryCodes(t.Context(), tenant, otherAccount, recoveryHashes(2), at(0)), "ReplaceRecoveryCodes(other account)")
		checkRemaining(t, s, tenant, account, 3)
		ok, err := s.MFA.UseRecoveryCode(t.Context(), tenant, account, codes[0], at(time.Hour))
		must(t, err, "UseRecoveryCode")
		checkEq(t, "UseRecoveryCode(owner)", ok, true)
	})

	t.Run("ConcurrentUseRecoveryCode", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		codes := recoveryHashes(10)
		must(t, s.MFA.ReplaceRecoveryCodes(t.Context(), tenant, account, codes, at(0)), "ReplaceRecoveryCodes")
		const n = 20
		wins := make([]bool, n)
		concurrently(n, func(i int) {
			ok, err := s.MFA.UseRecoveryCode(t.Context(), tenant, account, codes[4], at(time.Hour))
			if err != nil {
				t.Errorf("UseRecoveryCode #%d: %v", i, err)
			}
			wins[i] = ok
		})
		checkEq(t, "uses of one recovery code accepted", count(wins), 1)
		checkRemaining(t, s, tenant, account, 9)
	})

	t.Run("ChallengeSingleUse", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		c := newChallenge(tenant, account)
		must(t, s.MFA.PutChallenge(t.Context(), c), "PutChallenge")
		_, operator := someone(t, s, true)
		op := newChallenge("", operator)
		op.Purpose = "register"
		must(t, s.MFA.PutChallenge(t.Context(), op), "PutChallenge(operator)")

		got, err := s.MFA.TakeChallenge(t.Context(), c.ID)
		must(t, err, "TakeChallenge")
		checkChallenge(t, got, c)
		_, err = s.MFA.TakeChallenge(t.Context(), c.ID)
		checkIs(t, "TakeChallenge(taken)", err, ports.ErrNotFound)
		_, err = s.MFA.TakeChallenge(t.Context(), hashOf("unknown"))
		checkIs(t, "TakeChallenge(unknown)", err, ports.ErrNotFound)
		got, err = s.MFA.TakeChallenge(t.Context(), op.ID)
		must(t, err, "TakeChallenge(operator)")
		checkChallenge(t, got, op)
	})

	t.Run("ChallengePutReplacesAndIgnoresExpiry", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		first := newChallenge(tenant, account)
		must(t, s.MFA.PutChallenge(t.Context(), first), "PutChallenge")
		second := first
		second.Purpose, second.Data = "register", []byte("second ceremony")
		second.ExpiresAt = time.Date(2001, time.January, 1, 0, 0, 0, 0, jst) // long past: expiry is the caller's rule
		must(t, s.MFA.PutChallenge(t.Context(), second), "PutChallenge(same ID)")
		got, err := s.MFA.TakeChallenge(t.Context(), first.ID)
		must(t, err, "TakeChallenge")
		checkChallenge(t, got, second)
		_, err = s.MFA.TakeChallenge(t.Context(), first.ID)
		checkIs(t, "TakeChallenge(taken)", err, ports.ErrNotFound)
	})

	t.Run("ConcurrentTakeChallenge", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		c := newChallenge(someone(t, s, false))
		must(t, s.MFA.PutChallenge(t.Context(), c), "PutChallenge")
		const n = 20
		wins := make([]bool, n)
		concurrently(n, func(i int) {
			got, err := s.MFA.TakeChallenge(t.Context(), c.ID)
			switch {
			case err == nil:
				wins[i] = true
				if got.ID != c.ID || !bytes.Equal(got.Data, c.Data) {
					t.Errorf("TakeChallenge #%d returned %+v", i, got)
				}
			case !errors.Is(err, ports.ErrNotFound):
				t.Errorf("TakeChallenge #%d: error = %v, want nil or ErrNotFound", i, err)
			}
		})
		checkEq(t, "ceremonies taken", count(wins), 1)
	})

	t.Run("DeleteMFA", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		keeper := createAccount(t, s, newMember(tenant, "keeper")).ID
		enrol := func(account string) (ports.TOTPRecord, ports.WebAuthnCredentialRecord, ports.ChallengeRecord) {
			r := putTOTP(t, s, newTOTP(tenant, account))
			c := addCredential(t, s, newCredential(tenant, account, at(0)))
			addCredential(t, s, newCredential(tenant, account, at(time.Hour)))
			must(t, s.MFA.ReplaceRecoveryCodes(t.Context(), tenant, account, recoveryHashes(10), at(0)), "ReplaceRecoveryCodes")
			ch := newChallenge(tenant, account)
			must(t, s.MFA.PutChallenge(t.Context(), ch), "PutChallenge")
			return r, c, ch
		}
		_, gone, goneCh := enrol(account)
		keptTOTP, keptCred, keptCh := enrol(keeper)

		must(t, s.MFA.DeleteMFA(t.Context(), tenant, account), "DeleteMFA")
		_, err := s.MFA.TOTPByAccount(t.Context(), tenant, account)
		checkIs(t, "TOTPByAccount(after DeleteMFA)", err, ports.ErrNotFound)
		checkCredentials(t, s, tenant, account)
		checkRemaining(t, s, tenant, account, 0)
		_, err = s.MFA.TakeChallenge(t.Context(), goneCh.ID)
		checkIs(t, "TakeChallenge(after DeleteMFA)", err, ports.ErrNotFound)
		// The credential ID is free again.
		again := newCredential(tenant, keeper, at(2*time.Hour))
		again.CredentialID = gone.CredentialID
		addCredential(t, s, again)

		checkStoredTOTP(t, s, keptTOTP)
		list, err := s.MFA.WebAuthnCredentials(t.Context(), tenant, keeper)
		must(t, err, "WebAuthnCredentials(keeper)")
		checkEq(t, "len(WebAuthnCredentials(keeper))", len(list), 3)
		checkCredential(t, list[0], keptCred)
		checkRemaining(t, s, tenant, keeper, 10)
		got, err := s.MFA.TakeChallenge(t.Context(), keptCh.ID)
		must(t, err, "TakeChallenge(keeper)")
		checkChallenge(t, got, keptCh)

		// Nothing left to delete is not an error.
		must(t, s.MFA.DeleteMFA(t.Context(), tenant, account), "DeleteMFA(nothing left)")
	})

	t.Run("DeleteMFATenantScoping", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, need...)
		tenant, account := someone(t, s, false)
		r := putTOTP(t, s, newTOTP(tenant, account))
		c := addCredential(t, s, newCredential(tenant, account, at(0)))
		must(t, s.MFA.ReplaceRecoveryCodes(t.Context(), tenant, account, recoveryHashes(4), at(0)), "ReplaceRecoveryCodes")
		ch := newChallenge(tenant, account)
		must(t, s.MFA.PutChallenge(t.Context(), ch), "PutChallenge")
		otherTenant, _ := someone(t, s, false)
		for _, other := range []string{otherTenant, ""} {
			if err := s.MFA.DeleteMFA(t.Context(), other, account); err != nil && !errors.Is(err, ports.ErrNotFound) {
				t.Errorf("DeleteMFA(other tenant): %v, want nil or ErrNotFound", err)
			}
		}
		checkStoredTOTP(t, s, r)
		checkCredentials(t, s, tenant, account, c)
		checkRemaining(t, s, tenant, account, 4)
		got, err := s.MFA.TakeChallenge(t.Context(), ch.ID)
		must(t, err, "TakeChallenge")
		checkChallenge(t, got, ch)
	})
}

// count returns how many of bs are true.
func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

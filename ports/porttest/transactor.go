package porttest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// TestTransactor is the contract suite of ports.Transactor: the other stores' calls made with the context
// InTx passes to fn join one transaction.
func TestTransactor(t *testing.T, factory Factory) {
	t.Run("CommitKeepsWrites", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "Tx")
		tenant := newTenant("acme")
		member := newMember(tenant.ID, "hanako")
		err := s.Tx.InTx(t.Context(), func(ctx context.Context) error {
			must(t, s.Tenants.CreateTenant(ctx, tenant), "CreateTenant")
			must(t, s.Accounts.CreateAccount(ctx, member), "CreateAccount")
			// Writes are visible inside the transaction.
			got, err := s.Tenants.TenantByCode(ctx, "acme")
			must(t, err, "TenantByCode(in tx)")
			checkTenant(t, got, tenant)
			a, err := s.Accounts.AccountByLogin(ctx, tenant.ID, "hanako")
			must(t, err, "AccountByLogin(in tx)")
			checkAccount(t, a, member)
			_, err = s.Accounts.UpdateAccount(ctx, tenant.ID, member.ID, func(r *ports.AccountRecord) error {
				r.Name = "updated in tx"
				return nil
			})
			must(t, err, "UpdateAccount(in tx)")
			return nil
		})
		must(t, err, "InTx")
		got, err := s.Tenants.TenantByID(t.Context(), tenant.ID)
		must(t, err, "TenantByID(after commit)")
		checkTenant(t, got, tenant)
		member.Name = "updated in tx"
		checkStored(t, s, member)
	})

	t.Run("ErrorRollsBack", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "Tx")
		existing := createTenant(t, s, "old")
		tenant := newTenant("acme")
		member := newMember(tenant.ID, "hanako")
		err := s.Tx.InTx(t.Context(), func(ctx context.Context) error {
			must(t, s.Tenants.CreateTenant(ctx, tenant), "CreateTenant")
			must(t, s.Accounts.CreateAccount(ctx, member), "CreateAccount")
			_, err := s.Tenants.UpdateTenant(ctx, existing.ID, func(r *ports.TenantRecord) error {
				r.Name, r.Seats = "changed in tx", 1
				return nil
			})
			must(t, err, "UpdateTenant")
			_, err = s.Accounts.AccountByID(ctx, tenant.ID, member.ID)
			must(t, err, "AccountByID(in tx)")
			return errBoom
		})
		checkIs(t, "InTx(fn fails)", err, errBoom)
		_, err = s.Tenants.TenantByID(t.Context(), tenant.ID)
		checkIs(t, "TenantByID(rolled back)", err, ports.ErrNotFound)
		_, err = s.Tenants.TenantByCode(t.Context(), "acme")
		checkIs(t, "TenantByCode(rolled back)", err, ports.ErrNotFound)
		_, err = s.Accounts.AccountByID(t.Context(), tenant.ID, member.ID)
		checkIs(t, "AccountByID(rolled back)", err, ports.ErrNotFound)
		_, err = s.Accounts.AccountByLogin(t.Context(), tenant.ID, "hanako")
		checkIs(t, "AccountByLogin(rolled back)", err, ports.ErrNotFound)
		got, err := s.Tenants.TenantByID(t.Context(), existing.ID)
		must(t, err, "TenantByID(existing)")
		checkTenant(t, got, existing)

		// Nothing is left behind: the code, the ID and the login are free.
		must(t, s.Tenants.CreateTenant(t.Context(), tenant), "CreateTenant(after rollback)")
		createAccount(t, s, member)
	})

	t.Run("ErrorRollsBackEveryStore", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Accounts", "Throttle", "Sessions", "MFA", "Audit", "Tx")
		tenant, account := someone(t, s, false)
		session := createSession(t, s, newSession(tenant, account, at(0)))
		failTimes(t, s, "key", 2, at(0))
		totp := newTOTP(tenant, account)
		totp.Confirmed, totp.LastStep = true, 100
		putTOTP(t, s, totp)
		cred := addCredential(t, s, newCredential(tenant, account, at(0)))
		codes := recoveryHashes(3)
		must(t, s.MFA.ReplaceRecoveryCodes(t.Context(), tenant, account, codes, at(0)), "ReplaceRecoveryCodes")
		ch := newChallenge(tenant, account)
		must(t, s.MFA.PutChallenge(t.Context(), ch), "PutChallenge")
		first := appendAudit(t, s, newEvent(tenant, account, "auth.login", at(0)))

		newSess := newSession(tenant, account, at(time.Hour))
		newCred := newCredential(tenant, account, at(time.Hour))
		err := s.Tx.InTx(t.Context(), func(ctx context.Context) error {
			_, err := s.Throttle.AddFailure(ctx, "key", at(time.Minute))
			must(t, err, "AddFailure")
			_, err = s.Throttle.LockUntil(ctx, "key", at(lockFor), at(time.Minute))
			must(t, err, "LockUntil")
			_, err = s.Throttle.AddFailure(ctx, "new key", at(time.Minute))
			must(t, err, "AddFailure(new key)")
			must(t, s.Sessions.CreateSession(ctx, newSess), "CreateSession")
			must(t, s.Sessions.TouchSession(ctx, session.TokenHash, at(time.Hour)), "TouchSession")
			ok, err := s.MFA.AdvanceTOTPStep(ctx, tenant, account, 101)
			must(t, err, "AdvanceTOTPStep")
			checkEq(t, "AdvanceTOTPStep", ok, true)
			must(t, s.MFA.AddWebAuthnCredential(ctx, newCred), "AddWebAuthnCredential")
			_, err = s.MFA.UpdateWebAuthnCredential(ctx, tenant, account, cred.ID, func(c *ports.WebAuthnCredentialRecord) error {
				c.SignCount++
				return nil
			})
			must(t, err, "UpdateWebAuthnCredential")
			ok, err = s.MFA.UseRecoveryCode(ctx, tenant, account, codes[0], at(time.Hour))
			must(t, err, "UseRecoveryCode")
			checkEq(t, "UseRecoveryCode", ok, true)
			_, err = s.MFA.TakeChallenge(ctx, ch.ID)
			must(t, err, "TakeChallenge")
			second, err := s.Audit.AppendAudit(ctx, chained(newEvent(tenant, account, "mfa.enrol", at(time.Hour))))
			must(t, err, "AppendAudit")
			checkEq(t, "Seq in tx", second.Seq, 2)
			return errBoom
		})
		checkIs(t, "InTx(fn fails)", err, errBoom)

		checkStoredThrottle(t, s, "key", 2, time.Time{})
		st, err := s.Throttle.Throttle(t.Context(), "new key")
		must(t, err, "Throttle(new key)")
		checkEq(t, "Failures of a key counted only in the rolled-back tx", st.Failures, 0)
		checkSessions(t, s, []ports.SessionRecord{session, newSess}, session)
		checkStoredTOTP(t, s, totp)
		checkCredentials(t, s, tenant, account, cred)
		checkRemaining(t, s, tenant, account, 3)
		got, err := s.MFA.TakeChallenge(t.Context(), ch.ID)
		must(t, err, "TakeChallenge(after rollback)")
		checkChallenge(t, got, ch)
		recs := checkChain(t, s, 1)
		checkAuditRecord(t, recs[0], first)
		// No gap where the rolled-back record was.
		next := appendAudit(t, s, newEvent(tenant, account, "auth.logout", at(2*time.Hour)))
		checkEq(t, "Seq after rollback", next.Seq, 2)
	})

	t.Run("ConcurrentInTx", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Tenants", "Tx")
		tenant := createTenant(t, s, "acme")
		const n = 20
		concurrently(n, func(i int) {
			err := s.Tx.InTx(t.Context(), func(ctx context.Context) error {
				if _, err := s.Tenants.UpdateTenant(ctx, tenant.ID, func(r *ports.TenantRecord) error {
					r.Seats++
					return nil
				}); err != nil {
					return err
				}
				if i%2 == 1 {
					return errBoom
				}
				return nil
			})
			if want := map[bool]error{false: nil, true: errBoom}[i%2 == 1]; !errors.Is(err, want) {
				t.Errorf("InTx #%d: error = %v, want %v", i, err, want)
			}
		})
		got, err := s.Tenants.TenantByID(t.Context(), tenant.ID)
		must(t, err, "TenantByID")
		checkEq(t, "Seats (increments of committed transactions)", got.Seats, tenant.Seats+n/2)
	})

	t.Run("ConcurrentAuditInTx", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Audit", "Tx")
		const n = 20
		concurrently(n, func(i int) {
			err := s.Tx.InTx(t.Context(), func(ctx context.Context) error {
				if _, err := s.Audit.AppendAudit(ctx, chained(newEvent("", "", "test.tx", at(0)))); err != nil {
					return err
				}
				if i%2 == 1 {
					return errBoom
				}
				return nil
			})
			if want := map[bool]error{false: nil, true: errBoom}[i%2 == 1]; !errors.Is(err, want) {
				t.Errorf("InTx #%d: error = %v, want %v", i, err, want)
			}
		})
		// The rolled-back appends leave no gap and no fork.
		checkChain(t, s, n/2)
	})
}

// TestPinger is the contract suite of ports.Pinger: a store that is up answers.
func TestPinger(t *testing.T, factory Factory) {
	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Pinger")
		must(t, s.Pinger.Ping(t.Context()), "Ping")
	})
}

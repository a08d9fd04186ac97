package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/ports"
)

var t0 = time.Date(2025, time.April, 1, 9, 30, 15, 123456000, time.FixedZone("JST", 9*60*60))

// appendEvents appends n chained audit records.
func appendEvents(t *testing.T, s *sqlstore.Store, n int) {
	t.Helper()
	for range n {
		_, err := s.AppendAudit(t.Context(), func(head ports.AuditRecord) (ports.AuditRecord, error) {
			seq := head.Seq + 1
			return ports.AuditRecord{
				Seq:      seq,
				Event:    ports.AuditEvent{At: t0, Action: "test.event", Outcome: ports.OutcomeSuccess},
				PrevHash: head.Hash,
				Hash:     fmt.Sprintf("h%d", seq),
			}, nil
		})
		if err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
	}
}

// fixture is a tenant with one member.
func fixture(t *testing.T, s *sqlstore.Store) (tenantID, accountID string) {
	t.Helper()
	tenantID, accountID = "tenant-"+randomHex(4), "account-"+randomHex(4)
	if err := s.CreateTenant(t.Context(), ports.TenantRecord{ID: tenantID, Code: tenantID, Name: "T", Status: ports.TenantActive, CreatedAt: t0}); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if err := s.CreateAccount(t.Context(), ports.AccountRecord{
		ID: accountID, TenantID: tenantID, Kind: ports.KindMember, Login: "hanako", LoginKey: "hanako",
		Status: ports.AccountActive, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA", CreatedAt: t0,
	}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return tenantID, accountID
}

// TestStoredAsGiven: hashes and sealed secrets reach the database byte for byte, never transformed (no
// encoding that a reader would have to undo, and certainly no plaintext).
func TestStoredAsGiven(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.dsn(t)
		s := open(t, d.name, dsn)
		tenantID, accountID := fixture(t, s)
		ctx := t.Context()
		sealed := []byte{0, 1, 0xff, 'k', '1', 0, 0x80, '\'', '"', '\\'}
		tokenHash := strings.Repeat("ab", 32)
		codeHash := strings.Repeat("cd", 32)
		credID := []byte{0, 0xfe, 0x10}
		must(t, s.PutTOTP(ctx, ports.TOTPRecord{TenantID: tenantID, AccountID: accountID, SecretSealed: sealed, CreatedAt: t0}))
		must(t, s.CreateSession(ctx, ports.SessionRecord{TokenHash: tokenHash, AccountID: accountID, TenantID: tenantID, Stage: ports.StageFull, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0}))
		must(t, s.ReplaceRecoveryCodes(ctx, tenantID, accountID, []string{codeHash}, t0))
		must(t, s.AddWebAuthnCredential(ctx, ports.WebAuthnCredentialRecord{ID: "c1", TenantID: tenantID, AccountID: accountID, CredentialID: credID, PublicKey: sealed, CreatedAt: t0}))

		db := rawDB(t, d.name, dsn)
		var got struct {
			Secret       []byte
			PasswordHash string
			TokenHash    string
			CodeHash     string
			CredentialID []byte
		}
		checks := []struct {
			sql  string
			dest any
		}{
			{"SELECT secret_sealed FROM totp_authenticators", &got.Secret},
			{"SELECT password_hash FROM accounts", &got.PasswordHash},
			{"SELECT token_hash FROM sessions", &got.TokenHash},
			{"SELECT code_hash FROM recovery_codes", &got.CodeHash},
			{"SELECT credential_id FROM webauthn_credentials", &got.CredentialID},
		}
		for _, c := range checks {
			if err := db.Raw(c.sql).Row().Scan(c.dest); err != nil {
				t.Fatalf("%s: %v", c.sql, err)
			}
		}
		if !bytes.Equal(got.Secret, sealed) {
			t.Errorf("secret_sealed = %x, want %x as given", got.Secret, sealed)
		}
		if got.PasswordHash != "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA" {
			t.Errorf("password_hash = %q, want it as given", got.PasswordHash)
		}
		if got.TokenHash != tokenHash || got.CodeHash != codeHash {
			t.Errorf("token_hash, code_hash = %q, %q, want them as given", got.TokenHash, got.CodeHash)
		}
		if !bytes.Equal(got.CredentialID, credID) {
			t.Errorf("credential_id = %x, want %x", got.CredentialID, credID)
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestTimesAreUTCMicroseconds: instants are stored in UTC at microsecond precision, in a form that sorts
// (checked through the audit filter, which compares in SQL) and round-trips.
func TestTimesAreUTCMicroseconds(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		s := open(t, d.name, d.dsn(t))
		for i, at := range []time.Time{t0.Add(time.Nanosecond * 999), t0.Add(-time.Microsecond), t0.Add(time.Hour), t0.AddDate(10, 0, 0)} {
			_, err := s.AppendAudit(t.Context(), func(head ports.AuditRecord) (ports.AuditRecord, error) {
				return ports.AuditRecord{Seq: head.Seq + 1, PrevHash: head.Hash, Hash: fmt.Sprint(i), Event: ports.AuditEvent{At: at}}, nil
			})
			must(t, err)
		}
		got, err := s.ListAudit(t.Context(), ports.AuditFilter{Since: t0, Until: t0.Add(2 * time.Hour)})
		must(t, err)
		if len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 3 {
			t.Fatalf("ListAudit(since, until) = %+v, want seq 1 and 3", got)
		}
		if at := got[0].Event.At; at.Location() != time.UTC || !at.Equal(t0) {
			t.Errorf("At = %v, want %v in UTC, truncated to microseconds", at, t0.UTC())
		}
	})
}

// TestInTx: commit, rollback, the caller's error returned as it is, and nested transactions joining the
// outer one in a savepoint.
func TestInTx(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		s := open(t, d.name, d.dsn(t))
		ctx := t.Context()
		boom := errors.New("boom")

		err := s.InTx(ctx, func(ctx context.Context) error {
			_, err := s.AddFailure(ctx, "rolled-back", t0)
			must(t, err)
			if st, err := s.Throttle(ctx, "rolled-back"); err != nil || st.Failures != 1 {
				t.Errorf("Throttle inside the transaction = %+v, %v; want its own write", st, err)
			}
			return boom
		})
		if err != boom {
			t.Errorf("InTx error = %v, want the caller's error unchanged", err)
		}
		if st, _ := s.Throttle(ctx, "rolled-back"); st.Failures != 0 {
			t.Errorf("write of a failed transaction survived: %+v", st)
		}

		err = s.InTx(ctx, func(ctx context.Context) error {
			if _, err := s.AddFailure(ctx, "outer", t0); err != nil {
				return err
			}
			// A nested failure undoes only its own writes.
			nested := s.InTx(ctx, func(ctx context.Context) error {
				_, err := s.AddFailure(ctx, "inner", t0)
				must(t, err)
				return boom
			})
			if nested != boom {
				t.Errorf("nested InTx error = %v, want boom", nested)
			}
			// A conflict inside the transaction leaves it usable, on Postgres too.
			tenant := ports.TenantRecord{ID: "t1", Code: "acme", Status: ports.TenantActive, CreatedAt: t0}
			must(t, s.CreateTenant(ctx, tenant))
			tenant.ID = "t2"
			if err := s.CreateTenant(ctx, tenant); !errors.Is(err, ports.ErrConflict) {
				t.Errorf("CreateTenant(same code) in tx = %v, want ErrConflict", err)
			}
			return s.InTx(ctx, func(ctx context.Context) error {
				_, err := s.AddFailure(ctx, "outer", t0)
				return err
			})
		})
		must(t, err)
		for key, want := range map[string]int{"outer": 2, "inner": 0} {
			if st, _ := s.Throttle(ctx, key); st.Failures != want {
				t.Errorf("Throttle(%s).Failures = %d, want %d", key, st.Failures, want)
			}
		}
		if _, err := s.TenantByCode(ctx, "acme"); err != nil {
			t.Errorf("tenant created in the committed transaction: %v", err)
		}
	})
}

// TestErrorsSayNoSQL: a conflict is ports.ErrConflict without the driver's text (table, constraint or
// values), so nothing of the database can reach a client.
func TestErrorsSayNoSQL(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		s := open(t, d.name, d.dsn(t))
		tenantID, _ := fixture(t, s)
		err := s.CreateTenant(t.Context(), ports.TenantRecord{ID: "x", Code: tenantID, CreatedAt: t0})
		if !errors.Is(err, ports.ErrConflict) {
			t.Fatalf("CreateTenant(taken code) = %v, want ErrConflict", err)
		}
		for _, leak := range []string{"tenants", "code", "UNIQUE", "unique", "constraint", tenantID} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("error %q reveals %q", err, leak)
			}
		}
		// An account of a tenant that does not exist violates the foreign key: a conflict too.
		err = s.CreateAccount(t.Context(), ports.AccountRecord{ID: "a", TenantID: "missing", Kind: ports.KindMember, LoginKey: "a", CreatedAt: t0})
		if !errors.Is(err, ports.ErrConflict) {
			t.Errorf("CreateAccount(unknown tenant) = %v, want ErrConflict", err)
		}
	})
}

// TestConcurrentAuditAppends: appends from many goroutines form one chain without gaps.
func TestConcurrentAuditAppends(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		s := open(t, d.name, d.dsn(t))
		const n = 20
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				_, err := s.AppendAudit(t.Context(), func(head ports.AuditRecord) (ports.AuditRecord, error) {
					return ports.AuditRecord{Seq: head.Seq + 1, PrevHash: head.Hash, Hash: fmt.Sprint("h", head.Seq+1), Event: ports.AuditEvent{At: t0}}, nil
				})
				if err != nil {
					t.Errorf("AppendAudit: %v", err)
				}
			})
		}
		wg.Wait()
		list, err := s.ListAudit(t.Context(), ports.AuditFilter{})
		must(t, err)
		if len(list) != n {
			t.Fatalf("ListAudit returned %d records, want %d", len(list), n)
		}
		for i, r := range list {
			if r.Seq != int64(i+1) || (i > 0 && r.PrevHash != list[i-1].Hash) {
				t.Errorf("record %d = seq %d prev %q, want a gapless chain", i, r.Seq, r.PrevHash)
			}
		}
	})
}

func TestOpen(t *testing.T) {
	t.Parallel()
	if _, err := sqlstore.Open(t.Context(), "mysql", "x"); err == nil {
		t.Error("Open(mysql) succeeded, want an error")
	}
	// A plain path in a directory that does not exist yet; the directory is created.
	dir := filepath.Join(t.TempDir(), "a", "b")
	s, err := sqlstore.Open(t.Context(), sqlstore.DriverSQLite, filepath.Join(dir, "roumu.db"))
	must(t, err)
	defer s.Close()
	must(t, s.Migrate(t.Context()))
	must(t, s.Ping(t.Context()))
	if _, err := os.Stat(filepath.Join(dir, "roumu.db")); err != nil {
		t.Errorf("database file: %v", err)
	}
	// In memory: one connection holds the database.
	m, err := sqlstore.Open(t.Context(), sqlstore.DriverSQLite, ":memory:")
	must(t, err)
	defer m.Close()
	must(t, m.Migrate(t.Context()))
	_, err = m.AddFailure(t.Context(), "k", t0)
	must(t, err)
	if st, _ := m.Throttle(t.Context(), "k"); st.Failures != 1 {
		t.Errorf("in-memory Throttle = %+v, want 1 failure", st)
	}
}

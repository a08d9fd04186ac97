package main

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite": the attacker's direct access

	"github.com/roumu/roumu/config"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/pgtest"
)

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// tenantWithAudit creates a tenant (whose creation and admin are audited) through the command line.
func tenantWithAudit(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := run(t, ctx, "Kx7#mq2!zpW9\n", "tenant", "create", "--code", "acme", "--name", "ACME 株式会社",
		"--admin-login", "admin", "--admin-name", "管理 太郎", "--password-stdin"); err != nil {
		t.Fatalf("tenant create: %v", err)
	}
	if out, err := run(t, ctx, "", "audit", "verify"); err != nil || !strings.Contains(out, "audit log intact") {
		t.Fatalf("audit verify before tampering: %q %v", out, err)
	}
}

// TestAuditVerifyCatchesTamperingInSQLite: someone with the database file drops the append-only triggers and
// edits an entry, or rewrites the chain from it on with fresh hashes; `roumu audit verify` names the entry.
func TestAuditVerifyCatchesTamperingInSQLite(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx := context.Background()
	tenantWithAudit(t, ctx)
	db, err := sql.Open("sqlite", filepath.Join("var", "roumu.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit_records SET outcome = 'failure' WHERE seq = 1`); err == nil {
		t.Fatal("the append-only trigger let an UPDATE through")
	}
	mustExec(t, db, `DROP TRIGGER audit_records_no_update`)
	mustExec(t, db, `UPDATE audit_records SET target = 'account:forged' WHERE seq = 1`)
	if _, err := run(t, ctx, "", "audit", "verify"); err == nil || !strings.Contains(err.Error(), "entry 1:") {
		t.Fatalf("audit verify after an edit = %v, want entry 1 named", err)
	}
	// A careful attacker recomputes every hash from the edited entry on: the chain verifies, the signed
	// checkpoint that `tenant create` wrote does not.
	a, err := openApp(ctx, config.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	recs, err := a.store.ListAudit(ctx, ports.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	for _, r := range recs {
		r.PrevHash = prev
		r.Hash = audit.Hash(r)
		mustExec(t, db, `UPDATE audit_records SET prev_hash = ?, hash = ? WHERE seq = ?`, r.PrevHash, r.Hash, r.Seq)
		prev = r.Hash
	}
	if n, err := audit.Verify(ctx, a.store, nil); err != nil || n != int64(len(recs)) {
		t.Fatalf("the rehashed chain alone should verify: %d %v", n, err)
	}
	if _, err := run(t, ctx, "", "audit", "verify"); err == nil || !strings.Contains(err.Error(), "checkpoint") {
		t.Fatalf("audit verify after a consistent rewrite = %v, want the checkpoint to catch it", err)
	}
}

// TestAuditVerifyCatchesTamperingInPostgres: the same on Postgres, where the attacker is a superuser who turns
// the append-only trigger off.
func TestAuditVerifyCatchesTamperingInPostgres(t *testing.T) {
	dsn := pgtest.SchemaDSN(t)
	t.Chdir(t.TempDir())
	t.Setenv("ROUMU_DATABASE_DRIVER", "postgres")
	t.Setenv("ROUMU_DATABASE_DSN", dsn)
	ctx := context.Background()
	tenantWithAudit(t, ctx)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit_records SET outcome = 'failure' WHERE seq = 1`); err == nil {
		t.Fatal("the append-only trigger let an UPDATE through")
	}
	mustExec(t, db, `ALTER TABLE audit_records DISABLE TRIGGER USER`)
	mustExec(t, db, `UPDATE audit_records SET target = 'account:forged' WHERE seq = 1`)
	if _, err := run(t, ctx, "", "audit", "verify"); err == nil || !strings.Contains(err.Error(), "entry 1:") {
		t.Fatalf("audit verify after an edit = %v, want entry 1 named", err)
	}
}

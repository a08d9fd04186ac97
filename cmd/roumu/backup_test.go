package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roumu/roumu/test/pgtest"
)

// TestBackupAndRestoreCommands: a SQLite installation is backed up, the file is refused when damaged or cut
// short and when the database is not empty, and restores into Postgres, where the service goes on (the audit
// chain verifies against the checkpoints the SQLite service signed, and new tenants can be created).
func TestBackupAndRestoreCommands(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx := context.Background()
	tenantWithAudit(t, ctx)

	out, err := run(t, ctx, "", "backup", "--out", "first.roumu")
	if err != nil || !strings.Contains(out, "backup written to first.roumu") || !strings.Contains(out, "(sqlite)") {
		t.Fatalf("backup: %q %v", out, err)
	}
	if fi, err := os.Stat(filepath.Join("var", "backup.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup key: %v %v", fi, err)
	}
	if _, err := run(t, ctx, "", "backup", "--out", "first.roumu"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}
	file, err := os.ReadFile("first.roumu")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(file), "acme") {
		t.Fatal("the backup is readable without the key")
	}

	if _, err := run(t, ctx, "", "restore", "--in", "first.roumu"); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into the non-empty database: %v", err)
	}
	flipped := []byte(strings.Clone(string(file)))
	flipped[len(flipped)/2] ^= 0x40
	if err := os.WriteFile("flipped.roumu", flipped, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("cut.roumu", file[:len(file)-100], 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"flipped.roumu", "cut.roumu"} {
		_, err := run(t, ctx, "", "restore", "--in", bad, "--force")
		if err == nil || !strings.Contains(err.Error(), "nothing written") || !strings.Contains(err.Error(), "damaged") {
			t.Fatalf("restore of %s: %v", bad, err)
		}
	}
	if out, err := run(t, ctx, "", "audit", "verify"); err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("the SQLite database after refused restores: %q %v", out, err)
	}

	// To Postgres, as a customer moving to production does.
	t.Setenv("ROUMU_DATABASE_DRIVER", "postgres")
	t.Setenv("ROUMU_DATABASE_DSN", pgtest.SchemaDSN(t))
	out, err = run(t, ctx, "", "restore", "--in", "first.roumu")
	if err != nil || !strings.Contains(out, "backup verified") || !strings.Contains(out, "on sqlite") {
		t.Fatalf("restore into Postgres: %q %v", out, err)
	}
	if out, err := run(t, ctx, "", "audit", "verify"); err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify on Postgres after the restore: %q %v", out, err)
	}
	if _, err := run(t, ctx, "Kx7#mq2!zpW9\n", "tenant", "create", "--code", "beta", "--name", "Beta",
		"--admin-login", "admin", "--admin-name", "管理 花子", "--password-stdin"); err != nil {
		t.Fatalf("tenant create after the restore: %v", err)
	}
	if _, err := run(t, ctx, "Kx7#mq2!zpW9\n", "tenant", "create", "--code", "acme", "--name", "ACME",
		"--admin-login", "admin", "--admin-name", "管理 花子", "--password-stdin"); err == nil {
		t.Fatal("the restored tenant acme is missing: its code could be taken again")
	}
}

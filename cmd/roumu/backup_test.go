package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roumu/roumu/config"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/pgtest"
)

// approvedRestore has two operators request and approve a restore of file, as they would in the console,
// and returns the request's ID.
func approvedRestore(t *testing.T, ctx context.Context, file string) string {
	t.Helper()
	sum, err := fileSHA256(file)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	withTestApp(t, ctx, func(a *app) {
		id = approved(t, ctx, a, ports.OpRestore, map[string]string{"backup_file": filepath.Base(file), "backup_sha256": sum})
	})
	return id
}

// checkRequest checks a work record's status ("" for none) and that its result or error says what.
func checkRequest(t *testing.T, ctx context.Context, id, status, says string) {
	t.Helper()
	withTestApp(t, ctx, func(a *app) {
		r, err := a.store.OperationRequest(ctx, id)
		if status == "" {
			if !errors.Is(err, ports.ErrNotFound) {
				t.Fatalf("request %s: %+v %v, want none", id, r, err)
			}
			return
		}
		if err != nil || r.Status != status || !strings.Contains(r.Result+r.Error, says) {
			t.Fatalf("request %s: %+v %v, want %s saying %q", id, r, err, status, says)
		}
	})
}

func withTestApp(t *testing.T, ctx context.Context, fn func(a *app)) {
	t.Helper()
	cfg, err := config.Load(config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	fn(a)
}

// TestBackupAndRestoreCommands: a SQLite installation is backed up; the file is refused when the database is
// not empty without an approved restore request, when it is not the file the request approves, and when
// damaged or cut short (the request then fails); it replaces the data under an approved request, which is
// executed once and kept in the restored database; and it restores into an empty Postgres database, where
// the service goes on (the audit chain verifies against the checkpoints the SQLite service signed, and new
// tenants can be created).
func TestBackupAndRestoreCommands(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx := context.Background()
	tenantWithAudit(t, ctx)

	out, err := run(t, ctx, "", "backup", "--out", "first.roumu")
	sum, _ := fileSHA256("first.roumu")
	if err != nil || !strings.Contains(out, "backup written to first.roumu") || !strings.Contains(out, "(sqlite)") ||
		!strings.Contains(out, "sha256 "+sum) {
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
	forFlipped := approvedRestore(t, ctx, "flipped.roumu")
	if _, err := run(t, ctx, "", "restore", "--in", "first.roumu", "--request", forFlipped); err == nil ||
		!strings.Contains(err.Error(), "not the file request "+forFlipped+" approves") {
		t.Fatalf("restore of another file than the approved one: %v", err)
	}
	checkRequest(t, ctx, forFlipped, ports.OperationApproved, "")
	for _, bad := range []string{"flipped.roumu", "cut.roumu"} {
		id := forFlipped
		if bad == "cut.roumu" {
			id = approvedRestore(t, ctx, bad)
		}
		_, err := run(t, ctx, "", "restore", "--in", bad, "--request", id)
		if err == nil || !strings.Contains(err.Error(), "nothing written") || !strings.Contains(err.Error(), "damaged") {
			t.Fatalf("restore of %s: %v", bad, err)
		}
		checkRequest(t, ctx, id, ports.OperationFailed, "damaged")
	}
	if out, err := run(t, ctx, "", "audit", "verify"); err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("the SQLite database after refused restores: %q %v", out, err)
	}

	// Replacing the data under an approved request, the file found in backup.dir: the backup predates the
	// request, and the restored database holds its work record, executed; it cannot be used again.
	id := approvedRestore(t, ctx, "first.roumu")
	if _, err := run(t, ctx, "", "restore", "--request", id); err == nil || !strings.Contains(err.Error(), "backup.dir") {
		t.Fatalf("restore under a request without --in nor backup.dir: %v", err)
	}
	t.Setenv("ROUMU_BACKUP_DIR", ".")
	out, err = run(t, ctx, "", "restore", "--request", id)
	if err != nil || !strings.Contains(out, "request "+id+" executed") {
		t.Fatalf("restore under request %s: %q %v", id, out, err)
	}
	checkRequest(t, ctx, id, ports.OperationExecuted, "restored first.roumu")
	checkRequest(t, ctx, forFlipped, "", "") // taken after the backup: gone with the data it replaced
	if _, err := run(t, ctx, "", "restore", "--request", id); err == nil || !strings.Contains(err.Error(), "approved") {
		t.Fatalf("a second restore under the same request: %v", err)
	}
	if out, err := run(t, ctx, "", "audit", "verify"); err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("the SQLite database after the restore: %q %v", out, err)
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

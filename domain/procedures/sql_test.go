package procedures_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/ports"
)

// sqlEnvs wires the modules on each SQL dialect: SQLite always, Postgres (a schema of its own) when
// ROUMU_TEST_POSTGRES_URL is set (required under CI=true).
func sqlEnvs(t *testing.T) map[string]*env {
	out := map[string]*env{"sqlite": newEnvOn(t, openSQL(t, sqlstore.DriverSQLite, filepath.Join(t.TempDir(), "roumu.db")))}
	raw := os.Getenv("ROUMU_TEST_POSTGRES_URL")
	if raw == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but ROUMU_TEST_POSTGRES_URL is unset")
		}
		t.Log("Postgres skipped: ROUMU_TEST_POSTGRES_URL is unset")
		return out
	}
	admin, err := gorm.Open(postgres.Open(raw), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "proc_" + hex.EncodeToString(b)
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error
		if db, err := admin.DB(); err == nil {
			_ = db.Close()
		}
	})
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	out["postgres"] = newEnvOn(t, openSQL(t, sqlstore.DriverPostgres, u.String()))
	return out
}

func openSQL(t *testing.T, driver, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(ctx, driver, dsn, sqlstore.WithMaxOpenConns(8))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"t1", "t2"} {
		if err := s.CreateTenant(ctx, ports.TenantRecord{ID: id, Code: id, Name: id, Status: ports.TenantActive, CreatedAt: start}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestOnSQL: on real databases, four consumers racing over ten hires create exactly one procedure of
// each kind, and twenty racing approvals let exactly one through.
func TestOnSQL(t *testing.T) {
	t.Parallel()
	for name, e := range sqlEnvs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raceConsumers(t, e)
			raceApprovals(t, e)
		})
	}
}

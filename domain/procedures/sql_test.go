package procedures_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
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
	out := map[string]*env{}
	for _, d := range []string{sqlstore.DriverSQLite, sqlstore.DriverPostgres} {
		if e := sqlEnv(t, d); e != nil {
			out[d] = e
		}
	}
	return out
}

// sqlEnv wires the modules on a fresh database of the dialect; nil for Postgres without a URL.
func sqlEnv(tb testing.TB, driver string) *env {
	if driver == sqlstore.DriverSQLite {
		return newEnvOn(tb, openSQL(tb, driver, filepath.Join(tb.TempDir(), "roumu.db")))
	}
	raw := os.Getenv("ROUMU_TEST_POSTGRES_URL")
	if raw == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("CI=true but ROUMU_TEST_POSTGRES_URL is unset")
		}
		tb.Log("Postgres skipped: ROUMU_TEST_POSTGRES_URL is unset")
		return nil
	}
	admin, err := gorm.Open(postgres.Open(raw), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		tb.Fatalf("postgres: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "proc_" + hex.EncodeToString(b)
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error
		if db, err := admin.DB(); err == nil {
			_ = db.Close()
		}
	})
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return newEnvOn(tb, openSQL(tb, driver, u.String()))
}

func openSQL(t testing.TB, driver, dsn string) *sqlstore.Store {
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

// BenchmarkConsumeEvents: hires turned into procedures per second, on each database (the register's
// writes are outside the timing).
//
//	ROUMU_TEST_POSTGRES_URL=… go test -run '^$' -bench ConsumeEvents -benchtime 1x ./domain/procedures/
func BenchmarkConsumeEvents(b *testing.B) {
	const hires = 300
	for _, name := range []string{"memory", sqlstore.DriverSQLite, sqlstore.DriverPostgres} {
		b.Run(name, func(b *testing.B) {
			e := newEnv(b)
			if name != "memory" {
				if e = sqlEnv(b, name); e == nil {
					b.Skip("no Postgres")
				}
			}
			for i := range hires {
				e.hire(b, e.admin, fmt.Sprintf("B%04d", i))
			}
			b.ResetTimer()
			n, err := e.svc.ConsumeEvents(ctx)
			if err != nil || n != hires {
				b.Fatalf("ConsumeEvents = %d, %v", n, err)
			}
			b.ReportMetric(float64(hires)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

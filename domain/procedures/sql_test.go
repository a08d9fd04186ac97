package procedures_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/domain/procedures"
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
			const hires = 10
			for i := range hires {
				e.hire(t, e.admin, "E"+string(rune('A'+i)))
			}
			second, err := procedures.New(e.deps)
			if err != nil {
				t.Fatal(err)
			}
			var handled atomic.Int32
			var wg sync.WaitGroup
			for i, svc := range []*procedures.Service{e.svc, second, e.svc, second} {
				wg.Go(func() {
					n, err := svc.ConsumeEvents(ctx)
					if err != nil {
						t.Errorf("consumer %d: %v", i, err)
					}
					handled.Add(int32(n))
				})
			}
			wg.Wait()
			all := e.procs(t, e.admin, "")
			if handled.Load() != hires || len(all) != 2*hires {
				t.Fatalf("%d events handled, %d procedures; want %d and %d", handled.Load(), len(all), hires, 2*hires)
			}

			p := all[0]
			e.act(t, e.hr, p.ID, ports.ActionSubmit, "")
			var won, refused atomic.Int32
			for i := range 20 {
				wg.Go(func() {
					_, err := e.svc.Act(ctx, member("t1", ports.RoleAdmin), p.ID, ports.ProcedureAction{Action: ports.ActionApprove})
					switch {
					case err == nil:
						won.Add(1)
					case code(err) == "illegal_transition":
						refused.Add(1)
					default:
						t.Errorf("approver %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			if won.Load() != 1 || refused.Load() != 19 {
				t.Errorf("%d approvals won, %d refused", won.Load(), refused.Load())
			}
		})
	}
}

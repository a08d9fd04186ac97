package sqlstore_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/ports/porttest"
	"github.com/roumu/roumu/test/pgtest"
)

// dialect opens fresh, migrated stores of one database kind, each isolated from the others so that tests
// run in parallel: a new SQLite file, or a new Postgres schema.
type dialect struct {
	name string
	// dsn returns the DSN of a fresh, empty database for t (and registers its removal).
	dsn func(t testing.TB) string
}

// dialects are the databases under test: SQLite always, Postgres when ROUMU_TEST_POSTGRES_URL is set.
func dialects() []dialect {
	return []dialect{{sqlstore.DriverSQLite, sqliteDSN}, {sqlstore.DriverPostgres, pgtest.SchemaDSN}}
}

func sqliteDSN(t testing.TB) string {
	// A directory that does not exist yet: Open must create it.
	return filepath.Join(t.TempDir(), "var", "roumu.db")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// open opens and migrates a store on dsn, closed at the end of t. The pool is small: many tests run in
// parallel against one Postgres. It has a statement timeout as serve's has (never reached here), so that
// migrations, backups and restores run as they do there, lifting it.
func open(t testing.TB, driver, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), driver, dsn, sqlstore.WithMaxOpenConns(4), sqlstore.WithStatementTimeout(time.Minute))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// forEachDialect runs test once per database, in parallel.
func forEachDialect(t *testing.T, test func(t *testing.T, d dialect)) {
	for _, d := range dialects() {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			test(t, d)
		})
	}
}

func TestContract(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		porttest.RunAll(t, func(t *testing.T) porttest.Stores {
			s := open(t, d.name, d.dsn(t))
			return porttest.Stores{Tenants: s, Accounts: s, Throttle: s, Sessions: s, MFA: s, Audit: s, Tx: s, Pinger: s,
				Employees: s, Departments: s, Outbox: s, Jobs: s, Procedures: s, Attachments: s, Notices: s, OperationRequests: s, Webhooks: s, Stats: s,
				APITokens: s, RateLimits: s, Idempotency: s, ResealJobs: s,
				SealedValues: s}
		})
	})
}

// TestMigrateTwiceAndConcurrently: migrating is idempotent, and two processes (here: two stores with
// pools of their own) migrating one fresh database at once both succeed and create the schema once.
func TestMigrateTwiceAndConcurrently(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.dsn(t)
		const n = 3
		stores := make([]*sqlstore.Store, n)
		for i := range stores {
			s, err := sqlstore.Open(t.Context(), d.name, dsn, sqlstore.WithMaxOpenConns(2))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			stores[i] = s
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, s := range stores {
			wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("concurrent Migrate #%d: %v", i, err)
			}
		}
		for i, s := range stores {
			if err := s.Migrate(t.Context()); err != nil {
				t.Errorf("Migrate again #%d: %v", i, err)
			}
		}
		checkMigratedOnce(t, d.name, dsn)
	})
}

// TestMigrateFromTwoProcesses: two processes (this test binary, run again as a child) migrate one fresh
// database at once; both succeed and every version is applied once.
func TestMigrateFromTwoProcesses(t *testing.T) {
	if driver := os.Getenv("SQLSTORE_TEST_CHILD_DRIVER"); driver != "" {
		// The child: migrate and report through the exit status.
		s, err := sqlstore.Open(t.Context(), driver, os.Getenv("SQLSTORE_TEST_CHILD_DSN"), sqlstore.WithMaxOpenConns(2))
		if err != nil {
			t.Fatalf("child Open: %v", err)
		}
		defer s.Close()
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("child Migrate: %v", err)
		}
		return
	}
	forEachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.dsn(t)
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMigrateFromTwoProcesses$", "-test.count=1")
				cmd.Env = append(os.Environ(), "SQLSTORE_TEST_CHILD_DRIVER="+d.name, "SQLSTORE_TEST_CHILD_DSN="+dsn)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("child %d: %v\n%s", i, err, out)
				}
			})
		}
		wg.Wait()
		checkMigratedOnce(t, d.name, dsn)
	})
}

// checkMigratedOnce fails unless goose recorded every version exactly once.
func checkMigratedOnce(t *testing.T, driver, dsn string) {
	t.Helper()
	var rows []struct {
		VersionID int64
		N         int
	}
	err := rawDB(t, driver, dsn).
		Raw("SELECT version_id, count(*) AS n FROM goose_db_version WHERE is_applied GROUP BY version_id ORDER BY version_id").
		Scan(&rows).Error
	if err != nil {
		t.Fatalf("read goose_db_version: %v", err)
	}
	if len(rows) < 2 {
		t.Fatalf("goose_db_version = %+v, want version 0 and the migrations", rows)
	}
	for _, r := range rows {
		if r.N != 1 {
			t.Errorf("version %d recorded %d times, want once", r.VersionID, r.N)
		}
	}
}

// rawDB opens a plain GORM connection on dsn, for looking behind the store's back.
func rawDB(t testing.TB, driver, dsn string) *gorm.DB {
	t.Helper()
	var dial gorm.Dialector
	if driver == sqlstore.DriverPostgres {
		dial = postgres.Open(dsn)
	} else {
		dial = sqlite.Open(dsn + "?_pragma=busy_timeout(10000)")
	}
	db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("open raw: %v", err)
	}
	sqlDB, _ := db.DB()
	sqlDB.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = sqlDB.Close() })
	return db
}

// TestAuditIsAppendOnly: the database itself refuses to change or remove audit records, whatever the
// client: a trigger in Postgres (and in SQLite).
func TestAuditIsAppendOnly(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.dsn(t)
		s := open(t, d.name, dsn)
		appendEvents(t, s, 2)
		db := rawDB(t, d.name, dsn)
		for _, stmt := range []string{
			"UPDATE audit_records SET action = 'tampered' WHERE seq = 1",
			"UPDATE audit_records SET hash = 'x'",
			"DELETE FROM audit_records WHERE seq = 2",
			"DELETE FROM audit_records",
		} {
			err := db.Exec(stmt).Error
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: error = %v, want the append-only refusal", stmt, err)
			}
		}
		if d.name == sqlstore.DriverPostgres {
			if err := db.Exec("TRUNCATE audit_records").Error; err == nil {
				t.Error("TRUNCATE audit_records succeeded, want a refusal")
			}
		}
		list, err := s.ListAudit(t.Context(), ports.AuditFilter{})
		if err != nil {
			t.Fatalf("ListAudit: %v", err)
		}
		if len(list) != 2 || list[0].Event.Action != "test.event" {
			t.Errorf("ListAudit after tampering attempts = %+v, want the 2 records unchanged", list)
		}
	})
}

package test

import (
	"bytes"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/keyring"
	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/domain/employees"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/fixtures"
	"github.com/roumu/roumu/test/pgtest"
)

// BenchmarkImport100kSQL imports 100,000 employees through the register (parse, validate every row, seal the
// sensitive fields, then one transaction) into SQLite and Postgres, and reports rows/s and the peak heap
// seen at the progress callbacks. Postgres runs when ROUMU_TEST_POSTGRES_URL is set.
//
//	ROUMU_TEST_POSTGRES_URL=… go test -run '^$' -bench Import100kSQL -benchtime 1x ./test/
func BenchmarkImport100kSQL(b *testing.B) {
	rows := 100_000
	if testing.Short() {
		rows = 5_000
	}
	file := fixtures.EmployeesCSV(rows)
	for _, driver := range []string{sqlstore.DriverSQLite, sqlstore.DriverPostgres} {
		b.Run(driver, func(b *testing.B) {
			var peak uint64
			var ms runtime.MemStats
			sample := func(_, _ int) {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			var total time.Duration
			for b.Loop() {
				b.StopTimer()
				svc, admin, _ := sqlRegister(b, driver)
				runtime.GC()
				b.StartTimer()
				start := time.Now()
				res, err := svc.ImportEmployees(b.Context(), admin, ports.ImportRequest{CSV: bytes.NewReader(file)}, sample)
				total += time.Since(start)
				if err != nil || res.Created != rows || len(res.Errors) != 0 {
					b.Fatalf("import: %d created, %d errors, %v", res.Created, len(res.Errors), err)
				}
			}
			b.ReportMetric(float64(rows*b.N)/total.Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// sqlRegister wires the employee register on a fresh SQL store of driver with one tenant, and returns it with
// an admin of that tenant and the store's DSN.
func sqlRegister(b testing.TB, driver string) (*employees.Service, ports.Principal, string) {
	dsn := filepath.Join(b.TempDir(), "roumu.db")
	if driver == sqlstore.DriverPostgres {
		dsn = pgtest.SchemaDSN(b)
	}
	store, err := sqlstore.Open(b.Context(), driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	if err := store.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	keys, err := keyring.Open(filepath.Join(b.TempDir(), "keyring.json"))
	if err != nil {
		b.Fatal(err)
	}
	clock := kernel.SystemClock{}
	tenant := ports.TenantRecord{ID: kernel.NewID(), Code: "bench", Name: "ベンチ株式会社", Status: ports.TenantActive,
		CreatedAt: clock.Now(), UpdatedAt: clock.Now()}
	if err := store.CreateTenant(b.Context(), tenant); err != nil {
		b.Fatal(err)
	}
	svc, err := employees.New(employees.Deps{Employees: store, Departments: store, Accounts: store, Outbox: store, Jobs: store,
		Tx: store, Cipher: keys, Audit: audit.New(store, clock), Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	return svc, ports.Principal{AccountID: kernel.NewID(), TenantID: tenant.ID, TenantCode: tenant.Code,
		Kind: ports.KindMember, Roles: []string{ports.RoleAdmin}, Stage: ports.StageFull}, dsn
}

package sqlstore_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/backupfile"
	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/ports"
)

// BenchmarkBackupRestore100k times what the 4-hour RTO rests on, end to end as `roumu backup` and
// `roumu restore` run it: a register of 100,000 employees with their hires (and three tenants of 1,000),
// snapshotted, compressed and sealed into a file, then restored into a fresh database of the same dialect:
// the verifying pass over the whole file and the pass that writes in one transaction.
//
//	ROUMU_TEST_POSTGRES_URL=… go test -run '^$' -bench BackupRestore -benchtime 1x ./adapters/sqlstore/
func BenchmarkBackupRestore100k(b *testing.B) {
	for _, d := range dialects() {
		b.Run(d.name, func(b *testing.B) {
			src := open(b, d.name, benchDSN(b, d))
			tenantID, depts := benchTenant(b, src, "big")
			recs, changes := benchEmployeesOf(tenantID, depts, benchEmployees, 1)
			must(b, src.CreateEmployees(b.Context(), recs, changes))
			sealer, err := backupfile.LoadOrCreate(filepath.Join(b.TempDir(), "backup.key"))
			must(b, err)
			file := filepath.Join(b.TempDir(), "backup.roumu")
			for b.Loop() {
				start := time.Now()
				m := sealedBackup(b, src, sealer, file)
				backup := time.Since(start)

				b.StopTimer()
				dst := open(b, d.name, d.dsn(b))
				b.StartTimer()
				start = time.Now()
				sealedRestore(b, dst, sealer, file, ports.RestoreOptions{VerifyOnly: true})
				verify := time.Since(start)
				sealedRestore(b, dst, sealer, file, ports.RestoreOptions{})
				restore := time.Since(start)

				fi, err := os.Stat(file)
				must(b, err)
				b.Logf("%s: %d rows; backup %s (%.1f MB sealed); restore %s, of which verifying %s",
					d.name, m.Rows(), backup.Round(time.Millisecond), float64(fi.Size())/1e6, restore.Round(time.Millisecond), verify.Round(time.Millisecond))
				b.ReportMetric(backup.Seconds(), "backup-s")
				b.ReportMetric(restore.Seconds(), "restore-s")
				b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
				must(b, os.Remove(file))
			}
		})
	}
}

func sealedBackup(b *testing.B, s *sqlstore.Store, sealer *backupfile.Sealer, path string) ports.BackupManifest {
	f, err := os.Create(path)
	must(b, err)
	w, err := sealer.Seal(f)
	must(b, err)
	m, err := s.Snapshot(b.Context(), w)
	must(b, err)
	must(b, w.Close())
	must(b, f.Close())
	return m
}

func sealedRestore(b *testing.B, s *sqlstore.Store, sealer *backupfile.Sealer, path string, opts ports.RestoreOptions) {
	f, err := os.Open(path)
	must(b, err)
	defer f.Close()
	r, err := sealer.Open(f)
	must(b, err)
	_, err = s.Restore(b.Context(), r, opts)
	must(b, err)
}

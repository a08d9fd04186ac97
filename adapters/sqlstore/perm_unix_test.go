//go:build unix

package sqlstore_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/ports"
)

// TestSQLiteFilesArePrivate: the database file and the -wal and -shm files SQLite makes beside it are
// readable by their owner only (0600), even under a umask of 0, which would let SQLite's own default (0644)
// through. Not parallel: the umask belongs to the process, and the parallel tests wait for this one.
func TestSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "var", "roumu.db")
	s, err := sqlstore.Open(t.Context(), sqlstore.DriverSQLite, path)
	must(t, err)
	defer s.Close()
	must(t, s.Migrate(t.Context()))
	must(t, s.CreateTenant(t.Context(), ports.TenantRecord{ID: "t", Code: "t", CreatedAt: t0}))
	for _, name := range []string{path, path + "-wal", path + "-shm", path + ".migrate-lock"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(name), err)
			continue
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(name), mode)
		}
	}
}

package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds the versioned schema of each dialect, applied in order by goose.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Migrate applies the pending migrations. It is safe to run again (applied versions are recorded) and
// from several processes at once: Postgres serialises migrators with goose's session advisory lock,
// SQLite with an exclusive lock on a sibling file held around the whole run (see lockSQLiteFile).
func (s *Store) Migrate(ctx context.Context) error {
	if s.driver == DriverPostgres {
		locker, err := s.postgresMigrationLock(ctx)
		if err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
		return s.migrate(ctx, goose.DialectPostgres, goose.WithSessionLocker(locker))
	}
	unlock, err := lockSQLiteFile(ctx, s.sqlitePath)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer unlock()
	return s.migrate(ctx, goose.DialectSQLite3)
}

func (s *Store) migrate(ctx context.Context, dialect goose.Dialect, opts ...goose.ProviderOption) error {
	sqlDB, err := s.write.DB()
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	if s.migrationDSN != "" { // the pool's statement timeout is not for migrations
		if sqlDB, err = sql.Open("pgx", s.migrationDSN); err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
		defer sqlDB.Close()
	}
	provider, err := s.migrationProvider(sqlDB, dialect, opts...)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

// migrationProvider is goose over sqlDB and this store's dialect's migrations.
func (s *Store) migrationProvider(sqlDB *sql.DB, dialect goose.Dialect, opts ...goose.ProviderOption) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations/"+s.driver)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, sqlDB, fsys, append(opts, goose.WithDisableGlobalRegistry(true))...)
}

// postgresMigrationLock returns goose's advisory-lock locker with a lock ID of this database and schema:
// the version table lives in the current schema, so migrators of different schemas need not wait for
// each other.
func (s *Store) postgresMigrationLock(ctx context.Context) (lock.SessionLocker, error) {
	var where string
	if err := s.write.WithContext(ctx).Raw("SELECT current_database() || '.' || coalesce(current_schema(), '')").Scan(&where).Error; err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write([]byte("roumu-migrate:" + where))
	return lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64()>>1)),
		lock.WithLockTimeout(1, 300), // poll every second, for up to five minutes
	)
}

// lockSQLiteFile serialises migrators of one SQLite database across connections and processes, and
// returns the unlock. SQLite has no advisory locks, and holding the database's own write lock would block
// the migration itself, so it holds an exclusive transaction on a sibling file, "<database>.migrate-lock".
// The lock is taken outside goose, around the whole run: goose checks for pending migrations (and creates
// its version table) before it takes a session lock, and two fresh migrators would race there. The
// operating system releases the lock if the process dies, so a crash never leaves the database locked. An
// in-memory database (no path) is private to its connection and needs no lock.
func lockSQLiteFile(ctx context.Context, path string) (unlock func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	if err := createPrivate(path + ".migrate-lock"); err != nil {
		return nil, err
	}
	db, err := sql.Open(sqlite.DriverName, path+".migrate-lock?_pragma=busy_timeout(1000)")
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		// BEGIN EXCLUSIVE waits up to busy_timeout for another holder, then reports busy; retrying in
		// short rounds keeps ctx cancellation effective.
		_, err = conn.ExecContext(ctx, "BEGIN EXCLUSIVE")
		if !isSQLiteBusy(err) || ctx.Err() != nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		_ = conn.Close()
		_ = db.Close()
		return nil, fmt.Errorf("lock %s.migrate-lock: %w", path, err)
	}
	return func() {
		// Closing the connection ends the transaction, and with it the lock.
		_ = conn.Close()
		_ = db.Close()
	}, nil
}

// isSQLiteBusy tells SQLite's "database is locked" (SQLITE_BUSY, 5, in the low byte of extended codes).
func isSQLiteBusy(err error) bool {
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == 5
}

// Package sqlstore implements every store port of Roumu with GORM, on SQLite (pure Go, for a single
// instance and development) and on Postgres (for production and scaling out). Both dialects share the Go
// code; only the migrations and a few statements differ.
//
// Rules the package keeps:
//   - every operation that the ports call atomic is one statement or one transaction with the rows locked;
//   - every query of a tenant's data is scoped by tenant_id;
//   - driver errors are translated once, into ports.ErrConflict and ports.ErrNotFound, and no SQL with its
//     values is ever logged (passwords hashes, sealed secrets and tokens hashes pass through here).
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/roumu/roumu/ports"
)

// Drivers accepted by Open.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Store implements the store ports (tenants, accounts, throttles, sessions, MFA, audit, employees,
// departments, outbox, jobs, procedures, notices, operation requests, webhooks, API tokens), the Transactor
// and the Pinger on one database.
type Store struct {
	driver string
	// write runs writes and transactions; read runs reads outside transactions. On Postgres they are the
	// same pool. On SQLite, which allows one writer at a time, write is a pool of one connection so that
	// writers queue in Go instead of spinning in SQLite's busy handler, and read is a read-only pool
	// that WAL lets run beside the writer.
	write *gorm.DB
	read  *gorm.DB
	// sqlitePath is the database file (empty for Postgres and in-memory SQLite); Migrate locks a sibling
	// file so that two processes do not migrate at once.
	sqlitePath string
	// migrationDSN is the Postgres DSN when the pools have a statement timeout, which statements over whole
	// tables do without: Migrate opens connections of its own with it, backups and restores lift the
	// timeout in their transactions (unbounded). Empty otherwise.
	migrationDSN string
	// savepoints numbers the savepoints of nested transactions.
	savepoints atomic.Uint64
	// batchRows is how many rows one multi-row INSERT carries (CreateEmployees, AppendEvents).
	batchRows int
	// stats refreshes the planner statistics of the register as imports grow it.
	stats plannerStats
}

// Rows per multi-row INSERT. Postgres: few round trips for a large import, and far below its 65,535 bind
// parameters (15 columns × 500 rows). SQLite has no round trips to save, and the driver binds parameters
// in time quadratic in their number per statement: 50 rows is the fastest (100,000 employees in 6.7 s
// where 500 rows take 11.8 s).
const (
	postgresBatchRows = 500
	sqliteBatchRows   = 50
)

var (
	_ ports.TenantStore           = (*Store)(nil)
	_ ports.AccountStore          = (*Store)(nil)
	_ ports.ThrottleStore         = (*Store)(nil)
	_ ports.SessionStore          = (*Store)(nil)
	_ ports.MFAStore              = (*Store)(nil)
	_ ports.AuditStore            = (*Store)(nil)
	_ ports.EmployeeStore         = (*Store)(nil)
	_ ports.DepartmentStore       = (*Store)(nil)
	_ ports.Outbox                = (*Store)(nil)
	_ ports.JobStore              = (*Store)(nil)
	_ ports.ProcedureStore        = (*Store)(nil)
	_ ports.NoticeStore           = (*Store)(nil)
	_ ports.OperationRequestStore = (*Store)(nil)
	_ ports.WebhookStore          = (*Store)(nil)
	_ ports.RateLimitStore        = (*Store)(nil)
	_ ports.APITokenStore         = (*Store)(nil)
	_ ports.IdempotencyStore      = (*Store)(nil)
	_ ports.Transactor            = (*Store)(nil)
	_ ports.Pinger                = (*Store)(nil)
)

// Option tunes Open.
type Option func(*options)

type options struct {
	maxOpenConns     int
	busyTimeout      time.Duration
	connMaxLifetime  time.Duration
	statementTimeout time.Duration
}

// WithMaxOpenConns caps the connection pool (on SQLite: the read pool; writes always use one
// connection). Tests running many stores in parallel against one Postgres keep it small.
func WithMaxOpenConns(n int) Option { return func(o *options) { o.maxOpenConns = n } }

// WithBusyTimeout sets how long SQLite waits for another process's write lock before failing.
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// WithStatementTimeout has Postgres cancel every statement of the store that runs longer than d
// (statement_timeout, waiting for a lock included): a slow or locked database then answers a request with
// ErrUnavailable "timeout" instead of holding it and its connection. Migrate runs without it, on connections
// of its own, because a migration may rebuild a whole table. SQLite ignores it: its statements wait only
// for its own busy timeout.
func WithStatementTimeout(d time.Duration) Option { return func(o *options) { o.statementTimeout = d } }

// Open connects to the database. driver is "sqlite" (dsn: a file path, or a "file:" URI) or "postgres"
// (dsn: a URL or key=value string). It does not migrate: call Migrate.
func Open(ctx context.Context, driver, dsn string, opts ...Option) (*Store, error) {
	o := options{
		maxOpenConns:    max(4, runtime.NumCPU()),
		busyTimeout:     10 * time.Second,
		connMaxLifetime: time.Hour,
	}
	for _, opt := range opts {
		opt(&o)
	}
	var open func() (*Store, error)
	switch driver {
	case DriverSQLite:
		open = func() (*Store, error) { return openSQLite(dsn, o) }
	case DriverPostgres:
		open = func() (*Store, error) { return openPostgres(dsn, o) }
	default:
		return nil, fmt.Errorf("sqlstore: unknown driver %q (want sqlite or postgres)", driver)
	}
	// The first connection to a fresh SQLite file switches it to WAL, which needs the file to itself; a
	// process opening it at that moment is refused at once (SQLite does not wait where waiting could
	// deadlock, whatever the busy timeout), so SQLite's busy answers are retried for the busy timeout.
	deadline := time.Now().Add(o.busyTimeout)
	for {
		s, err := openAndPing(ctx, open)
		if err == nil || !isSQLiteBusy(err) || time.Now().After(deadline) {
			return s, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// openAndPing opens the pools and checks that the database answers.
func openAndPing(ctx context.Context, open func() (*Store, error)) (*Store, error) {
	s, err := open()
	if err != nil {
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// gormConfig is shared by every pool: errors translated by the dialect, no implicit transactions
// around single statements, and a silent logger, because GORM's logger prints SQL with its values
// (hashes, sealed secrets) and errors are returned to the caller anyway.
func gormConfig() *gorm.Config {
	return &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
}

func openPostgres(dsn string, o options) (*Store, error) {
	cfg := postgres.Config{DSN: dsn}
	if o.statementTimeout > 0 {
		ms := strconv.FormatInt(max(1, o.statementTimeout.Milliseconds()), 10)
		cfg.OptionOpenDB = []stdlib.OptionOpenDB{stdlib.OptionBeforeConnect(func(_ context.Context, c *pgx.ConnConfig) error {
			c.RuntimeParams = maps.Clone(c.RuntimeParams) // c is a shallow copy: the map is every connection's
			c.RuntimeParams["statement_timeout"] = ms
			return nil
		})}
	}
	db, err := gorm.Open(postgres.New(cfg), gormConfig())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open postgres: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open postgres: %w", err)
	}
	sqlDB.SetMaxOpenConns(o.maxOpenConns)
	sqlDB.SetMaxIdleConns(o.maxOpenConns)
	sqlDB.SetConnMaxLifetime(o.connMaxLifetime)
	s := &Store{driver: DriverPostgres, write: db, read: db, batchRows: postgresBatchRows}
	if o.statementTimeout > 0 {
		s.migrationDSN = dsn
	}
	return s, nil
}

func openSQLite(dsn string, o options) (*Store, error) {
	path, query, err := splitSQLiteDSN(dsn)
	if err != nil {
		return nil, err
	}
	file := path != ""
	if file {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("sqlstore: create database directory: %w", err)
		}
		if err := createPrivate(path); err != nil {
			return nil, fmt.Errorf("sqlstore: create database file: %w", err)
		}
	}
	base := sqliteDSN(dsn, path, query, o.busyTimeout)
	// _txlock=immediate takes the write lock at BEGIN, so a transaction never has to upgrade a read
	// lock (which SQLite refuses with SQLITE_BUSY instead of waiting) and read-modify-write
	// transactions serialise: SQLite has no SELECT … FOR UPDATE.
	write, err := gorm.Open(sqlite.Open(base+"&_txlock=immediate"), gormConfig())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	wdb, err := write.DB()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	s := &Store{driver: DriverSQLite, write: write, read: write, batchRows: sqliteBatchRows}
	if file {
		s.sqlitePath = path
		// An in-memory database lives in its one connection, so only file databases get a read pool.
		read, err := gorm.Open(sqlite.Open(base+"&_pragma=query_only(1)"), gormConfig())
		if err != nil {
			_ = wdb.Close()
			return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
		}
		rdb, err := read.DB()
		if err != nil {
			_ = wdb.Close()
			return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
		}
		rdb.SetMaxOpenConns(o.maxOpenConns)
		rdb.SetMaxIdleConns(o.maxOpenConns)
		s.read = read
	}
	return s, nil
}

// createPrivate creates the file at path, empty, with mode 0600 when it does not exist yet: the database
// holds HR data, and SQLite would create it 0644 (less the umask), readable by every local user. SQLite
// creates the -wal and -shm files beside a database with the database file's mode (whatever the umask),
// so they are private too. An existing file keeps its mode: the operator may have chosen it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// splitSQLiteDSN returns the file path of a SQLite DSN ("" for an in-memory database) and its query.
func splitSQLiteDSN(dsn string) (path string, query url.Values, err error) {
	if dsn == "" {
		return "", nil, errors.New("sqlstore: empty sqlite dsn")
	}
	rest, rawQuery, _ := strings.Cut(dsn, "?")
	query, err = url.ParseQuery(rawQuery)
	if err != nil {
		return "", nil, fmt.Errorf("sqlstore: sqlite dsn: bad query: %w", err)
	}
	rest = strings.TrimPrefix(rest, "file:")
	if rest == "" || rest == ":memory:" || query.Get("mode") == "memory" {
		return "", query, nil
	}
	return filepath.Clean(rest), query, nil
}

// sqliteDSN builds the driver DSN: the caller's parameters plus the pragmas every connection needs.
// busy_timeout comes first so that switching to WAL waits for a concurrent opener instead of failing.
func sqliteDSN(dsn, path string, query url.Values, busy time.Duration) string {
	q := url.Values{}
	for k, v := range query {
		if k != "_txlock" {
			q[k] = v
		}
	}
	pragmas := []string{
		fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()),
		"foreign_keys(1)",
	}
	if path != "" {
		// mmap_size: reads map the file instead of copying pages into each connection's 2 MiB cache with a
		// system call apiece; a filtered listing of a 100,000-employee register takes 2 ms instead of 5.
		// It reserves address space, not memory, and the pool's connections share the mapped pages.
		pragmas = append(pragmas, "journal_mode(WAL)", "synchronous(NORMAL)", "mmap_size(268435456)")
	}
	q["_pragma"] = append(pragmas, q["_pragma"]...)
	name := path
	if path == "" {
		name, _, _ = strings.Cut(dsn, "?")
	}
	return name + "?" + q.Encode()
}

// unbounded lifts the statement timeout (WithStatementTimeout) for the rest of the transaction tx, whose
// statements read or write whole tables (a backup, a restore).
func (s *Store) unbounded(ctx context.Context, tx gorm.ConnPool) error {
	if s.migrationDSN == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, "SET LOCAL statement_timeout = 0")
	return err
}

// Close closes every pool.
func (s *Store) Close() error {
	var errs []error
	for _, db := range s.pools() {
		sqlDB, err := db.DB()
		if err == nil {
			err = sqlDB.Close()
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Store) pools() []*gorm.DB {
	if s.read == s.write {
		return []*gorm.DB{s.write}
	}
	return []*gorm.DB{s.write, s.read}
}

// Ping reports whether the database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	for _, db := range s.pools() {
		sqlDB, err := db.DB()
		if err == nil {
			err = sqlDB.PingContext(ctx)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: ping: %w: %w", ports.ErrUnavailable, err)
		}
	}
	return nil
}

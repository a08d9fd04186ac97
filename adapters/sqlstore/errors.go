package sqlstore

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

// translate turns a database error into the boundary's kinds, once, here: a missing row is
// ports.ErrNotFound and a unique or foreign-key violation ports.ErrConflict, both without the driver's
// text (which names tables and values). Anything else is wrapped with the operation's name for the logs;
// the HTTP adapter shows such errors only as an internal error. A database that cannot be reached (down,
// restarting, the network cut) is ports.ErrUnavailable: the caller may retry later (503), nothing is wrong
// with the request.
//
// Two more kinds of ErrUnavailable have a code of their own, because the operator, not the client, must act:
// storage_full (SQLite's SQLITE_FULL, Postgres's disk_full: the disk or the database's quota is full) and
// timeout (Postgres cancelled the statement after database.statement_timeout, or a lock wait timed out).
// Either ends the statement, and with it the transaction: nothing of the request was stored.
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case storageFull(err):
		return fmt.Errorf("sqlstore: %s: %w: %w", op, errStorageFull, err)
	case timedOut(err):
		return fmt.Errorf("sqlstore: %s: %w: %w", op, errTimeout, err)
	case unreachable(err):
		return fmt.Errorf("sqlstore: %s: %w: %w", op, ports.ErrUnavailable, err)
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("sqlstore: %s: %w", op, ports.ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey), errors.Is(err, gorm.ErrForeignKeyViolated):
		return fmt.Errorf("sqlstore: %s: %w", op, ports.ErrConflict)
	default:
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
}

// unreachable tells whether err says the database could not be reached or the connection broke. A
// connection pgx closed when it broke mid-transaction answers the next statement (often the COMMIT) with
// pgconn.ErrConnClosed.
func unreachable(err error) bool {
	var opErr *net.OpError
	var connectErr *pgconn.ConnectError
	return errors.As(err, &opErr) || errors.As(err, &connectErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, pgconn.ErrConnClosed) ||
		pgconn.Timeout(err)
}

var (
	errStorageFull = ports.NewError(ports.ErrUnavailable, "storage_full",
		"The service cannot store data at the moment: its storage is full. Please try again later.",
		"保存領域に空きがないため、現在データを保存できません。しばらくしてからお試しください。")
	errTimeout = ports.NewError(ports.ErrUnavailable, "timeout",
		"The database took too long to answer, and the request was stopped. Please try again later.",
		"データベースの応答に時間がかかりすぎたため、処理を中止しました。しばらくしてからお試しください。")
)

// Postgres error codes (SQLSTATE) that translate tells apart.
const (
	pgDiskFull         = "53100" // disk_full
	pgQueryCanceled    = "57014" // query_canceled: statement_timeout, or a cancel request
	pgLockNotAvailable = "55P03" // lock_not_available: lock_timeout
)

// storageFull tells whether err says the database has no room left: SQLITE_FULL (13, in the low byte of
// extended codes) or Postgres's disk_full.
func storageFull(err error) bool {
	var coded interface{ Code() int }
	return (errors.As(err, &coded) && coded.Code()&0xff == 13) || pgCode(err) == pgDiskFull
}

// timedOut tells whether Postgres gave up on a statement: statement_timeout, lock_timeout, or a cancel.
func timedOut(err error) bool {
	code := pgCode(err)
	return code == pgQueryCanceled || code == pgLockNotAvailable
}

// pgCode returns the SQLSTATE of a Postgres error, "" for any other error.
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

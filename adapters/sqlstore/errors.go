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
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
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

// unreachable tells whether err says the database could not be reached or the connection broke.
func unreachable(err error) bool {
	var opErr *net.OpError
	var connectErr *pgconn.ConnectError
	return errors.As(err, &opErr) || errors.As(err, &connectErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || pgconn.Timeout(err)
}

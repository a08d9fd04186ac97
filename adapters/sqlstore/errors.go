package sqlstore

import (
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

// translate turns a database error into the boundary's kinds, once, here: a missing row is
// ports.ErrNotFound and a unique or foreign-key violation ports.ErrConflict, both without the driver's
// text (which names tables and values). Anything else is wrapped with the operation's name for the logs;
// the HTTP adapter shows such errors only as an internal error.
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("sqlstore: %s: %w", op, ports.ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey), errors.Is(err, gorm.ErrForeignKeyViolated):
		return fmt.Errorf("sqlstore: %s: %w", op, ports.ErrConflict)
	default:
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
}

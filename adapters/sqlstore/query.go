package sqlstore

import (
	"context"

	"gorm.io/gorm"
)

// insert stores a new row; a taken key is ports.ErrConflict. Inside a caller's transaction it runs in a
// savepoint: a failed statement aborts a whole Postgres transaction, and a conflict is an answer the
// caller may want to act on without losing the transaction (as it can on SQLite and the memory store).
func (s *Store) insert(ctx context.Context, op string, row any) error {
	return s.guard(ctx, op, func(db *gorm.DB) error { return db.Create(row).Error })
}

// guard runs one write that may fail with a constraint violation, in a savepoint when ctx carries a
// transaction, and translates its error.
func (s *Store) guard(ctx context.Context, op string, write func(db *gorm.DB) error) error {
	if s.txFrom(ctx) == nil {
		return translate(op, write(s.writer(ctx)))
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		return translate(op, write(s.writer(ctx)))
	})
}

// first loads the one row that scope selects and converts it; no row is ports.ErrNotFound.
func first[Rec, Row any](ctx context.Context, s *Store, op string, scope func(*gorm.DB) *gorm.DB, conv func(*Row) Rec) (Rec, error) {
	var row Row
	if err := scope(s.reader(ctx)).Take(&row).Error; err != nil {
		var zero Rec
		return zero, translate(op, err)
	}
	return conv(&row), nil
}

// list loads the rows that scope selects and orders and converts them; none is an empty slice.
func list[Rec, Row any](ctx context.Context, s *Store, op string, scope func(*gorm.DB) *gorm.DB, conv func(*Row) Rec) ([]Rec, error) {
	var rows []Row
	if err := scope(s.reader(ctx)).Find(&rows).Error; err != nil {
		return nil, translate(op, err)
	}
	out := make([]Rec, len(rows))
	for i := range rows {
		out[i] = conv(&rows[i])
	}
	return out, nil
}

package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// txKey carries the open transaction in a context. The value names its Store, so a context from one
// Store's transaction never leaks into another database.
type txKey struct{}

type txValue struct {
	store *Store
	db    *gorm.DB
}

// InTx runs fn in one transaction; every store call made with the context fn receives joins it. A nested
// InTx joins the outer transaction in a savepoint: its failure undoes only its own writes (as in the
// memory store), and the outer transaction goes on.
//
// Inside fn, write only with fn's context: on SQLite the transaction holds the one write connection, so
// a write with another context waits for it until that context ends (the memory store deadlocks alike).
// On Postgres a transaction that appends to the audit chain holds the chain's lock until it ends, so
// append last.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if tx := s.txFrom(ctx); tx != nil {
		return s.savepoint(ctx, tx, fn)
	}
	var fnErr error
	err := s.write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		fnErr = fn(withTx(ctx, s, tx))
		return fnErr
	})
	if fnErr != nil {
		return fnErr // the caller's own error (or one a store call already translated), unchanged
	}
	return translate("transaction", err)
}

// savepoint runs fn inside tx between SAVEPOINT and RELEASE, rolling back to the savepoint when fn
// fails. (GORM's nested Transaction never releases its savepoints, and they pile up in Postgres.)
func (s *Store) savepoint(ctx context.Context, tx *gorm.DB, fn func(ctx context.Context) error) error {
	name := fmt.Sprintf("roumu_sp_%d", s.savepoints.Add(1))
	if err := tx.WithContext(ctx).Exec("SAVEPOINT " + name).Error; err != nil {
		return translate("savepoint", err)
	}
	if err := fn(ctx); err != nil {
		if rbErr := tx.WithContext(context.WithoutCancel(ctx)).Exec("ROLLBACK TO SAVEPOINT " + name).Error; rbErr != nil {
			return errors.Join(err, translate("rollback to savepoint", rbErr))
		}
		return err
	}
	return translate("release savepoint", tx.WithContext(ctx).Exec("RELEASE SAVEPOINT "+name).Error)
}

func withTx(ctx context.Context, s *Store, tx *gorm.DB) context.Context {
	return context.WithValue(ctx, txKey{}, txValue{store: s, db: tx})
}

func (s *Store) txFrom(ctx context.Context) *gorm.DB {
	if v, ok := ctx.Value(txKey{}).(txValue); ok && v.store == s {
		return v.db
	}
	return nil
}

// writer returns the handle for a statement that writes: the context's transaction, else the write pool.
func (s *Store) writer(ctx context.Context) *gorm.DB {
	if tx := s.txFrom(ctx); tx != nil {
		return tx.WithContext(ctx)
	}
	return s.write.WithContext(ctx)
}

// reader returns the handle for a statement that only reads: the context's transaction (so a
// transaction sees its own writes), else the read pool.
func (s *Store) reader(ctx context.Context) *gorm.DB {
	if tx := s.txFrom(ctx); tx != nil {
		return tx.WithContext(ctx)
	}
	return s.read.WithContext(ctx)
}

// forUpdate locks the selected rows until the transaction ends. Postgres needs it for read-modify-write;
// the SQLite dialect drops the clause, where the immediate transaction already holds the write lock.
func forUpdate(db *gorm.DB) *gorm.DB {
	return db.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
}

// mutable is the row type of a record that an UpdateX(fn) method changes: it converts to the record and
// back, and restores from the stored record the fields that may not change.
type mutable[Rec any] interface {
	record() Rec
	setRecord(next, stored Rec)
}

// update is the one read-modify-write of the package: in a transaction (the caller's, or a new one) it
// loads the row that scope selects under a write lock, applies fn to its record and stores the columns
// named. An error from fn is returned as it is and nothing is written; no row is ports.ErrNotFound.
func update[Rec any, Row any, P interface {
	*Row
	mutable[Rec]
}](ctx context.Context, s *Store, op string, scope func(*gorm.DB) *gorm.DB, columns []string, fn func(*Rec) error) (Rec, error) {
	return updateTx[Rec, Row, P](ctx, s, op, scope, columns, func(_ context.Context, r *Rec) error { return fn(r) })
}

// updateTx is update with fn given the transaction's context, for a record whose update also reads and
// writes other rows (an employee's changes) under the same lock and in the same transaction.
func updateTx[Rec any, Row any, P interface {
	*Row
	mutable[Rec]
}](ctx context.Context, s *Store, op string, scope func(*gorm.DB) *gorm.DB, columns []string, fn func(context.Context, *Rec) error) (Rec, error) {
	var out Rec
	err := s.InTx(ctx, func(ctx context.Context) error {
		var row Row
		if err := scope(forUpdate(s.writer(ctx))).Take(&row).Error; err != nil {
			return translate(op, err)
		}
		stored := P(&row).record()
		next := stored
		if err := fn(ctx, &next); err != nil {
			return err
		}
		P(&row).setRecord(next, stored)
		if err := scope(s.writer(ctx).Model(&row)).Select(columns).Updates(&row).Error; err != nil {
			return translate(op, err)
		}
		out = P(&row).record()
		return nil
	})
	return out, err
}

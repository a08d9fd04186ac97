package sqlstore

import (
	"context"

	"github.com/pressly/goose/v3"
	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

// ExplainListEmployees returns the plan of the statement ListEmployees(q) runs, one line per row: EXPLAIN
// (ANALYZE, BUFFERS) on Postgres, EXPLAIN QUERY PLAN on SQLite. For tests and benchmarks that check
// which index serves a listing.
func (s *Store) ExplainListEmployees(ctx context.Context, q ports.EmployeeQuery) ([]string, error) {
	scope, err := s.employeePage(q)
	if err != nil {
		return nil, err
	}
	stmt := scope(s.read.WithContext(ctx).Session(&gorm.Session{DryRun: true})).Find(&[]employeeRow{}).Statement
	explain := "EXPLAIN QUERY PLAN "
	if s.driver == DriverPostgres {
		explain = "EXPLAIN (ANALYZE, BUFFERS) "
	}
	rows, err := s.read.WithContext(ctx).Raw(explain+stmt.SQL.String(), stmt.Vars...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		if err := rows.Scan(vals...); err != nil {
			return nil, err
		}
		// The plan's text is the last column: Postgres has only it, SQLite's comes after id, parent, notused.
		plan = append(plan, fmtAny(*vals[len(vals)-1].(*any)))
	}
	return plan, rows.Err()
}

func fmtAny(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// MigrateUpTo applies the migrations up to version only, without the migrators' lock, for tests of a
// migration that converts rows written under an older schema.
func (s *Store) MigrateUpTo(ctx context.Context, version int64) error {
	dialect := goose.DialectSQLite3
	if s.driver == DriverPostgres {
		dialect = goose.DialectPostgres
	}
	sqlDB, err := s.write.DB()
	if err != nil {
		return err
	}
	p, err := s.migrationProvider(sqlDB, dialect)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// Exec runs a statement on the write pool, for tests that write rows as an older schema had them.
func (s *Store) Exec(ctx context.Context, sql string, args ...any) error {
	return s.write.WithContext(ctx).Exec(sql, args...).Error
}

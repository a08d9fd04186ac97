package sqlstore

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/roumu/roumu/ports"
)

// Restore reads a stream that Snapshot wrote (of this dialect or the other) into this database, which
// must be migrated to the backup's schema version and, without opts.Force, empty. The header is checked
// first (format, schema version, the same tables and columns); then, in one transaction, the tables are
// emptied (with Force), every row is converted to the column's kind here and inserted, table by table in
// foreign-key order, the row counts are checked against the header and the planner statistics refreshed.
// Any error rolls everything back. With opts.VerifyOnly the same reading and conversion run without a
// transaction and nothing is written.
func (s *Store) Restore(ctx context.Context, r io.Reader, opts ports.RestoreOptions) (ports.BackupManifest, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), maxBackupLine)
	h, err := readHeader(sc)
	if err != nil {
		return ports.BackupManifest{}, err
	}
	db, err := s.write.DB()
	if err != nil {
		return ports.BackupManifest{}, fmt.Errorf("sqlstore: restore: %w", err)
	}
	plan, err := s.restorePlan(ctx, db, h)
	if err != nil {
		return h.manifest(), err
	}
	if !opts.Force {
		if err := s.refuseNotEmpty(ctx, db, plan); err != nil {
			return h.manifest(), err
		}
	}
	if opts.VerifyOnly {
		return h.manifest(), s.readRows(ctx, sc, h, plan, nil)
	}
	err = s.InTx(ctx, func(ctx context.Context) error {
		tx := s.writer(ctx).Statement.ConnPool
		if opts.Force {
			if err := s.emptyTables(ctx, tx, plan); err != nil {
				return fmt.Errorf("sqlstore: restore: emptying the database: %w", err)
			}
		}
		ins := &inserter{s: s, tx: tx}
		if err := s.readRows(ctx, sc, h, plan, ins); err != nil {
			return err
		}
		return s.checkRestored(ctx, tx, h)
	})
	return h.manifest(), err
}

func readHeader(sc *bufio.Scanner) (backupHeader, error) {
	var h backupHeader
	if !sc.Scan() {
		return h, damagedStream("no header", sc.Err())
	}
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Format != backupFormat {
		return h, ports.NewError(ports.ErrInvalid, "backup_not_roumu", "the file is not a Roumu backup",
			"このファイルは Roumu のバックアップではありません")
	}
	if h.FormatVersion != backupFormatVersion {
		return h, ports.NewError(ports.ErrPreconditionFailed, "backup_format_version",
			fmt.Sprintf("the backup is in format version %d, which this release does not read (it reads %d)", h.FormatVersion, backupFormatVersion),
			fmt.Sprintf("バックアップの形式バージョン %d はこのリリースでは読めません(読めるのは %d)", h.FormatVersion, backupFormatVersion))
	}
	return h, nil
}

// damagedStream reports a stream that does not hold what its header says. A read error of the sealed file
// underneath (already a boundary error: damaged, truncated) is returned as it is.
func damagedStream(what string, readErr error) error {
	var pe *ports.Error
	if errors.As(readErr, &pe) {
		return readErr
	}
	return ports.NewError(ports.ErrInvalid, "backup_damaged", "the backup is damaged: "+what, "バックアップが破損しています: "+what)
}

// restoreTable is a table of the backup matched to the database's: for each column of the backup, its
// index in the target's columns and its kinds on both sides.
type restoreTable struct {
	target  tableInfo
	columns []restoreColumn
}

type restoreColumn struct {
	name       string
	from, kind string // the backup's kind, and the target's
}

// restorePlan checks the backup's header against this database (schema version, tables, columns, the
// order of the tables) and matches its columns to the database's.
func (s *Store) restorePlan(ctx context.Context, db *sql.DB, h backupHeader) ([]restoreTable, error) {
	version, err := schemaVersion(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: restore: reading the schema version: %w", err)
	}
	if version != h.SchemaVersion {
		return nil, ports.NewError(ports.ErrPreconditionFailed, "backup_schema_version",
			fmt.Sprintf("the backup is of schema version %d but this database is at version %d: restore it into a database migrated by the release that took it (at version %d), then upgrade",
				h.SchemaVersion, version, h.SchemaVersion),
			fmt.Sprintf("バックアップのスキーマバージョンは %d、このデータベースは %d です。取得したリリース(バージョン %d)で移行したデータベースに復元してから更新してください",
				h.SchemaVersion, version, h.SchemaVersion))
	}
	tables, err := s.catalog(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: restore: reading the catalog: %w", err)
	}
	byName := make(map[string]tableInfo, len(tables))
	for _, t := range tables {
		byName[t.name] = t
	}
	mismatch := func(format string, args ...any) error {
		what := fmt.Sprintf(format, args...)
		return ports.NewError(ports.ErrPreconditionFailed, "backup_schema_mismatch",
			"the backup does not match this database's schema: "+what, "バックアップがこのデータベースのスキーマと一致しません: "+what)
	}
	if len(h.Tables) != len(tables) {
		return nil, mismatch("%d tables in the backup, %d here", len(h.Tables), len(tables))
	}
	plan := make([]restoreTable, 0, len(h.Tables))
	seen := map[string]bool{}
	for _, bt := range h.Tables {
		t, ok := byName[bt.Name]
		if !ok || seen[bt.Name] {
			return nil, mismatch("table %s", bt.Name)
		}
		for _, ref := range t.refs {
			if !seen[ref] {
				return nil, mismatch("table %s comes before %s, which it refers to", bt.Name, ref)
			}
		}
		seen[bt.Name] = true
		kinds := make(map[string]string, len(t.columns))
		for _, c := range t.columns {
			kinds[c.name] = c.kind
		}
		rt := restoreTable{target: t}
		for _, c := range bt.Columns {
			kind, ok := kinds[c.Name]
			if !ok || !convertible(c.Kind, kind) {
				return nil, mismatch("column %s.%s", bt.Name, c.Name)
			}
			delete(kinds, c.Name)
			rt.columns = append(rt.columns, restoreColumn{name: c.Name, from: c.Kind, kind: kind})
		}
		if len(kinds) > 0 || bt.Rows < 0 {
			return nil, mismatch("columns of %s", bt.Name)
		}
		plan = append(plan, rt)
	}
	return plan, nil
}

// convertible tells whether values of a backup's column kind can be written to a column of the target's.
func convertible(from, to string) bool {
	switch {
	case from == to:
		return true
	case to == kindText: // SQLite keeps instants and JSON as text
		return from == kindTimestamp || from == kindJSON
	case to == kindInteger: // and booleans as 0/1
		return from == kindBoolean
	case from == kindText:
		return to == kindTimestamp || to == kindJSON
	case from == kindInteger:
		return to == kindBoolean
	}
	return false
}

func (s *Store) refuseNotEmpty(ctx context.Context, db *sql.DB, plan []restoreTable) error {
	for _, t := range plan {
		var one int
		err := db.QueryRowContext(ctx, "SELECT 1 FROM "+quote(t.target.name)+" LIMIT 1").Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlstore: restore: %w", err)
		}
		return ports.NewError(ports.ErrConflict, "restore_not_empty",
			fmt.Sprintf("the database is not empty (table %s has rows): restore only into an empty database, or replace its data under an approved restore request (--request ID)", t.target.name),
			fmt.Sprintf("データベースが空ではありません(テーブル %s に行があります)。空のデータベースに復元するか、承認済みの復元申請（--request ID）で置き換えてください", t.target.name))
	}
	return nil
}

// readRows reads every row after the header, converts it for the target and hands it to ins (nil: only
// check), and requires the stream to end exactly after the rows the header counts.
func (s *Store) readRows(ctx context.Context, sc *bufio.Scanner, h backupHeader, plan []restoreTable, ins *inserter) error {
	for i, bt := range h.Tables {
		t := plan[i]
		if ins != nil {
			ins.begin(t)
		}
		for n := int64(0); n < bt.Rows; n++ {
			if !sc.Scan() {
				return damagedStream(fmt.Sprintf("table %s ends after %d of %d rows", bt.Name, n, bt.Rows), sc.Err())
			}
			row, err := decodeRow(sc.Bytes(), t.columns)
			if err != nil {
				return damagedStream(fmt.Sprintf("table %s, row %d: %v", bt.Name, n+1, err), nil)
			}
			if ins != nil {
				if err := ins.add(ctx, row); err != nil {
					return fmt.Errorf("sqlstore: restore: table %s: %w", bt.Name, err)
				}
			}
		}
		if ins != nil {
			if err := ins.flush(ctx); err != nil {
				return fmt.Errorf("sqlstore: restore: table %s: %w", bt.Name, err)
			}
		}
	}
	if sc.Scan() {
		return damagedStream("more rows than the header counts", nil)
	}
	if err := sc.Err(); err != nil {
		return damagedStream("unreadable", err)
	}
	return ctx.Err()
}

// decodeRow converts one line into the parameters of the target's columns, in the backup's column order.
func decodeRow(line []byte, cols []restoreColumn) ([]any, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return nil, err
	}
	if len(raw) != len(cols) {
		return nil, fmt.Errorf("%d values for %d columns", len(raw), len(cols))
	}
	out := make([]any, len(raw))
	for i, c := range cols {
		v, err := decodeValue(raw[i], c.from, c.kind)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
		out[i] = v
	}
	return out, nil
}

// decodeValue converts a value of the backup's kind from into the parameter for a column of kind to.
func decodeValue(raw json.RawMessage, from, to string) (any, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	switch from {
	case kindInteger:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return nil, err
		}
		if to == kindBoolean {
			if n != 0 && n != 1 {
				return nil, fmt.Errorf("%d is no boolean", n)
			}
			return n == 1, nil
		}
		return n, nil
	case kindBoolean:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, err
		}
		if to == kindInteger {
			if b {
				return int64(1), nil
			}
			return int64(0), nil
		}
		return b, nil
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return nil, err
	}
	switch {
	case from == kindBytes:
		return base64.StdEncoding.DecodeString(str)
	case from == kindTimestamp || to == kindTimestamp:
		t, err := parseTime(str)
		if err != nil {
			return nil, err
		}
		if to == kindTimestamp {
			return t, nil
		}
		return formatTime(t), nil
	case (from == kindJSON || to == kindJSON) && !json.Valid([]byte(str)):
		return nil, errors.New("invalid JSON")
	}
	return str, nil
}

// connPool is what the restore writes through: the transaction's connection.
type connPool interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inserter writes the rows of one table at a time in multi-row INSERTs.
type inserter struct {
	s       *Store
	tx      connPool
	table   restoreTable
	perStmt int
	args    []any
	rows    int
}

// maxParams keeps a statement's parameters under both drivers' limits (Postgres: 65,535; SQLite: 32,766).
const maxParams = 30_000

func (ins *inserter) begin(t restoreTable) {
	ins.table, ins.args, ins.rows = t, ins.args[:0], 0
	ins.perStmt = max(1, min(ins.s.batchRows, maxParams/max(1, len(t.columns))))
}

func (ins *inserter) add(ctx context.Context, row []any) error {
	ins.args = append(ins.args, row...)
	ins.rows++
	if ins.rows == ins.perStmt {
		return ins.flush(ctx)
	}
	return nil
}

func (ins *inserter) flush(ctx context.Context) error {
	if ins.rows == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + quote(ins.table.target.name) + " (")
	for i, c := range ins.table.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(c.name))
	}
	b.WriteString(") VALUES ")
	n := len(ins.table.columns)
	for r := range ins.rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range n {
			if c > 0 {
				b.WriteString(", ")
			}
			if ins.s.driver == DriverPostgres {
				b.WriteString("$" + strconv.Itoa(r*n+c+1))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	if _, err := ins.tx.ExecContext(ctx, b.String(), ins.args...); err != nil {
		return translate("restore", err)
	}
	ins.args, ins.rows = ins.args[:0], 0
	return nil
}

// emptyTables deletes every row of the tables, for a forced restore. The audit table refuses deletions by
// trigger, whoever asks: its triggers are set aside for this transaction only (dropped and created again on
// SQLite, disabled and enabled on Postgres), so a restore that fails leaves them as they were.
func (s *Store) emptyTables(ctx context.Context, tx connPool, plan []restoreTable) error {
	names := make([]string, len(plan))
	for i, t := range plan {
		names[i] = quote(t.target.name)
	}
	if s.driver == DriverPostgres {
		for _, n := range names {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE "+n+" DISABLE TRIGGER USER"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "TRUNCATE "+strings.Join(names, ", ")); err != nil {
			return err
		}
		for _, n := range names {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE "+n+" ENABLE TRIGGER USER"); err != nil {
				return err
			}
		}
		return nil
	}
	triggers, err := sqliteTriggers(ctx, tx)
	if err != nil {
		return err
	}
	for _, t := range triggers {
		if _, err := tx.ExecContext(ctx, "DROP TRIGGER "+quote(t.name)); err != nil {
			return err
		}
	}
	for i := len(names) - 1; i >= 0; i-- { // children first
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+names[i]); err != nil {
			return err
		}
	}
	for _, t := range triggers {
		if _, err := tx.ExecContext(ctx, t.definition); err != nil {
			return err
		}
	}
	return nil
}

// sqliteTrigger is a trigger of a SQLite database: its name and the statement that creates it.
type sqliteTrigger struct{ name, definition string }

func sqliteTriggers(ctx context.Context, tx connPool) ([]sqliteTrigger, error) {
	rows, err := tx.QueryContext(ctx, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sqliteTrigger
	for rows.Next() {
		var t sqliteTrigger
		if err := rows.Scan(&t.name, &t.definition); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// checkRestored counts each table's rows against the header, and refreshes the planner statistics.
func (s *Store) checkRestored(ctx context.Context, tx connPool, h backupHeader) error {
	for _, t := range h.Tables {
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+quote(t.Name)).Scan(&n); err != nil {
			return translate("restore", err)
		}
		if n != t.Rows {
			return fmt.Errorf("sqlstore: restore: table %s has %d rows after the restore, the backup %d", t.Name, n, t.Rows)
		}
	}
	// Table by table: a bare ANALYZE on Postgres would also take every other schema of the database, and its
	// locks, inside this transaction.
	for _, t := range h.Tables {
		if _, err := tx.ExecContext(ctx, "ANALYZE "+quote(t.Name)); err != nil {
			return translate("restore: analyze", err)
		}
	}
	return nil
}

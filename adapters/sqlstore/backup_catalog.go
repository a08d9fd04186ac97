package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// The catalog of the tables a backup holds, read from the database itself (sqlite_master and its pragmas,
// information_schema and pg_constraint), so that a table added by a later migration is backed up without
// anyone remembering to list it. goose's version table is left out: it is the schema's, not the data's.

// gooseTable is goose's version table, the one table a backup leaves out.
const gooseTable = "goose_db_version"

// Column kinds of a backup, the common ground of both dialects. SQLite knows only text, integer and bytes
// (its booleans are 0/1, its instants and JSON text); Postgres also booleans, instants and JSON, which a
// backup keeps as such, and a restore converts each value to the kind of the target's column.
const (
	kindText      = "text"
	kindInteger   = "integer"
	kindBoolean   = "boolean"
	kindTimestamp = "timestamp"
	kindBytes     = "bytes"
	kindJSON      = "json"
)

// querier is what the catalog and the snapshot read through: a transaction (or a pool, for the restore's
// checks before its transaction).
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

type tableInfo struct {
	name    string
	columns []columnInfo // stored columns only: generated ones are computed again on restore
	refs    []string     // the other tables its foreign keys refer to
	self    []selfRef    // its foreign keys to itself (a department's parent)
}

type columnInfo struct {
	name string
	kind string
}

// selfRef is a foreign key of a table to itself: the row whose `to` columns equal another row's `from`
// columns must be written first.
type selfRef struct{ from, to []string }

// foreignKey is one column pair of a foreign key, as both catalogs list them.
type foreignKey struct {
	table, id, from, refTable, to string
}

// catalog returns every table of the store (goose's excepted), each after the tables it refers to.
func (s *Store) catalog(ctx context.Context, q querier) ([]tableInfo, error) {
	names, err := queryStrings(ctx, q, s.tablesQuery())
	if err != nil {
		return nil, err
	}
	tables := make(map[string]*tableInfo, len(names))
	for _, name := range names {
		t := &tableInfo{name: name}
		if t.columns, err = s.columns(ctx, q, name); err != nil {
			return nil, err
		}
		tables[name] = t
	}
	fks, err := s.foreignKeys(ctx, q, names)
	if err != nil {
		return nil, err
	}
	addForeignKeys(tables, fks)
	return orderByReferences(tables)
}

func (s *Store) tablesQuery() string {
	if s.driver == DriverPostgres {
		return `SELECT table_name FROM information_schema.tables
		         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '` + gooseTable + `'`
	}
	return `SELECT name FROM sqlite_master
	         WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> '` + gooseTable + `'`
}

func (s *Store) columns(ctx context.Context, q querier, table string) ([]columnInfo, error) {
	query := `SELECT name, type FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid`
	if s.driver == DriverPostgres {
		query = `SELECT column_name, data_type FROM information_schema.columns
		          WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'
		          ORDER BY ordinal_position`
	}
	rows, err := q.QueryContext(ctx, query, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []columnInfo
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		kind, ok := columnKinds[strings.ToLower(typ)]
		if !ok {
			return nil, fmt.Errorf("table %s: column %s has type %s, which backups do not know", table, name, typ)
		}
		cols = append(cols, columnInfo{name: name, kind: kind})
	}
	return cols, rows.Err()
}

// columnKinds maps the declared types of both dialects to the kinds of a backup.
var columnKinds = map[string]string{
	// SQLite (STRICT tables)
	"text": kindText, "integer": kindInteger, "blob": kindBytes,
	// Postgres
	"character varying": kindText, "bigint": kindInteger, "smallint": kindInteger,
	"boolean": kindBoolean, "timestamp with time zone": kindTimestamp, "bytea": kindBytes, "jsonb": kindJSON, "json": kindJSON,
}

func (s *Store) foreignKeys(ctx context.Context, q querier, tables []string) ([]foreignKey, error) {
	var fks []foreignKey
	scan := func(query string, args ...any) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var fk foreignKey
			var to sql.NullString
			if err := rows.Scan(&fk.table, &fk.id, &fk.from, &fk.refTable, &to); err != nil {
				return err
			}
			fk.to = to.String // NULL (SQLite: the primary key, implied) matters only to a reference to itself
			fks = append(fks, fk)
		}
		return rows.Err()
	}
	if s.driver == DriverPostgres {
		err := scan(`SELECT src.relname, c.conname, a.attname, dst.relname, b.attname
		  FROM pg_constraint c
		  JOIN pg_class src ON src.oid = c.conrelid
		  JOIN pg_class dst ON dst.oid = c.confrelid
		  JOIN pg_namespace n ON n.oid = src.relnamespace
		  CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(src_col, dst_col, pos)
		  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.src_col
		  JOIN pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = k.dst_col
		 WHERE c.contype = 'f' AND n.nspname = current_schema()
		 ORDER BY src.relname, c.conname, k.pos`)
		return fks, err
	}
	for _, t := range tables {
		if err := scan(`SELECT ?, id, "from", "table", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq`, t, t); err != nil {
			return nil, err
		}
	}
	return fks, nil
}

// addForeignKeys records each table's references, and its references to itself column by column.
func addForeignKeys(tables map[string]*tableInfo, fks []foreignKey) {
	selfIndex := map[[2]string]int{} // (table, key id) → index in the table's self
	for _, fk := range fks {
		t := tables[fk.table]
		if t == nil {
			continue
		}
		if fk.refTable != fk.table {
			if !slices.Contains(t.refs, fk.refTable) {
				t.refs = append(t.refs, fk.refTable)
			}
			continue
		}
		key := [2]string{fk.table, fk.id}
		i, ok := selfIndex[key]
		if !ok {
			i = len(t.self)
			selfIndex[key] = i
			t.self = append(t.self, selfRef{})
		}
		t.self[i].from = append(t.self[i].from, fk.from)
		t.self[i].to = append(t.self[i].to, fk.to)
	}
}

// orderByReferences sorts the tables so that each comes after those it refers to, by name among equals so
// that backups of one schema list their tables alike.
func orderByReferences(tables map[string]*tableInfo) ([]tableInfo, error) {
	var out []tableInfo
	done := map[string]bool{}
	for len(out) < len(tables) {
		var ready []*tableInfo
		for _, t := range tables {
			if !done[t.name] && !slices.ContainsFunc(t.refs, func(r string) bool { return !done[r] && tables[r] != nil }) {
				ready = append(ready, t)
			}
		}
		if len(ready) == 0 {
			return nil, fmt.Errorf("the tables' foreign keys form a cycle")
		}
		slices.SortFunc(ready, func(a, b *tableInfo) int { return cmp.Compare(a.name, b.name) })
		for _, t := range ready {
			done[t.name] = true
			out = append(out, *t)
		}
	}
	return out, nil
}

func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// quote quotes an identifier for both dialects.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

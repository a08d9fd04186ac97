package sqlstore

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/roumu/roumu/ports"
)

// A backup stream (ports.BackupStore) is JSON lines: first the header (backupHeader: format and schema
// versions, the dialect, the time, every table with its columns and row count, in foreign-key order), then
// every row of every table in that order, one JSON array of the row's values per line, in the order of the
// table's columns. Values are dialect-neutral: NULL is null, text a string, an integer a number, a
// boolean true or false, an instant the RFC 3339 UTC text with microseconds that SQLite stores, bytes
// base64, a JSON document a string of its compact text with sorted keys. backupfile compresses and seals
// the stream.
const (
	backupFormat        = "roumu-backup"
	backupFormatVersion = 1
	// maxBackupLine bounds one line of a stream: a row holds at most an employee's document or a webhook's
	// body, far below.
	maxBackupLine = 64 << 20
)

var _ ports.BackupStore = (*Store)(nil)

type backupHeader struct {
	Format        string        `json:"format"`
	FormatVersion int           `json:"format_version"`
	SchemaVersion int64         `json:"schema_version"`
	Dialect       string        `json:"dialect"`
	CreatedAt     string        `json:"created_at"`
	Tables        []backupTable `json:"tables"`
}

type backupTable struct {
	Name    string         `json:"name"`
	Columns []backupColumn `json:"columns"`
	Rows    int64          `json:"rows"`
}

type backupColumn struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

func (h backupHeader) manifest() ports.BackupManifest {
	m := ports.BackupManifest{FormatVersion: h.FormatVersion, SchemaVersion: h.SchemaVersion, Dialect: h.Dialect}
	m.CreatedAt, _ = time.Parse(time.RFC3339Nano, h.CreatedAt)
	for _, t := range h.Tables {
		m.Tables = append(m.Tables, ports.BackupTable{Name: t.Name, Rows: t.Rows})
	}
	return m
}

// Snapshot writes every table to w from one consistent view of the database: one read-only transaction,
// REPEATABLE READ on Postgres (one snapshot for all its statements), a read transaction on SQLite (WAL
// keeps the snapshot of its first read until it ends). Writers go on meanwhile and are not in the backup.
func (s *Store) Snapshot(ctx context.Context, w io.Writer) (ports.BackupManifest, error) {
	db, err := s.read.DB()
	if err != nil {
		return ports.BackupManifest{}, fmt.Errorf("sqlstore: backup: %w", err)
	}
	opts := &sql.TxOptions{ReadOnly: true}
	if s.driver == DriverPostgres {
		opts.Isolation = sql.LevelRepeatableRead
	} else {
		opts = nil // SQLite's driver takes no options: the read pool is query_only anyway
	}
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return ports.BackupManifest{}, translate("backup", err)
	}
	defer func() { _ = tx.Rollback() }() // read only: nothing to commit
	if err := s.unbounded(ctx, tx); err != nil {
		return ports.BackupManifest{}, translate("backup", err)
	}
	h, err := s.snapshot(ctx, tx, w)
	if err != nil {
		return ports.BackupManifest{}, fmt.Errorf("sqlstore: backup: %w", err)
	}
	return h.manifest(), nil
}

func (s *Store) snapshot(ctx context.Context, tx *sql.Tx, w io.Writer) (backupHeader, error) {
	tables, err := s.catalog(ctx, tx)
	if err != nil {
		return backupHeader{}, err
	}
	h := backupHeader{Format: backupFormat, FormatVersion: backupFormatVersion, Dialect: s.driver,
		CreatedAt: time.Now().UTC().Format(timeLayout)}
	if h.SchemaVersion, err = schemaVersion(ctx, tx); err != nil {
		return backupHeader{}, err
	}
	for _, t := range tables {
		bt := backupTable{Name: t.name}
		for _, c := range t.columns {
			bt.Columns = append(bt.Columns, backupColumn{Name: c.name, Kind: c.kind})
		}
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+quote(t.name)).Scan(&bt.Rows); err != nil {
			return backupHeader{}, err
		}
		h.Tables = append(h.Tables, bt)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	line, err := json.Marshal(h)
	if err != nil {
		return backupHeader{}, err
	}
	if _, err := bw.Write(append(line, '\n')); err != nil {
		return backupHeader{}, err
	}
	for i, t := range tables {
		n, err := s.writeRows(ctx, tx, t, bw)
		if err != nil {
			return backupHeader{}, fmt.Errorf("table %s: %w", t.name, err)
		}
		if n != h.Tables[i].Rows {
			return backupHeader{}, fmt.Errorf("table %s: %d rows read where the snapshot counted %d", t.name, n, h.Tables[i].Rows)
		}
	}
	return h, bw.Flush()
}

// schemaVersion is the highest migration applied, from goose's table.
func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, "SELECT coalesce(max(version_id), 0) FROM "+gooseTable+" WHERE is_applied").Scan(&v)
	return v, err
}

// writeRows writes the table's rows, one line each, and returns how many.
func (s *Store) writeRows(ctx context.Context, tx *sql.Tx, t tableInfo, w *bufio.Writer) (int64, error) {
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = quote(c.name)
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+quote(t.name))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	vals := make([]any, len(t.columns))
	ptrs := make([]any, len(t.columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var lines [][]byte // only for a table that refers to itself, ordered before writing
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		line := []byte{'['}
		for i, c := range t.columns {
			if i > 0 {
				line = append(line, ',')
			}
			if line, err = appendValue(line, c.kind, vals[i]); err != nil {
				return n, fmt.Errorf("column %s: %w", c.name, err)
			}
		}
		line = append(line, ']', '\n')
		n++
		if len(t.self) > 0 {
			lines = append(lines, line)
			continue
		}
		if _, err := w.Write(line); err != nil {
			return n, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	if len(t.self) == 0 {
		return n, nil
	}
	ordered, err := parentsFirst(t, lines)
	if err != nil {
		return n, err
	}
	for _, line := range ordered {
		if _, err := w.Write(line); err != nil {
			return n, err
		}
	}
	return n, nil
}

// appendValue appends the backup form of a value that the driver returned for a column of the kind.
func appendValue(b []byte, kind string, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case time.Time:
		return strconv.AppendQuote(b, formatTime(v)), nil
	case string:
		if kind == kindJSON {
			return appendCanonicalJSON(b, []byte(v))
		}
		return appendJSONString(b, v)
	case []byte:
		switch kind {
		case kindBytes:
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, v)
			return append(b, '"'), nil
		case kindJSON:
			return appendCanonicalJSON(b, v)
		default:
			return appendJSONString(b, string(v))
		}
	default:
		return nil, fmt.Errorf("unexpected value of type %T", v)
	}
}

func appendJSONString(b []byte, s string) ([]byte, error) {
	q, err := json.Marshal(s)
	return append(b, q...), err
}

// appendCanonicalJSON appends a JSON document as a string holding it (so that the document null is not
// NULL), compacted with its object keys sorted as Go writes them: Postgres's jsonb orders keys its own way,
// and the same document then reads alike from both dialects.
func appendCanonicalJSON(b, doc []byte) ([]byte, error) {
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return appendJSONString(b, string(out))
}

// parentsFirst orders the lines of a table that refers to itself so that every row comes after the row it
// refers to, keeping the order of reading otherwise. The table is small (departments): it is held whole.
func parentsFirst(t tableInfo, lines [][]byte) ([][]byte, error) {
	index := make(map[string]int, len(t.columns))
	for i, c := range t.columns {
		index[c.name] = i
	}
	type node struct {
		line    []byte
		parents []string // the keys of the rows it refers to
		done    bool
	}
	nodes := make([]node, len(lines))
	byKey := map[string][]int{} // "to" key of a reference → rows that have it
	for i, line := range lines {
		var vals []json.RawMessage
		if err := json.Unmarshal(line, &vals); err != nil {
			return nil, err
		}
		nodes[i].line = line
		for r, ref := range t.self {
			to, ok := refKey(r, ref.to, index, vals)
			if !ok {
				return nil, fmt.Errorf("the table refers to itself by columns the backup does not know")
			}
			byKey[to] = append(byKey[to], i)
			if from, ok := refKey(r, ref.from, index, vals); ok {
				nodes[i].parents = append(nodes[i].parents, from)
			}
		}
	}
	out := make([][]byte, 0, len(lines))
	var visit func(i int, depth int) error
	visit = func(i int, depth int) error {
		if nodes[i].done {
			return nil
		}
		if depth > len(nodes) {
			return fmt.Errorf("the table's rows refer to each other in a cycle")
		}
		for _, p := range nodes[i].parents {
			for _, j := range byKey[p] {
				if j != i {
					if err := visit(j, depth+1); err != nil {
						return err
					}
				}
			}
		}
		nodes[i].done = true
		out = append(out, nodes[i].line)
		return nil
	}
	for i := range nodes {
		if err := visit(i, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// refKey is the key of the reference's columns in a row, or false when one of them is NULL (no reference)
// or unknown.
func refKey(ref int, cols []string, index map[string]int, vals []json.RawMessage) (string, bool) {
	key := strconv.Itoa(ref)
	for _, c := range cols {
		i, ok := index[c]
		if !ok || string(vals[i]) == "null" {
			return "", false
		}
		key += "\x00" + string(vals[i])
	}
	return key, true
}

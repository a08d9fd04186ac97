package ports

import (
	"context"
	"io"
	"time"
)

// BackupStore is the database side of backup and restore: every table of the store as one plain,
// dialect-neutral stream, read in one consistent snapshot, and the restore of such a stream into an empty,
// migrated database of either dialect. The stream holds sealed values as they are stored: a restored
// database needs the data keyring that sealed them.
type BackupStore interface {
	// Snapshot writes every row of every table to w as of one instant, and returns the manifest it wrote
	// at the head of the stream.
	Snapshot(ctx context.Context, w io.Writer) (BackupManifest, error)
	// Restore reads a stream that Snapshot wrote and writes its rows in one transaction: on any error
	// (a stream that does not parse, another schema version, a row count that does not match, a database
	// that is not empty without Force) nothing is written. A schema version other than the database's is
	// an ErrPreconditionFailed, a database that is not empty an ErrConflict, a damaged stream an
	// ErrInvalid.
	Restore(ctx context.Context, r io.Reader, opts RestoreOptions) (BackupManifest, error)
}

// RestoreOptions tune BackupStore.Restore.
type RestoreOptions struct {
	// VerifyOnly reads and checks the whole stream against the database (schema version, tables and
	// columns, every value, the row counts) and writes nothing: run it over the whole authenticated stream
	// before the restore that writes, so that a damaged file is refused before a transaction starts.
	VerifyOnly bool
	// Force replaces the data of a database that is not empty. Without it such a database is refused.
	Force bool
}

// BackupManifest is the head of a backup stream: what it holds and where it comes from.
type BackupManifest struct {
	FormatVersion int
	// SchemaVersion is the migration version of the database the backup was taken from; a backup restores
	// only into a database at the same version.
	SchemaVersion int64
	Dialect       string // "sqlite" or "postgres": where the backup was taken
	CreatedAt     time.Time
	Tables        []BackupTable // in an order in which every table comes after the tables it refers to
}

// BackupTable is one table of a backup and its number of rows.
type BackupTable struct {
	Name string
	Rows int64
}

// Rows returns the number of rows of all tables.
func (m BackupManifest) Rows() int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}

// BackupSealer encrypts and authenticates backup streams, with a key of its own (never the data keyring).
type BackupSealer interface {
	// Seal returns a writer whose plaintext is sealed into w; Close finishes the file, which is incomplete
	// (and refused by Open) until then.
	Seal(w io.Writer) (io.WriteCloser, error)
	// Open returns the plaintext of a sealed file. A read returns an error wrapping ErrInvalid as soon as
	// the file proves damaged, truncated, reordered or sealed under another key: a reader must read to
	// io.EOF before trusting anything it read.
	Open(r io.Reader) (io.Reader, error)
}

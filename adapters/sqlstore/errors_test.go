package sqlstore

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/roumu/roumu/ports"
)

// sqliteError stands for the SQLite driver's errors, which carry their result code.
type sqliteError int

func (e sqliteError) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e sqliteError) Code() int     { return int(e) }

// TestTranslateUnavailable: a database that is gone, full or too slow is ErrUnavailable, full and too slow
// with a code of their own; whatever the driver says stays in the chain for the logs.
func TestTranslateUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code string // "" = the bare kind
	}{
		{"connection closed mid-transaction", fmt.Errorf("commit: %w", pgconn.ErrConnClosed), ""},
		{"SQLITE_FULL", sqliteError(13), "storage_full"},
		{"Postgres disk_full", &pgconn.PgError{Code: "53100"}, "storage_full"},
		{"statement_timeout", &pgconn.PgError{Code: "57014"}, "timeout"},
		{"lock_timeout", &pgconn.PgError{Code: "55P03"}, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := translate("op", tc.err)
			if !errors.Is(err, ports.ErrUnavailable) || !errors.Is(err, tc.err) {
				t.Fatalf("translate(%v) = %v, want ErrUnavailable wrapping it", tc.err, err)
			}
			code := ""
			if pe, ok := ports.AsError(err); ok {
				code = pe.Code
			}
			if code != tc.code {
				t.Errorf("code %q, want %q", code, tc.code)
			}
		})
	}
	for _, err := range []error{sqliteError(19), &pgconn.PgError{Code: "22001"}} {
		if got := translate("op", err); errors.Is(got, ports.ErrUnavailable) {
			t.Errorf("translate(%v) = %v, which is no outage", err, got)
		}
	}
}

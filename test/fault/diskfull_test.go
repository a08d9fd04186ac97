package fault

import (
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/glebarez/sqlite"
)

// maxPages caps the SQLite database of TestSQLiteDiskFull (PRAGMA max_page_count, per connection): 4 MiB
// at SQLite's 4 KiB pages, room for the schema, a tenant and the first employees.
const maxPages = 1024

// TestSQLiteDiskFull: the SQLite database runs out of room (SQLITE_FULL, as on a full disk; here every
// connection's max_page_count caps the file and the test fills it up itself). A write that needs room
// is answered 503 storage_full and leaves nothing of itself, reading goes on, and once room returns (the
// test frees what it filled) the same process writes again.
//
// Why 503 and not 507 Insufficient Storage: 507 is WebDAV's, which few HTTP clients know, while every client
// and proxy treats 503 as "try again later", which is what the client can do; the code storage_full says
// why, and the operator, not the client, must act.
func TestSQLiteDiskFull(t *testing.T) {
	t.Parallel()
	db := sqliteDatabase(t)
	limit := fmt.Sprintf("?_pragma=max_page_count(%d)", maxPages)
	svc := newService(t, db, "ROUMU_DATABASE_DSN="+db.dsn+limit)
	svc.start()
	token := svc.adminToken()

	filler, err := sql.Open(sqlite.DriverName, db.dsn+limit+"&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer filler.Close()
	if _, err := filler.Exec("CREATE TABLE ballast (b BLOB NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	// Fill every page, large pieces first, then smaller ones into what is left.
	for _, size := range []int{256 << 10, 16 << 10, 1 << 10, 64} {
		for {
			_, err := filler.Exec("INSERT INTO ballast VALUES (randomblob(?))", size)
			if err != nil {
				if !strings.Contains(err.Error(), "full") {
					t.Fatalf("filling: %v", err)
				}
				break
			}
		}
	}

	// Writes go on while the pages they use have room, then one is refused.
	var acknowledged []string
	var refused string
	var answer reply
	for i := 0; refused == "" && i < 500; i++ {
		number := fmt.Sprintf("F%04d", i)
		r, err := svc.request(http.MethodPost, "/api/v1/employees", token, employee(number))
		switch {
		case err != nil:
			t.Fatalf("POST %s: %v", number, err)
		case r.status == http.StatusCreated:
			acknowledged = append(acknowledged, number)
		default:
			refused, answer = number, r
		}
	}
	if refused == "" {
		t.Fatal("500 employees fitted into a full database")
	}
	if p := answer.problem(); answer.status != http.StatusServiceUnavailable || p.Code != "storage_full" ||
		!strings.HasPrefix(answer.header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("the write that found no room: %d %s", answer.status, answer.body)
	}
	conn := db.open(t)
	checkStored := func(want int) {
		t.Helper()
		for what, query := range map[string]string{
			"employees":     "SELECT count(*) FROM employees",
			"hires":         "SELECT count(*) FROM employee_changes",
			"events":        "SELECT count(*) FROM outbox_events WHERE type = 'employee.hired'",
			"audit entries": "SELECT count(*) FROM audit_records WHERE action = 'employee.create'",
		} {
			if n := count(t, conn, query); n != want {
				t.Errorf("%s: %d stored, want %d", what, n, want)
			}
		}
	}
	checkStored(len(acknowledged))
	if n := count(t, conn, "SELECT count(*) FROM employees WHERE employee_number = '"+refused+"'"); n != 0 {
		t.Errorf("the refused employee %s is stored", refused)
	}
	// Reading goes on, unless the request is the first of a new minute: its rate-limit window is a new row.
	if r, err := svc.request(http.MethodGet, "/api/v1/employees?limit=5", token, nil); err != nil ||
		(r.status != http.StatusOK && r.problem().Code != "storage_full") {
		t.Errorf("reading the full database: %v %d %s", err, r.status, r.body)
	}

	if _, err := filler.Exec("DROP TABLE ballast"); err != nil {
		t.Fatal(err)
	}
	svc.call(http.MethodPost, "/api/v1/employees", token, employee(refused), http.StatusCreated, nil)
	checkStored(len(acknowledged) + 1)
	t.Logf("%d employees stored in the filled database, the next refused 503 storage_full; stored once room returned",
		len(acknowledged))
}

package fault

import (
	"net/http"
	"testing"
	"time"
)

// TestStatementTimeoutHolds: with database.statement_timeout at 1 s, a write that waits behind a lock held
// by another transaction (the test's, as a stuck batch job or a long migration would) is cancelled by
// Postgres and answered 503 timeout instead of hanging, leaves nothing of itself, and reads go on meanwhile;
// once the lock is gone the same process writes again.
func TestStatementTimeoutHolds(t *testing.T) {
	t.Parallel()
	db := postgresDatabase(t)
	svc := newService(t, db, "ROUMU_DATABASE_STATEMENT_TIMEOUT=1s")
	svc.start()
	token := svc.adminToken()
	svc.call(http.MethodPost, "/api/v1/employees", token, employee("T001"), http.StatusCreated, nil)

	conn := db.open(t)
	tx, err := conn.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	// Blocks every insert into the register (and nothing that only reads) until the transaction ends.
	if _, err := tx.Exec("LOCK TABLE employees IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r, err := svc.request(http.MethodPost, "/api/v1/employees", token, employee("T002"))
	waited := time.Since(start)
	if err != nil || r.status != http.StatusServiceUnavailable || r.problem().Code != "timeout" {
		t.Fatalf("a write behind the lock: %v %d %s", err, r.status, r.body)
	}
	svc.call(http.MethodGet, "/api/v1/employees", token, nil, http.StatusOK, nil)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	for _, number := range []string{"T002", "T003", "T004", "T005"} {
		svc.call(http.MethodPost, "/api/v1/employees", token, employee(number), http.StatusCreated, nil)
	}
	if n := count(t, conn, "SELECT count(*) FROM employees"); n != 5 {
		t.Errorf("%d employees stored, want 5", n)
	}
	if n := count(t, conn, "SELECT count(*) FROM audit_records WHERE action = 'employee.create'"); n != 5 {
		t.Errorf("%d employee.create audit entries, want 5", n)
	}
	t.Logf("the write behind the lock was answered 503 timeout after %v; 4 writes after the lock went", waited.Round(time.Millisecond))
}

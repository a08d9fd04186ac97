package fault

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/roumu/roumu/test/fixtures"
)

// job is an import job as GET /api/v1/jobs/{id} shows it.
type job struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Done   int    `json:"done"`
	Total  int    `json:"total"`
	Result struct {
		Created int    `json:"created"`
		Failure string `json:"failure"`
	} `json:"result"`
}

// importRows is the size of the killed import: far above the synchronous limit (1 MiB), so it runs as a job.
const importRows = 20_000

// TestImportSurvivesKill: an import job of 20,000 employees is killed with SIGKILL in its writing pass;
// after the restart the register holds none of its rows (the import is one transaction), the job is failed
// as interrupted once it has been silent for employees.JobAbandonAfter, and the same file imports whole.
func TestImportSurvivesKill(t *testing.T) {
	csv := fixtures.EmployeesCSV(importRows)
	eachDatabase(t, func(t *testing.T, db database) {
		svc := newService(t, db)
		svc.start()
		token := svc.adminToken()
		conn := db.open(t)
		var j job
		svc.call(http.MethodPost, "/api/v1/employees/import?dry_run=false", token, csv, http.StatusAccepted, &j)
		started := time.Now()

		// Killed in the writing pass. On PostgreSQL the job's progress shows it (the validating pass reports
		// its rows with total 0, the writing pass knows the total). SQLite stores no progress while the
		// writing transaction holds its one write connection; its WAL file grows instead.
		var writing string
		if db.driver == "sqlite" {
			writing = waitWAL(t, db.dsn+"-wal", 4<<20)
		} else {
			for writing == "" {
				if time.Since(started) > 45*time.Second { // only a hang guard
					t.Fatalf("the import never reached its writing pass: %+v", j)
				}
				time.Sleep(100 * time.Millisecond)
				svc.call(http.MethodGet, "/api/v1/jobs/"+j.ID, token, nil, http.StatusOK, &j)
				if j.Status != "running" {
					t.Fatalf("the import ended before the kill: %+v", j)
				}
				if j.Total > 0 && j.Done >= j.Total/4 {
					writing = fmt.Sprintf("%d of %d rows written", j.Done, j.Total)
				}
			}
		}
		svc.kill()
		t.Logf("%s: killed after %v, %s", db.driver, time.Since(started).Round(time.Millisecond), writing)

		employees := count(t, conn, "SELECT count(*) FROM employees")
		changes := count(t, conn, "SELECT count(*) FROM employee_changes")
		events := count(t, conn, "SELECT count(*) FROM outbox_events WHERE type = 'employees.imported'")
		audits := count(t, conn, "SELECT count(*) FROM audit_records WHERE action = 'employee.import'")
		if employees != 0 || changes != 0 || events != 0 || audits != 0 {
			t.Fatalf("after the kill: %d employees, %d changes, %d import events, %d import audits; want none",
				employees, changes, events, audits)
		}

		// The job stays "running" while it may still be running somewhere: employees.JobAbandonAfter of
		// silence decides. Its last progress is moved back that far, as if the time had passed.
		if _, err := conn.Exec("UPDATE jobs SET updated_at = '2000-01-01T00:00:00.000000Z' WHERE id = '" + j.ID + "'"); err != nil {
			t.Fatal(err)
		}
		svc.start()
		svc.call(http.MethodGet, "/api/v1/jobs/"+j.ID, token, nil, http.StatusOK, &j)
		if j.Status != "failed" || j.Result.Failure != "interrupted" || j.Result.Created != 0 {
			t.Fatalf("the killed job after the restart: %+v", j)
		}

		again := time.Now()
		svc.call(http.MethodPost, "/api/v1/employees/import?dry_run=false", token, csv, http.StatusAccepted, &j)
		for j.Status == "queued" || j.Status == "running" {
			if time.Since(again) > 2*time.Minute { // only a hang guard
				t.Fatalf("the second import did not end: %+v", j)
			}
			time.Sleep(100 * time.Millisecond)
			svc.call(http.MethodGet, "/api/v1/jobs/"+j.ID, token, nil, http.StatusOK, &j)
		}
		if j.Status != "succeeded" || j.Result.Created != importRows {
			raw, _ := json.Marshal(j)
			t.Fatalf("the import after the restart: %s", raw)
		}
		if n := count(t, conn, "SELECT count(*) FROM employees"); n != importRows {
			t.Fatalf("%d employees after the second import, want %d", n, importRows)
		}
		t.Logf("%s: the same file imported whole after the restart in %v", db.driver, time.Since(again).Round(time.Millisecond))
	})
}

// waitWAL waits until the SQLite WAL file at path has grown by more than grow bytes: a transaction is
// writing (its frames are not committed yet).
func waitWAL(t *testing.T, path string, grow int64) string {
	t.Helper()
	size := func() int64 {
		if st, err := os.Stat(path); err == nil {
			return st.Size()
		}
		return 0
	}
	base := size()
	for start := time.Now(); time.Since(start) < 45*time.Second; time.Sleep(2 * time.Millisecond) { // a hang guard
		if grown := size() - base; grown > grow {
			return fmt.Sprintf("%d MiB written to the WAL", grown>>20)
		}
	}
	t.Fatalf("%s did not grow by %d bytes", path, grow)
	return ""
}

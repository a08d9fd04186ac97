package fault

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/test/pgtest"
)

// write is one create of the load and what came of it.
type write struct {
	number string
	status int // 0 when the transport failed
	code   string
}

// load creates employees from several clients, each paced to stay within the account's rate limit, and
// records every answer.
type load struct {
	svc   *service
	token string
	mu    sync.Mutex
	done  []write
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startLoad(svc *service, token string, clients int) *load {
	l := &load{svc: svc, token: token, stop: make(chan struct{})}
	for c := range clients {
		l.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
				w := write{number: fmt.Sprintf("L%d-%05d", c, i)}
				if r, err := svc.request(http.MethodPost, "/api/v1/employees", token, employee(w.number)); err == nil {
					w.status, w.code = r.status, r.problem().Code
				}
				l.mu.Lock()
				l.done = append(l.done, w)
				l.mu.Unlock()
			}
		})
	}
	return l
}

// created counts the writes acknowledged with 201 so far.
func (l *load) created() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, w := range l.done {
		if w.status == http.StatusCreated {
			n++
		}
	}
	return n
}

// waitCreated waits until n more writes have been acknowledged; the bound is only a hang guard.
func (l *load) waitCreated(t *testing.T, n int) {
	t.Helper()
	want := l.created() + n
	for start := time.Now(); l.created() < want; time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("the service did not recover: %d writes acknowledged, want %d", l.created(), want)
		}
	}
}

func (l *load) finish() []write {
	close(l.stop)
	l.wg.Wait()
	return l.done
}

// TestPostgresOutageMidLoad: PostgreSQL goes away twice (every connection cut, new ones refused, as in a
// restart) while three clients create employees. During an outage the service answers 503 unavailable,
// never 500; afterwards the same process serves again; every write acknowledged with 201 is stored, and
// every employee stored is whole: its hire, its event and its audit entry, the audit chain intact.
func TestPostgresOutageMidLoad(t *testing.T) {
	t.Parallel()
	dsn, proxy := pgtest.ProxiedSchemaDSN(t)
	db := database{driver: "postgres", dsn: dsn}
	svc := newService(t, db)
	svc.start()
	token := svc.adminToken()
	l := startLoad(svc, token, 3)
	l.waitCreated(t, 10)
	for range 2 {
		proxy.Cut()
		time.Sleep(1500 * time.Millisecond)
		proxy.Restore()
		l.waitCreated(t, 20)
	}
	writes := l.finish()
	select {
	case err := <-svc.exited:
		t.Fatalf("the service exited: %v", err)
	default:
	}

	conn := db.open(t)
	stored := map[string]bool{}
	rows, err := conn.Query("SELECT employee_number FROM employees")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		stored[n] = true
	}
	rows.Close()
	statuses := map[string]int{}
	unacknowledged := 0
	for _, w := range writes {
		key := fmt.Sprintf("%d %s", w.status, w.code)
		statuses[key]++
		switch {
		case w.status == http.StatusCreated && !stored[w.number]:
			t.Errorf("%s was acknowledged but is not stored", w.number)
		case w.status == http.StatusServiceUnavailable && w.code == "unavailable":
			if stored[w.number] {
				unacknowledged++ // committed as the connection was cut: the client may retry and find it taken
			}
		case w.status != http.StatusCreated:
			t.Errorf("%s: answered %q, want 201 or 503 unavailable", w.number, key)
		}
	}
	for what, query := range map[string]string{
		"employees without their hire": "SELECT count(*) FROM employees e WHERE NOT EXISTS " +
			"(SELECT 1 FROM employee_changes c WHERE c.employee_id = e.id)",
		"employees without their event": "SELECT count(*) FROM employees e WHERE NOT EXISTS " +
			"(SELECT 1 FROM outbox_events o WHERE o.subject_id = e.id AND o.type = 'employee.hired')",
		"employees without their audit entry": "SELECT count(*) FROM employees e WHERE NOT EXISTS " +
			"(SELECT 1 FROM audit_records a WHERE a.target = 'employee:' || e.id AND a.action = 'employee.create')",
		"events without their employee": "SELECT count(*) FROM outbox_events o WHERE o.type = 'employee.hired' AND " +
			"NOT EXISTS (SELECT 1 FROM employees e WHERE e.id = o.subject_id)",
		"audit entries without their employee": "SELECT count(*) FROM audit_records a WHERE a.action = 'employee.create' " +
			"AND NOT EXISTS (SELECT 1 FROM employees e WHERE 'employee:' || e.id = a.target)",
	} {
		if n := count(t, conn, query); n != 0 {
			t.Errorf("%d %s", n, what)
		}
	}
	if out := svc.command("", "audit", "verify"); !strings.Contains(out, "audit log intact") {
		t.Errorf("audit verify: %s", out)
	}
	t.Logf("%d writes in two outages: %v; %d employees stored, %d of them answered 503 (committed as the line was cut)",
		len(writes), statuses, len(stored), unacknowledged)
}

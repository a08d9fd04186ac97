package sqlstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
)

// minAnalyzeRows is the fewest new employees worth refreshing the statistics for.
const minAnalyzeRows = 1000

// plannerStats keeps the planner statistics of the employees table fresh as the register grows inside
// transactions, which no one else analyses.
//
// SQLite never gathers statistics by itself. Without them it misjudges the register's indexes: a filtered
// page of 100,000 employees (a department, a status, a name) walks the kana index in 56 ms instead of
// taking the department's rows in 2.
//
// Postgres's autovacuum analyses a table within a minute or so of a tenth of it changing, but it cannot see
// an import's rows before the import commits. A table it last saw (nearly) empty, as on a new installation
// or after an import was killed, looks empty to the planner for the whole of the next import: every index
// on tenant_id then costs the same, and looking an employee number up may walk all the tenant's rows
// through another index (20,000 employees took minutes instead of seconds, ever slower). ANALYZE inside
// the transaction counts the transaction's own rows.
//
// The table is analysed when the employees created since the last analysis (by this process) reach the
// number of rows that analysis saw, and at least minAnalyzeRows: an import of n employees, which the
// domain stores in many CreateEmployees calls of one transaction, is analysed about log2(n/1000) times,
// and a register that grows by hires rarely. ANALYZE reads the whole table on SQLite (0.2 s for 100,000
// employees: analysis_limit would read only the first rows of each index, all of one tenant and department,
// and mislead the planner), inside the caller's transaction, whose write lock it holds anyway. On Postgres
// it samples the table and holds a lock that another analysis of it waits for until the transaction ends,
// so a transaction analyses only when no other one is (an advisory lock decides, without waiting).
type plannerStats struct {
	mu       sync.Mutex
	known    bool  // analyzed has been read from the database
	analyzed int64 // rows in the table at the last analysis
	since    int64 // employees created since
}

// analyzeLockClass is the high half of the advisory lock of Postgres transactions analysing a table, whose
// OID is the low half (so that the schemas of one database do not wait for each other).
const analyzeLockClass = 0x726f756d // "roum"

// added counts n new employees and refreshes the statistics when due, best effort: the rows are stored
// whatever happens here (a failed analysis is undone to its savepoint) and a skipped analysis is tried
// again at the next call.
func (st *plannerStats) added(ctx context.Context, s *Store, n int) {
	st.mu.Lock()
	if !st.known {
		st.analyzed, st.known = analyzedRows(ctx, s), true
	}
	st.since += int64(n)
	due := st.since >= max(minAnalyzeRows, st.analyzed)
	claimed := st.since
	if due {
		st.since = 0
	}
	st.mu.Unlock()
	if !due {
		return
	}
	err := s.InTx(ctx, func(ctx context.Context) error {
		db := s.writer(ctx)
		if s.driver == DriverPostgres {
			var free bool
			if err := db.Raw("SELECT pg_try_advisory_xact_lock((?::bigint << 32) | 'employees'::regclass::oid::bigint)",
				analyzeLockClass).Scan(&free).Error; err != nil || !free {
				return errAnalysisSkipped
			}
		}
		return db.Exec("ANALYZE employees").Error
	})
	st.mu.Lock()
	defer st.mu.Unlock()
	if err != nil {
		st.since += claimed
		return
	}
	st.analyzed = analyzedRows(ctx, s)
}

// errAnalysisSkipped rolls back to the savepoint of an analysis another transaction is doing.
var errAnalysisSkipped = errors.New("sqlstore: another transaction is analysing the employees table")

// analyzedRows returns the number of rows the last analysis of the employees table saw; 0 when it has
// never been analysed. SQLite keeps it in the first field of its sqlite_stat1 entries ("rows rows-per-key
// …"), Postgres in pg_class.reltuples (-1 before the first analysis).
func analyzedRows(ctx context.Context, s *Store) int64 {
	if s.driver == DriverPostgres {
		var n float64
		if err := s.writer(ctx).Raw("SELECT reltuples FROM pg_class WHERE oid = 'employees'::regclass").Scan(&n).Error; err != nil {
			return 0
		}
		return max(0, int64(n))
	}
	var stat string
	if err := s.writer(ctx).Raw("SELECT stat FROM sqlite_stat1 WHERE tbl = 'employees' LIMIT 1").Scan(&stat).Error; err != nil {
		return 0 // no sqlite_stat1 yet: nothing was ever analysed
	}
	rows, _, _ := strings.Cut(stat, " ")
	n, _ := strconv.ParseInt(rows, 10, 64)
	return n
}

package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"sync"
)

// minAnalyzeRows is the fewest new employees worth refreshing the statistics for.
const minAnalyzeRows = 1000

// sqliteStats keeps SQLite's planner statistics of the employees table fresh as the register grows.
// Without them SQLite misjudges the register's indexes: a filtered page of 100,000 employees (a
// department, a status, a name) walks the kana index in 56 ms instead of taking the department's rows in
// 2. SQLite never gathers statistics by itself; Postgres's autovacuum does, within a minute or so of a
// tenth of a table changing, so there the store does nothing.
//
// The table is analysed when the employees created since the last analysis (by this process) reach the
// number of rows that analysis saw, and at least minAnalyzeRows: an import of n employees, which the
// domain stores in many CreateEmployees calls of one transaction, is analysed about log2(n/1000) times,
// and a register that grows by hires rarely. ANALYZE reads the whole table (0.2 s for 100,000 employees:
// analysis_limit would read only the first rows of each index, all of one tenant and department, and
// mislead the planner), inside the caller's transaction, whose write lock it holds anyway.
type sqliteStats struct {
	mu       sync.Mutex
	known    bool  // analyzed has been read from sqlite_stat1
	analyzed int64 // rows in the table at the last analysis
	since    int64 // employees created since
}

// added counts n new employees and refreshes the statistics when due, best effort: the rows are stored
// whatever happens here, and a failed analysis is retried at the next call.
func (st *sqliteStats) added(ctx context.Context, s *Store, n int) {
	if s.driver != DriverSQLite {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	db := s.writer(ctx)
	if !st.known {
		st.analyzed, st.known = analyzedRows(ctx, s), true
	}
	st.since += int64(n)
	if st.since < max(minAnalyzeRows, st.analyzed) {
		return
	}
	if db.Exec("ANALYZE employees").Error != nil {
		return
	}
	st.analyzed, st.since = analyzedRows(ctx, s), 0
}

// analyzedRows returns the number of rows the last analysis of the employees table saw, from the first
// field of its sqlite_stat1 entries ("rows rows-per-key …"); 0 when it has never been analysed.
func analyzedRows(ctx context.Context, s *Store) int64 {
	var stat string
	if err := s.writer(ctx).Raw("SELECT stat FROM sqlite_stat1 WHERE tbl = 'employees' LIMIT 1").Scan(&stat).Error; err != nil {
		return 0 // no sqlite_stat1 yet: nothing was ever analysed
	}
	rows, _, _ := strings.Cut(stat, " ")
	n, _ := strconv.ParseInt(rows, 10, 64)
	return n
}

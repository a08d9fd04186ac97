package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/domain/employees"
)

// The ceilings: what this machine does without our code in the way. The same list and by-ID statements that
// adapters/sqlstore issues (its GORM scopes, written out), straight to Postgres with pgx; and an Echo
// handler that does nothing, through the same HTTP client.

// Statements of adapters/sqlstore's ListEmployees (employeeFilter, employeePage) and EmployeeByID, as GORM
// renders them for Postgres. A page asks one row more than it shows, to know whether there is a next one.
const (
	sqlSelectEmployees = `SELECT * FROM "employees" WHERE tenant_id = $1`
	sqlByID            = `SELECT * FROM "employees" WHERE tenant_id = $1 AND id = $2 LIMIT 1`
)

// The session check every authenticated request makes first (domain/accounts Authenticate: SessionByHash,
// AccountByID, TenantByID), for the second database ceiling.
const (
	sqlSession = `SELECT * FROM "sessions" WHERE token_hash = $1 LIMIT 1`
	sqlAccount = `SELECT * FROM "accounts" WHERE tenant_id = $1 AND id = $2 LIMIT 1`
	sqlTenant  = `SELECT * FROM "tenants" WHERE id = $1 LIMIT 1`
)

// listStatement renders a list request as the store's SQL with its arguments.
func listStatement(tenantID string, q listQuery) (string, []any) {
	var b strings.Builder
	b.WriteString(sqlSelectEmployees)
	args := []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	order := "employee_number"
	if text := q.values.Get("q"); text != "" {
		b.WriteString(` AND search_text LIKE ` + arg("%"+likeEscape(employees.SearchKey(text))+"%") + ` ESCAPE '\'`)
	}
	if t := q.values.Get("employment_type"); t != "" {
		b.WriteString(" AND employment_type IN (" + arg(t) + ")")
	}
	if from := q.values.Get("hired_from"); from != "" {
		b.WriteString(" AND hire_date >= " + arg(from) + " AND hire_date <= " + arg(q.values.Get("hired_to")))
	}
	if q.values.Get("sort") == "hire_date" {
		order = "hire_date"
	}
	b.WriteString(" ORDER BY " + order + ",id LIMIT 51")
	return b.String(), args
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func likeEscape(s string) string { return likeEscaper.Replace(s) }

// sessionRow is a session to look up in the database ceiling that includes the session check.
type sessionRow struct{ hash, accountID, tenantID string }

// sqlOps are the register's reads issued straight to Postgres.
type sqlOps struct {
	pool     *pgxpool.Pool
	sessions map[string]sessionRow // tenant ID → one of its HR sessions
	withAuth bool                  // also run the session check's three lookups first
}

func openPool(ctx context.Context, dsn string, conns int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(conns)
	cfg.MinConns = int32(conns)
	return pgxpool.NewWithConfig(ctx, cfg)
}

// loadSessions picks one live HR session per tenant for the database ceiling with the session check.
func loadSessions(ctx context.Context, pool *pgxpool.Pool) (map[string]sessionRow, error) {
	rows, err := pool.Query(ctx, `SELECT DISTINCT ON (tenant_id) token_hash, account_id, tenant_id FROM sessions
		WHERE stage = 'full' ORDER BY tenant_id, token_hash`)
	if err != nil {
		return nil, err
	}
	out := map[string]sessionRow{}
	var s sessionRow
	_, err = pgx.ForEachRow(rows, []any{&s.hash, &s.accountID, &s.tenantID}, func() error {
		out[s.tenantID] = s
		return nil
	})
	return out, err
}

// query runs one statement and reads every row and column, as a store would before converting them.
func (o sqlOps) query(ctx context.Context, sql string, args ...any) (int, error) {
	rows, err := o.pool.Query(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		if _, err := rows.Values(); err != nil {
			rows.Close()
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// timed runs the session check (when withAuth) and then fn, and files the whole under op.
func (o sqlOps) timed(ctx context.Context, w *worker, stats phaseStats, op string, fn func() (int, error)) {
	start := time.Now()
	err := o.auth(ctx, w)
	var n int
	if err == nil {
		n, err = fn()
	}
	d := time.Since(start)
	switch {
	case err == nil && n > 0:
		stats.ok(op, d)
	case ctx.Err() == nil:
		stats.fail(op, d)
	}
}

func (o sqlOps) auth(ctx context.Context, w *worker) error {
	if !o.withAuth {
		return nil
	}
	s, ok := o.sessions[w.tenant.id]
	if !ok {
		return errors.New("no session of the tenant")
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{{sqlSession, []any{s.hash}}, {sqlAccount, []any{s.tenantID, s.accountID}}, {sqlTenant, []any{s.tenantID}}} {
		if n, err := o.query(ctx, q.sql, q.args...); err != nil || n != 1 {
			return fmt.Errorf("session check: %d rows, %v", n, err)
		}
	}
	return nil
}

func (o sqlOps) list(ctx context.Context, w *worker, stats phaseStats) {
	sql, args := listStatement(w.tenant.id, randomListQuery(w.rng))
	o.timed(ctx, w, stats, "list", func() (int, error) {
		n, err := o.query(ctx, sql, args...)
		return max(n, 1), err // a search may find nobody; that is still an answer
	})
}

func (o sqlOps) detail(ctx context.Context, w *worker, stats phaseStats) {
	id := w.employee()
	o.timed(ctx, w, stats, "detail", func() (int, error) { return o.query(ctx, sqlByID, w.tenant.id, id) })
}

// noopServer is an Echo server with one handler that answers 204 and does nothing else, on a port of its own.
type noopServer struct {
	echo *echo.Echo
	base string
}

func startNoop() (*noopServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/noop", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	e.Listener = l
	go func() { _ = e.Start("") }()
	return &noopServer{echo: e, base: "http://" + l.Addr().String()}, nil
}

func (s *noopServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.echo.Shutdown(ctx)
}

// noop is the whole HTTP round trip with nothing behind it.
func (o apiOps) noop(ctx context.Context, _ *worker, stats phaseStats) {
	o.record(ctx, stats, "noop", request{method: http.MethodGet, path: "/noop"}, http.StatusNoContent)
}

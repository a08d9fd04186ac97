// Command load is Roumu's load harness (make load). It builds the binary, starts `roumu serve` on a fresh
// Postgres schema as a separate process, seeds tenants, accounts and employees through the CLI and the API,
// and then, as the second process, drives it with concurrent keep-alive clients:
//
//  1. the read mix (list/search and detail) against the service, against Postgres directly with the same SQL
//     (the database ceiling) and against an Echo handler that does nothing (the HTTP ceiling);
//  2. the realistic mix: list/search, detail, update with If-Match, logins;
//  3. the login storm: credential stuffing while HR staff keep working, with the lockouts checked exactly.
//
// It prints a Markdown report (and writes it to -out). It is not part of `make test`: it needs Postgres
// (ROUMU_TEST_POSTGRES_URL) and takes minutes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// options are the harness's flags.
type options struct {
	postgresURL     string
	root            string
	binary          string
	out             string
	keep            bool
	timeout         time.Duration
	seed            seedOptions
	workers         int
	duration        time.Duration
	warmup          time.Duration
	ordinaryWorkers int
	baseline        time.Duration
	stormAttempts   int
	stormWorkers    int
	stuffingIPs     int
	mix             mixWeights
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.postgresURL, "postgres", os.Getenv("ROUMU_TEST_POSTGRES_URL"), "Postgres URL; a fresh schema is made in it (default $ROUMU_TEST_POSTGRES_URL)")
	fs.StringVar(&o.root, "root", ".", "the module's root (where go build ./cmd/roumu runs)")
	fs.StringVar(&o.binary, "binary", "", "use this roumu binary instead of building one")
	fs.StringVar(&o.out, "out", "", "also write the report to this file")
	fs.BoolVar(&o.keep, "keep", false, "keep the schema and the work directory afterwards")
	fs.DurationVar(&o.timeout, "timeout", 20*time.Minute, "give up after this long")
	fs.IntVar(&o.seed.tenants, "tenants", 10, "tenants to create")
	fs.IntVar(&o.seed.employeesPerTenant, "employees", 10000, "employees per tenant (CSV import)")
	fs.IntVar(&o.seed.hrPerTenant, "hr", 2, "HR accounts per tenant (the ordinary users' sessions)")
	fs.IntVar(&o.seed.stormAccountsPerTenant, "storm-accounts", 10, "accounts per tenant the login storm targets (as many unknown logins too)")
	fs.IntVar(&o.seed.parallel, "seed-parallel", 2, "tenants seeded at once")
	fs.IntVar(&o.workers, "workers", 8, "concurrent clients of the throughput phases")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "length of each throughput phase")
	fs.DurationVar(&o.warmup, "warmup", 5*time.Second, "unmeasured warm-up before the first phase")
	fs.IntVar(&o.ordinaryWorkers, "ordinary-workers", 4, "HR clients that keep working during the login storm")
	fs.DurationVar(&o.baseline, "baseline", 15*time.Second, "length of the ordinary load without the storm")
	fs.IntVar(&o.stormAttempts, "storm-attempts", 10000, "login attempts of the storm")
	fs.IntVar(&o.stormWorkers, "storm-workers", 16, "concurrent clients of the storm")
	fs.IntVar(&o.stuffingIPs, "stuffing-ips", 3, "source addresses of the credential stuffing (X-Forwarded-For)")
	o.mix = mixWeights{"list": 35, "detail": 46, "update": 12, "procedure": 6, "login": 1}
	fs.Var(&o.mix, "mix", "weights of the realistic mix, e.g. list=35,detail=46,update=12,procedure=6,login=1")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.postgresURL == "" {
		return o, fmt.Errorf("no Postgres: set ROUMU_TEST_POSTGRES_URL or -postgres (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	if o.seed.tenants < 1 || o.workers < 1 || o.ordinaryWorkers < 1 || o.stormWorkers < 1 || o.stuffingIPs < 1 || o.seed.hrPerTenant < 1 {
		return o, fmt.Errorf("tenants, hr, workers, ordinary-workers, storm-workers and stuffing-ips must be at least 1")
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) (err error) {
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	r := &report{started: time.Now(), opts: o, loadStart: loadAverage()}
	dir, err := os.MkdirTemp("", "roumu-load-")
	if err != nil {
		return err
	}
	bin := o.binary
	if bin == "" {
		logf("building ./cmd/roumu")
		if bin, err = buildBinary(ctx, o.root, dir); err != nil {
			return err
		}
	}
	dsn, schema, drop, err := freshSchema(ctx, o.postgresURL)
	if err != nil {
		return err
	}
	defer func() {
		if o.keep {
			logf("kept schema %s and %s", schema, dir)
			return
		}
		if derr := drop(context.Background()); derr != nil && err == nil {
			err = fmt.Errorf("drop schema %s: %w", schema, derr)
		}
		_ = os.RemoveAll(dir)
	}()
	port, err := freePort()
	if err != nil {
		return err
	}
	svc := newService(bin, dir, dsn, port)
	defer svc.stop()
	client := newHTTPClient(max(o.workers, o.stormWorkers+o.ordinaryWorkers))
	a := &api{http: client, base: svc.baseURL}
	r.machine = describeMachine(ctx, o.postgresURL, o.root)

	logf("seeding %d tenants on schema %s (server log: %s)", o.seed.tenants, schema, filepath.Join(dir, "serve.log"))
	seedStart := time.Now()
	tenants, err := seed(ctx, svc, a, dsn, o.seed, logf)
	if err != nil {
		return fmt.Errorf("seeding: %w (server log tail:\n%s)", err, svc.tail(10))
	}
	r.seedTime = time.Since(seedStart)
	for _, t := range tenants {
		r.employees += len(t.employees)
	}
	if want := o.seed.tenants * o.seed.employeesPerTenant; r.employees != want {
		return fmt.Errorf("seeded %d employees, want %d", r.employees, want)
	}
	r.rssAfterSeed, _, _ = procMemory(svc.cmd.Process.Pid)

	sessions := hrSessions(tenants)
	web := apiOps{api: a}
	ordinary := &weighted{}
	r.procedures = probeProcedures(ctx, a, tenants[0].adminToken)
	if o.seed.employeesPerTenant > 0 {
		if err := throughput(ctx, o, r, svc, a, dsn, sessions, logf); err != nil {
			return err
		}
		ordinary.add(30, web.list)
		ordinary.add(60, web.detail)
	}
	ordinary.add(10, web.me)

	logf("ordinary load alone, %d workers, %s", o.ordinaryWorkers, o.baseline)
	r.baseline = runPhase(ctx, "ordinary HR load alone", o.ordinaryWorkers, o.baseline, nil, sessions, ordinary, svc.rss)

	ids := planStorm(tenants, o.stormAttempts, o.stuffingIPs, 42)
	logf("login storm: %d attempts on %d identifiers from %d workers, with the ordinary load", o.stormAttempts, len(ids), o.stormWorkers)
	stormDone := make(chan struct{})
	go func() {
		defer close(stormDone)
		r.storm = runStorm(ctx, a, ids, o.stormWorkers)
	}()
	r.duringStorm = runPhase(ctx, "ordinary HR load during the storm", o.ordinaryWorkers, 0, stormDone, sessions, ordinary, svc.rss)
	<-stormDone
	verifyLockouts(ctx, a, ids, &r.storm)
	r.rssEnd, r.hwm, _ = procMemory(svc.cmd.Process.Pid)
	r.finished, r.loadEnd = time.Now(), loadAverage()
	if ctx.Err() != nil {
		return fmt.Errorf("stopped before the end: %w", ctx.Err())
	}

	text := r.markdown()
	if _, err := io.WriteString(stdout, text); err != nil {
		return err
	}
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(text), 0o644); err != nil {
			return err
		}
	}
	if !r.storm.exact() {
		return fmt.Errorf("lockouts not exact: %d wrong answers, %d wrong lock states", len(r.storm.mismatches), len(r.storm.lockErrors))
	}
	return nil
}

// throughput measures the register's read mix against the service and both ceilings, then the realistic mix.
func throughput(ctx context.Context, o options, r *report, svc *service, a *api, dsn string, sessions func(*worker),
	logf func(string, ...any)) error {
	web := apiOps{api: a}
	read := &weighted{}
	read.add(40, web.list)
	read.add(60, web.detail)
	logf("warm-up %s", o.warmup)
	runPhase(ctx, "warm-up", o.workers, o.warmup, nil, sessions, read, nil)

	logf("read mix against the service, %d workers, %s", o.workers, o.duration)
	r.apiRead = runPhase(ctx, "service: read mix (40% list/search, 60% detail)", o.workers, o.duration, nil, sessions, read, svc.rss)

	pool, err := openPool(ctx, dsn, o.workers)
	if err != nil {
		return err
	}
	defer pool.Close()
	sqlSessions, err := loadSessions(ctx, pool)
	if err != nil {
		return err
	}
	for _, withAuth := range []bool{false, true} {
		db := sqlOps{pool: pool, sessions: sqlSessions, withAuth: withAuth}
		dbRead := &weighted{}
		dbRead.add(40, db.list)
		dbRead.add(60, db.detail)
		name := "Postgres ceiling: the same list and by-ID statements (pgx)"
		if withAuth {
			name = "Postgres ceiling with the session check: 3 key lookups + the statement (pgx)"
		}
		logf("%s", name)
		r.dbRead = append(r.dbRead, runPhase(ctx, name, o.workers, o.duration, nil, sessions, dbRead, nil))
	}

	noop, err := startNoop()
	if err != nil {
		return err
	}
	noopOps := apiOps{api: &api{http: a.http, base: noop.base}}
	noopMix := &weighted{}
	noopMix.add(1, noopOps.noop)
	logf("HTTP ceiling: Echo no-op handler")
	r.noop = runPhase(ctx, "HTTP ceiling: an Echo handler that does nothing", o.workers, o.duration, nil, sessions, noopMix, nil)
	noop.stop()

	full := &weighted{}
	full.add(o.mix["list"], web.list)
	full.add(o.mix["detail"], web.detail)
	full.add(o.mix["update"], web.update)
	full.add(o.mix["login"], web.login)
	if r.procedures {
		full.add(o.mix["procedure"], web.procedure)
	}
	logf("realistic mix %s", o.mix.String())
	r.mix = runPhase(ctx, "service: realistic mix ("+o.mix.String()+")", o.workers, o.duration, nil, sessions, full, svc.rss)
	return nil
}

// probeProcedures tells whether the service has the procedures API; without it the mix leaves procedures out.
func probeProcedures(ctx context.Context, a *api, token string) bool {
	resp, err := a.do(ctx, request{method: http.MethodGet, path: "/api/v1/procedures", token: token})
	return err == nil && resp.status == http.StatusOK
}

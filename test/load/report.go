package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/roumu/roumu/config"
)

// mixWeights are the realistic mix's operations and their weights (flag -mix).
type mixWeights map[string]int

var mixOps = []string{"list", "detail", "update", "procedure", "login"}

func (m mixWeights) String() string {
	parts := make([]string, 0, len(m))
	for _, op := range mixOps {
		if m[op] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", op, m[op]))
		}
	}
	return strings.Join(parts, ",")
}

func (m *mixWeights) Set(v string) error {
	out := mixWeights{}
	for part := range strings.SplitSeq(v, ",") {
		name, weight, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(weight)
		if !ok || err != nil || n < 0 {
			return fmt.Errorf("%q is not op=weight", part)
		}
		if !slices.Contains(mixOps, name) {
			return fmt.Errorf("unknown operation %q (known: %s)", name, strings.Join(mixOps, ", "))
		}
		out[name] = n
	}
	total := 0
	for _, n := range out {
		total += n
	}
	if total == 0 {
		return fmt.Errorf("the mix has no operation with a weight")
	}
	*m = out
	return nil
}

// machine describes where the numbers were measured.
type machine struct {
	cpu, goVersion, postgres, commit string
	cores                            int
	memory                           string
}

func describeMachine(ctx context.Context, postgresURL, root string) machine {
	m := machine{cores: runtime.NumCPU(), goVersion: runtime.Version(), cpu: "unknown", memory: "unknown",
		postgres: "unknown", commit: "unknown"}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		m.cpu = v
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		if kib, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64); err == nil {
			m.memory = fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
		}
	}
	if conn, err := pgx.Connect(ctx, postgresURL); err == nil {
		var v string
		if conn.QueryRow(ctx, "SHOW server_version").Scan(&v) == nil {
			m.postgres = "PostgreSQL " + v
		}
		_ = conn.Close(ctx)
	}
	cmd := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		m.commit = strings.TrimSpace(string(out))
	}
	return m
}

// procField returns the first value of a "name : value" line of a /proc file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// report gathers the run's results and renders them.
type report struct {
	opts              options
	machine           machine
	started, finished time.Time
	seedTime          time.Duration
	employees         int
	procedures        bool
	apiRead, noop     phaseResult
	dbRead            []phaseResult
	mix               phaseResult
	baseline          phaseResult
	duringStorm       phaseResult
	storm             stormResult
	rssAfterSeed      int64
	hwm, rssEnd       int64
	loadStart         string // /proc/loadavg's 1-minute average
	loadEnd           string
}

// loadAverage returns the 1-minute load average.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f %%", 100*a/b)
}

func (r *report) markdown() string {
	var b strings.Builder
	o := r.opts
	m := r.machine
	fmt.Fprintf(&b, "## Load run %s\n\n", r.started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- machine: %s, %d cores, %s RAM; %s; %s; commit %s\n", m.cpu, m.cores, m.memory, m.goVersion, m.postgres, m.commit)
	fmt.Fprintf(&b, "- data: %d tenants, %d employees (%d each, CSV import), %d HR + %d storm accounts per tenant; seeding took %.1f s (%.0f employees/s end to end, including tenant and account creation)\n",
		o.seed.tenants, r.employees, o.seed.employeesPerTenant, o.seed.hrPerTenant, o.seed.stormAccountsPerTenant,
		r.seedTime.Seconds(), float64(r.employees)/r.seedTime.Seconds())
	fmt.Fprintf(&b, "- client: this harness, a second process on the same machine, keep-alive HTTP; %d workers per throughput phase of %s\n",
		o.workers, o.duration)
	fmt.Fprintf(&b, "- server memory: RSS %s after seeding, peak (VmHWM) %s over the whole run, %s at the end\n",
		mib(r.rssAfterSeed), mib(r.hwm), mib(r.rssEnd))
	fmt.Fprintf(&b, "- run time: %.0f s; load average (1 min) %s at the start, %s at the end — the machine is shared, so other work competes for the same cores\n\n",
		r.finished.Sub(r.started).Seconds(), r.loadStart, r.loadEnd)

	if len(r.dbRead) == 0 {
		b.WriteString("Throughput phases not run: no employees were seeded (-employees 0).\n")
	} else {
		r.throughputSection(&b)
	}
	if !r.procedures {
		b.WriteString("\nProcedure transitions: not measured — `/api/v1/procedures` does not answer (the harness probes it).\n")
	}

	s := r.storm
	b.WriteString("\n### Login storm\n\n")
	fmt.Fprintf(&b, "%d attempts (%d identifiers: real accounts and unknown logins; credential stuffing from %d addresses, real people mistyping) by %d workers in %.1f s: **%.0f attempts/s**; %d were refused by the per-address login limit (429) before reaching any account, %d reached argon2id (m=%d KiB): **%.1f password checks/s**; the rest were refused as locked before any hash.\n\n",
		s.attempts, s.identifiers, o.stuffingIPs, o.stormWorkers, s.phase.Elapsed.Seconds(),
		float64(s.attempts)/s.phase.Elapsed.Seconds(), s.limited, s.hashed, config.DefaultArgon2MemoryKiB, float64(s.hashed)/s.phase.Elapsed.Seconds())
	b.WriteString(s.phase.table())
	b.WriteString("\n| ordinary HR requests (list, detail, /me) | req/s | p50 ms | p95 ms | p99 ms | errors | server peak RSS |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range []phaseResult{r.baseline, r.duringStorm} {
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %s | %d | %s |\n", p.Name, p.Total.PerSecond, ms(p.Total.P50),
			ms(p.Total.P95), ms(p.Total.P99), p.Total.Errors, mib(p.PeakRSS))
	}
	verdict := "**exact**"
	if !s.exact() {
		verdict = "**NOT exact**"
	}
	fmt.Fprintf(&b, "\nLockouts %s: %d identifiers had 5 consecutive failures and are locked (%d found locked); every admitted attempt got the status the policy predicts (%d wrong); no other account is locked.\n",
		verdict, s.lockedWant, s.lockedGot, len(s.mismatches))
	for _, e := range firstN(append(slices.Clone(s.mismatches), s.lockErrors...), 10) {
		fmt.Fprintf(&b, "- %s\n", e)
	}
	return b.String()
}

// throughputSection renders the read mix against the ceilings and the realistic mix.
func (r *report) throughputSection(b *strings.Builder) {
	b.WriteString("### Throughput against the ceilings\n\n")
	b.WriteString("| what | req/s | p50 ms | p99 ms | service as % of it |\n|---|---:|---:|---:|---:|\n")
	row := func(p phaseResult, withRatio bool) {
		cell := "—"
		if withRatio {
			cell = ratio(r.apiRead.Total.PerSecond, p.Total.PerSecond)
		}
		fmt.Fprintf(b, "| %s | %.0f | %s | %s | %s |\n", p.Name, p.Total.PerSecond, ms(p.Total.P50), ms(p.Total.P99), cell)
	}
	row(r.apiRead, false)
	for _, p := range r.dbRead {
		row(p, true)
	}
	row(r.noop, true)
	b.WriteString("\n")
	for _, p := range append([]phaseResult{r.apiRead}, r.dbRead...) {
		b.WriteString(p.table())
		b.WriteString("\n")
	}

	b.WriteString("### Realistic mix\n\n")
	b.WriteString(r.mix.table())
}

func firstN(s []string, n int) []string { return s[:min(n, len(s))] }

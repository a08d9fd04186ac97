package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// samples are the latencies and outcomes of one operation. Each worker keeps its own and they are merged at the
// end of a phase, so that recording costs the driver no lock.
type samples struct {
	latencies []time.Duration
	errors    int // transport failures and answers other than the expected ones
	conflicts int // expected refusals that are not errors (412 on a concurrent update)
}

// phaseStats are the samples of every operation of one phase, keyed by operation name.
type phaseStats map[string]*samples

func (p phaseStats) op(name string) *samples {
	s, ok := p[name]
	if !ok {
		s = &samples{}
		p[name] = s
	}
	return s
}

// ok records a successful operation.
func (p phaseStats) ok(name string, d time.Duration) {
	s := p.op(name)
	s.latencies = append(s.latencies, d)
}

// fail records a failed operation; its latency counts too, so a slow failure is not hidden from p99.
func (p phaseStats) fail(name string, d time.Duration) {
	s := p.op(name)
	s.latencies = append(s.latencies, d)
	s.errors++
}

func (p phaseStats) merge(other phaseStats) {
	for name, o := range other {
		s := p.op(name)
		s.latencies = append(s.latencies, o.latencies...)
		s.errors += o.errors
		s.conflicts += o.conflicts
	}
}

// summary is what the report shows of one operation.
type summary struct {
	Op            string
	Count         int
	Errors        int
	Conflicts     int
	PerSecond     float64
	P50, P95, P99 time.Duration
	Max           time.Duration
}

// percentile returns the nearest-rank percentile of sorted latencies (0 when there are none).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func summarize(op string, s *samples, elapsed time.Duration) summary {
	lat := slices.Clone(s.latencies)
	slices.Sort(lat)
	out := summary{Op: op, Count: len(lat), Errors: s.errors, Conflicts: s.conflicts,
		P50: percentile(lat, 50), P95: percentile(lat, 95), P99: percentile(lat, 99)}
	if len(lat) > 0 {
		out.Max = lat[len(lat)-1]
	}
	if elapsed > 0 {
		out.PerSecond = float64(len(lat)) / elapsed.Seconds()
	}
	return out
}

// phaseResult is one measured phase: its operations and the whole.
type phaseResult struct {
	Name    string
	Workers int
	Elapsed time.Duration
	Ops     []summary // sorted by name, then "all"
	Total   summary
	PeakRSS int64 // KiB, of the server during the phase (0 when no server was watched)
}

func newPhaseResult(name string, workers int, elapsed time.Duration, stats phaseStats, peakRSS int64) phaseResult {
	r := phaseResult{Name: name, Workers: workers, Elapsed: elapsed, PeakRSS: peakRSS}
	names := make([]string, 0, len(stats))
	all := &samples{}
	for n, s := range stats {
		names = append(names, n)
		all.latencies = append(all.latencies, s.latencies...)
		all.errors += s.errors
		all.conflicts += s.conflicts
	}
	sort.Strings(names)
	for _, n := range names {
		r.Ops = append(r.Ops, summarize(n, stats[n], elapsed))
	}
	r.Total = summarize("all", all, elapsed)
	return r
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

// table renders the phase as a Markdown table.
func (r phaseResult) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d workers, %.1f s", r.Name, r.Workers, r.Elapsed.Seconds())
	if r.PeakRSS > 0 {
		fmt.Fprintf(&b, ", server peak RSS %s", mib(r.PeakRSS))
	}
	b.WriteString("\n\n| operation | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | 412 |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range append(slices.Clone(r.Ops), r.Total) {
		fmt.Fprintf(&b, "| %s | %d | %.1f | %s | %s | %s | %s | %d | %d |\n", s.Op, s.Count, s.PerSecond,
			ms(s.P50), ms(s.P95), ms(s.P99), ms(s.Max), s.Errors, s.Conflicts)
	}
	return b.String()
}

func mib(kib int64) string { return fmt.Sprintf("%.0f MiB", float64(kib)/1024) }

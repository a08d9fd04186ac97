package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// metrics counts requests and their durations by method, route template and status, and writes them in the
// Prometheus text exposition format (version 0.0.4). Each Server has its own, so tests and several servers in
// one process do not share state.
//
// It is written out rather than built on prometheus/client_golang because that library's dependencies
// (client_model, common, procfs, protobuf …) are not in go.sum; the interface (observe, serve) is small
// enough that switching to a private prometheus.Registry later touches only this file.
type metrics struct {
	version string
	routes  map[string]bool // the registered route templates; anything else is "unmatched"

	mu       sync.Mutex
	series   map[seriesKey]*histogram
	starting time.Time
}

type seriesKey struct{ method, route, status string }

type histogram struct {
	buckets []uint64 // cumulative counts per upper bound in durationBuckets
	count   uint64
	sum     float64
}

// durationBuckets are the histogram's upper bounds in seconds (Prometheus' defaults).
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// knownMethods keeps the method label bounded: a client cannot create series with made-up methods.
var knownMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

func newMetrics(version string) *metrics {
	return &metrics{version: version, routes: map[string]bool{}, series: map[seriesKey]*histogram{}, starting: time.Now()}
}

func (m *metrics) knownRoutes(routes []*echo.Route) {
	for _, r := range routes {
		m.routes[r.Path] = true
	}
}

// route is the label for a matched route template; unknown paths share one label so that scanning the site
// cannot blow up the number of series.
func (m *metrics) route(template string) string {
	if m.routes[template] {
		return template
	}
	return "unmatched"
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	if !slices.Contains(knownMethods, method) {
		method = "OTHER"
	}
	k := seriesKey{method, route, strconv.Itoa(status)}
	sec := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.series[k]
	if h == nil {
		h = &histogram{buckets: make([]uint64, len(durationBuckets))}
		m.series[k] = h
	}
	for i, le := range durationBuckets {
		if sec <= le {
			h.buckets[i]++
		}
	}
	h.count++
	h.sum += sec
}

// serve writes the exposition, series sorted so that the output is stable.
func (m *metrics) serve(c echo.Context) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# HELP roumu_build_info Build information.\n# TYPE roumu_build_info gauge\n")
	fmt.Fprintf(&b, "roumu_build_info{version=%s} 1\n", quote(m.version))
	fmt.Fprintf(&b, "# HELP roumu_process_start_time_seconds Start time of the HTTP server since the Unix epoch.\n")
	fmt.Fprintf(&b, "# TYPE roumu_process_start_time_seconds gauge\nroumu_process_start_time_seconds %d\n", m.starting.Unix())

	m.mu.Lock()
	keys := make([]seriesKey, 0, len(m.series))
	for k := range m.series {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b seriesKey) int {
		return strings.Compare(a.route+" "+a.method+" "+a.status, b.route+" "+b.method+" "+b.status)
	})
	var counts, hist strings.Builder
	for _, k := range keys {
		h := m.series[k]
		labels := fmt.Sprintf("method=%s,route=%s,status=%s", quote(k.method), quote(k.route), quote(k.status))
		fmt.Fprintf(&counts, "roumu_http_requests_total{%s} %d\n", labels, h.count)
		for i, le := range durationBuckets {
			fmt.Fprintf(&hist, "roumu_http_request_duration_seconds_bucket{%s,le=\"%s\"} %d\n",
				labels, strconv.FormatFloat(le, 'g', -1, 64), h.buckets[i])
		}
		fmt.Fprintf(&hist, "roumu_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels, h.count)
		fmt.Fprintf(&hist, "roumu_http_request_duration_seconds_sum{%s} %s\n", labels, strconv.FormatFloat(h.sum, 'g', -1, 64))
		fmt.Fprintf(&hist, "roumu_http_request_duration_seconds_count{%s} %d\n", labels, h.count)
	}
	m.mu.Unlock()

	b.WriteString("# HELP roumu_http_requests_total HTTP requests by method, route template and status.\n")
	b.WriteString("# TYPE roumu_http_requests_total counter\n")
	b.WriteString(counts.String())
	b.WriteString("# HELP roumu_http_request_duration_seconds HTTP request durations by method, route template and status.\n")
	b.WriteString("# TYPE roumu_http_request_duration_seconds histogram\n")
	b.WriteString(hist.String())
	return c.Blob(http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", []byte(b.String()))
}

// quote writes a label value with the escapes the exposition format defines (backslash, quote, newline).
func quote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v) + `"`
}

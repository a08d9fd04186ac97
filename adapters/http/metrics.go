package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics counts requests and their durations by method, route template and status, with the Go runtime and
// process metrics beside them. Each Server has its own prometheus.Registry rather than the global one, so
// tests and several servers in one process do not share series.
type metrics struct {
	routes    map[string]bool // the registered route templates; anything else is "unmatched"
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	handler   http.Handler
}

// knownMethods keeps the method label bounded: a client cannot create series with made-up methods.
var knownMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

func newMetrics(version string) *metrics {
	labels := []string{"method", "route", "status"}
	m := &metrics{
		routes: map[string]bool{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roumu_http_requests_total",
			Help: "HTTP requests by method, route template and status.",
		}, labels),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "roumu_http_request_duration_seconds",
			Help:    "HTTP request durations by method, route template and status.",
			Buckets: prometheus.DefBuckets,
		}, labels),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "roumu_build_info",
		Help:        "Build information.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.requests, m.durations, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
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
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(method, route, code).Inc()
	m.durations.WithLabelValues(method, route, code).Observe(d.Seconds())
}

// serve writes the exposition in the format the scraper asks for (the text format by default).
func (m *metrics) serve(c echo.Context) error {
	m.handler.ServeHTTP(c.Response(), c.Request())
	return nil
}

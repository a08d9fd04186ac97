package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/roumu/roumu/ports"
)

// metrics counts requests and their durations by method, route template and status, with the Go runtime and
// process metrics beside them. Each Server has its own prometheus.Registry rather than the global one, so
// tests and several servers in one process do not share series.
type metrics struct {
	routes    map[string]bool // the registered route templates; anything else is "unmatched"
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	logins    *prometheus.CounterVec
	handler   http.Handler
}

// loginRoutes are the password and second-factor steps whose outcomes are counted apart, so that an alert
// can watch failures and lockouts (a credential-stuffing night) without parsing every route.
var loginRoutes = map[string]bool{"/api/v1/auth/login": true, "/login": true, "/api/v1/ops/auth/login": true,
	"/ops/login": true, "/api/v1/auth/mfa/totp": true, "/api/v1/auth/mfa/recovery": true,
	"/api/v1/auth/mfa/webauthn/finish": true, "/login/mfa/totp": true, "/login/mfa/recovery": true,
	"/login/mfa/webauthn/finish": true}

// loginOutcome names what a login step's status means.
func loginOutcome(status int) string {
	switch {
	case status < 400:
		return "success" // a page's success is a redirect
	case status == http.StatusUnauthorized:
		return "invalid_credentials"
	case status == http.StatusLocked:
		return "locked"
	case status == http.StatusForbidden:
		return "refused"
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status < 500:
		return "bad_request"
	}
	return "error"
}

// knownMethods keeps the method label bounded: a client cannot create series with made-up methods.
var knownMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

func newMetrics(version string, stats ports.StatsReader) *metrics {
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
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roumu_login_attempts_total",
		Help: "Login steps (password, second factor; members and operators) by route and outcome.",
	}, []string{"route", "outcome"})
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "roumu_build_info",
		Help:        "Build information.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.requests, m.durations, m.logins, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if stats != nil {
		reg.MustRegister(storeCollector{stats})
	}
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
	if method == http.MethodPost && loginRoutes[route] {
		m.logins.WithLabelValues(route, loginOutcome(status)).Inc()
	}
}

// storeCollector samples the store's operational levels at each scrape: outbox lag per consumer, webhook
// deliveries, the connection pool. A store that cannot answer shows as roumu_store_stats_up 0.
type storeCollector struct{ stats ports.StatsReader }

var (
	descStatsUp         = prometheus.NewDesc("roumu_store_stats_up", "Whether the store answered the scrape's stats query.", nil, nil)
	descOutboxPending   = prometheus.NewDesc("roumu_outbox_pending_events", "Outbox events a consumer has not handled yet.", []string{"consumer"}, nil)
	descOutboxLag       = prometheus.NewDesc("roumu_outbox_oldest_pending_seconds", "Age of a consumer's oldest unhandled outbox event.", []string{"consumer"}, nil)
	descHooksPending    = prometheus.NewDesc("roumu_webhook_deliveries_pending", "Webhook deliveries waiting for an attempt.", nil, nil)
	descHooksFailing    = prometheus.NewDesc("roumu_webhook_deliveries_failing", "Pending webhook deliveries whose last attempt failed.", nil, nil)
	descHooksPaused     = prometheus.NewDesc("roumu_webhook_subscriptions_paused", "Webhook subscriptions paused.", nil, nil)
	descDBOpen          = prometheus.NewDesc("roumu_db_connections_open", "Open database connections.", nil, nil)
	descDBInUse         = prometheus.NewDesc("roumu_db_connections_in_use", "Database connections in use.", nil, nil)
	descDBWaits         = prometheus.NewDesc("roumu_db_connection_waits_total", "Waits for a free database connection.", nil, nil)
	descDBWaitSeconds   = prometheus.NewDesc("roumu_db_connection_wait_seconds_total", "Time spent waiting for a free database connection.", nil, nil)
	storeCollectorDescs = []*prometheus.Desc{descStatsUp, descOutboxPending, descOutboxLag, descHooksPending,
		descHooksFailing, descHooksPaused, descDBOpen, descDBInUse, descDBWaits, descDBWaitSeconds}
)

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range storeCollectorDescs {
		ch <- d
	}
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.stats.OperationalStats(ctx, time.Now())
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descStatsUp, prometheus.GaugeValue, 0)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descStatsUp, 1)
	for consumer, n := range st.OutboxPending {
		gauge(descOutboxPending, float64(n), consumer)
		gauge(descOutboxLag, st.OutboxOldest[consumer].Seconds(), consumer)
	}
	gauge(descHooksPending, float64(st.WebhookDeliveriesPending))
	gauge(descHooksFailing, float64(st.WebhookDeliveriesFailing))
	gauge(descHooksPaused, float64(st.WebhookSubscriptionsPaused))
	gauge(descDBOpen, float64(st.DBOpenConnections))
	gauge(descDBInUse, float64(st.DBInUse))
	ch <- prometheus.MustNewConstMetric(descDBWaits, prometheus.CounterValue, float64(st.DBWaitCount))
	ch <- prometheus.MustNewConstMetric(descDBWaitSeconds, prometheus.CounterValue, st.DBWaitDuration.Seconds())
}

// serve writes the exposition in the format the scraper asks for (the text format by default).
func (m *metrics) serve(c echo.Context) error {
	m.handler.ServeHTTP(c.Response(), c.Request())
	return nil
}

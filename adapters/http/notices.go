package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// provider holds what the provider's side needs: notices and the maintenance switch, the two-person rule and
// the audit search of the operator console.
type provider struct {
	notices     ports.Notices
	operations  ports.Operations
	auditSearch ports.AuditSearch
	clock       ports.Clock
	maintenance *maintenanceCache
}

func newProvider(deps Deps) (provider, error) {
	if deps.Notices == nil || deps.Operations == nil || deps.AuditSearch == nil {
		return provider{}, errors.New("web: Deps.Notices, Deps.Operations and Deps.AuditSearch are required")
	}
	clock := deps.Clock
	if clock == nil {
		clock = systemClock{}
	}
	return provider{notices: deps.Notices, operations: deps.Operations, auditSearch: deps.AuditSearch, clock: clock,
		maintenance: &maintenanceCache{}}, nil
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// maintenanceCacheFor is how long an InMaintenance answer is reused: every request asks, and a few seconds'
// delay in entering or leaving a window announced a month ahead costs nothing.
const maintenanceCacheFor = 5 * time.Second

// maintenanceCache keeps the last InMaintenance answer and when (by the clock) it was given.
type maintenanceCache struct {
	mu     sync.Mutex
	at     time.Time
	answer ports.Maintenance
}

// inMaintenance asks the notices module at most every maintenanceCacheFor. A failed check answers "not in
// maintenance": the store being away is for /readyz to report, not a reason to turn every visitor away.
func (s *Server) inMaintenance(c echo.Context) ports.Maintenance {
	now := s.clock.Now()
	mc := s.maintenance
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if !mc.at.IsZero() && !now.Before(mc.at) && now.Sub(mc.at) < maintenanceCacheFor {
		m := mc.answer
		m.RetryAfter = max(m.RetryAfter-now.Sub(mc.at), time.Second)
		return m
	}
	m, err := s.notices.InMaintenance(c.Request().Context(), now)
	if err != nil {
		s.log.LogAttrs(c.Request().Context(), slog.LevelWarn, "maintenance check failed",
			slog.String("request_id", requestIDOf(c)), slog.String("error", err.Error()))
		return ports.Maintenance{}
	}
	mc.at, mc.answer = now, m
	return m
}

// duringMaintenance reports whether path stays open during a maintenance window: the operators' console and
// API, the probes and metrics, the static files, logging out, and the second step of a login already begun
// (only operators can begin one during a window, since the members' logins are closed).
func duringMaintenance(path string) bool {
	for _, prefix := range []string{"/ops/", "/api/v1/ops/", "/static/", "/login/mfa/", "/api/v1/auth/mfa/"} {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	switch path {
	case "/ops", "/healthz", "/readyz", "/metrics", "/logout", "/login/mfa", "/api/v1/notices":
		return true
	}
	return false
}

// maintenanceGate answers 503 with Retry-After during a maintenance window: browsers get the maintenance page,
// the API problem+json "maintenance".
func (s *Server) maintenanceGate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if duringMaintenance(c.Request().URL.Path) {
			return next(c)
		}
		m := s.inMaintenance(c)
		if !m.Active {
			return next(c)
		}
		until := m.Notice.EndsAt.In(jst).Format("2006-01-02 15:04")
		p := newProblem(http.StatusServiceUnavailable, "maintenance",
			"The service is under planned maintenance until "+until+" (JST). Please come back then.",
			"計画メンテナンス中です（"+until+" まで）。終了後に改めてご利用ください。")
		p.retryAfter = m.RetryAfter
		if c.Request().Method == http.MethodHead || !isPage(c.Request().URL.Path) || wantsJSON(c) {
			return p
		}
		setRetryAfter(c, p)
		notice := m.Notice
		return s.render(c, http.StatusServiceUnavailable, "maintenance",
			&view{Title: "メンテナンス中 / Under maintenance", Notices: []ports.Notice{notice}})
	}
}

// currentNotices are the notices of the login pages; a failure to read them is logged and shows none, since
// logging in matters more.
func (s *Server) currentNotices(c echo.Context) []ports.Notice {
	list, err := s.notices.Current(c.Request().Context())
	if err != nil {
		s.log.LogAttrs(c.Request().Context(), slog.LevelWarn, "reading the notices failed",
			slog.String("request_id", requestIDOf(c)), slog.String("error", err.Error()))
		return nil
	}
	return list
}

// noticeJSON is a notice in the API. English texts fall back to the Japanese ones.
type noticeJSON struct {
	ID          string  `json:"id"`
	Kind        string  `json:"kind"`
	Severity    string  `json:"severity"`
	TitleJA     string  `json:"title_ja"`
	TitleEN     string  `json:"title_en"`
	BodyJA      string  `json:"body_ja"`
	BodyEN      string  `json:"body_en"`
	KnownAt     *string `json:"known_at"`
	DeadlineAt  *string `json:"deadline_at"`
	PostedAt    *string `json:"posted_at"`
	ResolvedAt  *string `json:"resolved_at"`
	StartsAt    *string `json:"starts_at"`
	EndsAt      *string `json:"ends_at"`
	CancelledAt *string `json:"cancelled_at"`
	// Operators only.
	PostedBy string `json:"posted_by,omitempty"`
	Overdue  bool   `json:"overdue,omitempty"`
}

func toNoticeJSON(n ports.Notice) noticeJSON {
	return noticeJSON{ID: n.ID, Kind: n.Kind, Severity: n.Severity, TitleJA: n.TitleJA, TitleEN: orJA(n.TitleEN, n.TitleJA),
		BodyJA: n.BodyJA, BodyEN: orJA(n.BodyEN, n.BodyJA), KnownAt: rfc3339(n.KnownAt), DeadlineAt: rfc3339(n.DeadlineAt),
		PostedAt: rfc3339(n.PostedAt), ResolvedAt: rfc3339(n.ResolvedAt), StartsAt: rfc3339(n.StartsAt),
		EndsAt: rfc3339(n.EndsAt), CancelledAt: rfc3339(n.CancelledAt), PostedBy: n.PostedBy, Overdue: n.Overdue}
}

func orJA(en, ja string) string {
	if en == "" {
		return ja
	}
	return en
}

// apiNotices lists the current notices for anyone, as the login pages show them.
func (s *Server) apiNotices(c echo.Context) error {
	return replyItems(c, toNoticeJSON)(s.notices.Current(c.Request().Context()))
}

package web

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/roumu/roumu/ports"
)

// DefaultBodyLimit bounds request bodies when Config.BodyLimit is zero. Nothing the accounts slice accepts
// comes near it; CSV imports will get their own, larger limit on their own route.
const DefaultBodyLimit int64 = 1 << 20

// Config is the part of the service configuration the HTTP adapter needs.
type Config struct {
	// PublicURL is the external URL (server.public_url). When it is https the session and CSRF cookies are
	// Secure with the __Host- prefix and responses carry HSTS.
	PublicURL string
	// TrustedProxies lists the CIDRs (or single addresses) of the reverse proxies whose X-Forwarded-For is
	// believed. Empty means the service faces clients directly and the header is ignored.
	TrustedProxies []string
	// BodyLimit is the largest request body in bytes; 0 means DefaultBodyLimit.
	BodyLimit int64
	// TLSCertFile and TLSKeyFile, when both set, make Serve speak HTTPS (TLS 1.2 minimum).
	TLSCertFile string
	TLSKeyFile  string
	// Version is shown by /metrics (roumu_build_info) and in the page footer.
	Version string
	// ReadyTimeout bounds the readiness ping; 0 means 2 seconds.
	ReadyTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown in Serve; 0 means 15 seconds.
	ShutdownTimeout time.Duration
	// ImportBodyLimit bounds a CSV upload (the one body allowed past BodyLimit); 0 means
	// DefaultImportBodyLimit.
	ImportBodyLimit int64
	// ImportSyncLimit is the largest CSV upload imported within its request; a larger one runs as a job.
	// 0 means DefaultImportSyncLimit.
	ImportSyncLimit int64
	// TempDir holds spooled uploads and exports; "" means the system's temporary directory.
	TempDir string
}

// Deps are the ports the adapter drives.
type Deps struct {
	Accounts ports.Accounts
	// MFA is the second-factor port (the accounts service implements it too).
	MFA ports.MFA
	// APITokens manages integration tokens (the accounts service implements it too).
	APITokens ports.APITokens
	// Employees is the employee register.
	Employees ports.Employees
	// Procedures is the procedures module (手続き).
	Procedures ports.Procedures
	// Documents produces procedures' forms (PDF, e-filing CSV); without it their downloads answer 503.
	Documents ports.ProcedureDocuments
	// Attachments keeps procedures' scanned files; without it their routes answer 503.
	Attachments ports.ProcedureAttachments
	// Stats gives the store's operational levels to /metrics (outbox lag, webhooks, the pool); optional.
	Stats ports.StatsReader
	// Webhooks is the webhooks module; without it the webhook routes are not registered (404).
	Webhooks ports.Webhooks
	// RateLimiter counts API requests and login attempts (see ratelimit.go); nil limits nothing.
	RateLimiter ports.RateLimiter
	// Idempotency keeps the answers of POST requests sent with an Idempotency-Key (see idempotency.go); nil
	// ignores the header.
	Idempotency ports.Idempotency
	// Ready answers /readyz; nil means always ready.
	Ready ports.Pinger
	// Logger receives the access log and server-side error details; nil discards them.
	Logger *slog.Logger
	// Notices gives the login pages' notices and the maintenance switch; Operations is the two-person rule and
	// AuditSearch the audit log search of the operator console.
	Notices     ports.Notices
	Operations  ports.Operations
	AuditSearch ports.AuditSearch
	// Keys shows the data keys and the key rotation jobs' progress in the console; without it those pages
	// and their API are not registered (404).
	Keys ports.KeyRotations
	// Clock tells the maintenance switch the time; nil means the system clock.
	Clock ports.Clock
}

// Server is the HTTP adapter: an Echo instance with every route registered.
type Server struct {
	cfg         Config
	accounts    ports.Accounts
	mfa         ports.MFA
	apiTokens   ports.APITokens
	employees   ports.Employees
	procedures  ports.Procedures
	documents   ports.ProcedureDocuments
	attachments ports.ProcedureAttachments
	webhooks    ports.Webhooks
	keys        ports.KeyRotations
	ready       ports.Pinger
	provider
	limiter ports.RateLimiter
	log     *slog.Logger
	e       *echo.Echo
	metrics *metrics
	pages   *pages
	// csrf guards every page route (see newCSRF).
	csrf echo.MiddlewareFunc
	// https is true when the public URL is https or TLS is served here: it decides the cookie prefix,
	// the Secure attribute and HSTS.
	https     bool
	bodyLimit int64

	importDir       string
	importBodyLimit int64
	importSyncLimit int64
	// jobs counts the import jobs running in the background (see WaitJobs).
	jobs sync.WaitGroup
	// idempotency keeps the answers of requests sent with an Idempotency-Key; nil ignores the header.
	idempotency ports.Idempotency
}

// New builds the server and registers its routes. It fails on configuration it cannot honour (an invalid
// trusted proxy range, an unparsable public URL, a missing port), so start-up stops with a reason.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Accounts == nil {
		return nil, errors.New("web: Deps.Accounts is required")
	}
	if deps.MFA == nil {
		return nil, errors.New("web: Deps.MFA is required")
	}
	if deps.APITokens == nil {
		return nil, errors.New("web: Deps.APITokens is required")
	}
	if deps.Employees == nil {
		return nil, errors.New("web: Deps.Employees is required")
	}
	if deps.Procedures == nil {
		return nil, errors.New("web: Deps.Procedures is required")
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://localhost:8080"
	}
	pub, err := url.Parse(cfg.PublicURL)
	if err != nil || (pub.Scheme != "http" && pub.Scheme != "https") || pub.Host == "" {
		return nil, fmt.Errorf("web: server.public_url %q is not an absolute http(s) URL", cfg.PublicURL)
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return nil, errors.New("web: server.tls.cert_file and server.tls.key_file must be set together")
	}
	extractor, err := ipExtractor(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 2 * time.Second
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	prov, err := newProvider(deps)
	if err != nil {
		return nil, err
	}
	pg, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:         cfg,
		accounts:    deps.Accounts,
		mfa:         deps.MFA,
		apiTokens:   deps.APITokens,
		employees:   deps.Employees,
		procedures:  deps.Procedures,
		documents:   deps.Documents,
		attachments: deps.Attachments,
		webhooks:    deps.Webhooks,
		keys:        deps.Keys,
		ready:       deps.Ready,
		provider:    prov,
		limiter:     deps.RateLimiter,
		idempotency: deps.Idempotency,
		log:         logger,
		metrics:     newMetrics(cfg.Version, deps.Stats),
		pages:       pg,
		https:       pub.Scheme == "https" || cfg.TLSCertFile != "",
		bodyLimit:   cfg.BodyLimit,
	}
	if s.bodyLimit <= 0 {
		s.bodyLimit = DefaultBodyLimit
	}
	s.importDir, s.importBodyLimit, s.importSyncLimit = cfg.TempDir, cfg.ImportBodyLimit, cfg.ImportSyncLimit
	if s.importDir == "" {
		s.importDir = os.TempDir()
	}
	if s.importBodyLimit <= 0 {
		s.importBodyLimit = DefaultImportBodyLimit
	}
	if s.importSyncLimit <= 0 {
		s.importSyncLimit = DefaultImportSyncLimit
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = extractor
	e.HTTPErrorHandler = s.handleError
	e.Logger.SetOutput(io.Discard) // everything worth logging goes through slog
	s.e = e

	// Pre middleware runs before routing, so it also wraps 404 and 405 answers. The order is outermost first:
	// the request ID and security headers must be on every response, the access log sees the final status
	// because it hands errors to the error handler itself, recover sits inside it so a panic is logged as 500.
	e.Pre(s.requestID, s.securityHeaders, s.accessLog, s.recover, s.maintenanceGate,
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: strconv.FormatInt(s.bodyLimit, 10) + "B",
			Skipper: isUpload}), s.skipWebhooks)
	s.csrf = s.newCSRF()
	s.routes()
	s.metrics.knownRoutes(e.Routes())
	return s, nil
}

// Handler returns the server as an http.Handler, for tests and for embedding behind another server.
func (s *Server) Handler() http.Handler { return s.e }

// Echo exposes the Echo instance, so that tests elsewhere can enumerate e.Routes().
func (s *Server) Echo() *echo.Echo { return s.e }

// routes registers every route. Each route names the session stages it admits (see gate): a session at
// StageMFA opens only the second-factor step and logout, one at StageMFAEnrol only what adding a factor needs.
func (s *Server) routes() {
	e := s.e

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metrics.serve)
	e.GET("/static/*", s.static)

	// The JSON API: bearer tokens only, never cookies, hence no CSRF here.
	e.Use(s.apiRateLimit)
	api := e.Group("/api/v1")
	api.GET("/openapi.yaml", s.openAPI)
	api.POST("/auth/login", s.apiLogin)
	api.POST("/auth/logout", s.apiLogout, s.bearer(gateAny))
	api.POST("/ops/auth/login", s.apiOperatorLogin)
	api.GET("/me", s.apiMe, s.bearer(gateSelf))
	api.POST("/me/password", s.apiChangePassword, s.bearer(gatePassword))

	mfaStep := s.bearer(gateMFA)
	api.POST("/auth/mfa/totp", s.apiVerifyTOTP, mfaStep)
	api.POST("/auth/mfa/webauthn/begin", s.beginWebAuthnLogin, mfaStep)
	api.POST("/auth/mfa/webauthn/finish", s.apiFinishWebAuthnLogin, mfaStep)
	api.POST("/auth/mfa/recovery", s.apiUseRecoveryCode, mfaStep)

	enrol := s.bearer(gateEnrol)
	api.GET("/me/mfa", s.apiMFAStatus, enrol)
	api.POST("/me/mfa/totp", s.apiBeginTOTP, enrol)
	api.POST("/me/mfa/totp/confirm", s.apiConfirmTOTP, enrol)
	api.DELETE("/me/mfa/totp", s.apiRemoveTOTP, s.bearer(gateFull))
	api.POST("/me/mfa/webauthn/begin", s.beginWebAuthnRegistration, enrol)
	api.POST("/me/mfa/webauthn/finish", s.apiFinishWebAuthnRegistration, enrol)
	api.DELETE("/me/mfa/webauthn/:id", s.apiRemoveWebAuthn, s.bearer(gateFull), validID)

	admin := s.bearer(gateFull, ports.RoleAdmin)
	api.GET("/tenant", s.apiTenant, admin)
	api.PATCH("/tenant", s.apiUpdateTenant, admin)
	api.GET("/accounts", s.apiListAccounts, admin)
	api.POST("/accounts", s.apiCreateAccount, admin)
	api.GET("/accounts/:id", s.apiGetAccount, admin, validID)
	api.PATCH("/accounts/:id", s.apiUpdateAccount, admin, validID)
	api.POST("/accounts/:id/unlock", s.apiUnlockAccount, admin, validID)
	api.POST("/accounts/:id/disable", s.apiDisableAccount, admin, validID)
	s.employeeRoutes(api)
	s.procedureRoutes(api)
	s.procedureDocumentRoutes(api)
	if s.webhooks != nil {
		s.webhookRoutes(api)
		s.webhookPageRoutes()
	}
	s.procedureAttachmentRoutes(api)

	// Browser pages: cookie session, CSRF on every form. The WebAuthn endpoints the page script calls answer
	// JSON, errors included (see wantsJSON), and take the token in the X-CSRF-Token header.
	e.GET("/login", s.loginPage, s.csrf)
	e.POST("/login", s.loginSubmit, s.loginRateLimit, s.csrf)
	e.POST("/logout", s.logout, s.csrf)

	mfaPage := s.session(anyArea, gateMFA)
	e.GET("/login/mfa", s.mfaPage, s.csrf, mfaPage)
	e.POST("/login/mfa/totp", s.mfaTOTPSubmit, s.csrf, mfaPage)
	e.POST("/login/mfa/recovery", s.mfaRecoverySubmit, s.csrf, mfaPage)
	e.POST("/login/mfa/webauthn/begin", s.beginWebAuthnLogin, s.csrf, mfaPage)
	e.POST("/login/mfa/webauthn/finish", s.pageFinishWebAuthnLogin, s.csrf, mfaPage)

	e.GET("/", s.dashboard, s.csrf, s.session(memberArea, gateFull))
	e.GET("/settings/security", s.securityPage, s.csrf, s.session(anyArea, gateSelf))
	e.POST("/settings/security", s.securitySubmit, s.csrf, s.session(anyArea, gatePassword))

	enrolPage, fullPage := s.session(anyArea, gateEnrol), s.session(anyArea, gateFull)
	e.POST("/settings/security/totp", s.totpBeginSubmit, s.csrf, enrolPage)
	e.POST("/settings/security/totp/confirm", s.totpConfirmSubmit, s.csrf, enrolPage)
	e.POST("/settings/security/totp/remove", s.totpRemoveSubmit, s.csrf, fullPage)
	e.POST("/settings/security/webauthn/begin", s.beginWebAuthnRegistration, s.csrf, enrolPage)
	e.POST("/settings/security/webauthn/finish", s.pageFinishWebAuthnRegistration, s.csrf, enrolPage)
	e.POST("/settings/security/webauthn/:id/remove", s.keyRemoveSubmit, s.csrf, fullPage, validID)

	adminPage := s.session(memberArea, gateFull, ports.RoleAdmin)
	e.GET("/admin/accounts", s.adminAccounts, s.csrf, adminPage)
	e.POST("/admin/accounts", s.adminCreateAccount, s.csrf, adminPage)
	e.POST("/admin/accounts/:id/unlock", s.adminUnlock, s.csrf, adminPage, validID)
	e.POST("/admin/accounts/:id/disable", s.adminDisable, s.csrf, adminPage, validID)
	e.GET("/admin/security", s.adminSecurity, s.csrf, adminPage)
	e.POST("/admin/security", s.adminSecuritySubmit, s.csrf, adminPage)

	s.employeePageRoutes()
	s.procedurePageRoutes()
	s.ipRestrictionRoutes(api)
	s.apiTokenRoutes(api)

	e.GET("/ops/login", s.opsLoginPage, s.csrf)
	e.POST("/ops/login", s.opsLoginSubmit, s.loginRateLimit, s.csrf)
	s.consoleRoutes(api)
}

// ipExtractor finds the client address with ports.TrustedProxies.ClientIP, the one definition of what
// Source.IP means: X-Forwarded-For is believed only as far as the configured proxies vouch for it (nothing is
// trusted by default, not even loopback or private peers, which could otherwise forge their address).
func ipExtractor(trusted []string) (echo.IPExtractor, error) {
	tp, err := ports.ParseTrustedProxies(trusted)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return func(r *http.Request) string {
		if a := tp.ClientIP(r.RemoteAddr, r.Header.Values(echo.HeaderXForwardedFor)); a.IsValid() {
			return a.String()
		}
		return ""
	}, nil
}

package web

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// The operator console's API under /api/v1/ops: bearer tokens of fully logged-in operators only.

// operatorsOnly hides the operators' API from tenant members: to them it does not exist.
func operatorsOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if principalOf(c).Kind != ports.KindOperator {
			return errNotFound
		}
		return next(c)
	}
}

func (s *Server) consoleAPIRoutes(api *echo.Group) {
	op := []echo.MiddlewareFunc{s.bearer(gateFull), operatorsOnly}
	opID := append(op[:2:2], validID)
	api.GET("/ops/tenants", s.apiOpsTenants, op...)
	api.POST("/ops/tenants", s.apiOpsCreateTenant, op...)
	api.GET("/ops/tenants/:id", s.apiOpsTenant, opID...)
	api.GET("/ops/operators", s.apiOpsOperators, op...)
	api.POST("/ops/operators/:id/password", s.apiOpsIssuePassword, opID...)
	api.GET("/ops/requests", s.apiOpsRequests, op...)
	api.POST("/ops/requests", s.apiOpsRequest, op...)
	api.GET("/ops/requests/:id", s.apiOpsGetRequest, opID...)
	api.POST("/ops/requests/:id/approve", s.apiOpsDecide(true), opID...)
	api.POST("/ops/requests/:id/reject", s.apiOpsDecide(false), opID...)
	api.GET("/ops/notices", s.apiOpsNotices, op...)
	api.POST("/ops/notices/incidents", s.apiOpsPostIncident, op...)
	api.POST("/ops/notices/maintenance", s.apiOpsScheduleMaintenance, op...)
	api.POST("/ops/notices/:id/resolve", s.apiOpsNoticeAction(s.notices.ResolveIncident), opID...)
	api.POST("/ops/notices/:id/cancel", s.apiOpsNoticeAction(s.notices.CancelMaintenance), opID...)
	api.GET("/ops/audit", s.apiOpsAudit, op...)
	api.GET("/ops/audit.csv", s.opsAuditCSV, op...)
	api.GET("/notices", s.apiNotices)
}

type tenantOverviewJSON struct {
	ID             string   `json:"id"`
	Code           string   `json:"code"`
	Name           string   `json:"name"`
	Status         string   `json:"status"`
	MFARequired    bool     `json:"mfa_required"`
	IPRestriction  bool     `json:"ip_restriction"`
	AllowedCIDRs   []string `json:"allowed_cidrs"`
	Seats          int      `json:"seats"`
	Accounts       int      `json:"accounts"`
	ActiveAccounts int      `json:"active_accounts"`
	CreatedAt      *string  `json:"created_at"`
}

func toTenantOverviewJSON(t ports.TenantOverview) tenantOverviewJSON {
	cidrs := t.AllowedCIDRs
	if cidrs == nil {
		cidrs = []string{}
	}
	return tenantOverviewJSON{ID: t.ID, Code: t.Code, Name: t.Name, Status: t.Status, MFARequired: t.MFARequired,
		IPRestriction: t.IPRestriction, AllowedCIDRs: cidrs, Seats: t.Seats, Accounts: t.Accounts,
		ActiveAccounts: t.ActiveAccounts, CreatedAt: rfc3339(t.CreatedAt)}
}

func (s *Server) apiOpsTenants(c echo.Context) error {
	return replyItems(c, toTenantOverviewJSON)(s.accounts.ListTenants(c.Request().Context(), principalOf(c)))
}

func (s *Server) apiOpsTenant(c echo.Context) error {
	t, err := s.accounts.GetTenant(c.Request().Context(), principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, toTenantOverviewJSON(t))
}

type createTenantRequest struct {
	Code          string `json:"code"`
	Name          string `json:"name"`
	AdminLogin    string `json:"admin_login"`
	AdminName     string `json:"admin_name"`
	AdminPassword string `json:"admin_password"`
}

func (s *Server) apiOpsCreateTenant(c echo.Context) error {
	var req createTenantRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	t, admin, err := s.accounts.OperatorCreateTenant(c.Request().Context(), principalOf(c), ports.CreateTenantCommand{
		Code: req.Code, Name: req.Name, AdminLogin: req.AdminLogin, AdminName: req.AdminName,
		AdminPassword: req.AdminPassword, Source: source(c)})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/ops/tenants/"+t.ID)
	return writeJSON(c, http.StatusCreated, map[string]any{"tenant": toTenantJSON(t), "admin": toAccountJSON(admin)})
}

func (s *Server) apiOpsOperators(c echo.Context) error {
	return replyItems(c, toAccountJSON)(s.accounts.ListOperators(c.Request().Context(), principalOf(c)))
}

func (s *Server) apiOpsIssuePassword(c echo.Context) error {
	pw, err := s.accounts.IssueOperatorPassword(c.Request().Context(), principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]string{"initial_password": pw})
}

// operationJSON is a work record: the request, its decision and its execution.
type operationJSON struct {
	ID               string            `json:"id"`
	Kind             string            `json:"kind"`
	Params           map[string]string `json:"params"`
	Reason           string            `json:"reason"`
	Status           string            `json:"status"`
	RequestedBy      string            `json:"requested_by"`
	RequestedByLogin string            `json:"requested_by_login"`
	RequestedAt      *string           `json:"requested_at"`
	ExpiresAt        *string           `json:"expires_at"`
	DecidedBy        string            `json:"decided_by"`
	DecidedByLogin   string            `json:"decided_by_login"`
	DecidedAt        *string           `json:"decided_at"`
	DecisionComment  string            `json:"decision_comment"`
	ExecutedBy       string            `json:"executed_by"`
	ExecutedByLogin  string            `json:"executed_by_login"`
	StartedAt        *string           `json:"started_at"`
	FinishedAt       *string           `json:"finished_at"`
	Result           string            `json:"result"`
	Error            string            `json:"error"`
}

func toOperationJSON(r ports.OperationRequest) operationJSON {
	params := r.Params
	if params == nil {
		params = map[string]string{}
	}
	return operationJSON{ID: r.ID, Kind: r.Kind, Params: params, Reason: r.Reason, Status: r.Status,
		RequestedBy: r.RequestedBy, RequestedByLogin: r.RequestedByLogin, RequestedAt: rfc3339(r.RequestedAt),
		ExpiresAt: rfc3339(r.ExpiresAt), DecidedBy: r.DecidedBy, DecidedByLogin: r.DecidedByLogin,
		DecidedAt: rfc3339(r.DecidedAt), DecisionComment: r.DecisionComment, ExecutedBy: r.ExecutedBy,
		ExecutedByLogin: r.ExecutedByLogin, StartedAt: rfc3339(r.StartedAt), FinishedAt: rfc3339(r.FinishedAt),
		Result: r.Result, Error: r.Error}
}

func replyOperation(c echo.Context, status int) func(ports.OperationRequest, error) error {
	return func(r ports.OperationRequest, err error) error {
		if err != nil {
			return err
		}
		return writeJSON(c, status, toOperationJSON(r))
	}
}

// operationStatuses are the statuses a request list can be filtered by.
var operationStatuses = []string{ports.OperationPending, ports.OperationApproved, ports.OperationExecuting,
	ports.OperationExecuted, ports.OperationFailed, ports.OperationRejected, ports.OperationExpired}

// operationFilter reads the request list's filters (status, kind), refusing values no request can have.
func operationFilter(c echo.Context) (ports.OperationFilter, error) {
	f := ports.OperationFilter{Status: c.QueryParam("status"), Kind: c.QueryParam("kind")}
	var errs []ports.FieldError
	if f.Status != "" && !slices.Contains(operationStatuses, f.Status) {
		errs = append(errs, ports.FieldError{Field: "status", Code: "invalid_choice",
			MessageEN: "must be one of " + strings.Join(operationStatuses, ", "), MessageJA: "選択肢から指定してください"})
	}
	if _, known := operationKinds[f.Kind]; f.Kind != "" && !known {
		errs = append(errs, ports.FieldError{Field: "kind", Code: "invalid_choice",
			MessageEN: "is not an operation", MessageJA: "操作の種類が正しくありません"})
	}
	if len(errs) > 0 {
		return f, invalidFields(errs)
	}
	return f, nil
}

func (s *Server) apiOpsRequests(c echo.Context) error {
	f, err := operationFilter(c)
	if err != nil {
		return err
	}
	return replyItems(c, toOperationJSON)(s.operations.List(c.Request().Context(), principalOf(c), f))
}

type operationRequest struct {
	Kind   string            `json:"kind"`
	Params map[string]string `json:"params"`
	Reason string            `json:"reason"`
}

func (s *Server) apiOpsRequest(c echo.Context) error {
	var req operationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return replyOperation(c, http.StatusCreated)(s.operations.Request(c.Request().Context(), principalOf(c),
		ports.RequestOperationCommand{Kind: req.Kind, Params: req.Params, Reason: req.Reason}))
}

func (s *Server) apiOpsGetRequest(c echo.Context) error {
	return replyOperation(c, http.StatusOK)(s.operations.Get(c.Request().Context(), principalOf(c), c.Param("id")))
}

type decisionRequest struct {
	Comment string `json:"comment"`
}

// apiOpsDecide approves (and executes) or rejects a request; the body, optional, carries a comment.
func (s *Server) apiOpsDecide(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req decisionRequest
		if c.Request().ContentLength != 0 {
			if err := decodeJSON(c, &req); err != nil {
				return err
			}
		}
		return replyOperation(c, http.StatusOK)(s.decision(approve)(c.Request().Context(), principalOf(c), c.Param("id"), req.Comment))
	}
}

func (s *Server) apiOpsNotices(c echo.Context) error {
	return replyItems(c, toNoticeJSON)(s.notices.List(c.Request().Context(), principalOf(c)))
}

type noticeTextRequest struct {
	TitleJA string `json:"title_ja"`
	TitleEN string `json:"title_en"`
	BodyJA  string `json:"body_ja"`
	BodyEN  string `json:"body_en"`
}

func (r noticeTextRequest) text() ports.NoticeText {
	return ports.NoticeText{TitleJA: r.TitleJA, TitleEN: r.TitleEN, BodyJA: r.BodyJA, BodyEN: r.BodyEN}
}

type incidentRequest struct {
	noticeTextRequest
	Severity string `json:"severity"`
	KnownAt  string `json:"known_at"`
}

func (s *Server) apiOpsPostIncident(c echo.Context) error {
	var req incidentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	known, err := formInstant("known_at", req.KnownAt)
	if err != nil {
		return err
	}
	n, err := s.notices.PostIncident(c.Request().Context(), principalOf(c),
		ports.PostIncidentCommand{Severity: req.Severity, NoticeText: req.text(), KnownAt: known})
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusCreated, toNoticeJSON(n))
}

type maintenanceRequest struct {
	noticeTextRequest
	StartsAt string `json:"starts_at"`
	EndsAt   string `json:"ends_at"`
}

type warningJSON struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageJA string `json:"message_ja"`
}

func (s *Server) apiOpsScheduleMaintenance(c echo.Context) error {
	var req maintenanceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	starts, err := formInstant("starts_at", req.StartsAt)
	if err != nil {
		return err
	}
	ends, err := formInstant("ends_at", req.EndsAt)
	if err != nil {
		return err
	}
	n, warnings, err := s.notices.ScheduleMaintenance(c.Request().Context(), principalOf(c),
		ports.ScheduleMaintenanceCommand{NoticeText: req.text(), StartsAt: starts, EndsAt: ends})
	if err != nil {
		return err
	}
	toWarningJSON := func(w ports.Warning) warningJSON {
		return warningJSON{Code: w.Code, Message: w.MessageEN, MessageJA: w.MessageJA}
	}
	return writeJSON(c, http.StatusCreated, map[string]any{"notice": toNoticeJSON(n), "warnings": jsonItems(warnings, toWarningJSON)})
}

func (s *Server) apiOpsNoticeAction(act func(context.Context, ports.Principal, string) (ports.Notice, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		n, err := act(c.Request().Context(), principalOf(c), c.Param("id"))
		if err != nil {
			return err
		}
		return writeJSON(c, http.StatusOK, toNoticeJSON(n))
	}
}

type auditRecordJSON struct {
	Seq       int64             `json:"seq"`
	At        *string           `json:"at"`
	TenantID  string            `json:"tenant_id"`
	ActorID   string            `json:"actor_id"`
	ActorKind string            `json:"actor_kind"`
	Action    string            `json:"action"`
	Target    string            `json:"target"`
	IP        string            `json:"ip"`
	UserAgent string            `json:"user_agent"`
	Outcome   string            `json:"outcome"`
	Detail    map[string]string `json:"detail"`
	Hash      string            `json:"hash"`
}

func toAuditRecordJSON(r ports.AuditRecord) auditRecordJSON {
	e := r.Event
	return auditRecordJSON{Seq: r.Seq, At: rfc3339(e.At), TenantID: e.TenantID, ActorID: e.ActorID, ActorKind: e.ActorKind,
		Action: e.Action, Target: e.Target, IP: e.IP, UserAgent: e.UserAgent, Outcome: e.Outcome, Detail: e.Detail, Hash: r.Hash}
}

// apiOpsAudit searches the audit log; next_after continues the search (null at its end).
func (s *Server) apiOpsAudit(c echo.Context) error {
	f, _, err := auditQuery(c)
	if err != nil {
		return err
	}
	page, err := s.auditSearch.SearchAudit(c.Request().Context(), principalOf(c), f)
	if err != nil {
		return err
	}
	var next *int64
	if page.Next > 0 {
		next = &page.Next
	}
	return writeJSON(c, http.StatusOK, map[string]any{"items": jsonItems(page.Records, toAuditRecordJSON), "next_after": next})
}

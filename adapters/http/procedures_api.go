package web

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// The procedures module's REST API (/api/v1/procedures…): the list by deadline, the deadline dashboard, the
// catalogue, manual creation, edits of a draft, and the workflow actions. Who may do what is the module's
// rule (admin and hr prepare, an admin other than the preparer approves): the routes admit any fully
// logged-in session and the port answers 403, 404 or 409.

// procedureActions are the workflow actions, each a POST /api/v1/procedures/{id}/{action}.
var procedureActions = []string{ports.ActionSubmit, ports.ActionApprove, ports.ActionReturn, ports.ActionFile,
	ports.ActionComplete, ports.ActionCancel}

func (s *Server) procedureRoutes(api *echo.Group) {
	member := s.bearer(gateFull)
	id := validParams("id")
	api.GET("/procedures", s.apiListProcedures, member)
	api.POST("/procedures", s.apiCreateProcedure, member)
	api.GET("/procedures/dashboard", s.apiProcedureDashboard, member)
	api.GET("/procedures/types", s.apiProcedureTypes, member)
	api.POST("/procedures/annual-reports", s.apiCreateAnnualReports, member)
	api.GET("/procedures/:id", s.apiGetProcedure, member, id)
	api.PATCH("/procedures/:id", s.apiUpdateProcedure, member, id)
	api.POST("/procedures/:id/:action", s.apiActOnProcedure, member, id)
}

// replyProcedure answers with the procedure a port call returned and its ETag, or passes its error on.
func replyProcedure(c echo.Context, status int) func(ports.Procedure, error) error {
	return func(p ports.Procedure, err error) error {
		if err != nil {
			return err
		}
		return sendVersioned(c, status, "/api/v1/procedures/"+p.ID, p.Version, toProcedureJSON(p))
	}
}

// procedureListQuery is the list's query string; status and type take several values, repeated or
// comma-separated. updated_since and sort work as on the employee list (sort: due_date, created_at,
// updated_at, which the module checks).
var procedureListQuery = []string{"cursor", "limit", "status", "type", "employee_id", "due_before", "updated_since", "sort"}

func procedureFilter(c echo.Context) (ports.ProcedureFilter, error) {
	q := c.QueryParams()
	limit, errs := listParams(q, procedureListQuery)
	f := ports.ProcedureFilter{Statuses: multi(q["status"]), Types: multi(q["type"]), EmployeeID: q.Get("employee_id"),
		DueBefore: q.Get("due_before"), Sort: q.Get("sort"), Cursor: q.Get("cursor"), Limit: limit}
	f.UpdatedSince, errs = updatedSince(q, errs)
	if len(errs) > 0 {
		return f, invalidFields(errs)
	}
	return f, nil
}

func (s *Server) apiListProcedures(c echo.Context) error {
	f, err := procedureFilter(c)
	if err != nil {
		return err
	}
	page, err := s.procedures.ListProcedures(c.Request().Context(), principalOf(c), f)
	if err != nil {
		return badCursor(err)
	}
	return writePage(c, page.Items, page.NextCursor, toProcedureJSON)
}

func (s *Server) apiProcedureDashboard(c echo.Context) error {
	d, err := s.procedures.Dashboard(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, procedureDashboardJSON{Today: d.Today, Overdue: jsonItems(d.Overdue, toProcedureJSON),
		DueToday: jsonItems(d.DueToday, toProcedureJSON), DueThisWeek: jsonItems(d.DueThisWeek, toProcedureJSON)})
}

// apiProcedureTypes lists the catalogue. It is the same for every tenant, but only its members who handle
// procedures see it, as the module's other reads.
func (s *Server) apiProcedureTypes(c echo.Context) error {
	if !full(principalOf(c)) {
		return errForbidden
	}
	return writeJSON(c, http.StatusOK, map[string]any{"items": jsonItems(s.procedures.Catalogue(), toProcedureTypeJSON)})
}

type procedureCreateRequest struct {
	Type       string            `json:"type"`
	EmployeeID string            `json:"employee_id"`
	FactDate   string            `json:"fact_date"`
	Office     string            `json:"office"`
	Fields     map[string]string `json:"fields"`
	Comment    string            `json:"comment"`
}

func (s *Server) apiCreateProcedure(c echo.Context) error {
	var req procedureCreateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return replyProcedure(c, http.StatusCreated)(s.procedures.CreateProcedure(c.Request().Context(), principalOf(c),
		ports.ProcedureInput{Type: req.Type, EmployeeID: req.EmployeeID, FactDate: req.FactDate, Office: req.Office,
			Fields: req.Fields, Comment: req.Comment}))
}

func (s *Server) apiGetProcedure(c echo.Context) error {
	return replyProcedure(c, http.StatusOK)(s.procedures.GetProcedure(c.Request().Context(), principalOf(c), c.Param("id")))
}

// procedureEditRequest changes a draft or returned procedure: a new fact date recomputes the deadline; each
// field of fields is set, "" clears it.
type procedureEditRequest struct {
	FactDate string            `json:"fact_date"`
	Fields   map[string]string `json:"fields"`
}

// apiUpdateProcedure needs If-Match, as an employee's write does: two people preparing the same filing must
// not overwrite each other unknowingly.
func (s *Server) apiUpdateProcedure(c echo.Context) error {
	version, err := ifMatch(c, true)
	if err != nil {
		return err
	}
	var req procedureEditRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return replyProcedure(c, http.StatusOK)(s.procedures.UpdateProcedure(c.Request().Context(), principalOf(c), c.Param("id"),
		ports.ProcedureEdit{FactDate: req.FactDate, Fields: req.Fields, IfVersion: version}))
}

type procedureActionRequest struct {
	Comment string `json:"comment"`
}

// apiActOnProcedure applies a workflow action. The body {"comment"} may be left out (return and cancel
// need a comment, which the module asks for); If-Match is optional and, when sent, applies the action only
// to that version.
func (s *Server) apiActOnProcedure(c echo.Context) error {
	action := c.Param("action")
	if !slices.Contains(procedureActions, action) {
		return errNotFound
	}
	version, err := ifMatch(c, false)
	if err != nil {
		return err
	}
	var req procedureActionRequest
	if hasBody(c.Request()) {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	return replyProcedure(c, http.StatusOK)(s.procedures.Act(c.Request().Context(), principalOf(c), c.Param("id"),
		ports.ProcedureAction{Action: action, Comment: req.Comment, IfVersion: version}))
}

// hasBody tells whether a request sent a body or says it has one; a request with neither is read as an empty
// body rather than a malformed one.
func hasBody(r *http.Request) bool {
	return r.ContentLength != 0 || r.Header.Get(echo.HeaderContentType) != ""
}

type annualReportsRequest struct {
	Year int `json:"year"`
}

// apiCreateAnnualReports creates the 算定基礎届 of a year for everyone insured on 1 July; running it again
// creates nothing new.
func (s *Server) apiCreateAnnualReports(c echo.Context) error {
	var req annualReportsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	n, err := s.procedures.CreateAnnualReports(c.Request().Context(), principalOf(c), req.Year)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]int{"created": n})
}

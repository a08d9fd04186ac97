package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// The employee register's REST API (/api/v1/employees…, /api/v1/departments…, /api/v1/jobs/{id},
// /api/v1/me/employee). Who may do what is the module's rule: the routes admit any fully logged-in session
// and the port answers 403 or 404.

// Precondition headers. An employee's ETag is its version, strong and quoted ("7"); a write of an employee
// must name the version it read in If-Match, so that two people editing the same record cannot overwrite each
// other unknowingly: without it the answer is 428.
var (
	errPreconditionRequired = newProblem(http.StatusPreconditionRequired, "precondition_required",
		"Send the ETag you read as If-Match.", "読み込んだ ETag を If-Match で送信してください。")
	errInvalidIfMatch = newProblem(http.StatusBadRequest, "invalid_if_match",
		`If-Match must be one ETag as sent by the API, e.g. "3".`, `If-Match には API が返した ETag を1つ指定してください（例: "3"）。`)
)

// ifMatch reads the version the request's If-Match header names.
func ifMatch(c echo.Context, required bool) (int64, error) {
	return parseIfMatch(c.Request().Header.Get("If-Match"), required)
}

// parseIfMatch reads the version an If-Match header names: 0 for "*" or, when not required, for none.
func parseIfMatch(h string, required bool) (int64, error) {
	h = strings.TrimSpace(h)
	switch {
	case h == "" && required:
		return 0, errPreconditionRequired
	case h == "" || h == "*":
		return 0, nil
	}
	h = strings.TrimPrefix(h, "W/") // a weak copy of our strong tag still names the version
	if len(h) < 3 || h[0] != '"' || h[len(h)-1] != '"' {
		return 0, errInvalidIfMatch
	}
	v, err := strconv.ParseInt(h[1:len(h)-1], 10, 64)
	if err != nil || v <= 0 {
		return 0, errInvalidIfMatch
	}
	return v, nil
}

// employeeRoutes registers the register's API on the /api/v1 group.
func (s *Server) employeeRoutes(api *echo.Group) {
	member := s.bearer(gateFull)
	id, dep, change := validParams("id"), validParams("id", "dep_id"), validParams("id", "change_id")
	api.GET("/employees", s.apiListEmployees, member)
	api.POST("/employees", s.apiCreateEmployee, member)
	api.POST(strings.TrimPrefix(apiImportPath, "/api/v1"), s.apiImportEmployees, member)
	api.GET("/employees/export.csv", s.exportCSV, member)
	api.GET("/employees/:id", s.apiGetEmployee, member, id)
	api.PATCH("/employees/:id", s.apiUpdateEmployee, member, id)
	api.DELETE("/employees/:id", s.apiDeleteEmployee, member, id)
	api.GET("/employees/:id/history", s.apiEmployeeHistory, member, id)
	api.PATCH("/employees/:id/changes/:change_id", s.apiUpdateScheduledChange, member, change)
	api.DELETE("/employees/:id/changes/:change_id", s.apiCancelScheduledChange, member, change)
	api.POST("/employees/:id/my-number/reveal", s.apiRevealMyNumber, member, id)
	api.POST("/employees/:id/dependents", s.apiAddDependent, member, id)
	api.PATCH("/employees/:id/dependents/:dep_id", s.apiUpdateDependent, member, dep)
	api.DELETE("/employees/:id/dependents/:dep_id", s.apiRemoveDependent, member, dep)
	api.POST("/employees/:id/dependents/:dep_id/my-number/reveal", s.apiRevealMyNumber, member, dep)
	api.GET("/me/employee", s.apiOwnEmployee, member)
	api.GET("/departments", s.apiListDepartments, member)
	api.POST("/departments", s.apiCreateDepartment, member)
	api.GET("/departments/:id", s.apiGetDepartment, member, id)
	api.PATCH("/departments/:id", s.apiUpdateDepartment, member, id)
	api.DELETE("/departments/:id", s.apiDeleteDepartment, member, id)
	api.GET("/jobs/:id", s.apiJob, member, id)
}

// replyEmployee answers with the employee a port call returned and its ETag, or passes its error on.
func replyEmployee(c echo.Context, status int) func(ports.Employee, error) error {
	return func(e ports.Employee, err error) error {
		if err != nil {
			return err
		}
		return sendVersioned(c, status, "/api/v1/employees/"+e.ID, e.Version, toEmployeeJSON(e))
	}
}

// listQuery is the employee list's query string. Repeated and comma-separated values both select several.
var listQuery = []string{"cursor", "limit", "q", "status", "employment_type", "department_id", "employee_number",
	"hired_from", "hired_to", "updated_since", "sort"}

// listParams checks a list's query string: every parameter one of allowed, and limit, when given, a whole
// number from 1. It returns the limit (0 when not given) and what is wrong.
func listParams(q url.Values, allowed []string) (int, []ports.FieldError) {
	var errs []ports.FieldError
	for name := range q {
		if !slices.Contains(allowed, name) {
			errs = append(errs, ports.FieldError{Field: name, Code: "unknown_parameter",
				MessageEN: "is not a parameter of this list", MessageJA: "この一覧では使用できないパラメーターです"})
		}
	}
	v := q.Get("limit")
	if v == "" {
		return 0, errs
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		errs = append(errs, ports.FieldError{Field: "limit", Code: "limit",
			MessageEN: "must be a whole number from 1", MessageJA: "1以上の整数を指定してください"})
	}
	return n, errs
}

func employeeFilter(c echo.Context) (ports.EmployeeFilter, error) {
	q := c.QueryParams()
	limit, errs := listParams(q, listQuery)
	f := ports.EmployeeFilter{Query: q.Get("q"), EmployeeNumber: q.Get("employee_number"), HiredFrom: q.Get("hired_from"),
		HiredTo: q.Get("hired_to"), Sort: q.Get("sort"), Cursor: q.Get("cursor"), Limit: limit,
		Statuses: multi(q["status"]), EmploymentTypes: multi(q["employment_type"]), DepartmentIDs: multi(q["department_id"])}
	f.UpdatedSince, errs = updatedSince(q, errs)
	if len(errs) > 0 {
		return f, invalidFields(errs)
	}
	return f, nil
}

// updatedSince reads a list's updated_since (zero when not given), adding to errs what is wrong with it.
func updatedSince(q url.Values, errs []ports.FieldError) (time.Time, []ports.FieldError) {
	v := q.Get("updated_since")
	if v == "" {
		return time.Time{}, errs
	}
	t, err := parseInstant(v)
	if err != nil {
		errs = append(errs, ports.FieldError{Field: "updated_since", Code: "date",
			MessageEN: "must be an RFC 3339 instant or a date (YYYY-MM-DD, Asia/Tokyo)",
			MessageJA: "RFC 3339 の日時または日付（YYYY-MM-DD、日本時間）で指定してください"})
	}
	return t, errs
}

// multi splits repeated and comma-separated values and drops empty ones.
func multi(vals []string) []string {
	var out []string
	for _, v := range vals {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// parseInstant reads an RFC 3339 instant, or a date taken as its start in Japan.
func parseInstant(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.ParseInLocation(dateOnly, v, jst)
}

func (s *Server) apiListEmployees(c echo.Context) error {
	f, err := employeeFilter(c)
	if err != nil {
		return err
	}
	page, err := s.employees.ListEmployees(c.Request().Context(), principalOf(c), f)
	if err != nil {
		return badCursor(err)
	}
	return writePage(c, page.Items, page.NextCursor, toEmployeeJSON)
}

// badCursor makes a cursor the list cannot continue from a malformed request (400) rather than a validation
// error of a field the client typed (422): the client only ever echoes the cursor it was given. The webhooks
// module reports it as the only field error, the others as the error's own code.
func badCursor(err error) error {
	pe, ok := ports.AsError(err)
	switch {
	case !ok:
	case pe.Code == "invalid_cursor":
		return newProblem(http.StatusBadRequest, pe.Code, pe.MessageEN, pe.MessageJA)
	case len(pe.Fields) == 1 && pe.Fields[0].Code == "invalid_cursor":
		f := pe.Fields[0]
		return newProblem(http.StatusBadRequest, f.Code, "The cursor "+f.MessageEN+".", "カーソルが"+f.MessageJA+"。")
	}
	return err
}

func (s *Server) apiCreateEmployee(c echo.Context) error {
	body, err := rawJSON(c)
	if err != nil {
		return err
	}
	in, err := employeeInput(body)
	if err != nil {
		return err
	}
	return replyEmployee(c, http.StatusCreated)(s.employees.CreateEmployee(c.Request().Context(), principalOf(c), in))
}

func (s *Server) apiGetEmployee(c echo.Context) error {
	for name := range c.QueryParams() {
		if name != "as_of" {
			return invalidFields([]ports.FieldError{{Field: name, Code: "unknown_parameter",
				MessageEN: "is not a parameter here", MessageJA: "使用できないパラメーターです"}})
		}
	}
	return replyEmployee(c, http.StatusOK)(s.employees.GetEmployee(c.Request().Context(), principalOf(c),
		c.Param("id"), c.QueryParam("as_of")))
}

func (s *Server) apiOwnEmployee(c echo.Context) error {
	return replyEmployee(c, http.StatusOK)(s.employees.OwnEmployee(c.Request().Context(), principalOf(c)))
}

// preconditioned reads If-Match and a JSON object body, in that order, so that a request without a required
// precondition is refused before its body is looked at.
func preconditioned(c echo.Context, required bool) (int64, []byte, error) {
	version, err := ifMatch(c, required)
	if err != nil {
		return 0, nil, err
	}
	body, err := rawJSON(c)
	return version, body, err
}

// employeeWrite reads the precondition and the body of an employee write.
func employeeWrite(c echo.Context, required bool) (ports.EmployeeInput, error) {
	version, body, err := preconditioned(c, required)
	if err != nil {
		return ports.EmployeeInput{}, err
	}
	in, err := employeeInput(body)
	in.IfVersion = version
	return in, err
}

func (s *Server) apiUpdateEmployee(c echo.Context) error {
	in, err := employeeWrite(c, true)
	if err != nil {
		return err
	}
	return replyEmployee(c, http.StatusOK)(s.employees.UpdateEmployee(c.Request().Context(), principalOf(c), c.Param("id"), in))
}

func (s *Server) apiDeleteEmployee(c echo.Context) error {
	version, err := ifMatch(c, true)
	if err != nil {
		return err
	}
	if err := s.employees.DeleteEmployee(c.Request().Context(), principalOf(c), c.Param("id"), version); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiEmployeeHistory(c echo.Context) error {
	return replyItems(c, toChangeJSON)(s.employees.History(c.Request().Context(), principalOf(c), c.Param("id")))
}

// apiUpdateScheduledChange replaces a change that has not taken effect: If-Match is optional here, since the
// change itself is what is named and a change already in effect is refused anyway.
func (s *Server) apiUpdateScheduledChange(c echo.Context) error {
	in, err := employeeWrite(c, false)
	if err != nil {
		return err
	}
	return replyEmployee(c, http.StatusOK)(s.employees.UpdateScheduledChange(c.Request().Context(), principalOf(c),
		c.Param("id"), c.Param("change_id"), in))
}

func (s *Server) apiCancelScheduledChange(c echo.Context) error {
	version, err := ifMatch(c, false)
	if err != nil {
		return err
	}
	return replyEmployee(c, http.StatusOK)(s.employees.CancelScheduledChange(c.Request().Context(), principalOf(c),
		c.Param("id"), c.Param("change_id"), version))
}

type revealRequest struct {
	Purpose string `json:"purpose"`
}

// apiRevealMyNumber shows an employee's or (on the dependent's route) a dependent's My Number; the module
// decides who may and audits it.
func (s *Server) apiRevealMyNumber(c echo.Context) error {
	var req revealRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	n, err := s.employees.RevealMyNumber(c.Request().Context(), principalOf(c), c.Param("id"), c.Param("dep_id"), req.Purpose)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]string{"my_number": n})
}

// dependentWrite reads an optional If-Match (the employee's version) and a dependent body.
func dependentWrite(c echo.Context) (ports.DependentInput, error) {
	version, body, err := preconditioned(c, false)
	if err != nil {
		return ports.DependentInput{}, err
	}
	in, err := dependentInput(body)
	in.IfVersion = version
	return in, err
}

// apiAddDependent answers 201 with the employee (dependents are part of it, and its ETag changes); Location
// names the employee, since a dependent has no resource of its own to GET.
func (s *Server) apiAddDependent(c echo.Context) error {
	in, err := dependentWrite(c)
	if err != nil {
		return err
	}
	return replyEmployee(c, http.StatusCreated)(s.employees.AddDependent(c.Request().Context(), principalOf(c), c.Param("id"), in))
}

func (s *Server) apiUpdateDependent(c echo.Context) error {
	in, err := dependentWrite(c)
	if err != nil {
		return err
	}
	return replyEmployee(c, http.StatusOK)(s.employees.UpdateDependent(c.Request().Context(), principalOf(c),
		c.Param("id"), c.Param("dep_id"), in))
}

// apiRemoveDependent takes the removal's effective date from ?effective_on= (a DELETE has no body).
func (s *Server) apiRemoveDependent(c echo.Context) error {
	version, err := ifMatch(c, false)
	if err != nil {
		return err
	}
	in := ports.DependentInput{EffectiveOn: c.QueryParam("effective_on"), IfVersion: version}
	return replyEmployee(c, http.StatusOK)(s.employees.RemoveDependent(c.Request().Context(), principalOf(c),
		c.Param("id"), c.Param("dep_id"), in))
}

func toDepartmentJSON(d ports.Department) departmentJSON { return departmentJSON(d) }

func replyDepartment(c echo.Context, status int) func(ports.Department, error) error {
	return func(d ports.Department, err error) error {
		if err != nil {
			return err
		}
		return sendVersioned(c, status, "/api/v1/departments/"+d.ID, d.Version, toDepartmentJSON(d))
	}
}

func (s *Server) apiListDepartments(c echo.Context) error {
	return replyItems(c, toDepartmentJSON)(s.employees.ListDepartments(c.Request().Context(), principalOf(c)))
}

// department finds one department of the caller's tenant; the port offers only the list, which is small.
func (s *Server) department(c echo.Context, id string) (ports.Department, error) {
	list, err := s.employees.ListDepartments(c.Request().Context(), principalOf(c))
	if err != nil {
		return ports.Department{}, err
	}
	for _, d := range list {
		if d.ID == id {
			return d, nil
		}
	}
	return ports.Department{}, errNotFound
}

func (s *Server) apiGetDepartment(c echo.Context) error {
	return replyDepartment(c, http.StatusOK)(s.department(c, c.Param("id")))
}

// departmentRequest: absent or null members stay as they are; "" clears the parent.
type departmentRequest struct {
	Code     *string `json:"code"`
	Name     *string `json:"name"`
	ParentID *string `json:"parent_id"`
}

func (s *Server) apiCreateDepartment(c echo.Context) error {
	var req departmentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return replyDepartment(c, http.StatusCreated)(s.employees.CreateDepartment(c.Request().Context(), principalOf(c),
		ports.DepartmentInput{Code: req.Code, Name: req.Name, ParentID: req.ParentID}))
}

func (s *Server) apiUpdateDepartment(c echo.Context) error {
	version, err := ifMatch(c, false)
	if err != nil {
		return err
	}
	var req departmentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return replyDepartment(c, http.StatusOK)(s.employees.UpdateDepartment(c.Request().Context(), principalOf(c), c.Param("id"),
		ports.DepartmentInput{Code: req.Code, Name: req.Name, ParentID: req.ParentID, IfVersion: version}))
}

func (s *Server) apiDeleteDepartment(c echo.Context) error {
	if err := s.employees.DeleteDepartment(c.Request().Context(), principalOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiJob(c echo.Context) error {
	j, err := s.employees.Job(c.Request().Context(), principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, toJobJSON(j))
}

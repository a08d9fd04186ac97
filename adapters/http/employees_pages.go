package web

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// The register's pages: the list with filters, the employee forms, the detail with its tabs and the
// dependents. Every write is a form post (Post/Redirect/Get on success); a failed one shows the form again
// with what was typed and the module's message next to each field.

const (
	registerTitle = "従業員台帳 / Employee register"
	newTitle      = "従業員の登録 / New employee"
	editTitle     = "従業員情報の編集 / Edit employee"
)

// registerView is what the register's templates receive (view.Register).
type registerView struct {
	Full        bool // admin or hr: the whole register; else the caller's own record
	Employees   []ports.Employee
	Filter      map[string]string
	Statuses    []optionView
	Types       []optionView
	Departments []optionView
	Sorts       []optionView
	NextURL     string
	Filtered    bool

	Employee  *ports.Employee
	Sections  []sectionView
	Action    string
	Tab       string
	AsOf      string
	History   []ports.EmployeeChange
	DeptNames map[string]string
	DepForm   []inputView
	Change    []inputView

	Import *importView
	Job    *jobView
}

type sectionView struct {
	ID, LabelJA, LabelEN string
	Inputs               []inputView
}

// full tells whether the principal manages the register; the module enforces it, the pages only choose what
// to offer.
func full(p ports.Principal) bool { return p.HasRole(ports.RoleAdmin) || p.HasRole(ports.RoleHR) }

func (s *Server) employeePageRoutes() {
	e := s.e
	page := s.session(memberArea, gateFull)
	id := validParams("id")
	e.GET("/employees", s.employeesPage, s.csrf, page)
	e.GET("/employees/new", s.newEmployeePage, s.csrf, page)
	e.POST("/employees/new", s.createEmployeeSubmit, s.csrf, page)
	e.GET("/employees/me", s.ownEmployeePage, s.csrf, page)
	e.GET("/employees/export.csv", s.exportCSV, s.csrf, page)
	e.GET(pageImportPath, s.importPage, s.csrf, page)
	e.POST(pageImportPath, s.importUpload, s.uploadLimit, s.csrf, page)
	e.GET("/employees/import/jobs/:id", s.importJobPage, s.csrf, page, id)
	e.GET("/employees/import/:upload", s.importMappingPage, s.csrf, page, validParams("upload"))
	e.POST("/employees/import/:upload/check", s.importCheckSubmit, s.csrf, page, validParams("upload"))
	e.POST("/employees/import/:upload/run", s.importRunSubmit, s.csrf, page, validParams("upload"))
	e.GET("/employees/:id", s.employeePage, s.csrf, page, id)
	e.GET("/employees/:id/edit", s.editEmployeePage, s.csrf, page, id)
	e.POST("/employees/:id/edit", s.editEmployeeSubmit, s.csrf, page, id)
	e.POST("/employees/:id/delete", s.deleteEmployeeSubmit, s.csrf, page, id)
	e.POST("/employees/:id/dependents", s.addDependentSubmit, s.csrf, page, id)
	e.POST("/employees/:id/dependents/:dep_id/remove", s.removeDependentSubmit, s.csrf, page, validParams("id", "dep_id"))
	e.POST("/employees/:id/changes/:change_id/cancel", s.cancelChangeSubmit, s.csrf, page, validParams("id", "change_id"))
}

// departmentOptions lists the tenant's departments for a select, and their names by ID.
func (s *Server) departmentOptions(c echo.Context) ([]option, map[string]string, error) {
	list, err := s.employees.ListDepartments(c.Request().Context(), principalOf(c))
	if err != nil {
		return nil, nil, err
	}
	opts := make([]option, 0, len(list))
	names := make(map[string]string, len(list))
	for _, d := range list {
		opts = append(opts, option{Value: d.ID, LabelJA: d.Code + " " + d.Name})
		names[d.ID] = d.Name
	}
	return opts, names, nil
}

// listFilters are the list page's query parameters, kept in the filter form and the paging links.
var listFilters = []string{"q", "status", "employment_type", "department_id", "hired_from", "hired_to", "sort"}

func (s *Server) employeesPage(c echo.Context) error {
	p := principalOf(c)
	if !full(p) {
		return s.ownEmployeePage(c)
	}
	filter := listFilter(c, listFilters)
	f := ports.EmployeeFilter{Query: filter["q"], HiredFrom: filter["hired_from"], HiredTo: filter["hired_to"],
		Sort: filter["sort"], Cursor: c.QueryParam("cursor"), Limit: 50,
		Statuses: multi([]string{filter["status"]}), EmploymentTypes: multi([]string{filter["employment_type"]}),
		DepartmentIDs: multi([]string{filter["department_id"]})}
	depts, _, err := s.departmentOptions(c)
	if err != nil {
		return err
	}
	rv := &registerView{Full: true, Filter: filter, Statuses: options(statusOptions, filter["status"], true),
		Types:       options(employmentTypeOptions, filter["employment_type"], true),
		Departments: options(depts, filter["department_id"], true), Sorts: options(sortOptions, filter["sort"], false)}
	v := &view{Title: registerTitle, Register: rv, Notice: notices[c.QueryParam("notice")]}
	page, err := s.employees.ListEmployees(c.Request().Context(), p, f)
	if err != nil {
		status, msg, err := formFailure(c, err)
		if err != nil {
			return err
		}
		v.Error = msg
		return s.render(c, status, "employees", v)
	}
	rv.Employees = page.Items
	rv.NextURL, rv.Filtered = listLinks("/employees", listFilters, filter, page.NextCursor)
	return s.render(c, http.StatusOK, "employees", v)
}

// ownEmployeePage sends an employee to their own record.
func (s *Server) ownEmployeePage(c echo.Context) error {
	e, err := s.employees.OwnEmployee(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/employees/"+e.ID)
}

// employeeForm renders the new or edit form; values are what to show, msg what went wrong.
func (s *Server) employeeForm(c echo.Context, status int, e *ports.Employee, values map[string]string, msg *message) error {
	depts, _, err := s.departmentOptions(c)
	if err != nil {
		return err
	}
	p := principalOf(c)
	rv := &registerView{Full: full(p), Employee: e, Action: "/employees/new"}
	title := newTitle
	if e != nil {
		rv.Action, title = "/employees/"+e.ID+"/edit", editTitle
		rv.Change = inputViews(changeInputs, values, msg, "", nil)
	}
	for _, sec := range employeeSections {
		inputs := sec.Inputs
		if !rv.Full {
			inputs = selfService(inputs)
		}
		if len(inputs) == 0 {
			continue
		}
		rv.Sections = append(rv.Sections, sectionView{ID: sec.ID, LabelJA: sec.LabelJA, LabelEN: sec.LabelEN,
			Inputs: inputViews(inputs, values, msg, "", depts)})
	}
	return s.render(c, status, "employee_form", &view{Title: title, Error: msg, Register: rv, Form: values})
}

func selfService(inputs []formInput) []formInput {
	var out []formInput
	for _, in := range inputs {
		if in.SelfService {
			out = append(out, in)
		}
	}
	return out
}

func (s *Server) newEmployeePage(c echo.Context) error {
	return s.employeeForm(c, http.StatusOK, nil, map[string]string{"status": ports.EmployeeActive}, nil)
}

func (s *Server) createEmployeeSubmit(c echo.Context) error {
	inputs := allEmployeeInputs()
	values := formValues(c, inputs)
	fields := map[string]string{}
	for _, sec := range employeeSections {
		for _, in := range sec.Inputs {
			if v := values[in.Name]; v != "" || in.Required {
				fields[in.Name] = v
			}
		}
	}
	e, err := s.employees.CreateEmployee(c.Request().Context(), principalOf(c), ports.EmployeeInput{Fields: fields})
	if err != nil {
		return showFailure(c, err, inputs, func(status int, msg *message) error {
			return s.employeeForm(c, status, nil, values, msg)
		})
	}
	return c.Redirect(http.StatusSeeOther, "/employees/"+e.ID+"?notice=created")
}

func (s *Server) editEmployeePage(c echo.Context) error {
	e, err := s.employees.GetEmployee(c.Request().Context(), principalOf(c), c.Param("id"), "")
	if err != nil {
		return err
	}
	values := employeeValues(e)
	values["version"] = strconv.FormatInt(e.Version, 10)
	return s.employeeForm(c, http.StatusOK, &e, values, nil)
}

// editEmployeeSubmit sends only the fields that differ from the record as it is now (an employee may change
// only their contact fields, and unchanged values would only clutter the change trail), under the version
// the form was read at, so that an edit made meanwhile by someone else is not overwritten.
func (s *Server) editEmployeeSubmit(c echo.Context) error {
	ctx, p := c.Request().Context(), principalOf(c)
	cur, err := s.employees.GetEmployee(ctx, p, c.Param("id"), "")
	if err != nil {
		return err
	}
	inputs := allEmployeeInputs()
	values := formValues(c, inputs)
	values["version"] = c.Request().PostForm.Get("version")
	now := employeeValues(cur)
	fields := map[string]string{}
	for _, sec := range employeeSections {
		for _, in := range sec.Inputs {
			v, shown := c.Request().PostForm[in.Name]
			switch {
			case !shown:
			case in.Secret && v[0] == "":
			case in.Secret || v[0] != now[in.Name]:
				fields[in.Name] = v[0]
			}
		}
	}
	in := ports.EmployeeInput{Fields: fields, EffectiveOn: values["effective_on"], Reason: values["reason"], IfVersion: formVersion(c)}
	if len(fields) == 0 {
		return c.Redirect(http.StatusSeeOther, "/employees/"+cur.ID+"?notice=unchanged")
	}
	if _, err := s.employees.UpdateEmployee(ctx, p, cur.ID, in); err != nil {
		return showFailure(c, err, inputs, func(status int, msg *message) error {
			return s.employeeForm(c, status, &cur, values, msg)
		})
	}
	return c.Redirect(http.StatusSeeOther, "/employees/"+cur.ID+"?notice=updated")
}

func (s *Server) deleteEmployeeSubmit(c echo.Context) error {
	if err := s.employees.DeleteEmployee(c.Request().Context(), principalOf(c), c.Param("id"), formVersion(c)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/employees?notice=deleted")
}

// notices are the success messages a redirect names (?notice=…).
var notices = map[string]*message{
	"created":   {JA: "従業員を登録しました。", EN: "The employee has been registered."},
	"updated":   {JA: "従業員情報を更新しました。", EN: "The employee has been updated."},
	"unchanged": {JA: "変更はありませんでした。", EN: "Nothing was changed."},
	"deleted":   {JA: "従業員を削除しました。", EN: "The employee has been deleted."},
	"dependent": {JA: "扶養家族を更新しました。", EN: "The dependents have been updated."},
	"cancelled": {JA: "変更予定を取り消しました。", EN: "The scheduled change has been cancelled."},
}

var tabs = []string{"basic", "dependents", "history"}

// employeePage is the detail with its tabs: basic information (as of a date), dependents and history.
func (s *Server) employeePage(c echo.Context) error {
	return s.showEmployee(c, http.StatusOK, nil, nil)
}

// showEmployee renders the detail; depValues and msg carry a failed dependent form.
func (s *Server) showEmployee(c echo.Context, status int, depValues map[string]string, msg *message) error {
	ctx, p := c.Request().Context(), principalOf(c)
	tab := c.QueryParam("tab")
	if !slices.Contains(tabs, tab) {
		tab = "basic"
	}
	if msg != nil {
		tab = "dependents"
	}
	asOf := kept(c.QueryParam("as_of"))
	v := &view{Title: registerTitle, Notice: notices[c.QueryParam("notice")], Error: msg}
	e, err := s.employees.GetEmployee(ctx, p, c.Param("id"), asOf)
	if err != nil {
		if pe, internal := toProblem(err); !internal && pe.status == http.StatusUnprocessableEntity {
			// a bad date in the picker: show today's record with the message
			v.Error, asOf = formMessage(pe, []formInput{{Name: "as_of", LabelJA: "表示基準日", LabelEN: "As of"}}), ""
			e, err = s.employees.GetEmployee(ctx, p, c.Param("id"), "")
		}
		if err != nil {
			return err
		}
	}
	history, err := s.employees.History(ctx, p, e.ID)
	if err != nil {
		return err
	}
	_, names, err := s.departmentOptions(c)
	if err != nil {
		return err
	}
	v.Title = e.FamilyName + " " + e.GivenName + " | " + registerTitle
	v.Register = &registerView{Full: full(p), Employee: &e, Tab: tab, AsOf: asOf, History: history, DeptNames: names,
		DepForm: inputViews(dependentInputs, depValues, msg, "dep-", nil)}
	return s.render(c, status, "employee", v)
}

func (s *Server) addDependentSubmit(c echo.Context) error {
	values := formValues(c, dependentInputs)
	fields := map[string]string{}
	for _, in := range dependentInputs {
		if v := values[in.Name]; v != "" || in.Required {
			fields[in.Name] = v
		}
	}
	id := c.Param("id")
	_, err := s.employees.AddDependent(c.Request().Context(), principalOf(c), id, ports.DependentInput{Fields: fields,
		EffectiveOn: c.Request().PostForm.Get("effective_on")})
	if err != nil {
		return showFailure(c, err, dependentInputs, func(status int, msg *message) error {
			return s.showEmployee(c, status, values, msg)
		})
	}
	return c.Redirect(http.StatusSeeOther, "/employees/"+id+"?tab=dependents&notice=dependent")
}

func (s *Server) removeDependentSubmit(c echo.Context) error {
	id := c.Param("id")
	_, err := s.employees.RemoveDependent(c.Request().Context(), principalOf(c), id, c.Param("dep_id"),
		ports.DependentInput{EffectiveOn: c.Request().PostForm.Get("effective_on")})
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/employees/"+id+"?tab=dependents&notice=dependent")
}

func (s *Server) cancelChangeSubmit(c echo.Context) error {
	id := c.Param("id")
	if _, err := s.employees.CancelScheduledChange(c.Request().Context(), principalOf(c), id, c.Param("change_id"), 0); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/employees/"+id+"?tab=history&notice=cancelled")
}

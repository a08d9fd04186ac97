package web

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// The procedures pages: the list with the deadline dashboard (今日が期限 / 今週が期限 / 期限超過) and filters,
// manual creation, and the detail with the deadline and the rule behind it, the history, the edit form of a
// draft and the workflow buttons the caller may use. Every write is a form post with its CSRF token
// (Post/Redirect/Get on success); a refused one shows the page again with the module's message.

const (
	proceduresTitle   = "手続き / Procedures"
	newProcedureTitle = "手続きの作成 / New procedure"
)

// proceduresView is what the procedures templates receive (view.Procedures).
type proceduresView struct {
	// The list.
	Dashboard *ports.ProcedureDashboard
	Items     []ports.Procedure
	Filter    map[string]string
	Statuses  []optionView
	Types     []optionView
	NextURL   string
	Filtered  bool

	// The detail.
	Procedure *ports.Procedure
	Fields    []procedureFieldView
	Actions   []procedureActionView
	Edit      []inputView // the edit form of a draft or returned procedure; nil otherwise
	Comment   string      // the comment typed with a refused action
	// Attachments are the procedure's files; AttachmentsOn is false where attachments are not available.
	Attachments   []ports.AttachmentView
	AttachmentsOn bool

	// The creation form.
	Form []inputView
}

// procedureFieldView is one snapshot field as shown.
type procedureFieldView struct {
	Name, LabelJA, LabelEN, Value string
}

// procedureActionView is a workflow button.
type procedureActionView struct {
	Action, LabelJA, LabelEN string
	Danger                   bool
}

// procedureStatuses are the statuses in both languages, in workflow order.
var procedureStatuses = []option{
	{ports.ProcedureDraft, "下書き", "Draft"}, {ports.ProcedurePendingApproval, "承認待ち", "Pending approval"},
	{ports.ProcedureApproved, "承認済み", "Approved"}, {ports.ProcedureFiled, "提出済み", "Filed"},
	{ports.ProcedureCompleted, "完了", "Completed"}, {ports.ProcedureReturned, "差戻し", "Returned"},
	{ports.ProcedureCancelled, "取消", "Cancelled"},
}

var procedureOffices = []option{{ports.OfficePension, "年金事務所（日本年金機構）", "Pension office"},
	{ports.OfficeHelloWork, "ハローワーク", "Hello Work"}, {ports.OfficeHealthInsuranceSociety, "健康保険組合", "Health insurance society"}}

// procedureActionLabels are the workflow buttons, in the order they are offered.
var procedureActionLabels = []procedureActionView{
	{Action: ports.ActionSubmit, LabelJA: "承認を申請する", LabelEN: "Submit for approval"},
	{Action: ports.ActionApprove, LabelJA: "承認する", LabelEN: "Approve"},
	{Action: ports.ActionFile, LabelJA: "提出済みにする", LabelEN: "Mark as filed"},
	{Action: ports.ActionComplete, LabelJA: "完了にする", LabelEN: "Mark as completed"},
	{Action: ports.ActionReturn, LabelJA: "差し戻す", LabelEN: "Return", Danger: true},
	{Action: ports.ActionCancel, LabelJA: "取り消す", LabelEN: "Cancel the procedure", Danger: true},
}

// procedureOnlyLabels name the snapshot fields the employee form does not have.
var procedureOnlyLabels = map[string][2]string{
	"loss_date":                     {"資格喪失日", "Loss date"},
	"standard_monthly_remuneration": {"標準報酬月額", "Standard monthly remuneration"},
	"has_dependents":                {"被扶養者の有無", "Has dependents (true/false)"},
	"dependent.id":                  {"被扶養者ID", "Dependent ID"},
	"dependent.change":              {"異動の種別", "Change (added/removed)"},
	"dependent.family_name":         {"被扶養者の姓", "Dependent's family name"},
	"dependent.given_name":          {"被扶養者の名", "Dependent's given name"},
	"dependent.birth_date":          {"被扶養者の生年月日", "Dependent's date of birth"},
	"dependent.relationship":        {"被扶養者の続柄", "Dependent's relationship"},
	"year":                          {"対象年", "Year"},
	"bonus.amount":                  {"賞与額（円）", "Bonus (yen)"},
	"new_monthly_pay.cash":          {"変更後の月額報酬（通貨）", "New monthly pay (cash, yen)"},
	"previous_family_name":          {"旧姓", "Previous family name"},
}

// procedureFieldLabel names a snapshot field in both languages.
func procedureFieldLabel(name string) [2]string {
	if l, ok := procedureOnlyLabels[name]; ok {
		return l
	}
	if l, ok := labelOf(allEmployeeInputs(), name); ok {
		return l
	}
	return [2]string{name, name}
}

func labelIn(opts []option, code string) option {
	for _, o := range opts {
		if o.Value == code {
			return o
		}
	}
	return option{Value: code, LabelJA: code, LabelEN: code}
}

// actorView is who made a step of a procedure, as the page names them: the reader, the module itself, or an
// account by its ID.
type actorView struct {
	ID           string
	Self, System bool
}

func actorOf(user *ports.Principal, id string) actorView {
	return actorView{ID: id, Self: user != nil && id != "" && id == user.AccountID, System: strings.HasPrefix(id, "system:")}
}

func procedureStatusLabel(code string) option { return labelIn(procedureStatuses, code) }
func procedureOfficeLabel(code string) option { return labelIn(procedureOffices, code) }

func (s *Server) procedurePageRoutes() {
	e := s.e
	page := s.session(memberArea, gateFull)
	id := validParams("id")
	e.GET("/procedures", s.proceduresPage, s.csrf, page)
	e.GET("/procedures/new", s.newProcedurePage, s.csrf, page)
	e.POST("/procedures/new", s.createProcedureSubmit, s.csrf, page)
	e.GET("/procedures/:id", s.procedurePage, s.csrf, page, id)
	e.POST("/procedures/:id/edit", s.editProcedureSubmit, s.csrf, page, id)
	e.POST("/procedures/:id/act", s.procedureActionSubmit, s.csrf, page, id)
}

// typeOptions lists the catalogue for a select.
func (s *Server) typeOptions() []option {
	var opts []option
	for _, t := range s.procedures.Catalogue() {
		opts = append(opts, option{Value: t.Type, LabelJA: t.NameJA, LabelEN: t.NameEN})
	}
	return opts
}

// procedureFilters are the list page's query parameters, kept in the filter form and the paging link.
var procedureFilters = []string{"status", "type", "employee_id", "due_before"}

// procedureNotices are the success messages a redirect names (?notice=…).
var procedureNotices = map[string]*message{
	"created":            {JA: "手続きを作成しました。", EN: "The procedure has been created."},
	"updated":            {JA: "手続きの内容を更新しました。", EN: "The procedure has been updated."},
	"unchanged":          {JA: "変更はありませんでした。", EN: "Nothing was changed."},
	"attached":           {JA: "ファイルを添付しました。", EN: "The file has been attached."},
	"detached":           {JA: "添付ファイルを削除しました。", EN: "The attachment has been removed."},
	ports.ActionSubmit:   {JA: "承認を申請しました。", EN: "Submitted for approval."},
	ports.ActionApprove:  {JA: "承認しました。", EN: "Approved."},
	ports.ActionReturn:   {JA: "差し戻しました。", EN: "Returned."},
	ports.ActionFile:     {JA: "提出済みにしました。", EN: "Marked as filed."},
	ports.ActionComplete: {JA: "完了にしました。", EN: "Marked as completed."},
	ports.ActionCancel:   {JA: "手続きを取り消しました。", EN: "The procedure has been cancelled."},
}

func (s *Server) proceduresPage(c echo.Context) error {
	ctx, p := c.Request().Context(), principalOf(c)
	filter := listFilter(c, procedureFilters)
	pv := &proceduresView{Filter: filter, Statuses: options(procedureStatuses, filter["status"], true),
		Types: options(s.typeOptions(), filter["type"], true)}
	v := &view{Title: proceduresTitle, Procedures: pv, Notice: procedureNotices[c.QueryParam("notice")]}
	dash, err := s.procedures.Dashboard(ctx, p)
	if err != nil {
		return err
	}
	pv.Dashboard = &dash
	page, err := s.procedures.ListProcedures(ctx, p, ports.ProcedureFilter{Statuses: multi([]string{filter["status"]}),
		Types: multi([]string{filter["type"]}), EmployeeID: filter["employee_id"], DueBefore: filter["due_before"],
		Cursor: c.QueryParam("cursor"), Limit: 50})
	if err != nil {
		status, msg, err := formFailure(c, err)
		if err != nil {
			return err
		}
		v.Error = msg
		return s.render(c, status, "procedures", v)
	}
	pv.Items = page.Items
	pv.NextURL, pv.Filtered = listLinks("/procedures", procedureFilters, filter, page.NextCursor)
	return s.render(c, http.StatusOK, "procedures", v)
}

// newProcedureInputs are the inputs of the creation form; the type and employee options are filled per
// request.
var newProcedureInputs = []formInput{
	text("type", "手続きの種類", "Procedure type").required().choices(nil),
	text("employee_id", "従業員", "Employee").required().choices(nil),
	text("fact_date", "事実発生日", "Date of the fact").required().hint(dateHint),
	text("office", "提出先", "Office").choices(procedureOffices).hint("空欄は種類ごとの通常の提出先 / empty = the usual office"),
	text("comment", "コメント", "Comment"),
}

// procedureForm renders the creation form with values and what went wrong.
func (s *Server) procedureForm(c echo.Context, status int, values map[string]string, msg *message) error {
	ctx, p := c.Request().Context(), principalOf(c)
	if !full(p) {
		return errForbidden
	}
	emps, err := s.employees.ListEmployees(ctx, p, ports.EmployeeFilter{Limit: 200, Sort: ports.EmployeeSortNumber})
	if err != nil {
		return err
	}
	var people []option
	for _, e := range emps.Items {
		people = append(people, option{Value: e.ID, LabelJA: e.EmployeeNumber + " " + e.FamilyName + " " + e.GivenName})
	}
	inputs := slices.Clone(newProcedureInputs)
	inputs[0].Options, inputs[1].Options = s.typeOptions(), people
	pv := &proceduresView{Form: inputViews(inputs, values, msg, "", nil)}
	return s.render(c, status, "procedure_new", &view{Title: newProcedureTitle, Error: msg, Procedures: pv})
}

func (s *Server) newProcedurePage(c echo.Context) error {
	values := map[string]string{"employee_id": kept(c.QueryParam("employee_id")), "type": kept(c.QueryParam("type"))}
	return s.procedureForm(c, http.StatusOK, values, nil)
}

func (s *Server) createProcedureSubmit(c echo.Context) error {
	values := formValues(c, newProcedureInputs)
	proc, err := s.procedures.CreateProcedure(c.Request().Context(), principalOf(c), ports.ProcedureInput{
		Type: values["type"], EmployeeID: values["employee_id"], FactDate: values["fact_date"], Office: values["office"],
		Comment: values["comment"]})
	if err != nil {
		return showFailure(c, err, newProcedureInputs, func(status int, msg *message) error {
			return s.procedureForm(c, status, values, msg)
		})
	}
	return c.Redirect(http.StatusSeeOther, "/procedures/"+proc.ID+"?notice=created")
}

func (s *Server) procedurePage(c echo.Context) error {
	return s.showProcedure(c, http.StatusOK, nil, nil)
}

// editable tells whether a procedure's data may change (draft or returned).
func editable(status string) bool {
	return status == ports.ProcedureDraft || status == ports.ProcedureReturned
}

// editInputs are the edit form's inputs: the fact date, then the fields the type requires, then the other
// fields the procedure holds.
func (s *Server) editInputs(proc ports.Procedure) []formInput {
	names := []string{}
	for _, t := range s.procedures.Catalogue() {
		if t.Type == proc.Type {
			names = append(names, t.RequiredFields...)
		}
	}
	required := len(names)
	for _, n := range slices.Sorted(maps.Keys(proc.Fields)) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	inputs := []formInput{text("fact_date", "事実発生日", "Date of the fact").required().hint(dateHint)}
	for i, n := range names {
		l := procedureFieldLabel(n)
		in := text("fields."+n, l[0], l[1])
		in.Required = i < required
		inputs = append(inputs, in)
	}
	return inputs
}

// showProcedure renders the detail; values and msg carry a refused edit or action.
func (s *Server) showProcedure(c echo.Context, status int, values map[string]string, msg *message) error {
	ctx, p := c.Request().Context(), principalOf(c)
	proc, err := s.procedures.GetProcedure(ctx, p, c.Param("id"))
	if err != nil {
		return err
	}
	pv := &proceduresView{Procedure: &proc, Actions: allowedActions(p, proc)}
	for _, n := range slices.Sorted(maps.Keys(proc.Fields)) {
		l := procedureFieldLabel(n)
		pv.Fields = append(pv.Fields, procedureFieldView{Name: n, LabelJA: l[0], LabelEN: l[1], Value: proc.Fields[n]})
	}
	if editable(proc.Status) {
		shown := map[string]string{"fact_date": proc.FactDate}
		for n, v := range proc.Fields {
			shown["fields."+n] = v
		}
		if values != nil && values["form"] == "edit" {
			shown = values
		}
		var editMsg *message
		if values != nil && values["form"] == "edit" {
			editMsg = msg
		}
		pv.Edit = inputViews(s.editInputs(proc), shown, editMsg, "edit-", nil)
	}
	if values != nil && values["form"] == "act" {
		pv.Comment = values["comment"]
	}
	if s.attachments != nil {
		if pv.Attachments, err = s.attachments.ListAttachments(ctx, p, proc.ID); err != nil {
			return err
		}
		pv.AttachmentsOn = true
	}
	v := &view{Title: proc.NameJA + " | " + proceduresTitle, Procedures: pv, Error: msg,
		Notice: procedureNotices[c.QueryParam("notice")]}
	return s.render(c, status, "procedure", v)
}

// allowedActions are the buttons offered to p: what the status allows and p's roles permit. The module
// decides again on submission (an approver who prepared it is refused there).
func allowedActions(p ports.Principal, proc ports.Procedure) []procedureActionView {
	admin := p.HasRole(ports.RoleAdmin)
	st := proc.Status
	allowed := map[string]bool{
		ports.ActionSubmit:   editable(st),
		ports.ActionApprove:  st == ports.ProcedurePendingApproval && admin && proc.PreparedBy != p.AccountID,
		ports.ActionReturn:   (admin && (st == ports.ProcedurePendingApproval || st == ports.ProcedureApproved)) || st == ports.ProcedureFiled,
		ports.ActionFile:     st == ports.ProcedureApproved,
		ports.ActionComplete: st == ports.ProcedureFiled,
		ports.ActionCancel:   editable(st) || st == ports.ProcedurePendingApproval || st == ports.ProcedureApproved,
	}
	var out []procedureActionView
	for _, a := range procedureActionLabels {
		if allowed[a.Action] {
			out = append(out, a)
		}
	}
	return out
}

// editProcedureSubmit sends the fields that differ from the procedure as it is now, under the version the
// form was read at.
func (s *Server) editProcedureSubmit(c echo.Context) error {
	ctx, p := c.Request().Context(), principalOf(c)
	cur, err := s.procedures.GetProcedure(ctx, p, c.Param("id"))
	if err != nil {
		return err
	}
	inputs := s.editInputs(cur)
	values := formValues(c, inputs)
	values["form"] = "edit"
	refused := func(err error) error {
		return showFailure(c, err, inputs, func(status int, msg *message) error {
			return s.showProcedure(c, status, values, msg)
		})
	}
	edit := ports.ProcedureEdit{IfVersion: formVersion(c)}
	switch values["fact_date"] {
	case cur.FactDate:
	case "": // the port reads "" as unchanged; a form that clears it means a mistake
		return refused(invalidFields([]ports.FieldError{{Field: "fact_date", Code: "required",
			MessageEN: "is required", MessageJA: "必須です"}}))
	default:
		edit.FactDate = values["fact_date"]
	}
	for _, in := range inputs[1:] {
		name := in.Name[len("fields."):]
		if v, shown := c.Request().PostForm[in.Name]; shown && v[0] != cur.Fields[name] {
			if edit.Fields == nil {
				edit.Fields = map[string]string{}
			}
			edit.Fields[name] = v[0]
		}
	}
	if edit.FactDate == "" && edit.Fields == nil {
		return c.Redirect(http.StatusSeeOther, "/procedures/"+cur.ID+"?notice=unchanged")
	}
	if _, err := s.procedures.UpdateProcedure(ctx, p, cur.ID, edit); err != nil {
		return refused(err)
	}
	return c.Redirect(http.StatusSeeOther, "/procedures/"+cur.ID+"?notice=updated")
}

// procedureActionSubmit applies the workflow action of the button pressed, with the comment typed.
func (s *Server) procedureActionSubmit(c echo.Context) error {
	f := c.Request().PostForm
	values := map[string]string{"form": "act", "comment": kept(f.Get("comment"))}
	action := f.Get("action")
	id := c.Param("id")
	_, err := s.procedures.Act(c.Request().Context(), principalOf(c), id,
		ports.ProcedureAction{Action: action, Comment: f.Get("comment"), IfVersion: formVersion(c)})
	if err != nil {
		return showFailure(c, err, []formInput{text("comment", "コメント", "Comment"), text("action", "操作", "Action")},
			func(status int, msg *message) error { return s.showProcedure(c, status, values, msg) })
	}
	return c.Redirect(http.StatusSeeOther, "/procedures/"+id+"?notice="+url.QueryEscape(action))
}

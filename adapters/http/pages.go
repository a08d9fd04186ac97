package web

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pageNames are the templates in templates/, each parsed together with layout.html.
var pageNames = []string{"login", "mfa", "dashboard", "security", "accounts", "admin_security", "ops", "error",
	"employees", "employee_form", "employee", "employee_import", "employee_job", "procedures", "procedure",
	"procedure_new", "admin_ip", "webhooks", "maintenance", "ops_tenants", "ops_tenant", "ops_requests",
	"ops_request", "ops_notices", "ops_audit", "ops_operators", "admin_tokens", "ops_keys"}

type pages struct{ t map[string]*template.Template }

// jst is Japan Standard Time; Japan has no daylight saving, so a fixed zone is exact and needs no tzdata.
var jst = time.FixedZone("JST", 9*60*60)

var pageFuncs = template.FuncMap{
	"roleLabel":  roleLabel,
	"jst":        func(t time.Time) string { return t.In(jst).Format("2006-01-02 15:04") },
	"invalid":    invalid,
	"field":      field,
	"choice":     choiceLabel,
	"fieldName":  fieldName,
	"yen":        yen,
	"percent":    percent,
	"procStatus": procedureStatusLabel,
	"office":     procedureOfficeLabel,
	"actor":      actorOf,
	"opKind":     func(kind string) string { return cmp.Or(operationKinds[kind], kind) },
	"list":       func(v ...string) []string { return v },
}

// invalid tells whether m lists an error for the field.
func invalid(m *message, field string) bool {
	if m == nil {
		return false
	}
	for _, f := range m.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// fieldView is one labelled input of a form (the "field" template).
type fieldView struct {
	ID, Name, Type, Autocomplete string
	LabelJA, LabelEN             string
	Value                        string
	InputMode                    string
	Invalid, Required            bool
	hints                        []string
	failed                       string // the form whose submission failed (view.Failed)
}

// field describes the input name of v's form: its label from fieldLabels, the value typed before (never a
// password's), and, when it is in error, aria-invalid with a reference to the error list so that a screen
// reader announces why. hints are the ids of further descriptions (the password policy).
func field(v *view, name, typ, autocomplete string, hints ...string) fieldView {
	l := fieldLabels[name]
	f := fieldView{ID: name, Name: name, Type: typ, Autocomplete: autocomplete, LabelJA: l[0], LabelEN: l[1],
		Invalid: invalid(v.Error, name), Required: true, hints: hints, failed: v.Failed}
	if typ != "password" {
		f.Value = v.Form[name]
	}
	return f
}

// In places the field in one of several forms on a page that share field names (every form of the security
// page asks for the current password): id is its element id, and it shows an error only when form is the
// one whose submission failed.
func (f fieldView) In(form, id string) fieldView {
	f.ID = id
	f.Invalid = f.Invalid && f.failed == form
	if f.failed != form {
		f.Value = ""
	}
	return f
}

// Numeric asks for the numeric keyboard (a TOTP code).
func (f fieldView) Numeric() fieldView {
	f.InputMode = "numeric"
	return f
}

// Optional drops the required attribute.
func (f fieldView) Optional() fieldView {
	f.Required = false
	return f
}

// DescribedBy lists the ids that describe the input: its hints, and the error list when it is in error.
func (f fieldView) DescribedBy() string {
	hints := f.hints
	if f.Invalid {
		hints = append(slices.Clip(hints), "form-errors")
	}
	return strings.Join(hints, " ")
}

func loadPages() (*pages, error) {
	p := &pages{t: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(pageFuncs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parsing template %s: %w", name, err)
		}
		p.t[name] = t
	}
	return p, nil
}

// view is what every page template receives; each page uses the fields it needs.
type view struct {
	Title     string
	CSRF      string
	RequestID string
	Version   string
	User      *ports.Principal
	Ops       bool              // the operators' login form and navigation
	Notice    *message          // a success message
	Error     *message          // what went wrong, with one entry per field
	Form      map[string]string // values typed in, kept when a form is shown again (never passwords)
	Failed    string            // on a page with several forms, the one whose submission failed
	Stage     string

	Account  ports.AccountView
	Tenant   ports.TenantView
	Accounts []ports.AccountView
	Roles    []roleOption
	Created  *created
	Status   int

	MFA           *ports.MFAStatus // the caller's second factors, where the stage lets them be managed
	TOTP          *totpSetup       // a TOTP secret being enrolled, shown once
	RecoveryCodes []string         // shown once, right after the first enrolment
	Continue      string           // where the person goes after noting the recovery codes

	Register   *registerView   // the employee register's pages
	Procedures *proceduresView // the procedures pages

	ClientIP string  // the address the request came from, where the page must show it (IP restriction)
	IP       *ipView // the tenant admin's IP allow-list

	Webhooks *webhooksView  // the tenant admin's webhook pages
	Notices  []ports.Notice // incident and maintenance notices (login and maintenance pages, the console)
	Console  *consoleView   // the operator console's pages
	Tokens   *tokensView    // the tenant admin's API tokens
}

// message is a bilingual message, Japanese first.
type message struct {
	JA, EN string
	Fields []fieldMessage
}

type fieldMessage struct {
	Field            string
	LabelJA, LabelEN string
	JA, EN           string
}

type roleOption struct {
	Value, Label string
	Checked      bool
}

type created struct{ Login, Password string }

// fieldLabels names the form fields in both languages, for the error lists.
var fieldLabels = map[string][2]string{
	"tenant":               {"企業コード", "Company code"},
	"login":                {"ログインID", "Login ID"},
	"password":             {"パスワード", "Password"},
	"current_password":     {"現在のパスワード", "Current password"},
	"new_password":         {"新しいパスワード", "New password"},
	"new_password_confirm": {"新しいパスワード（確認）", "Confirm new password"},
	"name":                 {"氏名", "Name"},
	"roles":                {"権限", "Roles"},
	"code":                 {"確認コード（6桁）", "Verification code (6 digits)"},
	"recovery_code":        {"リカバリーコード", "Recovery code"},
	"key_name":             {"セキュリティキーの名前", "Security key name"},
}

var roleLabels = map[string]string{
	ports.RoleAdmin:    "管理者 / Administrator",
	ports.RoleHR:       "人事担当 / HR",
	ports.RoleEmployee: "従業員 / Employee",
}

func roleLabel(role string) string {
	if l, ok := roleLabels[role]; ok {
		return l
	}
	return role
}

func messageOf(p *problemError) *message {
	m := &message{JA: p.ja, EN: p.en}
	for _, f := range p.fields {
		l, ok := fieldLabels[f.Field]
		if !ok {
			l = [2]string{f.Field, f.Field}
		}
		m.Fields = append(m.Fields, fieldMessage{Field: f.Field, LabelJA: l[0], LabelEN: l[1], JA: f.MessageJA, EN: f.MessageEN})
	}
	return m
}

// render executes a page into a buffer first, so a template error becomes a clean 500 instead of half a page.
func (s *Server) render(c echo.Context, status int, name string, v *view) error {
	v.CSRF = csrfOf(c)
	v.RequestID = requestIDOf(c)
	v.Version = s.cfg.Version
	if p, ok := c.Get(keyPrincipal).(ports.Principal); ok {
		v.User = &p
		v.Stage = p.Stage
	}
	var buf bytes.Buffer
	if err := s.pages.t[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// renderError shows the bilingual error page. A refusal by the tenant's IP allow-list also names the address
// the request came from, which the person needs to ask their admin for access.
func (s *Server) renderError(c echo.Context, p *problemError) error {
	v := &view{Title: "エラー / Error " + strconv.Itoa(p.status), Error: messageOf(p), Status: p.status}
	if p.code == codeIPNotAllowed {
		v.ClientIP = c.RealIP()
	}
	err := s.render(c, p.status, "error", v)
	if err != nil {
		return c.String(p.status, p.ja+"\n"+p.en+"\n")
	}
	return nil
}

// formFailure turns a port error into the status and message of a form shown again; errors the user cannot
// act on (internal ones) are returned for the error page instead.
func formFailure(c echo.Context, err error) (int, *message, error) {
	p, internal := toProblem(err)
	if internal {
		return 0, nil, err
	}
	setRetryAfter(c, p)
	return p.status, messageOf(p), nil
}

// kept returns a typed value for showing again, cut short so a hostile form cannot make the page huge.
func kept(v string) string {
	if len(v) <= 256 {
		return v
	}
	v = v[:256]
	for !utf8.ValidString(v) {
		v = v[:len(v)-1]
	}
	return v
}

func (s *Server) loginPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "login", &view{Title: "ログイン / Log in", Notices: s.currentNotices(c)})
}

func (s *Server) opsLoginPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "login", &view{Title: "運用者ログイン / Operator login", Ops: true,
		Notices: s.currentNotices(c)})
}

func (s *Server) loginSubmit(c echo.Context) error { return s.submitLogin(c, false) }

func (s *Server) opsLoginSubmit(c echo.Context) error { return s.submitLogin(c, true) }

// submitLogin handles both login forms. On failure the form comes back with the tenant and login as typed,
// never the password.
func (s *Server) submitLogin(c echo.Context, ops bool) error {
	ctx := c.Request().Context()
	f := c.Request().PostForm
	cmd := ports.LoginCommand{Tenant: f.Get("tenant"), Login: f.Get("login"), Password: f.Get("password"), Source: source(c)}
	login, kind, title := s.accounts.Login, ports.KindMember, "ログイン / Log in"
	if ops {
		login, kind, title = s.accounts.OperatorLogin, ports.KindOperator, "運用者ログイン / Operator login"
		cmd.Tenant = ""
	}
	res, err := login(ctx, cmd)
	if err != nil {
		status, msg, err := formFailure(c, err)
		if err != nil {
			return err
		}
		return s.render(c, status, "login", &view{Title: title, Ops: ops, Error: msg, Notices: s.currentNotices(c),
			Form: map[string]string{"tenant": kept(cmd.Tenant), "login": kept(cmd.Login)}})
	}
	// The session the browser had before ends here, so a cookie planted before the login is worth nothing.
	if ck, err := c.Cookie(s.sessionCookie()); err == nil && plainToken(ck.Value) {
		s.endSession(c, ck.Value)
	}
	s.replaceSession(c, res)
	return c.Redirect(http.StatusSeeOther, stagePage(ports.Principal{Kind: kind, Stage: res.Stage}))
}

// endSession logs a session out, best effort: an already expired one is fine, anything else is logged.
func (s *Server) endSession(c echo.Context, token string) {
	err := s.accounts.Logout(c.Request().Context(), token, source(c))
	if err != nil && !errors.Is(err, ports.ErrUnauthenticated) {
		s.log.LogAttrs(c.Request().Context(), slog.LevelWarn, "logout failed",
			slog.String("request_id", requestIDOf(c)), slog.String("error", err.Error()))
	}
}

// logout needs no valid session: whatever the cookie holds is ended and the cookie removed.
func (s *Server) logout(c echo.Context) error {
	if ck, err := c.Cookie(s.sessionCookie()); err == nil && plainToken(ck.Value) {
		s.endSession(c, ck.Value)
	}
	s.clearSessionCookie(c)
	target := "/login"
	if c.Request().PostForm.Get("area") == "ops" {
		target = "/ops/login"
	}
	return c.Redirect(http.StatusSeeOther, target)
}

func (s *Server) dashboard(c echo.Context) error {
	a, t, err := s.accounts.Me(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	v := &view{Title: "ダッシュボード / Dashboard", Account: a, Tenant: t}
	if p := principalOf(c); full(p) {
		d, err := s.procedures.Dashboard(c.Request().Context(), p)
		if err != nil {
			return err
		}
		v.Procedures = &proceduresView{Dashboard: &d}
	}
	return s.render(c, http.StatusOK, "dashboard", v)
}

const accountsTitle = "アカウント管理 / Accounts"

// roleOptions lists the role checkboxes, ticking the given roles.
func roleOptions(checked []string) []roleOption {
	var opts []roleOption
	for _, r := range []string{ports.RoleAdmin, ports.RoleHR, ports.RoleEmployee} {
		opt := roleOption{Value: r, Label: roleLabel(r)}
		for _, c := range checked {
			opt.Checked = opt.Checked || c == r
		}
		opts = append(opts, opt)
	}
	return opts
}

// accountsPage shows the list and the create form; v carries what the caller adds (a message, a new account).
func (s *Server) accountsPage(c echo.Context, status int, v *view) error {
	list, err := s.accounts.ListAccounts(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	v.Title, v.Accounts = accountsTitle, list
	if v.Roles == nil {
		v.Roles = roleOptions([]string{ports.RoleEmployee})
	}
	return s.render(c, status, "accounts", v)
}

func (s *Server) adminAccounts(c echo.Context) error {
	return s.accountsPage(c, http.StatusOK, &view{})
}

// adminCreateAccount shows the page again rather than redirecting, because the generated one-time password
// must appear exactly once and is kept nowhere.
func (s *Server) adminCreateAccount(c echo.Context) error {
	f := c.Request().PostForm
	cmd := ports.CreateAccountCommand{Login: f.Get("login"), Name: f.Get("name"), Roles: f["roles"], Password: f.Get("password")}
	a, initial, err := s.accounts.CreateAccount(c.Request().Context(), principalOf(c), cmd)
	if err != nil {
		status, msg, err := formFailure(c, err)
		if err != nil {
			return err
		}
		return s.accountsPage(c, status, &view{Error: msg, Roles: roleOptions(cmd.Roles),
			Form: map[string]string{"login": kept(cmd.Login), "name": kept(cmd.Name)}})
	}
	made := &created{Login: a.Login}
	if cmd.Password == "" {
		made.Password = initial
	}
	return s.accountsPage(c, http.StatusOK, &view{Created: made})
}

// adminAction runs an unlock or disable and returns to the list (Post/Redirect/Get).
func (s *Server) adminAction(c echo.Context, act func(ctx echo.Context) (ports.AccountView, error)) error {
	if _, err := act(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/accounts")
}

func (s *Server) adminUnlock(c echo.Context) error {
	return s.adminAction(c, func(c echo.Context) (ports.AccountView, error) {
		return s.accounts.UnlockAccount(c.Request().Context(), principalOf(c), c.Param("id"))
	})
}

func (s *Server) adminDisable(c echo.Context) error {
	return s.adminAction(c, func(c echo.Context) (ports.AccountView, error) {
		return s.accounts.DisableAccount(c.Request().Context(), principalOf(c), c.Param("id"))
	})
}

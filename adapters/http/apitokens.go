package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// Integration API tokens: which API routes a token opens (tokenScopes, enforced by bearer), the tenant admin's
// API /api/v1/api-tokens and page /admin/tokens.

// tokenScope is what an API token needs on the routes under prefix: read for GET and HEAD, write for the other
// methods. An empty scope is granted to no token.
type tokenScope struct{ prefix, read, write string }

// tokenScopes is the one place that opens API routes to integration tokens. A route not listed is closed to
// every token: the tokens' own management, the caller's password, second factors and session, the tenant's
// settings. The first matching prefix decides, so exceptions come before their resource. The domains still
// check the roles of the token's creator on every call.
var tokenScopes = []tokenScope{
	// My Number is revealed to people only, each reveal audited under their name.
	{"/api/v1/employees/:id/my-number", "", ""},
	{"/api/v1/employees/:id/dependents/:dep_id/my-number", "", ""},
	{"/api/v1/employees", ports.ScopeEmployeesRead, ports.ScopeEmployeesWrite},
	{"/api/v1/departments", ports.ScopeEmployeesRead, ports.ScopeEmployeesWrite},
	{"/api/v1/jobs", ports.ScopeEmployeesRead, ports.ScopeEmployeesWrite}, // the register's import jobs
	{"/api/v1/procedures", ports.ScopeProceduresRead, ports.ScopeProceduresWrite},
	{"/api/v1/webhooks", ports.ScopeWebhooksManage, ports.ScopeWebhooksManage},
	{"/api/v1/accounts", ports.ScopeAccountsRead, ports.ScopeAccountsWrite},
}

// requiredScope is the scope a token needs to call route (Echo's route pattern, not the request path, so no
// encoding trick moves a request into another group) with method; "" when no token may.
func requiredScope(method, route string) string {
	for _, ts := range tokenScopes {
		if route == ts.prefix || strings.HasPrefix(route, ts.prefix+"/") {
			if method == http.MethodGet || method == http.MethodHead {
				return ts.read
			}
			return ts.write
		}
	}
	return ""
}

var errInsufficientScope = newProblem(http.StatusForbidden, "insufficient_scope",
	"The API token's scopes do not allow this request.", "このAPIトークンのスコープではこの操作はできません。")

// checkScope admits a session, and a token whose scopes allow the route; else 403 insufficient_scope, naming
// the scope needed as RFC 6750 asks.
func checkScope(c echo.Context, p ports.Principal) error {
	if !p.IsAPIToken() {
		return nil
	}
	scope := requiredScope(c.Request().Method, c.Path())
	if scope != "" && p.Allows(scope) {
		return nil
	}
	challenge := `Bearer realm="roumu", error="insufficient_scope"`
	if scope != "" {
		challenge += `, scope="` + scope + `"`
	}
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, challenge)
	return errInsufficientScope
}

// apiTokenRoutes registers the API and the page. Both take a session only: checkScope lists no token scope
// for /api-tokens, and pages refuse tokens.
func (s *Server) apiTokenRoutes(api *echo.Group) {
	admin := s.bearer(gateFull, ports.RoleAdmin)
	api.GET("/api-tokens", s.apiListAPITokens, admin)
	api.POST("/api-tokens", s.apiCreateAPIToken, admin)
	api.DELETE("/api-tokens/:id", s.apiRevokeAPIToken, admin, validID)
	adminPage := s.session(memberArea, gateFull, ports.RoleAdmin)
	s.e.GET("/admin/tokens", s.tokensPage, s.csrf, adminPage)
	s.e.POST("/admin/tokens", s.tokensCreate, s.csrf, adminPage)
	s.e.POST("/admin/tokens/:id/revoke", s.tokensRevoke, s.csrf, adminPage, validID)
}

type apiTokenJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Scopes     []string `json:"scopes"`
	Hint       string   `json:"hint"`
	CreatedBy  string   `json:"created_by"`
	CreatedAt  *string  `json:"created_at"`
	ExpiresAt  *string  `json:"expires_at"`
	Expired    bool     `json:"expired"`
	LastUsedAt *string  `json:"last_used_at"`
	LastUsedIP string   `json:"last_used_ip"`
	// Token is the token itself, present only in the answer to its creation.
	Token string `json:"token,omitempty"`
}

func toAPITokenJSON(v ports.APITokenView) apiTokenJSON {
	scopes := v.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return apiTokenJSON{ID: v.ID, Name: v.Name, Scopes: scopes, Hint: v.Hint, CreatedBy: v.CreatedBy,
		CreatedAt: rfc3339(v.CreatedAt), ExpiresAt: rfc3339(v.ExpiresAt), Expired: v.Expired,
		LastUsedAt: rfc3339(v.LastUsedAt), LastUsedIP: v.LastUsedIP}
}

// createAPITokenRequest names the expiry either as an instant (RFC 3339) or as a number of days from now.
type createAPITokenRequest struct {
	Name          string   `json:"name"`
	Scopes        []string `json:"scopes"`
	ExpiresAt     string   `json:"expires_at"`
	ExpiresInDays int      `json:"expires_in_days"`
}

func (s *Server) apiListAPITokens(c echo.Context) error {
	return replyItems(c, toAPITokenJSON)(s.apiTokens.ListAPITokens(c.Request().Context(), principalOf(c)))
}

func (s *Server) apiCreateAPIToken(c echo.Context) error {
	var req createAPITokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	cmd := ports.CreateAPITokenCommand{Name: req.Name, Scopes: req.Scopes, ExpiresIn: days(req.ExpiresInDays)}
	if req.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, req.ExpiresAt)
		if err != nil {
			return ports.Invalid("validation_failed", "Some fields are invalid.", "入力内容に誤りがあります。",
				ports.FieldError{Field: "expires_at", Code: "format",
					MessageEN: "must be an RFC 3339 date-time, e.g. 2027-03-31T23:59:59+09:00",
					MessageJA: "RFC 3339 形式の日時で指定してください（例: 2027-03-31T23:59:59+09:00）"})
		}
		cmd.ExpiresAt = t
	}
	v, token, err := s.apiTokens.CreateAPIToken(c.Request().Context(), principalOf(c), cmd)
	if err != nil {
		return err
	}
	res := toAPITokenJSON(v)
	res.Token = token // this answer is the only place the token is ever shown
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return writeJSON(c, http.StatusCreated, res)
}

// days converts a number of days to a duration, bounded so that no count overflows (the domain refuses
// anything past a year anyway).
func days(n int) time.Duration {
	return time.Duration(min(max(n, -100_000), 100_000)) * 24 * time.Hour
}

func (s *Server) apiRevokeAPIToken(c echo.Context) error {
	if err := s.apiTokens.RevokeAPIToken(c.Request().Context(), principalOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

const tokensTitle = "APIトークン / API tokens"

// tokenLifetimes are the expiries the page offers, in days; the API takes any up to a year.
var tokenLifetimes = []int{30, 90, 180, 365}

// tokensView is the page's content.
type tokensView struct {
	List      []ports.APITokenView
	Scopes    []scopeOption
	Lifetimes []lifetimeOption
	// NewToken is the token just created, shown this once; NewName its name.
	NewToken, NewName string
}

type scopeOption struct {
	Value, Label string
	Checked      bool
}

// scopeLabels say what each scope opens, for the create form.
var scopeLabels = map[string]string{
	ports.ScopeEmployeesRead:   "従業員・部署の参照 / Read employees and departments",
	ports.ScopeEmployeesWrite:  "従業員・部署の登録・変更 / Create and change employees and departments",
	ports.ScopeProceduresRead:  "手続きの参照 / Read procedures",
	ports.ScopeProceduresWrite: "手続きの作成・進行 / Create and advance procedures",
	ports.ScopeWebhooksManage:  "Webhookの管理 / Manage webhooks",
	ports.ScopeAccountsRead:    "アカウントの参照 / Read accounts",
	ports.ScopeAccountsWrite:   "アカウントの作成・変更 / Create and change accounts",
}

type lifetimeOption struct {
	Days     int
	Selected bool
}

// defaultLifetime is the expiry the form proposes, in days.
const defaultLifetime = 90

func (s *Server) tokensPage(c echo.Context) error {
	return s.renderTokens(c, http.StatusOK, &view{}, nil, defaultLifetime)
}

// renderTokens shows the list and the create form, with the scopes and lifetime chosen before a failed
// submission.
func (s *Server) renderTokens(c echo.Context, status int, v *view, scopes []string, lifetime int) error {
	list, err := s.apiTokens.ListAPITokens(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	tv := v.Tokens
	if tv == nil {
		tv = &tokensView{}
	}
	tv.List = list
	for _, sc := range ports.Scopes {
		tv.Scopes = append(tv.Scopes, scopeOption{Value: sc, Label: scopeLabels[sc], Checked: slices.Contains(scopes, sc)})
	}
	for _, d := range tokenLifetimes {
		tv.Lifetimes = append(tv.Lifetimes, lifetimeOption{Days: d, Selected: d == lifetime})
	}
	v.Title, v.Tokens = tokensTitle, tv
	if c.QueryParam("notice") == "revoked" {
		v.Notice = &message{JA: "APIトークンを無効化しました。", EN: "The API token has been revoked."}
	}
	return s.render(c, status, "admin_tokens", v)
}

// tokensCreate shows the page again rather than redirecting, because the token must appear exactly once and
// is kept nowhere.
func (s *Server) tokensCreate(c echo.Context) error {
	f := c.Request().PostForm
	lifetime, _ := strconv.Atoi(f.Get("expires_in_days"))
	cmd := ports.CreateAPITokenCommand{Name: f.Get("name"), Scopes: f["scopes"], ExpiresIn: days(lifetime)}
	v, token, err := s.apiTokens.CreateAPIToken(c.Request().Context(), principalOf(c), cmd)
	if err != nil {
		status, msg, err := formFailure(c, err)
		if err != nil {
			return err
		}
		return s.renderTokens(c, status, &view{Error: msg, Form: map[string]string{"name": kept(cmd.Name)}},
			cmd.Scopes, lifetime)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return s.renderTokens(c, http.StatusOK, &view{Tokens: &tokensView{NewToken: token, NewName: v.Name}},
		nil, defaultLifetime)
}

// tokensRevoke revokes and returns to the list (Post/Redirect/Get).
func (s *Server) tokensRevoke(c echo.Context) error {
	if err := s.apiTokens.RevokeAPIToken(c.Request().Context(), principalOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/tokens?notice=revoked")
}

package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// rfc3339 formats an instant for the API (UTC, RFC 3339); the zero time, meaning "never", is null.
func rfc3339(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

// jsonItems converts a list for an answer; an empty list is [] rather than null.
func jsonItems[T, J any](xs []T, toJSON func(T) J) []J {
	out := make([]J, 0, len(xs))
	for _, x := range xs {
		out = append(out, toJSON(x))
	}
	return out
}

// replyItems answers a list a port read as {"items": [...]}, or passes on the port's error.
func replyItems[T, J any](c echo.Context, toJSON func(T) J) func([]T, error) error {
	return func(list []T, err error) error {
		if err != nil {
			return err
		}
		return writeJSON(c, http.StatusOK, map[string]any{"items": jsonItems(list, toJSON)})
	}
}

// writePage answers one page of a list: its items and the cursor of the next page, null on the last.
func writePage[T, J any](c echo.Context, items []T, nextCursor string, toJSON func(T) J) error {
	var next *string
	if nextCursor != "" {
		next = &nextCursor
	}
	return writeJSON(c, http.StatusOK, map[string]any{"items": jsonItems(items, toJSON), "next_cursor": next})
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// sendVersioned answers with body and the resource's version as its ETag; a 201 also names the new resource
// in Location.
func sendVersioned(c echo.Context, status int, location string, version int64, body any) error {
	c.Response().Header().Set("ETag", etag(version))
	if status == http.StatusCreated {
		c.Response().Header().Set(echo.HeaderLocation, location)
	}
	return writeJSON(c, status, body)
}

type loginRequest struct {
	Tenant   string `json:"tenant"`
	Login    string `json:"login"`
	Password string `json:"password"`
}

type operatorLoginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// sessionResponse is a new session. stage says what it opens; mfa_required is the contract's shorthand for
// stage "mfa".
type sessionResponse struct {
	Token       string  `json:"token"`
	MFARequired bool    `json:"mfa_required"`
	Stage       string  `json:"stage"`
	ExpiresAt   *string `json:"expires_at"`
	Notice      string  `json:"notice,omitempty"` // e.g. recovery_code_used: tell the person to enrol a new factor
}

func toSessionResponse(r ports.LoginResult) sessionResponse {
	return sessionResponse{Token: r.Token, MFARequired: r.Stage == ports.StageMFA, Stage: r.Stage,
		ExpiresAt: rfc3339(r.ExpiresAt), Notice: r.Notice}
}

// replySession answers with the session a port call returned, or passes its error on.
func replySession(c echo.Context) func(ports.LoginResult, error) error {
	return func(r ports.LoginResult, err error) error {
		if err != nil {
			return err
		}
		return writeJSON(c, http.StatusOK, toSessionResponse(r))
	}
}

func (s *Server) apiLogin(c echo.Context) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return replySession(c)(s.accounts.Login(c.Request().Context(), ports.LoginCommand{
		Tenant: req.Tenant, Login: req.Login, Password: req.Password, Source: source(c),
	}))
}

func (s *Server) apiOperatorLogin(c echo.Context) error {
	var req operatorLoginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return replySession(c)(s.accounts.OperatorLogin(c.Request().Context(), ports.LoginCommand{
		Login: req.Login, Password: req.Password, Source: source(c),
	}))
}

func (s *Server) apiLogout(c echo.Context) error {
	if err := s.accounts.Logout(c.Request().Context(), tokenOf(c), source(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// apiChangePassword answers 200 with the new session rather than the contract's 204: the change ends every
// session of the account, the caller's own included, so without the new token the client would be logged out.
func (s *Server) apiChangePassword(c echo.Context) error {
	var req changePasswordRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return replySession(c)(s.accounts.ChangePassword(c.Request().Context(), principalOf(c), req.CurrentPassword, req.NewPassword))
}

type accountJSON struct {
	ID                 string   `json:"id"`
	TenantID           string   `json:"tenant_id,omitempty"`
	Kind               string   `json:"kind"`
	Login              string   `json:"login"`
	Name               string   `json:"name"`
	Roles              []string `json:"roles"`
	Status             string   `json:"status"`
	Locked             bool     `json:"locked"`
	LockedUntil        *string  `json:"locked_until"`
	MustChangePassword bool     `json:"must_change_password"`
	MFAEnabled         bool     `json:"mfa_enabled"`
	LastLoginAt        *string  `json:"last_login_at"`
	CreatedAt          *string  `json:"created_at"`
	UpdatedAt          *string  `json:"updated_at"`
	// InitialPassword is the generated one-time password, present only in the answer to its creation.
	InitialPassword string `json:"initial_password,omitempty"`
}

func toAccountJSON(a ports.AccountView) accountJSON {
	roles := a.Roles
	if roles == nil {
		roles = []string{}
	}
	return accountJSON{
		ID: a.ID, TenantID: a.TenantID, Kind: a.Kind, Login: a.Login, Name: a.Name, Roles: roles,
		Status: a.Status, Locked: a.Locked, LockedUntil: rfc3339(a.LockedUntil),
		MustChangePassword: a.MustChangePassword, MFAEnabled: a.MFAEnabled,
		LastLoginAt: rfc3339(a.LastLoginAt), CreatedAt: rfc3339(a.CreatedAt), UpdatedAt: rfc3339(a.UpdatedAt),
	}
}

type tenantJSON struct {
	ID          string `json:"id"`
	Code        string `json:"code"`
	Name        string `json:"name"`
	Status      string `json:"status"`
	MFARequired bool   `json:"mfa_required"`
}

func toTenantJSON(t ports.TenantView) tenantJSON {
	return tenantJSON{ID: t.ID, Code: t.Code, Name: t.Name, Status: t.Status, MFARequired: t.MFARequired}
}

type meResponse struct {
	Account accountJSON `json:"account"`
	Tenant  *tenantJSON `json:"tenant"` // null for operators, who belong to no tenant
	Roles   []string    `json:"roles"`
	Stage   string      `json:"stage"`
	MFA     struct {
		Enabled  bool `json:"enabled"`
		Required bool `json:"required"`
	} `json:"mfa"`
}

func (s *Server) apiMe(c echo.Context) error {
	p := principalOf(c)
	a, t, err := s.accounts.Me(c.Request().Context(), p)
	if err != nil {
		return err
	}
	res := meResponse{Account: toAccountJSON(a), Stage: p.Stage}
	res.Roles = res.Account.Roles
	res.MFA.Enabled = a.MFAEnabled
	res.MFA.Required = a.Kind == ports.KindOperator // operators always need a second factor
	if t.ID != "" {
		tj := toTenantJSON(t)
		res.Tenant = &tj
		res.MFA.Required = t.MFARequired
	}
	return writeJSON(c, http.StatusOK, res)
}

// validID is validParams for the usual :id.
var validID = validParams("id")

// validParams answers 404 for path parameters no store would ever have issued (path tricks, control
// characters, overlong values), before any port is called.
func validParams(names ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			for _, n := range names {
				if !plainID(c.Param(n)) {
					return errNotFound
				}
			}
			return next(c)
		}
	}
}

func plainID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// replyAccount answers with the account a port call returned, or passes its error on.
func replyAccount(c echo.Context) func(ports.AccountView, error) error {
	return func(a ports.AccountView, err error) error {
		if err != nil {
			return err
		}
		return writeJSON(c, http.StatusOK, toAccountJSON(a))
	}
}

func (s *Server) apiListAccounts(c echo.Context) error {
	return replyItems(c, toAccountJSON)(s.accounts.ListAccounts(c.Request().Context(), principalOf(c)))
}

type createAccountRequest struct {
	Login    string   `json:"login"`
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
	Password string   `json:"password"`
}

func (s *Server) apiCreateAccount(c echo.Context) error {
	var req createAccountRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	a, initial, err := s.accounts.CreateAccount(c.Request().Context(), principalOf(c), ports.CreateAccountCommand{
		Login: req.Login, Name: req.Name, Roles: req.Roles, Password: req.Password,
	})
	if err != nil {
		return err
	}
	res := toAccountJSON(a)
	if req.Password == "" {
		res.InitialPassword = initial // the caller chose none: this answer is the only place it is shown
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/accounts/"+a.ID)
	return writeJSON(c, http.StatusCreated, res)
}

func (s *Server) apiGetAccount(c echo.Context) error {
	return replyAccount(c)(s.accounts.GetAccount(c.Request().Context(), principalOf(c), c.Param("id")))
}

// updateAccountRequest: absent or null members stay as they are.
type updateAccountRequest struct {
	Name  *string   `json:"name"`
	Roles *[]string `json:"roles"`
}

func (s *Server) apiUpdateAccount(c echo.Context) error {
	var req updateAccountRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	cmd := ports.UpdateAccountCommand{Name: req.Name}
	if req.Roles != nil {
		cmd.Roles = *req.Roles
		if cmd.Roles == nil {
			cmd.Roles = []string{} // "roles": [] means no roles (which the domain refuses), not "unchanged"
		}
	}
	return replyAccount(c)(s.accounts.UpdateAccount(c.Request().Context(), principalOf(c), c.Param("id"), cmd))
}

func (s *Server) apiUnlockAccount(c echo.Context) error {
	return replyAccount(c)(s.accounts.UnlockAccount(c.Request().Context(), principalOf(c), c.Param("id")))
}

func (s *Server) apiDisableAccount(c echo.Context) error {
	return replyAccount(c)(s.accounts.DisableAccount(c.Request().Context(), principalOf(c), c.Param("id")))
}

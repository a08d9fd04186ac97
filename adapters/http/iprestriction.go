package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// The tenant admin's IP allow-list (a contract option the provider switches on): the page
// /admin/security/ip and GET/PUT /api/v1/tenant/ip-restriction.

const ipTitle = "IPアドレス制限 / IP restriction"

// maxAllowListForm bounds the allow-list text shown again after a failed save.
const maxAllowListForm = 16 << 10

// ipRestrictionRoutes registers the page and the API.
func (s *Server) ipRestrictionRoutes(api *echo.Group) {
	api.GET("/tenant/ip-restriction", s.apiIPRestriction, s.bearer(gateFull, ports.RoleAdmin))
	api.PUT("/tenant/ip-restriction", s.apiSetIPRestriction, s.bearer(gateFull, ports.RoleAdmin))
	adminPage := s.session(memberArea, gateFull, ports.RoleAdmin)
	s.e.GET("/admin/security/ip", s.ipPage, s.csrf, adminPage)
	s.e.POST("/admin/security/ip", s.ipSubmit, s.csrf, adminPage)
}

// ipView is the page's content: the current setting and, after a failed save, the text as typed with the
// errors of its lines.
type ipView struct {
	ports.IPRestrictionView
	Text       string
	LineErrors []fieldMessage
}

func (s *Server) ipPage(c echo.Context) error {
	ip, err := s.accounts.IPRestriction(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	v := &view{Title: ipTitle, IP: &ipView{IPRestrictionView: ip, Text: strings.Join(ip.AllowedCIDRs, "\n")}}
	if c.QueryParam("notice") == "saved" {
		v.Notice = &message{JA: "許可するIPアドレスを保存しました。", EN: "The allowed IP addresses have been saved."}
	}
	return s.render(c, http.StatusOK, "admin_ip", v)
}

// ipSubmit saves the list, one range per line. A refusal shows the page again with the text as typed, each
// bad line's error next to the text area, and a lock-out refusal (the list would not allow the admin's own
// address) as the page's error, naming the address.
func (s *Server) ipSubmit(c echo.Context) error {
	p := principalOf(c)
	text := strings.ReplaceAll(c.Request().PostForm.Get("allowed_cidrs"), "\r\n", "\n") // a browser sends CR LF
	if _, err := s.accounts.SetAllowedCIDRs(c.Request().Context(), p, strings.Split(text, "\n")); err != nil {
		status, msg, err := formFailure(c, err)
		if err != nil {
			return err
		}
		ip, err := s.accounts.IPRestriction(c.Request().Context(), p)
		if err != nil {
			return err
		}
		if len(text) > maxAllowListForm {
			text = text[:maxAllowListForm]
		}
		v := &ipView{IPRestrictionView: ip, Text: text, LineErrors: msg.Fields}
		msg.Fields = nil
		return s.render(c, status, "admin_ip", &view{Title: ipTitle, Error: msg, IP: v})
	}
	return c.Redirect(http.StatusSeeOther, "/admin/security/ip?notice=saved")
}

type ipRestrictionJSON struct {
	Enabled      bool     `json:"enabled"`
	AllowedCIDRs []string `json:"allowed_cidrs"`
	ClientIP     string   `json:"client_ip"`
}

type ipRestrictionRequest struct {
	AllowedCIDRs []string `json:"allowed_cidrs"`
}

func replyIPRestriction(c echo.Context) func(ports.IPRestrictionView, error) error {
	return func(v ports.IPRestrictionView, err error) error {
		if err != nil {
			return err
		}
		cidrs := v.AllowedCIDRs
		if cidrs == nil {
			cidrs = []string{}
		}
		return writeJSON(c, http.StatusOK, ipRestrictionJSON{Enabled: v.Enabled, AllowedCIDRs: cidrs, ClientIP: v.ClientIP})
	}
}

func (s *Server) apiIPRestriction(c echo.Context) error {
	return replyIPRestriction(c)(s.accounts.IPRestriction(c.Request().Context(), principalOf(c)))
}

// apiSetIPRestriction replaces the list; the entries are the lines of the page, so a field error
// allowed_cidrs[i] names entry i.
func (s *Server) apiSetIPRestriction(c echo.Context) error {
	var req ipRestrictionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return replyIPRestriction(c)(s.accounts.SetAllowedCIDRs(c.Request().Context(), principalOf(c), req.AllowedCIDRs))
}

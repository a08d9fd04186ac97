package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// The security settings (/settings/security): the password change and the second factors. A session at
// StagePasswordChange sees only the password form, one at StageMFAEnrol only the enrolment (the tenant
// requires a second factor), a full session both.

const securityTitle = "セキュリティ設定 / Security settings"

// securityNotices are what the page says after a redirect, by its notice parameter.
var securityNotices = map[string]*message{
	"password_changed": {JA: "パスワードを変更しました。", EN: "Your password has been changed."},
	"totp_added":       {JA: "認証アプリを登録しました。", EN: "The authenticator app has been registered."},
	"totp_removed":     {JA: "認証アプリの登録を削除しました。", EN: "The authenticator app has been removed."},
	"key_added":        {JA: "セキュリティキーを登録しました。", EN: "The security key has been registered."},
	"key_removed":      {JA: "セキュリティキーを削除しました。", EN: "The security key has been removed."},
	ports.NoticeRecoveryCodeUsed: {
		JA: "リカバリーコードを使ってログインしました。使ったコードはもう使えません。新しい認証アプリまたはセキュリティキーを登録してください。",
		EN: "You logged in with a recovery code, which cannot be used again. Please register a new authenticator app or security key.",
	},
}

func (s *Server) securityPage(c echo.Context) error {
	return s.showSecurity(c, http.StatusOK, &view{Notice: securityNotices[c.QueryParam("notice")]})
}

// showSecurity renders the page, with the caller's second factors where the stage lets them be managed. Right
// after a first enrolment the page shows only the recovery codes, so nothing distracts from noting them.
func (s *Server) showSecurity(c echo.Context, status int, v *view) error {
	v.Title = securityTitle
	if p := principalOf(c); gateEnrol.admits(p.Stage) && v.RecoveryCodes == nil {
		st, err := s.mfa.MFAStatus(c.Request().Context(), p)
		if err != nil {
			return err
		}
		v.MFA = &st
	}
	return s.render(c, status, "security", v)
}

// securityFailure shows the page again after one of its forms failed, marking that form's fields; errors the
// person cannot act on go to the error page.
func (s *Server) securityFailure(c echo.Context, form string, err error) error {
	status, msg, err := formFailure(c, err)
	if err != nil {
		return err
	}
	return s.showSecurity(c, status, &view{Error: msg, Failed: form})
}

// securitySubmit changes the password. The change ends every session of the account, this one included, so
// the new session replaces the cookie.
func (s *Server) securitySubmit(c echo.Context) error {
	f := c.Request().PostForm
	current, next := f.Get("current_password"), f.Get("new_password")
	if next != f.Get("new_password_confirm") {
		mismatch := newProblem(http.StatusUnprocessableEntity, "password_mismatch",
			"The new passwords do not match.", "新しいパスワードが一致しません。")
		mismatch.fields = []ports.FieldError{{Field: "new_password_confirm", Code: "mismatch",
			MessageEN: "does not match the new password", MessageJA: "新しいパスワードと一致しません"}}
		return s.securityFailure(c, "password", mismatch)
	}
	res, err := s.accounts.ChangePassword(c.Request().Context(), principalOf(c), current, next)
	if err != nil {
		return s.securityFailure(c, "password", err)
	}
	s.replaceSession(c, res)
	return c.Redirect(http.StatusSeeOther, "/settings/security?notice=password_changed")
}

// totpBeginSubmit checks the password and shows the new secret as a QR code and as text, with the form that
// confirms it. The secret is in this one response only (never cached, see securityHeaders).
func (s *Server) totpBeginSubmit(c echo.Context) error {
	key, err := s.mfa.BeginTOTP(c.Request().Context(), principalOf(c), c.Request().PostForm.Get("current_password"))
	if err != nil {
		return s.securityFailure(c, "totp", err)
	}
	setup, err := newTOTPSetup(key)
	if err != nil {
		return err
	}
	return s.showSecurity(c, http.StatusOK, &view{TOTP: setup})
}

func (s *Server) totpConfirmSubmit(c echo.Context) error {
	res, err := s.mfa.ConfirmTOTP(c.Request().Context(), principalOf(c), c.Request().PostForm.Get("code"))
	if err != nil {
		return s.securityFailure(c, "totp-confirm", err)
	}
	return s.enrolledPage(c, res, "totp_added")
}

// enrolledPage hands over the session that replaced the caller's when a factor was added. After the first
// factor the page shows the recovery codes, the only time they are shown; otherwise it returns to the
// settings with a notice.
func (s *Server) enrolledPage(c echo.Context, res ports.MFAEnrolled, notice string) error {
	s.replaceSession(c, res.Session)
	next := "/settings/security?notice=" + notice
	if res.RecoveryCodes == nil {
		return c.Redirect(http.StatusSeeOther, next)
	}
	p := principalOf(c)
	p.Stage = res.Session.Stage // the navigation is the new session's
	c.Set(keyPrincipal, p)
	return s.showSecurity(c, http.StatusOK, &view{RecoveryCodes: res.RecoveryCodes, Continue: next})
}

func (s *Server) pageFinishWebAuthnRegistration(c echo.Context) error {
	res, err := withCredential(c, s.mfa.FinishWebAuthnRegistration)
	if err != nil {
		return err
	}
	s.replaceSession(c, res.Session)
	return writeJSON(c, http.StatusOK, scriptResult{Redirect: "/settings/security?notice=key_added", RecoveryCodes: res.RecoveryCodes})
}

func (s *Server) totpRemoveSubmit(c echo.Context) error {
	err := s.mfa.RemoveTOTP(c.Request().Context(), principalOf(c), c.Request().PostForm.Get("current_password"))
	return s.removed(c, "totp-remove", "totp_removed", err)
}

func (s *Server) keyRemoveSubmit(c echo.Context) error {
	id := c.Param("id")
	err := s.mfa.RemoveWebAuthn(c.Request().Context(), principalOf(c), id, c.Request().PostForm.Get("current_password"))
	return s.removed(c, "key-remove-"+id, "key_removed", err)
}

// removed ends a removal form: back to the settings with a notice, or the page again with the reason (a wrong
// password, or the last factor of an account that must keep one).
func (s *Server) removed(c echo.Context, form, notice string, err error) error {
	if err != nil {
		return s.securityFailure(c, form, err)
	}
	return c.Redirect(http.StatusSeeOther, "/settings/security?notice="+notice)
}

const adminSecurityTitle = "セキュリティポリシー / Security policy"

// adminSecurity is the tenant admin's policy page.
func (s *Server) adminSecurity(c echo.Context) error {
	_, t, err := s.accounts.Me(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	v := &view{Title: adminSecurityTitle, Tenant: t}
	if c.QueryParam("notice") == "saved" {
		v.Notice = &message{JA: "設定を保存しました。", EN: "The settings have been saved."}
	}
	return s.render(c, http.StatusOK, "admin_security", v)
}

// adminSecuritySubmit sets the policy; an unticked checkbox is absent from the form, which means "not required".
func (s *Server) adminSecuritySubmit(c echo.Context) error {
	required := c.Request().PostForm.Get("mfa_required") == "true"
	if _, err := s.mfa.SetTenantMFARequired(c.Request().Context(), principalOf(c), required); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/security?notice=saved")
}

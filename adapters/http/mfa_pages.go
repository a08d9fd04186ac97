package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// The second step of a login (/login/mfa): a TOTP code, a security key (through the page script) or a
// recovery code. Each success replaces the pending session with the next one.

const mfaTitle = "2段階認証 / Two-step verification"

func (s *Server) mfaPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "mfa", &view{Title: mfaTitle})
}

func (s *Server) mfaTOTPSubmit(c echo.Context) error {
	return s.mfaCodeSubmit(c, "totp", "code", s.mfa.VerifyTOTP)
}

func (s *Server) mfaRecoverySubmit(c echo.Context) error {
	return s.mfaCodeSubmit(c, "recovery", "recovery_code", s.mfa.UseRecoveryCode)
}

// mfaCodeSubmit runs one of the code forms of the login step. A failure shows the page again with the
// reason (a wrong code, or the lockout with its Retry-After); the code typed is never shown back.
func (s *Server) mfaCodeSubmit(c echo.Context, form, name string, step codeStep) error {
	p := principalOf(c)
	res, err := step(c.Request().Context(), p, c.Request().PostForm.Get(name))
	if err != nil {
		status, msg, err := formFailure(c, err)
		if err != nil {
			return err
		}
		return s.render(c, status, "mfa", &view{Title: mfaTitle, Error: msg, Failed: form})
	}
	s.replaceSession(c, res)
	return c.Redirect(http.StatusSeeOther, afterSecondFactor(p, res))
}

// afterSecondFactor is where a completed login step leads: after a recovery code, the security settings with a
// notice to register a new factor; otherwise the page of the new session's stage.
func afterSecondFactor(p ports.Principal, res ports.LoginResult) string {
	if res.Notice == ports.NoticeRecoveryCodeUsed {
		return "/settings/security?notice=" + res.Notice
	}
	p.Stage = res.Stage
	return stagePage(p)
}

// scriptResult answers the page script after a ceremony that replaced the session: where to go next, and the
// recovery codes when a first factor was just added (this answer is the only place they appear).
type scriptResult struct {
	Redirect      string   `json:"redirect"`
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
}

func (s *Server) pageFinishWebAuthnLogin(c echo.Context) error {
	res, err := withCredential(c, s.mfa.FinishWebAuthnLogin)
	if err != nil {
		return err
	}
	s.replaceSession(c, res)
	return writeJSON(c, http.StatusOK, scriptResult{Redirect: afterSecondFactor(principalOf(c), res)})
}

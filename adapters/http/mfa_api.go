package web

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

type codeRequest struct {
	Code string `json:"code"`
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
}

type beginWebAuthnRequest struct {
	CurrentPassword string `json:"current_password"`
	Name            string `json:"name"`
}

// codeStep is a login step that checks a typed code (ports.MFA's VerifyTOTP and UseRecoveryCode).
type codeStep func(ctx context.Context, p ports.Principal, code string) (ports.LoginResult, error)

func (s *Server) apiVerifyTOTP(c echo.Context) error { return s.apiCodeStep(c, s.mfa.VerifyTOTP) }

func (s *Server) apiUseRecoveryCode(c echo.Context) error {
	return s.apiCodeStep(c, s.mfa.UseRecoveryCode)
}

// apiCodeStep completes the login step with a code; the answer is the session that replaces the pending one,
// with notice recovery_code_used after a recovery code.
func (s *Server) apiCodeStep(c echo.Context, step codeStep) error {
	var req codeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return replySession(c)(step(c.Request().Context(), principalOf(c), req.Code))
}

// replyOptions answers with WebAuthn options exactly as the domain built them ({"publicKey": …}), so that
// nothing between the relying-party library and the browser can drop or reorder a member.
func replyOptions(c echo.Context) func([]byte, error) error {
	return func(options []byte, err error) error {
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, "application/json; charset=utf-8", options)
	}
}

// beginWebAuthnLogin serves the API and the login page's script alike.
func (s *Server) beginWebAuthnLogin(c echo.Context) error {
	return replyOptions(c)(s.mfa.BeginWebAuthnLogin(c.Request().Context(), principalOf(c)))
}

// withCredential passes the browser's credential JSON, as it came, to a port call that finishes a WebAuthn
// ceremony.
func withCredential[T any](c echo.Context, finish func(ctx context.Context, p ports.Principal, response []byte) (T, error)) (T, error) {
	body, err := rawJSON(c)
	if err != nil {
		var zero T
		return zero, err
	}
	return finish(c.Request().Context(), principalOf(c), body)
}

func (s *Server) apiFinishWebAuthnLogin(c echo.Context) error {
	return replySession(c)(withCredential(c, s.mfa.FinishWebAuthnLogin))
}

type webAuthnKeyJSON struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	CreatedAt  *string `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
}

type mfaStatusJSON struct {
	Required          bool              `json:"required"`
	Enabled           bool              `json:"enabled"`
	TOTP              bool              `json:"totp"`
	WebAuthn          []webAuthnKeyJSON `json:"webauthn"`
	RecoveryCodesLeft int               `json:"recovery_codes_left"`
}

func (s *Server) apiMFAStatus(c echo.Context) error {
	st, err := s.mfa.MFAStatus(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	res := mfaStatusJSON{Required: st.Required, Enabled: st.TOTP || len(st.WebAuthn) > 0, TOTP: st.TOTP,
		WebAuthn: []webAuthnKeyJSON{}, RecoveryCodesLeft: st.RecoveryCodesLeft}
	for _, k := range st.WebAuthn {
		res.WebAuthn = append(res.WebAuthn, webAuthnKeyJSON{ID: k.ID, Name: k.Name,
			CreatedAt: rfc3339(k.CreatedAt), LastUsedAt: rfc3339(k.LastUsedAt)})
	}
	return writeJSON(c, http.StatusOK, res)
}

type totpKeyResponse struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
}

// apiBeginTOTP shows the new secret: this answer is the only place it appears (and it is never cached, see
// securityHeaders).
func (s *Server) apiBeginTOTP(c echo.Context) error {
	var req passwordRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	key, err := s.mfa.BeginTOTP(c.Request().Context(), principalOf(c), req.CurrentPassword)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, totpKeyResponse{Secret: key.Secret, OTPAuthURL: key.URL})
}

// enrolledResponse is a factor added: the recovery codes on the first enrolment only, and the session that
// replaced the caller's (adding a factor ends every session of the account).
type enrolledResponse struct {
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
	sessionResponse
}

func replyEnrolled(c echo.Context) func(ports.MFAEnrolled, error) error {
	return func(res ports.MFAEnrolled, err error) error {
		if err != nil {
			return err
		}
		return writeJSON(c, http.StatusOK, enrolledResponse{RecoveryCodes: res.RecoveryCodes, sessionResponse: toSessionResponse(res.Session)})
	}
}

func (s *Server) apiConfirmTOTP(c echo.Context) error {
	var req codeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return replyEnrolled(c)(s.mfa.ConfirmTOTP(c.Request().Context(), principalOf(c), req.Code))
}

// beginWebAuthnRegistration serves the API and the security page's script alike.
func (s *Server) beginWebAuthnRegistration(c echo.Context) error {
	var req beginWebAuthnRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return replyOptions(c)(s.mfa.BeginWebAuthnRegistration(c.Request().Context(), principalOf(c), req.CurrentPassword, req.Name))
}

func (s *Server) apiFinishWebAuthnRegistration(c echo.Context) error {
	return replyEnrolled(c)(withCredential(c, s.mfa.FinishWebAuthnRegistration))
}

func (s *Server) apiRemoveTOTP(c echo.Context) error {
	return apiRemove(c, func(password string) error {
		return s.mfa.RemoveTOTP(c.Request().Context(), principalOf(c), password)
	})
}

func (s *Server) apiRemoveWebAuthn(c echo.Context) error {
	return apiRemove(c, func(password string) error {
		return s.mfa.RemoveWebAuthn(c.Request().Context(), principalOf(c), c.Param("id"), password)
	})
}

// apiRemove removes a factor after re-authentication with the current password, sent in the DELETE's body.
func apiRemove(c echo.Context, remove func(password string) error) error {
	var req passwordRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := remove(req.CurrentPassword); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiTenant(c echo.Context) error {
	_, t, err := s.accounts.Me(c.Request().Context(), principalOf(c))
	return replyTenant(c)(t, err)
}

// updateTenantRequest: absent or null members stay as they are.
type updateTenantRequest struct {
	MFARequired *bool `json:"mfa_required"`
}

func (s *Server) apiUpdateTenant(c echo.Context) error {
	var req updateTenantRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.MFARequired == nil {
		return s.apiTenant(c) // nothing to change
	}
	return replyTenant(c)(s.mfa.SetTenantMFARequired(c.Request().Context(), principalOf(c), *req.MFARequired))
}

func replyTenant(c echo.Context) func(ports.TenantView, error) error {
	return func(t ports.TenantView, err error) error {
		if err != nil {
			return err
		}
		return writeJSON(c, http.StatusOK, toTenantJSON(t))
	}
}

package e2e

import (
	"net/http"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/roumu/roumu/test/testenv"
	"github.com/roumu/roumu/test/virtualkey"
)

// TestSecurityKeyThroughTheAPI registers an emulated security key and logs in with it through the JSON API
// alone, as a native client would: the ceremonies' options and credentials travel as JSON.
func TestSecurityKeyThroughTheAPI(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	adminID, token := a.tenant("acme")
	rp := virtualwebauthn.RelyingParty{ID: "localhost", Name: "Roumu", Origin: testenv.PublicURL}
	authn, key := virtualwebauthn.NewAuthenticator(), virtualkey.New(t)
	authn.Options.UserHandle = []byte(adminID)

	res := a.api(http.MethodPost, "/api/v1/me/mfa/webauthn/begin", token,
		jsonBody(t, map[string]string{"current_password": testenv.NewPassword, "name": "YubiKey"}))
	wantJSON(t, res, http.StatusOK, nil)
	creation, err := virtualwebauthn.ParseAttestationOptions(string(res.body))
	if err != nil {
		t.Fatalf("registration options: %v: %s", err, res)
	}
	var enrolled struct {
		session
		RecoveryCodes []string `json:"recovery_codes"`
	}
	wantJSON(t, a.api(http.MethodPost, "/api/v1/me/mfa/webauthn/finish", token,
		virtualwebauthn.CreateAttestationResponse(rp, authn, key, *creation)), http.StatusOK, &enrolled)
	if enrolled.Stage != "full" || len(enrolled.RecoveryCodes) == 0 {
		t.Fatalf("after the first key: %+v", enrolled)
	}
	authn.AddCredential(key)

	pending := a.login("acme", "admin", testenv.NewPassword, "mfa")
	res = a.api(http.MethodPost, "/api/v1/auth/mfa/webauthn/begin", pending.Token, "")
	wantJSON(t, res, http.StatusOK, nil)
	assertion, err := virtualwebauthn.ParseAssertionOptions(string(res.body))
	if err != nil {
		t.Fatalf("login options: %v: %s", err, res)
	}
	key.Counter++
	var full session
	wantJSON(t, a.api(http.MethodPost, "/api/v1/auth/mfa/webauthn/finish", pending.Token,
		virtualwebauthn.CreateAssertionResponse(rp, authn, key, *assertion)), http.StatusOK, &full)
	if full.Stage != "full" || full.Token == pending.Token {
		t.Fatalf("after the security key: %+v", full)
	}
	a.me(full.Token)
}

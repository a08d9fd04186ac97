package webauthn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/go-webauthn/webauthn/protocol"

	"github.com/roumu/roumu/adapters/webauthn"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/virtualkey"
)

const publicURL = "https://a.example"

// browser is what the emulated browser and authenticator claim: the RP ID they hash into the authenticator
// data and the origin they write into the client data.
var browser = virtualwebauthn.RelyingParty{ID: "a.example", Name: "Roumu", Origin: publicURL}

// fixture is one user with one emulated authenticator holding one key, registered or not.
type fixture struct {
	rp   *webauthn.RelyingParty
	user ports.WebAuthnUser
	auth virtualwebauthn.Authenticator
	key  virtualwebauthn.Credential
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	rp, err := webauthn.New(webauthn.Config{RPDisplayName: "Roumu", PublicURL: publicURL, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{
		rp:   rp,
		user: ports.WebAuthnUser{ID: []byte("acc_01HZX3"), Name: "yamada", DisplayName: "山田 太郎"},
		auth: virtualwebauthn.NewAuthenticator(),
		key:  virtualkey.New(t),
	}
	f.auth.Options.UserHandle = f.user.ID
	return f
}

// attest runs the browser side of a registration against options as b and auth.
func (f *fixture) attest(t *testing.T, b virtualwebauthn.RelyingParty, auth virtualwebauthn.Authenticator, options []byte) []byte {
	t.Helper()
	parsed, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(virtualwebauthn.CreateAttestationResponse(b, auth, f.key, *parsed))
}

// assert runs the browser side of a login against options as b and auth.
func (f *fixture) assert(t *testing.T, b virtualwebauthn.RelyingParty, auth virtualwebauthn.Authenticator, options []byte) []byte {
	t.Helper()
	parsed, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	if auth.FindAllowedCredential(*parsed) == nil {
		t.Fatal("the registered credential is not in allowCredentials")
	}
	return []byte(virtualwebauthn.CreateAssertionResponse(b, auth, f.key, *parsed))
}

// register registers f.key for f.user and keeps the record, as the domain would.
func (f *fixture) register(t *testing.T) ports.WebAuthnCredentialRecord {
	t.Helper()
	ctx := context.Background()
	options, session, err := f.rp.BeginRegistration(ctx, f.user)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := f.rp.FinishRegistration(ctx, f.user, session, f.attest(t, browser, f.auth, options))
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	f.auth.AddCredential(f.key)
	f.user.Credentials = append(f.user.Credentials, rec)
	return rec
}

// beginLogin starts a login and returns the options and the session.
func (f *fixture) beginLogin(t *testing.T) (options, session []byte) {
	t.Helper()
	options, session, err := f.rp.BeginLogin(context.Background(), f.user)
	if err != nil {
		t.Fatal(err)
	}
	return options, session
}

// wantFailed checks err is the public verification failure, that it shows nothing of the library's reason, and
// that the reason logged for the server contains reason (so a case cannot pass by failing on something else).
func wantFailed(t *testing.T, err error, reason string) {
	t.Helper()
	if err == nil {
		t.Fatal("accepted; want webauthn_failed")
	}
	pe, ok := ports.AsError(err)
	if !ok || !errors.Is(err, ports.ErrInvalid) || pe.Code != "webauthn_failed" {
		t.Fatalf("err = %v; want *ports.Error ErrInvalid webauthn_failed", err)
	}
	if err.Error() != pe.Error() {
		t.Fatalf("Error() = %q exposes more than the public error %q", err.Error(), pe.Error())
	}
	if logged := slog.AnyValue(err).Resolve().String(); !strings.Contains(logged, reason) {
		t.Fatalf("logged %s; want the reason %q", logged, reason)
	}
}

func TestRegisterAndLogin(t *testing.T) {
	f := newFixture(t)
	rec := f.register(t)
	if !bytes.Equal(rec.CredentialID, f.key.ID) || len(rec.PublicKey) == 0 || !bytes.Equal(rec.AAGUID, f.auth.Aaguid[:]) {
		t.Fatalf("record = %+v", rec)
	}
	if !rec.UserPresent || !rec.UserVerified || rec.SignCount != 0 || rec.CloneWarning {
		t.Fatalf("record flags/counter = %+v", rec)
	}
	t.Logf("attestation type %q", rec.AttestationType)

	// Authenticators with a counter increase it on every use; a record with counter 0 and an authenticator
	// without a counter (always 0) is accepted too, as the specification allows.
	for _, counter := range []uint32{0, 1, 7} {
		f.key.Counter = counter
		options, session := f.beginLogin(t)
		got, err := f.rp.FinishLogin(context.Background(), f.user, session, f.assert(t, browser, f.auth, options))
		if err != nil {
			t.Fatalf("counter %d: FinishLogin: %v", counter, err)
		}
		want := ports.WebAuthnAssertion{CredentialID: f.key.ID, SignCount: counter, UserPresent: true, UserVerified: true}
		if !bytes.Equal(got.CredentialID, want.CredentialID) || got.SignCount != want.SignCount || got.CloneWarning ||
			got.UserPresent != want.UserPresent || got.UserVerified != want.UserVerified || got.BackupState {
			t.Fatalf("counter %d: assertion = %+v; want %+v", counter, got, want)
		}
		f.user.Credentials[0].SignCount = got.SignCount
	}
}

func TestRegistrationOptions(t *testing.T) {
	f := newFixture(t)
	f.register(t)
	options, _, err := f.rp.BeginRegistration(context.Background(), f.user)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		PublicKey struct {
			RP                     struct{ ID, Name string }
			Timeout                int
			Attestation            string
			AuthenticatorSelection struct {
				ResidentKey      string
				UserVerification string
			}
		}
	}
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatal(err)
	}
	pk := o.PublicKey
	if pk.RP.ID != "a.example" || pk.RP.Name != "Roumu" || pk.Timeout != 60000 || pk.Attestation != "none" ||
		pk.AuthenticatorSelection.ResidentKey != "preferred" || pk.AuthenticatorSelection.UserVerification != "preferred" {
		t.Fatalf("options = %s", options)
	}
	parsed, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	if !f.key.IsExcludedForAttestation(*parsed) {
		t.Fatalf("registered credential not excluded: %s", options)
	}
}

func TestLoginOptions(t *testing.T) {
	f := newFixture(t)
	if _, _, err := f.rp.BeginLogin(context.Background(), f.user); !errors.Is(err, ports.ErrPreconditionFailed) {
		t.Fatalf("BeginLogin without credentials: %v; want ErrPreconditionFailed", err)
	}
	f.register(t)
	options, _ := f.beginLogin(t)
	parsed, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	if parsed.RelyingPartyID != "a.example" || len(parsed.AllowCredentials) != 1 ||
		parsed.AllowCredentials[0] != base64.RawURLEncoding.EncodeToString(f.key.ID) {
		t.Fatalf("options = %s", options)
	}
}

// ceremony produces the session and response that a Finish call receives, possibly forged.
type ceremony func(t *testing.T, f *fixture, options, session []byte) (forgedSession, response []byte)

// refusal is an attack and the library's reason for refusing it, checked so that a case cannot pass by failing
// on something else.
type refusal struct {
	forge  ceremony
	reason string
}

// browserSide runs the honest browser side of a ceremony (fixture.attest or fixture.assert).
type browserSide func(f *fixture, t *testing.T, b virtualwebauthn.RelyingParty, a virtualwebauthn.Authenticator, options []byte) []byte

// refusals are the attacks common to both ceremonies.
func refusals(answer browserSide, begin func(t *testing.T, f *fixture) (options, session []byte)) map[string]refusal {
	return map[string]refusal{
		"wrong origin": {func(t *testing.T, f *fixture, options, session []byte) ([]byte, []byte) {
			evil := browser
			evil.Origin = "https://evil.example"
			return session, answer(f, t, evil, f.auth, options)
		}, "Error validating origin"},
		"wrong RP ID": {func(t *testing.T, f *fixture, options, session []byte) ([]byte, []byte) {
			evil := browser
			evil.ID = "evil.example"
			return session, answer(f, t, evil, f.auth, options)
		}, "RP Hash mismatch"},
		"user not present": {func(t *testing.T, f *fixture, options, session []byte) ([]byte, []byte) {
			absent := f.auth
			absent.Options.UserNotPresent = true
			return session, answer(f, t, browser, absent, options)
		}, "User presence required"},
		"challenge of another session": {func(t *testing.T, f *fixture, options, _ []byte) ([]byte, []byte) {
			_, other := begin(t, f)
			return other, answer(f, t, browser, f.auth, options)
		}, "Error validating challenge"},
		"expired session": {func(t *testing.T, f *fixture, options, session []byte) ([]byte, []byte) {
			return setSessionField(t, session, "expires", time.Now().Add(-time.Second)), answer(f, t, browser, f.auth, options)
		}, "Session has Expired"},
		"session without expiry": {func(t *testing.T, f *fixture, options, session []byte) ([]byte, []byte) {
			return setSessionField(t, session, "expires", time.Time{}), answer(f, t, browser, f.auth, options)
		}, "session has no expiry"},
		"malformed response": {func(t *testing.T, f *fixture, options, session []byte) ([]byte, []byte) {
			return session, []byte(`{"id":`)
		}, "Parse error"},
	}
}

func TestRegistrationRefused(t *testing.T) {
	begin := func(t *testing.T, f *fixture) ([]byte, []byte) {
		t.Helper()
		options, session, err := f.rp.BeginRegistration(context.Background(), f.user)
		if err != nil {
			t.Fatal(err)
		}
		return options, session
	}
	cases := refusals((*fixture).attest, begin)
	cases["another user's session"] = refusal{func(t *testing.T, f *fixture, options, session []byte) ([]byte, []byte) {
		return setSessionField(t, session, "user_id", []byte("acc_other")), f.attest(t, browser, f.auth, options)
	}, "ID mismatch for User and Session"}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			options, session := begin(t, f)
			session, response := c.forge(t, f, options, session)
			_, err := f.rp.FinishRegistration(context.Background(), f.user, session, response)
			wantFailed(t, err, c.reason)
		})
	}
}

func TestLoginRefused(t *testing.T) {
	begin := func(t *testing.T, f *fixture) ([]byte, []byte) { return f.beginLogin(t) }
	cases := refusals((*fixture).assert, begin)
	cases["tampered signature"] = refusal{func(t *testing.T, f *fixture, options, session []byte) ([]byte, []byte) {
		return session, tamperSignature(t, f.assert(t, browser, f.auth, options))
	}, "Error validating the assertion signature"}
	cases["assertion replayed in a new session"] = refusal{func(t *testing.T, f *fixture, options, session []byte) ([]byte, []byte) {
		f.key.Counter = 1
		old := f.assert(t, browser, f.auth, options)
		if _, err := f.rp.FinishLogin(context.Background(), f.user, session, old); err != nil {
			t.Fatal(err)
		}
		_, next := f.beginLogin(t)
		return next, old
	}, "Error validating challenge"}
	cases["unregistered credential"] = refusal{func(t *testing.T, f *fixture, options, session []byte) ([]byte, []byte) {
		f.key = virtualkey.New(t)
		parsed, err := virtualwebauthn.ParseAssertionOptions(string(options))
		if err != nil {
			t.Fatal(err)
		}
		return session, []byte(virtualwebauthn.CreateAssertionResponse(browser, f.auth, f.key, *parsed))
	}, "not owned by the user"}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.register(t)
			options, session := f.beginLogin(t)
			session, response := c.forge(t, f, options, session)
			_, err := f.rp.FinishLogin(context.Background(), f.user, session, response)
			wantFailed(t, err, c.reason)
		})
	}
}

// TestLoginCloneWarning: an assertion whose counter does not exceed the stored one passes verification but is
// flagged; the domain refuses it.
func TestLoginCloneWarning(t *testing.T) {
	t.Run("replayed after the counter advanced", func(t *testing.T) {
		f := newFixture(t)
		f.register(t)
		f.key.Counter = 5
		options, session := f.beginLogin(t)
		response := f.assert(t, browser, f.auth, options)
		first, err := f.rp.FinishLogin(context.Background(), f.user, session, response)
		if err != nil || first.CloneWarning || first.SignCount != 5 {
			t.Fatalf("first use: %+v, %v", first, err)
		}
		f.user.Credentials[0].SignCount = first.SignCount
		again, err := f.rp.FinishLogin(context.Background(), f.user, session, response)
		if err != nil || !again.CloneWarning || again.SignCount != 5 {
			t.Fatalf("replay: %+v, %v; want CloneWarning with the stored count 5", again, err)
		}
	})
	t.Run("counter went back", func(t *testing.T) {
		f := newFixture(t)
		f.register(t)
		f.user.Credentials[0].SignCount = 10
		f.key.Counter = 3
		options, session := f.beginLogin(t)
		got, err := f.rp.FinishLogin(context.Background(), f.user, session, f.assert(t, browser, f.auth, options))
		if err != nil || !got.CloneWarning || got.SignCount != 10 {
			t.Fatalf("%+v, %v; want CloneWarning with the stored count 10", got, err)
		}
	})
	t.Run("already flagged credential", func(t *testing.T) {
		f := newFixture(t)
		f.register(t)
		f.user.Credentials[0].CloneWarning = true
		f.key.Counter = 1
		options, session := f.beginLogin(t)
		got, err := f.rp.FinishLogin(context.Background(), f.user, session, f.assert(t, browser, f.auth, options))
		if err != nil || !got.CloneWarning {
			t.Fatalf("%+v, %v; want CloneWarning kept", got, err)
		}
	})
}

func TestRecordMapping(t *testing.T) {
	// Transports and the backup flags survive the round trip through the library: a stored backup-eligible
	// credential must be matched by a backup-eligible assertion, or the library refuses it.
	f := newFixture(t)
	f.auth.Options.BackupEligible = true
	f.auth.Options.BackupState = true
	rec := f.register(t)
	if !rec.BackupEligible || !rec.BackupState {
		t.Fatalf("record = %+v", rec)
	}
	f.user.Credentials[0].Transports = []string{"usb", "nfc"}
	options, session := f.beginLogin(t)
	if !strings.Contains(string(options), `"transports":["usb","nfc"]`) {
		t.Errorf("transports not offered: %s", options)
	}
	got, err := f.rp.FinishLogin(context.Background(), f.user, session, f.assert(t, browser, f.auth, options))
	if err != nil || !got.BackupState {
		t.Fatalf("%+v, %v", got, err)
	}

	f.user.Credentials[0].BackupEligible = false
	options, session = f.beginLogin(t)
	_, err = f.rp.FinishLogin(context.Background(), f.user, session, f.assert(t, browser, f.auth, options))
	wantFailed(t, err, "Backup Eligible flag inconsistency")
}

func TestFailureLogsReason(t *testing.T) {
	f := newFixture(t)
	f.register(t)
	options, session := f.beginLogin(t)
	evil := browser
	evil.Origin = "https://evil.example"
	_, err := f.rp.FinishLogin(context.Background(), f.user, session, f.assert(t, evil, f.auth, options))
	wantFailed(t, err, "Error validating origin")
	if strings.Contains(err.Error(), "evil") {
		t.Fatalf("message leaks the reason: %q", err)
	}
	var pe *protocol.Error
	if !errors.As(err, &pe) {
		t.Fatalf("library reason not in the chain: %v", err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Error("webauthn login", "err", err)
	if !strings.Contains(buf.String(), "evil.example") || !strings.Contains(buf.String(), "webauthn_failed") {
		t.Fatalf("log lacks the reason: %s", buf.String())
	}
}

func TestCorruptSession(t *testing.T) {
	f := newFixture(t)
	f.register(t)
	_, err := f.rp.FinishLogin(context.Background(), f.user, []byte("not json"), []byte("{}"))
	if err == nil || errors.Is(err, ports.ErrInvalid) {
		t.Fatalf("err = %v; want an internal error", err)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		url, rpID, origin string // empty rpID: refused
	}{
		{"https://a.example", "a.example", "https://a.example"},
		{"https://HR.A.Example:8443/app/", "hr.a.example", "https://hr.a.example:8443"},
		{"http://localhost:8080", "localhost", "http://localhost:8080"},
		{"http://a.example", "", ""},
		{"ftp://a.example", "", ""},
		{"https://", "", ""},
		{"", "", ""},
		{"a.example", "", ""},
		{"https://user:pw@a.example", "", ""},
		{"https://192.0.2.1", "", ""},
		{"https://a.example:99999", "", ""},
		{"https://a.example:0", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			rp, err := webauthn.New(webauthn.Config{RPDisplayName: "Roumu", PublicURL: tt.url})
			if tt.rpID == "" {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The emulated browser at exactly the derived RP ID and origin must succeed.
			f := newFixture(t)
			f.rp = rp
			options, session, err := rp.BeginRegistration(context.Background(), f.user)
			if err != nil {
				t.Fatal(err)
			}
			b := virtualwebauthn.RelyingParty{ID: tt.rpID, Origin: tt.origin}
			if _, err := rp.FinishRegistration(context.Background(), f.user, session, f.attest(t, b, f.auth, options)); err != nil {
				t.Fatalf("RP ID %s, origin %s: %v (%s)", tt.rpID, tt.origin, err, slog.AnyValue(err).Resolve())
			}
		})
	}
	for _, cfg := range []webauthn.Config{
		{PublicURL: "https://a.example"},
		{RPDisplayName: "Roumu", PublicURL: "https://a.example", Timeout: -time.Second},
	} {
		if _, err := webauthn.New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// setSessionField rewrites one JSON field of the opaque session data, as a forger with store access might.
func setSessionField(t *testing.T, session []byte, field string, value any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(session, &m); err != nil {
		t.Fatal(err)
	}
	m[field] = value
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tamperSignature flips one byte of the assertion's signature.
func tamperSignature(t *testing.T, response []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(response, &m); err != nil {
		t.Fatal(err)
	}
	r := m["response"].(map[string]any)
	sig, err := base64.RawURLEncoding.DecodeString(r["signature"].(string))
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)-1] ^= 0x01
	r["signature"] = base64.RawURLEncoding.EncodeToString(sig)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

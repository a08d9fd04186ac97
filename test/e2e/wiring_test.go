package e2e

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	web "github.com/roumu/roumu/adapters/http"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// newServer wires the HTTP adapter to env's modules as cmd/roumu does, with publicURL as server.public_url.
// It is the one place that knows web.Deps. The adapter's warnings and errors go to the test's output.
func newServer(t testing.TB, env *testenv.Env, publicURL string) *web.Server {
	t.Helper()
	return newServerWith(t, env, web.Config{PublicURL: publicURL})
}

// newServerWith is newServer with a whole configuration (trusted proxies, say), without rate limits (the
// tests log in far more often than a person would).
func newServerWith(t testing.TB, env *testenv.Env, cfg web.Config) *web.Server {
	t.Helper()
	return newLimitedServer(t, env, cfg, nil)
}

// newLimitedServer is newServerWith counting requests with limiter (nil: no limits).
func newLimitedServer(t testing.TB, env *testenv.Env, cfg web.Config, limiter ports.RateLimiter) *web.Server {
	t.Helper()
	return newServerChanged(t, env, cfg, func(d *web.Deps) { d.RateLimiter = limiter })
}

// newServerChanged is newServerWith with the ports that change alters (one wrapped by a test, say).
func newServerChanged(t testing.TB, env *testenv.Env, cfg web.Config, change func(*web.Deps)) *web.Server {
	t.Helper()
	cfg.Version = "e2e"
	deps := web.Deps{
		Accounts:    env.Accounts,
		MFA:         env.Accounts,
		APITokens:   env.Accounts,
		Employees:   env.Employees,
		Procedures:  env.Procedures,
		Documents:   env.Procedures,
		Attachments: env.Procedures,
		Stats:       env.Store,
		Webhooks:    env.Webhooks,
		Notices:     env.Notices,
		Operations:  env.Operations,
		AuditSearch: env.AuditSearch,
		Keys:        env.KeyRotation,
		Clock:       env.Clock,
		Idempotency: env.Idempotency,
		Ready:       env.Store,
		Logger:      slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	change(&deps)
	srv, err := web.New(cfg, deps)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	return srv
}

// app is the service under test, served over a real HTTP connection (httptest.Server), with a client that
// does not follow redirects so that the tests see them.
type app struct {
	t      *testing.T
	env    *testenv.Env
	base   string
	client *http.Client
}

// startApp serves a fresh environment.
func startApp(t *testing.T) *app {
	t.Helper()
	return startAppWith(t, testenv.New(t), web.Config{PublicURL: testenv.PublicURL})
}

// startAppWith serves env with the configuration cfg.
func startAppWith(t *testing.T, env *testenv.Env, cfg web.Config) *app {
	t.Helper()
	return serveApp(t, env, newServerWith(t, env, cfg))
}

// serveApp serves srv, the server of env, to a client that checks every API exchange against openapi.yaml.
func serveApp(t *testing.T, env *testenv.Env, srv *web.Server) *app {
	t.Helper()
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	client := ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	client.Transport = openAPIChecked(t, client.Transport)
	return &app{t: t, env: env, base: ts.URL, client: client}
}

// response is a complete answer, body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return r.header.Get("Content-Type") + " " + string(r.body) }

// send makes one request. body may be nil; header values are added as they are.
func (a *app) send(method, path string, body io.Reader, header http.Header) response {
	a.t.Helper()
	req, err := http.NewRequestWithContext(a.t.Context(), method, a.base+path, body)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := a.client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// api sends a JSON request with a bearer token (token "" sends none, body "" sends no body).
func (a *app) api(method, path, token, body string) response {
	a.t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
		h.Set("Content-Type", "application/json")
	}
	return a.send(method, path, r, h)
}

// sessionCount counts the stored sessions without ending any: it deletes them all inside a transaction and
// rolls the transaction back.
func sessionCount(t testing.TB, env *testenv.Env) int {
	t.Helper()
	errRollback := errors.New("roll back the count")
	farFuture := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	err := env.Store.InTx(t.Context(), func(ctx context.Context) error {
		var err error
		if n, err = env.Store.DeleteSessionsBefore(ctx, farFuture, farFuture); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("counting sessions: %v", err)
	}
	return n
}

// storeState is what a request that fails must leave untouched: the tenants, every account of every tenant
// and of the operators, and how many sessions there are.
type storeState struct {
	Tenants  []ports.TenantRecord
	Accounts map[string][]ports.AccountRecord // by tenant ID; "" holds the operators
	Sessions int
}

func snapshot(t testing.TB, env *testenv.Env) storeState {
	t.Helper()
	ctx := t.Context()
	tenants, err := env.Store.ListTenants(ctx)
	if err != nil {
		t.Fatalf("list tenants: %v", err)
	}
	st := storeState{Tenants: tenants, Accounts: map[string][]ports.AccountRecord{}, Sessions: sessionCount(t, env)}
	for _, id := range append([]string{""}, tenantIDs(tenants)...) {
		if st.Accounts[id], err = env.Store.ListAccounts(ctx, id); err != nil {
			t.Fatalf("list accounts of tenant %q: %v", id, err)
		}
	}
	return st
}

func tenantIDs(tenants []ports.TenantRecord) []string {
	ids := make([]string, len(tenants))
	for i, tn := range tenants {
		ids[i] = tn.ID
	}
	return ids
}

// assertUnchanged fails when what was read from the store before differs from what is read after.
func assertUnchanged[T any](t testing.TB, before, after T) {
	t.Helper()
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("the store changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/config"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/ratelimit"
	"github.com/roumu/roumu/ports"
)

// run executes the roumu command line in-process with stdin and returns its output.
func run(t *testing.T, ctx context.Context, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRootCommand(strings.NewReader(stdin), &out)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitHealthy polls /healthz until the server answers; the bound only stops a broken start from hanging.
func waitHealthy(t *testing.T, base string, serveErr <-chan error) {
	t.Helper()
	for range 200 {
		select {
		case err := <-serveErr:
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the service did not become healthy")
}

// TestFreshCheckout is the newcomer's path: no configuration at all, so SQLite and the keyring go to ./var/;
// create a tenant from the command line, serve, and log in through the API and see the Japanese login page.
func TestFreshCheckout(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx := context.Background()
	out, err := run(t, ctx, "Kx7#mq2!zpW9\n", "tenant", "create", "--code", "acme", "--name", "Acme 株式会社",
		"--admin-login", "admin", "--admin-name", "管理 太郎", "--password-stdin")
	if err != nil || !strings.Contains(out, "tenant acme created") {
		t.Fatalf("tenant create: %q %v", out, err)
	}
	for _, f := range []string{"var/roumu.db", "var/keyring.json"} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s not created: %v", f, err)
		}
	}
	if st, _ := os.Stat("var/keyring.json"); st.Mode().Perm() != 0o600 {
		t.Fatalf("keyring mode %v, want 0600", st.Mode().Perm())
	}

	addr := freeAddr(t)
	serveCtx, stop := context.WithCancel(ctx)
	serveErr := make(chan error, 1)
	go func() { _, err := run(t, serveCtx, "", "serve", "--addr", addr); serveErr <- err }()
	base := "http://" + addr
	waitHealthy(t, base, serveErr)

	for path, want := range map[string]string{"/readyz": "ok", "/login": "ログイン"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Fatalf("GET %s: %d %q", path, resp.StatusCode, body)
		}
	}
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"tenant":"acme","login":"admin","password":"Kx7#mq2!zpW9"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		Token string `json:"token"`
		Stage string `json:"stage"`
	}
	err = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || login.Token == "" || login.Stage != "password_change" {
		t.Fatalf("API login: %d %+v %v", resp.StatusCode, login, err)
	}

	stop()
	if err := <-serveErr; err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
	out, err = run(t, ctx, "", "audit", "verify")
	if err != nil || !strings.Contains(out, "audit log intact") {
		t.Fatalf("audit verify: %q %v", out, err)
	}
}

func TestCommandErrors(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ctx := context.Background()
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"password only from stdin", "", []string{"operator", "create", "--login", "ops1", "--name", "運用"}, "--password-stdin is required"},
		{"empty stdin", "", []string{"operator", "create", "--login", "ops1", "--name", "運用", "--password-stdin"}, "no password on stdin"},
		{"weak password", "short\n", []string{"operator", "create", "--login", "ops1", "--name", "運用", "--password-stdin"}, "at least 10 characters"},
		{"missing flag", "", []string{"tenant", "create", "--code", "acme"}, "required flag"},
		{"bad config key", "", []string{"migrate", "--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, ctx, tc.stdin, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line containing %q", err, tc.want)
			}
		})
	}
	t.Run("memory keeps nothing", func(t *testing.T) {
		t.Setenv("ROUMU_DATABASE_DRIVER", "memory")
		if _, err := run(t, ctx, "Kx7#mq2!zpW9\n", "operator", "create", "--login", "ops1", "--name", "運用", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "memory") {
			t.Fatalf("operator create on memory: %v", err)
		}
	})
	if out, err := run(t, ctx, "", "version"); err != nil || !strings.HasPrefix(out, "roumu ") {
		t.Fatalf("version: %q %v", out, err)
	}
	for range 2 {
		if out, err := run(t, ctx, "", "migrate"); err != nil || !strings.Contains(out, "migrations applied") {
			t.Fatalf("migrate: %q %v", out, err)
		}
	}
	if _, err := run(t, ctx, "Kx7#mq2!zpW9\n", "operator", "create", "--login", "ops1", "--name", "運用 一郎", "--password-stdin"); err != nil {
		t.Fatalf("operator create: %v", err)
	}
}

// TestKeysReseal: a rotation approved in the console while the service is stopped before its job ran is
// finished by `roumu keys reseal`: every sealed value moves to the new key and the old key is retired, as
// `roumu keys list` shows (4 values: My Number and the pension number, in the record and in its first change).
func TestKeysReseal(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx := context.Background()
	a, err := openApp(ctx, config.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	_, admin, err := a.accounts.CreateTenant(ctx, ports.CreateTenantCommand{Code: "acme", Name: "ACME",
		AdminLogin: "admin", AdminName: "管理 太郎", AdminPassword: "Kx7#mq2!zpW9"})
	if err != nil {
		t.Fatal(err)
	}
	p := ports.Principal{AccountID: admin.ID, TenantID: admin.TenantID, Kind: ports.KindMember, Stage: ports.StageFull,
		Roles: []string{ports.RoleAdmin}, Login: "admin"}
	if _, err := a.employees.CreateEmployee(ctx, p, ports.EmployeeInput{Fields: map[string]string{
		"employee_number": "E1", "family_name": "山田", "given_name": "太郎", "family_name_kana": "ヤマダ",
		"given_name_kana": "タロウ", "birth_date": "1990-05-15", "gender": "male", "hire_date": "2025-04-01",
		"employment_type": "regular", "my_number": "123456789018", "basic_pension_number": "1234-567890"}}); err != nil {
		t.Fatal(err)
	}
	id := approved(t, ctx, a, ports.OpKeyRotation, nil)
	a.Close()

	out, err := run(t, ctx, "", "keys", "list")
	if err != nil || !strings.Contains(out, "key 2") || !strings.Contains(out, "job "+id+"  key 2  running  0/0") {
		t.Fatalf("keys list before the job: %q %v", out, err)
	}
	out, err = run(t, ctx, "", "keys", "reseal")
	if err != nil || !strings.Contains(out, "4 values re-sealed") || !strings.Contains(out, "key 1  created") ||
		!strings.Contains(out, "retired") || !strings.Contains(out, "succeeded  4/4 re-sealed, 0 failed, 0 remaining, retired keys [1]") {
		t.Fatalf("keys reseal: %q %v", out, err)
	}
}

// approved has two operators request and approve an operation, as they would in the console, and returns
// the work record's ID.
func approved(t *testing.T, ctx context.Context, a *app, kind string, params map[string]string) string {
	t.Helper()
	var ops [2]ports.Principal
	for i := range ops {
		id := kernel.NewID()
		login := fmt.Sprintf("ops%d-%s", i, id[len(id)-8:])
		v, err := a.accounts.CreateOperator(ctx, ports.CreateOperatorCommand{Login: login, Name: "運用 " + login, Password: "Kx7#mq2!zpW9"})
		if err != nil {
			t.Fatal(err)
		}
		ops[i] = ports.Principal{AccountID: v.ID, Kind: ports.KindOperator, Login: login, Stage: ports.StageFull}
	}
	r, err := a.operations.Request(ctx, ops[0], ports.RequestOperationCommand{Kind: kind, Params: params, Reason: "テスト"})
	if err != nil {
		t.Fatal(err)
	}
	if r, err = a.operations.Approve(ctx, ops[1], r.ID, ""); err != nil || r.Status == ports.OperationFailed {
		t.Fatalf("approve %s: %+v %v", kind, r, err)
	}
	return r.ID
}

// TestDefaultRateLimitsAreTheDomains: the configuration's default limits are the rate-limit module's own.
func TestDefaultRateLimitsAreTheDomains(t *testing.T) {
	t.Parallel()
	if got := ratePolicy(config.Default().RateLimit); !maps.Equal(got, ratelimit.DefaultPolicy) {
		t.Fatalf("configured %v, the module's default %v", got, ratelimit.DefaultPolicy)
	}
}

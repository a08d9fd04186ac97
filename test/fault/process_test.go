package fault

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/roumu/roumu/test/pgtest"
)

// binary is the roumu command built for this test binary by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "roumu-fault-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Without the race detector, which makes an import several times slower; the in-process tests run the
	// same code under it.
	binary = filepath.Join(dir, "roumu")
	if out, err := exec.Command("go", "build", "-o", binary, "github.com/roumu/roumu/cmd/roumu").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/roumu: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// database is where a service keeps its data: a SQLite file, or a PostgreSQL schema of its own.
type database struct {
	driver, dsn string
}

func sqliteDatabase(t *testing.T) database {
	return database{driver: "sqlite", dsn: filepath.Join(t.TempDir(), "roumu.db")}
}

func postgresDatabase(t *testing.T) database {
	return database{driver: "postgres", dsn: pgtest.SchemaDSN(t)}
}

// eachDatabase runs test on SQLite and on PostgreSQL, in parallel.
func eachDatabase(t *testing.T, test func(t *testing.T, db database)) {
	for name, db := range map[string]func(*testing.T) database{"sqlite": sqliteDatabase, "postgres": postgresDatabase} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, db(t))
		})
	}
}

// open connects the test itself to the service's database, to look at what is stored or to hold a lock.
func (d database) open(t *testing.T) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", d.dsn
	if d.driver == "sqlite" {
		driver, dsn = sqlite.DriverName, d.dsn+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// count runs a SELECT count(*) … on db.
func count(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// service is roumu running as a process of its own on db, restartable on the same address and data.
type service struct {
	t      *testing.T
	db     database
	dir    string // keyring, audit files and the process's log
	env    []string
	base   string
	cmd    *exec.Cmd
	exited chan error
	end    context.CancelFunc // stops cmd gracefully: SIGTERM, SIGKILL if it lingers
	starts int
}

// newService configures a service on db: its files in a directory of its own, webhooks allowed to plain
// http on loopback (the tests' receivers), the cheapest argon2id cost the configuration accepts. extra adds
// or overrides ROUMU_… variables. Nothing runs yet.
func newService(t *testing.T, db database, extra ...string) *service {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ROUMU_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"ROUMU_DATABASE_DRIVER="+db.driver,
		"ROUMU_DATABASE_DSN="+db.dsn,
		"ROUMU_SERVER_ADDR="+addr,
		"ROUMU_SERVER_PUBLIC_URL=http://localhost:"+port,
		"ROUMU_SECURITY_KEYRING_FILE="+filepath.Join(dir, "keyring.json"),
		"ROUMU_SECURITY_AUDIT_CHECKPOINT_FILE="+filepath.Join(dir, "audit-checkpoints.jsonl"),
		"ROUMU_SECURITY_AUDIT_SIGNING_KEY_FILE="+filepath.Join(dir, "audit-signing.key"),
		"ROUMU_SECURITY_ARGON2_MEMORY_KIB=19456",
		"ROUMU_WEBHOOKS_ALLOW_HTTP=true",
		"ROUMU_WEBHOOKS_ALLOWED_CIDRS=127.0.0.1/32",
	)
	s := &service{t: t, db: db, dir: dir, env: append(env, extra...), base: "http://" + addr}
	t.Cleanup(s.stop)
	return s
}

// command runs a roumu command (not serve) to its end and returns its output.
func (s *service) command(stdin string, args ...string) string {
	s.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env, cmd.Stdin = s.dir, s.env, strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("roumu %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// start runs roumu serve and waits until it is ready. Each start logs to a file of its own.
func (s *service) start() {
	s.t.Helper()
	s.starts++
	log, err := os.Create(filepath.Join(s.dir, fmt.Sprintf("serve-%d.log", s.starts)))
	if err != nil {
		s.t.Fatal(err)
	}
	defer log.Close() // the process has its own descriptor
	var ctx context.Context
	ctx, s.end = context.WithCancel(context.Background())
	s.cmd = exec.CommandContext(ctx, binary, "serve")
	s.cmd.Dir, s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = s.dir, s.env, log, log
	s.cmd.Cancel = func() error { return s.cmd.Process.Signal(syscall.SIGTERM) }
	s.cmd.WaitDelay = 15 * time.Second
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.exited = make(chan error, 1)
	go func(cmd *exec.Cmd, exited chan<- error) { exited <- cmd.Wait() }(s.cmd, s.exited)
	// The bound only keeps a broken build from hanging the test.
	for range 600 {
		select {
		case err := <-s.exited:
			s.end()
			s.cmd = nil
			s.t.Fatalf("roumu serve exited at start: %v\n%s", err, s.logs())
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	s.t.Fatalf("roumu serve not ready\n%s", s.logs())
}

// kill ends the process with SIGKILL: no graceful shutdown, no deferred cleanup, as a crash or the OOM
// killer would.
func (s *service) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		s.t.Fatalf("kill: %v", err)
	}
	<-s.exited
	s.end()
	s.cmd = nil
}

// stop ends a running process gracefully.
func (s *service) stop() {
	if s.cmd != nil {
		s.end()
		<-s.exited
		s.cmd = nil
	}
	if s.t.Failed() {
		s.t.Logf("service logs:\n%s", s.logs())
	}
}

// logs returns, for every start, the requests that failed inside the service and the end of its log.
func (s *service) logs() string {
	var b strings.Builder
	for i := 1; i <= s.starts; i++ {
		data, _ := os.ReadFile(filepath.Join(s.dir, fmt.Sprintf("serve-%d.log", i)))
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		fmt.Fprintf(&b, "--- start %d ---\n", i)
		for _, l := range lines {
			if strings.Contains(l, `msg="request failed"`) {
				fmt.Fprintln(&b, l)
			}
		}
		fmt.Fprintf(&b, "…\n%s\n", strings.Join(lines[max(0, len(lines)-30):], "\n"))
	}
	return b.String()
}

// reply is an answer of the service.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// problem is the RFC 7807 body of an error answer.
type problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func (r reply) problem() problem {
	var p problem
	_ = json.Unmarshal(r.body, &p)
	return p
}

// request sends one API call; body is JSON unless it is []byte (sent as CSV). The error is the transport's:
// a connection refused or cut.
func (s *service) request(method, path, token string, body any) (reply, error) {
	var in io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		in, contentType = bytes.NewReader(b), "text/csv; charset=utf-8"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return reply{}, err
		}
		in = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.base+path, in)
	if err != nil {
		return reply{}, err
	}
	if in != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	// The bound only keeps a hang from stalling the test; no test asserts a duration.
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: data}, err
}

// call is request for a call that must get an answer with status want; it decodes the body into out.
func (s *service) call(method, path, token string, body any, want int, out any) reply {
	s.t.Helper()
	r, err := s.request(method, path, token, body)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	if r.status != want {
		s.t.Fatalf("%s %s: %d, want %d: %s", method, path, r.status, want, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			s.t.Fatalf("%s %s: %v: %s", method, path, err, r.body)
		}
	}
	return r
}

// adminToken creates the tenant "acme" with its admin from the command line, logs in, chooses a new
// password and returns the full session's token.
func (s *service) adminToken() string {
	s.t.Helper()
	const first, chosen = "Kx7#mq2!zpW9", "Vt4$ne8@LqR2"
	s.command(first+"\n", "tenant", "create", "--code", "acme", "--name", "Acme 株式会社",
		"--admin-login", "admin", "--admin-name", "管理 太郎", "--password-stdin")
	var login, full struct {
		Token string `json:"token"`
		Stage string `json:"stage"`
	}
	s.call(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"tenant": "acme", "login": "admin",
		"password": first}, http.StatusOK, &login)
	s.call(http.MethodPost, "/api/v1/me/password", login.Token, map[string]string{"current_password": first,
		"new_password": chosen}, http.StatusOK, &full)
	if full.Stage != "full" {
		s.t.Fatalf("after the password change the session is %q", full.Stage)
	}
	return full.Token
}

// employee is the body of a new employee with the given number.
func employee(number string) map[string]any {
	return map[string]any{"employee_number": number, "family_name": "障害", "given_name": "試験",
		"family_name_kana": "ショウガイ", "given_name_kana": "シケン", "birth_date": "1988-02-03", "gender": "female",
		"hire_date": "2025-04-01", "employment_type": "regular"}
}

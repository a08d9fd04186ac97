package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/roumu/roumu/config"
)

// service is roumu running as a separate process on a schema of its own.
type service struct {
	binary  string
	dir     string // keyring, audit files and the server's log
	env     []string
	baseURL string
	cmd     *exec.Cmd
	logFile *os.File
	exited  chan error // receives the process's end once
	rss     *rssWatcher
}

// buildBinary builds ./cmd/roumu of the module at root into dir, as `make build` would (without stripping).
func buildBinary(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "roumu")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/roumu")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/roumu: %v\n%s", err, out)
	}
	return bin, nil
}

// freshSchema creates a schema named after the run and returns a DSN whose connections use it
// (search_path). drop removes it and everything in it.
func freshSchema(ctx context.Context, adminURL string) (dsn, schema string, drop func(context.Context) error, err error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", "", nil, fmt.Errorf("connecting to %s: %w", config.Database{DSN: adminURL}.RedactedDSN(), err)
	}
	defer func() { _ = conn.Close(ctx) }()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	schema = "load_" + hex.EncodeToString(b)
	// pg_trgm belongs to the database; created in the default schema it serves every schema's trigram index
	// (the migration finds it there), as in production. Where it cannot be had, search runs without it.
	_, _ = conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_trgm")
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", "", nil, fmt.Errorf("create schema: %w", err)
	}
	u, err := url.Parse(adminURL)
	if err != nil || u.Scheme == "" {
		return "", "", nil, errors.New("ROUMU_TEST_POSTGRES_URL must be a postgres:// URL")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop = func(ctx context.Context) error {
		c, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return err
		}
		defer func() { _ = c.Close(ctx) }()
		_, err = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		return err
	}
	return u.String(), schema, drop, nil
}

// freePort asks the kernel for a port nobody listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// newService prepares the configuration of a service on dsn; nothing runs yet.
func newService(binary, dir, dsn string, port int) *service {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	env := append(os.Environ(),
		"ROUMU_DATABASE_DRIVER=postgres",
		"ROUMU_DATABASE_DSN="+dsn,
		"ROUMU_SERVER_ADDR="+addr,
		"ROUMU_SERVER_PUBLIC_URL=http://localhost:"+strconv.Itoa(port),
		// The harness stands in for a reverse proxy: X-Forwarded-For from loopback names the client, so that
		// one machine can play many source addresses.
		"ROUMU_SERVER_TRUSTED_PROXIES=127.0.0.1/32",
		// The throughput phases measure the service, not its per-client limit (600 a minute): a handful of
		// workers share the HR sessions at hundreds of requests a second. The login limit per address stays
		// the default, as the storm is about it.
		"ROUMU_RATELIMIT_CLIENT_PER_MINUTE=1000000000",
		"ROUMU_SECURITY_KEYRING_FILE="+filepath.Join(dir, "keyring.json"),
		"ROUMU_SECURITY_AUDIT_CHECKPOINT_FILE="+filepath.Join(dir, "audit-checkpoints.jsonl"),
		"ROUMU_SECURITY_AUDIT_SIGNING_KEY_FILE="+filepath.Join(dir, "audit-signing.key"),
		"ROUMU_LOG_FORMAT=json",
		"ROUMU_LOG_LEVEL=info",
	)
	return &service{binary: binary, dir: dir, env: env, baseURL: "http://" + addr}
}

var createdID = regexp.MustCompile(`\(id ([^)]+)\)`)

// createTenant runs `roumu tenant create` and returns the tenant's ID.
func (s *service) createTenant(ctx context.Context, code, adminLogin, password string) (string, error) {
	cmd := exec.CommandContext(ctx, s.binary, "tenant", "create", "--code", code, "--name", "負荷試験 "+code,
		"--admin-login", adminLogin, "--admin-name", "管理者 "+code, "--password-stdin")
	cmd.Env = s.env
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("roumu tenant create %s: %v: %s", code, err, strings.TrimSpace(string(out)))
	}
	m := createdID.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("roumu tenant create %s: no id in %q", code, out)
	}
	return string(m[1]), nil
}

// start runs `roumu serve` and waits until it answers /readyz.
func (s *service) start(ctx context.Context) error {
	f, err := os.Create(filepath.Join(s.dir, "serve.log"))
	if err != nil {
		return err
	}
	s.logFile = f
	s.cmd = exec.Command(s.binary, "serve")
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = f, f
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("roumu serve: %w", err)
	}
	s.exited = make(chan error, 1)
	go func() { s.exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			s.cmd = nil
			return fmt.Errorf("roumu serve exited at start (%v); last log lines:\n%s", err, s.tail(20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(s.baseURL + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.rss = watchRSS(s.cmd.Process.Pid)
				return nil
			}
		}
	}
	return fmt.Errorf("roumu serve not ready after 60 s; last log lines:\n%s", s.tail(20))
}

// stop ends the service with SIGTERM (a graceful shutdown) and kills it if it lingers.
func (s *service) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	if s.rss != nil {
		s.rss.stop()
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	_ = s.logFile.Close()
}

// tail returns the last n lines of the server's log.
func (s *service) tail(n int) string {
	b, err := os.ReadFile(filepath.Join(s.dir, "serve.log"))
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// rssWatcher samples a process's resident set size every 100 ms and keeps the peak since the last reset;
// the kernel's own high-water mark (VmHWM) covers what falls between samples over the whole life.
type rssWatcher struct {
	pid  int
	mu   sync.Mutex
	peak int64
	done chan struct{}
	once sync.Once
}

func watchRSS(pid int) *rssWatcher {
	w := &rssWatcher{pid: pid, done: make(chan struct{})}
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
				if rss, _, err := procMemory(pid); err == nil {
					w.mu.Lock()
					w.peak = max(w.peak, rss)
					w.mu.Unlock()
				}
			}
		}
	}()
	return w
}

// resetPeak starts a new phase and returns the peak of the one before (KiB).
func (w *rssWatcher) resetPeak() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.peak
	w.peak, _, _ = procMemory(w.pid)
	return p
}

func (w *rssWatcher) stop() { w.once.Do(func() { close(w.done) }) }

// procMemory reads VmRSS and VmHWM (KiB) of a process from /proc.
func procMemory(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, name, err)
		}
		if name == "VmRSS" {
			rss = n
		} else {
			hwm = n
		}
	}
	return rss, hwm, sc.Err()
}

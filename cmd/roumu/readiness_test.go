package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/test/pgtest"
)

// cuttableProxy forwards TCP connections to a database and can cut them all and refuse new ones, as a
// database restart or a network partition would, then come back on the same address.
type cuttableProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newCuttableProxy(t *testing.T, target string) *cuttableProxy {
	p := &cuttableProxy{t: t, target: target, conns: map[net.Conn]bool{}}
	p.listen("127.0.0.1:0")
	p.addr = p.ln.Addr().String()
	t.Cleanup(p.cut)
	return p
}

func (p *cuttableProxy) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *cuttableProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

// cut closes the listener and every open connection.
func (p *cuttableProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *cuttableProxy) restore() { p.listen(p.addr) }

// TestReadinessFollowsTheDatabase: /readyz answers 503 while Postgres is unreachable and 200 again when it
// returns; after recovery every request succeeds (the pool drops the dead connections instead of failing
// requests on them), and the process never exits.
func TestReadinessFollowsTheDatabase(t *testing.T) {
	dsn := pgtest.SchemaDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCuttableProxy(t, u.Host)
	u.Host = proxy.addr
	t.Chdir(t.TempDir())
	t.Setenv("ROUMU_DATABASE_DRIVER", "postgres")
	t.Setenv("ROUMU_DATABASE_DSN", u.String())
	ctx := context.Background()
	if _, err := run(t, ctx, "Kx7#mq2!zpW9\n", "tenant", "create", "--code", "acme", "--name", "Acme 株式会社",
		"--admin-login", "admin", "--admin-name", "管理 太郎", "--password-stdin"); err != nil {
		t.Fatalf("tenant create: %v", err)
	}
	addr := freeAddr(t)
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { _, err := run(t, serveCtx, "", "serve", "--addr", addr); serveErr <- err }()
	base := "http://" + addr
	waitHealthy(t, base, serveErr)

	status := func(path string) int {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// waitFor polls until /readyz answers want; the bound only keeps a broken build from hanging.
	waitFor := func(want int) {
		t.Helper()
		for range 300 {
			if status("/readyz") == want {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("/readyz never answered %d", want)
	}
	login := func() int {
		resp, err := http.Post(base+"/api/v1/auth/login", "application/json",
			strings.NewReader(`{"tenant":"acme","login":"admin","password":"Kx7#mq2!zpW9"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(http.StatusOK)
	if got := login(); got != http.StatusOK {
		t.Fatalf("login before the outage: %d", got)
	}

	proxy.cut()
	waitFor(http.StatusServiceUnavailable)
	if got := login(); got != http.StatusServiceUnavailable {
		t.Fatalf("login during the outage answered %d, want 503", got)
	}
	if got := status("/healthz"); got != http.StatusOK {
		t.Fatalf("/healthz during the outage: %d (the process is alive)", got)
	}

	proxy.restore()
	waitFor(http.StatusOK)
	for i := range 5 { // all within the login rate limit of one address (10 a minute)
		if got := login(); got != http.StatusOK {
			t.Fatalf("login %d after recovery: %d", i, got)
		}
	}
	stop()
	if err := <-serveErr; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("serve: %v", err)
	}
}

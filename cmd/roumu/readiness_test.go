package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/test/pgtest"
)

// TestReadinessFollowsTheDatabase: /readyz answers 503 while Postgres is unreachable and 200 again when it
// returns; after recovery every request succeeds (the pool drops the dead connections instead of failing
// requests on them), and the process never exits.
func TestReadinessFollowsTheDatabase(t *testing.T) {
	dsn, proxy := pgtest.ProxiedSchemaDSN(t)
	t.Chdir(t.TempDir())
	t.Setenv("ROUMU_DATABASE_DRIVER", "postgres")
	t.Setenv("ROUMU_DATABASE_DSN", dsn)
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

	proxy.Cut()
	waitFor(http.StatusServiceUnavailable)
	if got := login(); got != http.StatusServiceUnavailable {
		t.Fatalf("login during the outage answered %d, want 503", got)
	}
	if got := status("/healthz"); got != http.StatusOK {
		t.Fatalf("/healthz during the outage: %d (the process is alive)", got)
	}

	proxy.Restore()
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

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roumu/roumu/adapters/webauthn"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds a whole browser test, start-up included, so that a hung browser fails the test
// instead of the package.
const browserTimeout = 90 * time.Second

// newChromium starts a fresh headless Chromium with its own profile and returns the context of its first tab;
// the browser ends with the test. Without Chromium the test is skipped, except in CI, where it fails.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required in CI: %v", err)
		}
		t.Skipf("chromium not installed: %v", err)
	}
	profile := t.TempDir()
	timeout, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(timeout,
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(profile),
	)
	tab, cancelTab := chromedp.NewContext(alloc)
	// Registered after t.TempDir, so it runs before the profile is removed: cancelling the allocator waits
	// for the browser process to exit.
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelTimeout()
	})
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return tab
}

// serveLoopback serves env on a real loopback listener and returns its public URL, http://localhost:PORT: the
// browser must use the same host as server.public_url for cookies and WebAuthn. The environment's WebAuthn
// relying party, made for testenv.PublicURL, is replaced by one for this URL, since the browser sends its
// origin with every ceremony.
func serveLoopback(t *testing.T, env *testenv.Env) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	rp, err := webauthn.New(webauthn.Config{RPDisplayName: "Roumu", PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	env.Accounts.WebAuthn = rp
	srv := newServer(t, env, publicURL)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeListener(ctx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serving: %v", err)
		}
	})
	return publicURL
}

// browserEnv is a fresh environment for a browser test. Its fake clock is set to the wall clock's time, because
// the browser drops cookies whose expiry (taken from the fake clock) lies in its past.
func browserEnv(t *testing.T) *testenv.Env {
	t.Helper()
	env := testenv.New(t)
	env.Clock.Set(time.Now())
	return env
}

// fillIn types values into the inputs with the given ids (id, value, id, value …) and submits their form.
func fillIn(fields ...string) chromedp.Action[chromedp.Void] {
	var steps []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		steps = append(steps, chromedp.SendKeys(chromedp.ID(fields[i]), fields[i+1]))
	}
	return chromedp.Steps(append(steps, chromedp.Submit(chromedp.ID(fields[len(fields)-2])))...)
}

// browse runs the steps in the tab and fails the test at the first error.
func browse(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab, steps...); err != nil {
		t.Fatalf("browsing: %v", err)
	}
}

// read runs one action that returns a value in the tab.
func read[T any](t *testing.T, tab context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(tab, a)
	if err != nil {
		t.Fatalf("browsing: %v", err)
	}
	return v
}

// screenshot saves the page as a PNG in a temporary directory and checks that it is one.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".png")
	if err := os.WriteFile(path, read(t, tab, chromedp.CaptureScreenshot()), 0o600); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(saved))
	if err != nil || cfg.Width == 0 || cfg.Height == 0 {
		t.Fatalf("screenshot %s (%d bytes) is not a PNG: %v %+v", path, len(saved), err, cfg)
	}
}

// TestChromiumLoginWithForcedPasswordChange logs a new member in through the real pages in headless
// Chromium: the login form, the forced first password change, and the dashboard with the member's name.
func TestChromiumLoginWithForcedPasswordChange(t *testing.T) {
	t.Parallel()
	env := browserEnv(t)
	_, admin := env.Tenant(t, "acme")
	if _, _, err := env.Accounts.CreateAccount(t.Context(), admin, ports.CreateAccountCommand{
		Login: "tanaka", Name: "田中 花子", Roles: []string{ports.RoleEmployee}, Password: testenv.Password}); err != nil {
		t.Fatal(err)
	}
	base := serveLoopback(t, env)
	tab := newChromium(t)

	browse(t, tab,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("tenant")),
		fillIn("tenant", "acme", "login", "tanaka", "password", testenv.Password),
		chromedp.WaitVisible(chromedp.ID("new_password_confirm")),
		fillIn("current_password", testenv.Password, "new_password", testenv.NewPassword,
			"new_password_confirm", testenv.NewPassword),
		chromedp.WaitVisible(chromedp.CSS(`div.notice[role="status"]`)),
		chromedp.Click(chromedp.CSS(`nav a[href="/"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.ID("who-heading")),
	)
	name := read(t, tab, chromedp.Text(chromedp.CSS("dl.facts dd")))
	location := read(t, tab, chromedp.Location())
	if strings.TrimSpace(name) != "田中 花子" || location != base+"/" {
		t.Fatalf("dashboard at %s shows %q", location, name)
	}
	screenshot(t, tab, "dashboard")
}

package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/test/testenv"
)

// TestParallelFailuresLockTheAccount fires the five failures that lock an identifier at the same moment,
// round after round: a lost update in the failure counter would leave the identifier open.
func TestParallelFailuresLockTheAccount(t *testing.T) {
	t.Parallel()
	const rounds, failures = 30, 5
	a := startApp(t)
	a.tenant("acme")
	wrong := []byte(loginBody(t, "acme", "admin", "Wrong-password-1"))

	for round := range rounds {
		statuses := make([]int, failures)
		errs := make([]error, failures)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range failures {
			wg.Go(func() {
				<-start
				statuses[i], errs[i] = postJSON(a, "/api/v1/auth/login", wrong)
			})
		}
		close(start)
		wg.Wait()

		counts := map[int]int{}
		for i, st := range statuses {
			if errs[i] != nil {
				t.Fatalf("round %d: %v", round, errs[i])
			}
			counts[st]++
		}
		// Exactly the failure that reached the threshold is told about the lock; the others before it are not.
		if counts[http.StatusUnauthorized] != failures-1 || counts[http.StatusLocked] != 1 {
			t.Fatalf("round %d: statuses %v, want %d × 401 and one 423", round, statuses, failures-1)
		}
		wantLocked(t, a.tryLogin("acme", "admin", testenv.NewPassword), 30*time.Minute)
		a.env.Clock.Advance(31 * time.Minute)
	}
	a.login("acme", "admin", testenv.NewPassword, "full")
}

// postJSON posts body from any goroutine (app's helpers call t.Fatal, which only the test goroutine may).
func postJSON(a *app, path string, body []byte) (int, error) {
	res, err := a.client.Post(a.base+path, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode >= 400 && ct != "application/problem+json; charset=utf-8" {
		return 0, fmt.Errorf("status %d with content type %q", res.StatusCode, ct)
	}
	return res.StatusCode, nil
}

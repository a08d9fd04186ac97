package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/roumu/roumu/ports"
)

// TestUnreplayedRoutesExist: every route that ignores Idempotency-Key names a POST route that exists, so a
// renamed route cannot silently start keeping answers that show a secret.
func TestUnreplayedRoutesExist(t *testing.T) {
	t.Parallel()
	s, err := New(Config{}, Deps{Accounts: struct{ ports.Accounts }{}, MFA: struct{ ports.MFA }{},
		APITokens: struct{ ports.APITokens }{}, Employees: struct{ ports.Employees }{},
		Procedures: struct{ ports.Procedures }{}, Webhooks: struct{ ports.Webhooks }{},
		Notices: struct{ ports.Notices }{}, Operations: struct{ ports.Operations }{},
		AuditSearch: struct{ ports.AuditSearch }{}})
	if err != nil {
		t.Fatal(err)
	}
	posts := map[string]bool{}
	for _, r := range s.e.Routes() {
		if r.Method == http.MethodPost {
			posts[r.Path] = true
		}
	}
	for route := range unreplayedRoutes {
		if !posts[route] {
			t.Errorf("%s is no POST route", route)
		}
	}
	for _, prefix := range unreplayedPrefixes {
		found := false
		for route := range posts {
			found = found || strings.HasPrefix(route, prefix)
		}
		if !found {
			t.Errorf("no POST route starts with %s", prefix)
		}
	}
}

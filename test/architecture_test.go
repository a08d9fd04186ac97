// Package test holds the end-to-end tests of the whole service: the architecture fitness function, HTTP tests
// of the wired modules on the memory adapters, and browser tests in headless Chromium.
package test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/roumu/roumu"

// isStandard tells standard-library packages: their first path element has no dot.
func isStandard(pkg string) bool {
	first, _, _ := strings.Cut(pkg, "/")
	return !strings.Contains(first, ".")
}

func under(pkg, prefix string) bool { return pkg == prefix || strings.HasPrefix(pkg, prefix+"/") }

// moduleName returns the module folder a package belongs to, e.g. domain/accounts or adapters/sqlstore.
func moduleName(pkg string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	parts := strings.SplitN(rel, "/", 3)
	if len(parts) >= 2 && (parts[0] == "domain" || parts[0] == "adapters") {
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

// TestDependencyRule enforces ../shared/ARCHITECTURE.md on the transitive (non-test) dependencies of every
// package: adapters → ports ← domain, and only cmd/roumu sees everything.
func TestDependencyRule(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Deps ","}}`, module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, "|")
		self := moduleName(pkg)
		for _, dep := range strings.Split(deps, ",") {
			if dep == "" || isStandard(dep) {
				continue
			}
			if msg := violation(pkg, self, dep); msg != "" {
				t.Errorf("%s depends on %s: %s", pkg, dep, msg)
			}
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("only %d packages checked; go list output:\n%s", checked, out)
	}
}

// violation says why pkg (in module folder self) may not depend on dep, or "" when it may.
func violation(pkg, self, dep string) string {
	own := under(dep, module)
	switch {
	case self == "ports":
		if pkg == module+"/ports/porttest" && dep == module+"/ports" {
			return ""
		}
		return "ports holds contracts in standard-library types only"
	case strings.HasPrefix(self, "domain/"):
		switch {
		case dep == module+"/ports", under(dep, module+"/domain/kernel"), own && moduleName(dep) == self:
			return ""
		case under(dep, "golang.org/x/text"):
			return "" // Unicode normalisation (NFKC, case folding) is part of the identity rules
		case own && strings.HasPrefix(moduleName(dep), "domain/"):
			return "a domain module never reaches into another module"
		default:
			return "the domain imports only ports, the shared kernel and the standard library"
		}
	case strings.HasPrefix(self, "adapters/"):
		switch {
		case !own, dep == module+"/ports", moduleName(dep) == self:
			return ""
		case under(dep, module+"/ports/porttest"):
			return "" // never in production code: porttest is imported only by tests, which go list -deps omits
		default:
			return "adapters import ports and their own libraries, never the domain or each other"
		}
	case self == "config":
		if own {
			return "config is plain settings and imports nothing of ours"
		}
	}
	return ""
}

// TestDependencyRuleCatchesViolations proves the fitness function rejects what it must, so it cannot pass by
// accident.
func TestDependencyRuleCatchesViolations(t *testing.T) {
	t.Parallel()
	m := module + "/"
	cases := []struct {
		pkg, dep string
		allowed  bool
	}{
		{m + "domain/accounts", m + "ports", true},
		{m + "domain/accounts", m + "domain/kernel", true},
		{m + "domain/accounts", "golang.org/x/text/unicode/norm", true},
		{m + "domain/accounts", "github.com/labstack/echo/v4", false},
		{m + "domain/accounts", "gorm.io/gorm", false},
		{m + "domain/accounts", "github.com/spf13/viper", false},
		{m + "domain/accounts", m + "adapters/memory", false},
		{m + "domain/procedures", m + "domain/accounts", false},
		{m + "adapters/http", m + "ports", true},
		{m + "adapters/http", "github.com/labstack/echo/v4", true},
		{m + "adapters/http", m + "domain/accounts", false},
		{m + "adapters/http", m + "adapters/sqlstore", false},
		{m + "ports", "gorm.io/gorm", false},
		{m + "ports", m + "domain/kernel", false},
		{m + "config", m + "ports", false},
		{m + "cmd/roumu", m + "adapters/sqlstore", true},
	}
	for _, tc := range cases {
		if got := violation(tc.pkg, moduleName(tc.pkg), tc.dep) == ""; got != tc.allowed {
			t.Errorf("%s → %s allowed = %v, want %v", tc.pkg, tc.dep, got, tc.allowed)
		}
	}
}

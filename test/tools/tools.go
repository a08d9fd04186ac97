// Package tools finds the external programs tests check the service against (poppler's pdftotext, oathtool
// …): without one a test skips, except under CI=true, where a missing program is a failure.
package tools

import (
	"os"
	"os/exec"
	"testing"
)

// Path returns the path of the program name, skipping t when it is missing, or failing it under CI=true;
// hint says how to install it (e.g. "install poppler-utils").
func Path(t testing.TB, name, hint string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (%s)", name, hint)
		}
		t.Skipf("%s is missing (%s)", name, hint)
	}
	return path
}

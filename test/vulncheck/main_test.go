package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOnlyCalledFindingsCount(t *testing.T) {
	t.Parallel()
	stream := `{"config":{"protocol_version":"v1.0.0"}}
{"finding":{"osv":"GO-1","trace":[{"module":"stdlib","version":"v1.26.8"}]}}
{"finding":{"osv":"GO-2","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http"}]}}
{"finding":{"osv":"GO-3","trace":[{"module":"example.com/m","version":"v1.0.0","package":"example.com/m","function":"F"},{"function":"main"}]}}`
	got, err := calledAdvisories(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"GO-3": "example.com/m@v1.0.0"}; !maps.Equal(got, want) {
		t.Errorf("called = %v, want %v", got, want)
	}
	if _, err := calledAdvisories(strings.NewReader(`{"finding":`)); err == nil {
		t.Error("a cut stream was read without an error")
	}
}

func TestAcceptedNeedsAReason(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.txt")
	if err := os.WriteFile(good, []byte("# comment\n\nGO-1 we never call it\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := readAccepted(good); err != nil || got["GO-1"] != "we never call it" || len(got) != 1 {
		t.Errorf("readAccepted = %v, %v", got, err)
	}
	bare := filepath.Join(dir, "bare.txt")
	if err := os.WriteFile(bare, []byte("GO-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readAccepted(bare); err == nil {
		t.Error("an advisory without a reason was accepted")
	}
}

func TestTheAcceptedListReads(t *testing.T) {
	t.Parallel()
	if _, err := readAccepted("accepted.txt"); err != nil {
		t.Fatal(err)
	}
}

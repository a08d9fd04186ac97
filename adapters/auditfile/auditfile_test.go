package auditfile_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/auditfile"
	"github.com/roumu/roumu/ports"
)

var ctx = context.Background()

func open(t *testing.T, dir string) *auditfile.Checkpoints {
	t.Helper()
	c, err := auditfile.Open(filepath.Join(dir, "checkpoints.jsonl"), filepath.Join(dir, "keys", "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAppendAndReadBack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := open(t, dir)
	at := time.Date(2026, 11, 25, 1, 2, 3, 4000, time.UTC)
	for i := int64(1); i <= 3; i++ {
		if err := c.AppendCheckpoint(ctx, ports.AuditCheckpoint{Seq: i * 10, Hash: strings.Repeat("ab", 32), At: at}); err != nil {
			t.Fatal(err)
		}
	}
	// A second process opening the same files sees the same key and the same checkpoints.
	got, err := open(t, dir).Checkpoints(ctx)
	if err != nil || len(got) != 3 || got[2].Seq != 30 || !got[0].At.Equal(at) || got[0].KeyID == "" {
		t.Fatalf("Checkpoints = %+v, %v", got, err)
	}
	for _, name := range []string{"checkpoints.jsonl", "keys/audit.key"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v, want mode 0600", name, fi.Mode(), err)
		}
	}
}

func TestTamperedLinesAreNamed(t *testing.T) {
	t.Parallel()
	cases := map[string]func(string) string{
		"hash changed":      func(s string) string { return strings.Replace(s, `"hash":"ab`, `"hash":"cd`, 1) },
		"seq changed":       func(s string) string { return strings.Replace(s, `"seq":2`, `"seq":3`, 1) },
		"garbage inserted":  func(s string) string { return "not json\n" + s },
		"signature removed": func(s string) string { return strings.Replace(s, `"sig":"`, `"sig":"AA`, 1) },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			c := open(t, dir)
			for i := int64(1); i <= 2; i++ {
				if err := c.AppendCheckpoint(ctx, ports.AuditCheckpoint{Seq: i, Hash: strings.Repeat("ab", 32), At: time.Now()}); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, "checkpoints.jsonl")
			b, _ := os.ReadFile(path)
			if err := os.WriteFile(path, []byte(edit(string(b))), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Checkpoints(ctx); err == nil || !strings.Contains(err.Error(), "line ") {
				t.Fatalf("Checkpoints after %s = %v, want an error naming the line", name, err)
			}
		})
	}
}

// TestTornLastLine: a crash mid-append leaves half a line; it is ignored, and the next append cuts it.
func TestTornLastLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := open(t, dir)
	if err := c.AppendCheckpoint(ctx, ports.AuditCheckpoint{Seq: 1, Hash: "h1", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "checkpoints.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"seq":2,"ha`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, err := c.Checkpoints(ctx); err != nil || len(got) != 1 {
		t.Fatalf("after a torn write: %+v, %v", got, err)
	}
	if err := c.AppendCheckpoint(ctx, ports.AuditCheckpoint{Seq: 2, Hash: "h2", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Checkpoints(ctx); err != nil || len(got) != 2 || got[1].Hash != "h2" {
		t.Fatalf("after the next append: %+v, %v", got, err)
	}
}

func TestBadKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := filepath.Join(dir, "audit.key")
	if err := os.WriteFile(key, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := auditfile.Open(filepath.Join(dir, "c.jsonl"), key); err == nil || strings.Contains(err.Error(), "not a key") {
		t.Fatalf("Open with a bad key = %v, want an error that does not echo the file", err)
	}
}

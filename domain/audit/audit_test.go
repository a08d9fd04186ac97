package audit_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/roumu/roumu/adapters/auditfile"
	"github.com/roumu/roumu/adapters/memory"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

var ctx = context.Background()

// tamperable wraps a store so a test can change what ListAudit returns, as an attacker with database access would.
type tamperable struct {
	ports.AuditStore
	edit func([]ports.AuditRecord) []ports.AuditRecord
}

func (s tamperable) ListAudit(ctx context.Context, f ports.AuditFilter) ([]ports.AuditRecord, error) {
	recs, err := s.AuditStore.ListAudit(ctx, f)
	return s.edit(recs), err
}

func filled(t *testing.T, n int) *memory.Store {
	store := memory.New()
	log := audit.New(store, kernel.NewFakeClock(testenv.Start))
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := log.Record(context.Background(), ports.AuditEvent{Action: "test.event", Target: fmt.Sprint("x:", i),
				UserAgent: "evil\r\nforged: entry\x00", Detail: map[string]string{"k\n": "v\x1b[31m"}})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	return store
}

func TestChainVerifiesAndSanitises(t *testing.T) {
	t.Parallel()
	store := filled(t, 30)
	n, err := audit.Verify(context.Background(), store, nil)
	if err != nil || n != 30 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	recs, _ := store.ListAudit(context.Background(), ports.AuditFilter{Limit: 1})
	if ua := recs[0].Event.UserAgent; ua != "evil\uFFFD\uFFFDforged: entry\uFFFD" {
		t.Fatalf("control characters kept: %q", ua)
	}
	if _, ok := recs[0].Event.Detail["k\uFFFD"]; !ok {
		t.Fatalf("detail keys not sanitised: %q", recs[0].Event.Detail)
	}
}

func TestVerifyNamesTheFirstBrokenEntry(t *testing.T) {
	t.Parallel()
	store := filled(t, 10)
	cases := map[string]func([]ports.AuditRecord) []ports.AuditRecord{
		"content changed": func(r []ports.AuditRecord) []ports.AuditRecord { r[4].Event.Outcome = "failure"; return r },
		"entry deleted":   func(r []ports.AuditRecord) []ports.AuditRecord { return append(r[:4], r[5:]...) },
		"hash rewritten": func(r []ports.AuditRecord) []ports.AuditRecord {
			r[4].Event.Target = "x:forged"
			r[4].Hash = audit.Hash(r[4])
			return r
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := audit.Verify(context.Background(), tamperable{store, edit}, nil)
			var broken *audit.BrokenError
			if !errors.As(err, &broken) || broken.Seq != 5 && !(name == "hash rewritten" && broken.Seq == 6) {
				t.Fatalf("Verify = %v, want entry 5 named (6 when the hash was rewritten)", err)
			}
		})
	}
}

// TestCheckpointsCatchARewrittenChain: an attacker with database access rewrites entry 5 and recomputes every
// hash after it, or drops the newest entries; the chain alone verifies, the signed checkpoints do not.
func TestCheckpointsCatchARewrittenChain(t *testing.T) {
	t.Parallel()
	store := filled(t, 10)
	dir := t.TempDir()
	cps, err := auditfile.Open(filepath.Join(dir, "checkpoints.jsonl"), filepath.Join(dir, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	cp := audit.NewCheckpointer(store, cps, kernel.NewFakeClock(testenv.Start))
	if n, err := cp.Checkpoint(ctx); err != nil || n != 10 {
		t.Fatalf("first checkpoint covers %d entries, %v", n, err)
	}
	if n, err := cp.Checkpoint(ctx); err != nil || n != 0 {
		t.Fatalf("a checkpoint without new entries: %d, %v", n, err)
	}
	if n, err := audit.Verify(ctx, store, cps); err != nil || n != 10 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	rewrite := func(r []ports.AuditRecord) []ports.AuditRecord {
		for i := 4; i < len(r); i++ {
			if i == 4 {
				r[i].Event.Outcome = "failure"
			}
			if i > 0 {
				r[i].PrevHash = r[i-1].Hash
			}
			r[i].Hash = audit.Hash(r[i])
		}
		return r
	}
	truncate := func(r []ports.AuditRecord) []ports.AuditRecord { return r[:7] }
	for name, tc := range map[string]struct {
		edit func([]ports.AuditRecord) []ports.AuditRecord
		seq  int64
	}{"rewritten from entry 5": {rewrite, 10}, "newest entries dropped": {truncate, 8}} {
		if _, err := audit.Verify(ctx, tamperable{store, tc.edit}, nil); err != nil {
			t.Fatalf("%s: the chain alone should still verify: %v", name, err)
		}
		_, err := audit.Verify(ctx, tamperable{store, tc.edit}, cps)
		var broken *audit.BrokenError
		if !errors.As(err, &broken) || broken.Seq != tc.seq {
			t.Fatalf("%s: Verify with checkpoints = %v, want entry %d named", name, err, tc.seq)
		}
	}
}

package audit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/roumu/roumu/adapters/memory"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

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
	n, err := audit.Verify(context.Background(), store)
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
			_, err := audit.Verify(context.Background(), tamperable{store, edit})
			var broken *audit.BrokenError
			if !errors.As(err, &broken) || broken.Seq != 5 && !(name == "hash rewritten" && broken.Seq == 6) {
				t.Fatalf("Verify = %v, want entry 5 named (6 when the hash was rewritten)", err)
			}
		})
	}
}

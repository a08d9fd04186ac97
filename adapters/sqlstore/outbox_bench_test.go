package sqlstore_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// BenchmarkPendingEventsFor: a consumer's poll of an outbox of 100,000 events it has consumed, with 10
// new ones, with and without a type filter (p50 and p99 of many polls).
//
//	ROUMU_TEST_POSTGRES_URL=… go test -run '^$' -bench PendingEventsFor -benchtime 1x ./adapters/sqlstore/
func BenchmarkPendingEventsFor(b *testing.B) {
	const events, fresh, polls = 100_000, 10, 200
	types := []string{"employee.hired", "employee.separated", "dependent.added", "dependent.removed", "employee.changed"}
	for _, d := range dialects() {
		b.Run(d.name, func(b *testing.B) {
			s := open(b, d.name, d.dsn(b))
			ctx := b.Context()
			if _, err := s.PendingEventsFor(ctx, "procedures", nil, 1); err != nil { // subscribes
				b.Fatal(err)
			}
			batch := make([]ports.OutboxEvent, 0, 1000)
			for i := range events {
				typ := "employee.changed"
				if i%5 == 0 {
					typ = types[i%4]
				}
				batch = append(batch, ports.OutboxEvent{ID: fmt.Sprintf("ev-%07d", i), TenantID: "t", Type: typ,
					SubjectID: "e", Payload: []byte(`{}`), OccurredAt: t0.Add(time.Duration(i) * time.Millisecond)})
				if len(batch) == cap(batch) {
					must(b, s.AppendEvents(ctx, batch...))
					batch = batch[:0]
				}
			}
			must(b, s.Exec(ctx, "UPDATE outbox_deliveries SET consumed_at = occurred_at"))
			for i := range fresh {
				must(b, s.AppendEvents(ctx, ports.OutboxEvent{ID: fmt.Sprintf("new-%d", i), TenantID: "t", Type: "employee.hired",
					SubjectID: "e", Payload: []byte(`{}`), OccurredAt: t0.Add(time.Hour * 24)}))
			}
			if d.name == "sqlite" {
				must(b, s.Exec(ctx, "ANALYZE"))
			} else {
				must(b, s.Exec(ctx, "ANALYZE outbox_events; ANALYZE outbox_deliveries"))
			}
			for _, c := range []struct {
				name  string
				types []string
			}{{"all types", nil}, {"five types", types}} {
				took := make([]time.Duration, polls)
				for i := range polls {
					start := time.Now()
					got, err := s.PendingEventsFor(ctx, "procedures", c.types, 100)
					took[i] = time.Since(start)
					if err != nil || len(got) != fresh {
						b.Fatalf("PendingEventsFor = %d, %v", len(got), err)
					}
				}
				slices.Sort(took)
				b.Logf("%s, %s: p50 %v, p99 %v", d.name, c.name, took[polls/2], took[polls*99/100])
			}
		})
	}
}

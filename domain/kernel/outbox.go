package kernel

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/roumu/roumu/ports"
)

// consumeBatch is how many events one round of ConsumeOutbox reads.
const consumeBatch = 100

// ConsumeOutbox hands handle every event of types (all when none) that consumer has not consumed yet, oldest
// first, batch by batch until none is left, and returns how many handle reported handled. An error stops the
// round, naming the consumer and the event; the event that failed stays pending for the next round.
func ConsumeOutbox(ctx context.Context, outbox ports.Outbox, consumer string, types []string,
	handle func(context.Context, ports.OutboxEvent) (bool, error)) (int, error) {
	n := 0
	for {
		evs, err := outbox.PendingEventsFor(ctx, consumer, types, consumeBatch)
		if err != nil {
			return n, err
		}
		for _, ev := range evs {
			handled, err := handle(ctx, ev)
			if err != nil {
				return n, fmt.Errorf("%s: event %s (%s): %w", consumer, ev.ID, ev.Type, err)
			}
			if handled {
				n++
			}
		}
		if len(evs) < consumeBatch {
			return n, nil
		}
	}
}

// errAlreadyConsumed rolls back the handling of an event another handler consumed first.
var errAlreadyConsumed = errors.New("event consumed already")

// ConsumeOnce runs fn in one transaction that first records, at at, that consumer has consumed the event, so
// that a crash leaves the event either wholly handled or still pending, and two instances racing on it handle
// it once. It reports false, without running fn, when consumer had consumed the event already.
func ConsumeOnce(ctx context.Context, tx ports.Transactor, outbox ports.Outbox, consumer, eventID string,
	at time.Time, fn func(ctx context.Context) error) (bool, error) {
	err := tx.InTx(ctx, func(ctx context.Context) error {
		if err := outbox.MarkConsumed(ctx, consumer, eventID, at); err != nil {
			if errors.Is(err, ports.ErrConflict) {
				return errAlreadyConsumed
			}
			return err
		}
		return fn(ctx)
	})
	if errors.Is(err, errAlreadyConsumed) {
		return false, nil
	}
	return err == nil, err
}

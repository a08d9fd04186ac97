package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// consumeBatch is how many events one round of ConsumeEvents reads.
const consumeBatch = 100

// ConsumeEvents implements ports.Webhooks: it queues deliveries for every subscribable event the module has
// not consumed yet, oldest first, until none is left. Each event is handled in one transaction that also
// records its consumption, so a crash leaves it either wholly queued or still pending, and two instances
// racing on it queue it once (the loser's transaction rolls back); the store's unique (subscription, event)
// key is a second guard. An error stops the round; the event that failed stays pending for the next one.
func (s *Service) ConsumeEvents(ctx context.Context) (int, error) {
	n := 0
	for {
		evs, err := s.Outbox.PendingEventsFor(ctx, Consumer, subscribable, consumeBatch)
		if err != nil {
			return n, err
		}
		for _, ev := range evs {
			handled, err := s.HandleEvent(ctx, ev)
			if err != nil {
				return n, fmt.Errorf("webhooks: event %s (%s): %w", ev.ID, ev.Type, err)
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
var errAlreadyConsumed = errors.New("webhooks: event consumed already")

// HandleEvent queues one outbox event for the tenant's active subscriptions that name its type and existed
// when it occurred, exactly once: it reports false when the module had consumed the event already. An event marked with
// ports.OutboxSkipWebhooks is consumed and queued for no one. A dispatcher that pushes events may call it
// directly, as often as it likes.
func (s *Service) HandleEvent(ctx context.Context, ev ports.OutboxEvent) (bool, error) {
	var marker struct {
		Skip bool `json:"skip_webhooks"`
	}
	_ = json.Unmarshal(ev.Payload, &marker) // an unreadable payload is delivered as an empty object
	now := s.Clock.Now()
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Outbox.MarkConsumed(ctx, Consumer, ev.ID, now); err != nil {
			if errors.Is(err, ports.ErrConflict) {
				return errAlreadyConsumed
			}
			return err
		}
		if marker.Skip {
			return nil
		}
		subs, err := s.Store.ActiveSubscriptionsFor(ctx, ev.TenantID, ev.Type)
		if err != nil || len(subs) == 0 {
			return err
		}
		ds := make([]ports.WebhookDeliveryRecord, 0, len(subs))
		for _, sub := range subs {
			if !sub.CreatedAt.After(ev.OccurredAt) { // a new subscription gets no backlog of older events
				ds = append(ds, newDelivery(sub, ev, now))
			}
		}
		_, err = s.Store.AddDeliveries(ctx, ds...)
		return err
	})
	if errors.Is(err, errAlreadyConsumed) {
		return false, nil
	}
	return err == nil, err
}

// envelope is the body of every delivery.
type envelope struct {
	ID         string                     `json:"id"`
	Type       string                     `json:"type"`
	TenantID   string                     `json:"tenant_id"`
	OccurredAt time.Time                  `json:"occurred_at"`
	Data       map[string]json.RawMessage `json:"data"`
}

// newDelivery queues ev for sub, due at once. The body is fixed now, so every attempt sends the same bytes.
func newDelivery(sub ports.WebhookSubscriptionRecord, ev ports.OutboxEvent, now time.Time) ports.WebhookDeliveryRecord {
	env := envelope{ID: ev.ID, Type: ev.Type, TenantID: ev.TenantID, OccurredAt: ev.OccurredAt.UTC()}
	if json.Unmarshal(ev.Payload, &env.Data) != nil || env.Data == nil {
		env.Data = map[string]json.RawMessage{}
	}
	delete(env.Data, ports.OutboxSkipWebhooks)
	body, err := json.Marshal(env)
	if err != nil {
		panic("webhooks: an envelope of valid JSON values cannot fail to encode: " + err.Error())
	}
	return ports.WebhookDeliveryRecord{ID: kernel.NewID(), TenantID: sub.TenantID, SubscriptionID: sub.ID,
		EventID: ev.ID, EventType: ev.Type, Body: body, Status: ports.DeliveryPending, NextAttemptAt: now,
		CreatedAt: now}
}

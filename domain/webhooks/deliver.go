package webhooks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

const (
	// claimBatch is how many deliveries one claim leases.
	claimBatch = 50
	// leaseFor is how long a claimed delivery belongs to its sender: far longer than a send may take (the
	// sender gives up after 10 seconds), short enough that a crashed instance's deliveries go out again soon.
	leaseFor = 2 * time.Minute
	// errorMaxLen bounds the error kept on a delivery, in bytes.
	errorMaxLen = 300
)

// ProcessDue implements ports.Webhooks: it claims the deliveries that are due, a batch at a time, and sends
// each batch with at most Concurrency requests in flight, until no more are due. A claimed delivery is leased
// to this call, so other instances running ProcessDue at the same time send others; when an instance dies
// mid-send, its lease runs out and the delivery is sent again (receivers dedupe on Roumu-Event-Id).
func (s *Service) ProcessDue(ctx context.Context) (int, error) {
	n := 0
	for {
		now := s.Clock.Now()
		claimed, err := s.Store.ClaimDueDeliveries(ctx, ports.WebhookClaim{Now: now, Limit: claimBatch,
			LeaseID: kernel.NewID(), LeaseUntil: now.Add(leaseFor)})
		if err != nil {
			return n, err
		}
		var mu sync.Mutex
		var errs []error
		var wg sync.WaitGroup
		slots := make(chan struct{}, s.Concurrency)
		for _, d := range claimed {
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				attempted, err := s.attempt(ctx, d)
				mu.Lock()
				defer mu.Unlock()
				if attempted {
					n++
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("webhooks: delivery %s: %w", d.ID, err))
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return n, err
		}
		if len(claimed) < claimBatch {
			return n, nil
		}
	}
}

// errLeaseLost abandons the outcome of an attempt whose lease another claim has taken over.
var errLeaseLost = errors.New("webhooks: lease lost")

// attempt sends one leased delivery and records the outcome; it reports whether a request was made. A
// delivery of a subscription paused since the claim is handed back untouched.
func (s *Service) attempt(ctx context.Context, d ports.WebhookDeliveryRecord) (bool, error) {
	sub, err := s.Store.SubscriptionByID(ctx, d.TenantID, d.SubscriptionID)
	if errors.Is(err, ports.ErrNotFound) {
		return false, nil // deleted since the claim, with its deliveries
	}
	if err != nil {
		return false, err
	}
	if sub.Status != ports.WebhookActive {
		return false, s.settle(ctx, d, func(r *ports.WebhookDeliveryRecord) {})
	}
	secrets, err := s.secrets(ctx, sub)
	if err != nil {
		return false, err // the lease runs out and the delivery is tried again
	}
	req := ports.WebhookRequest{URL: sub.URL, Body: d.Body, Headers: map[string]string{
		"Content-Type":   "application/json",
		HeaderEventID:    d.EventID,
		HeaderEventType:  d.EventType,
		HeaderDeliveryID: d.ID,
		HeaderSignature:  signatureHeader(secrets, s.Clock.Now(), d.Body),
	}}
	status, sendErr := s.Sender.Send(ctx, req)
	if ctx.Err() != nil {
		return true, ctx.Err() // shutting down: not the receiver's fault; the lease runs out and it goes again
	}
	now := s.Clock.Now()
	var pauseReason, answer string
	outcome := func(r *ports.WebhookDeliveryRecord) {
		r.Attempts++
		r.LastAttemptAt, r.LastStatusCode, r.LastError = now, status, ""
		switch {
		case sendErr != nil:
			r.LastStatusCode = 0
			r.LastError = truncate(sendErr.Error(), errorMaxLen)
			answer = "no answer: " + r.LastError
		default:
			answer = "HTTP " + strconv.Itoa(status)
		}
		switch {
		case sendErr == nil && status >= 200 && status < 300:
			r.Status, r.CompletedAt = ports.DeliverySucceeded, now
		case sendErr == nil && status == 410:
			r.Status, r.CompletedAt, pauseReason = ports.DeliveryFailed, now, ports.WebhookPausedGone
		default:
			next, retry := s.Retry.Next(r.Attempts, r.CreatedAt, now, s.Rand())
			if retry {
				r.NextAttemptAt = next
			} else {
				r.Status, r.CompletedAt, pauseReason = ports.DeliveryFailed, now, ports.WebhookPausedRetriesExhausted
			}
		}
	}
	return true, s.settle(ctx, d, outcome, func(ctx context.Context) error {
		if pauseReason == "" {
			return nil
		}
		return s.pauseFailing(ctx, d, pauseReason, answer)
	})
}

// settle applies outcome to a leased delivery and releases the lease, in one transaction with then (when
// given). An outcome for a lease another claim has taken over is dropped.
func (s *Service) settle(ctx context.Context, d ports.WebhookDeliveryRecord, outcome func(*ports.WebhookDeliveryRecord),
	then ...func(context.Context) error) error {
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		_, err := s.Store.UpdateDelivery(ctx, d.TenantID, d.ID, func(r *ports.WebhookDeliveryRecord) error {
			if r.LeaseID != d.LeaseID || r.Status != ports.DeliveryPending {
				return errLeaseLost
			}
			outcome(r)
			r.LeaseID, r.LeaseUntil = "", time.Time{}
			return nil
		})
		if err != nil {
			return err
		}
		for _, fn := range then {
			if err := fn(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errLeaseLost) || errors.Is(err, ports.ErrNotFound) {
		return nil // another claim owns it now, or the subscription was deleted meanwhile
	}
	return err
}

// pauseFailing pauses the subscription of a delivery given up for reason, and records it for the tenant's
// audit; a subscription paused already keeps its first reason.
func (s *Service) pauseFailing(ctx context.Context, d ports.WebhookDeliveryRecord, reason, answer string) error {
	_, err := s.Store.UpdateSubscription(ctx, d.TenantID, d.SubscriptionID, func(r *ports.WebhookSubscriptionRecord) error {
		if !pause(r, s.Clock.Now(), reason, truncate(answer, errorMaxLen)) {
			return errUnchanged
		}
		r.UpdatedAt = s.Clock.Now()
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.record(ctx, system(d.TenantID), "webhook.subscription.pause", d.SubscriptionID,
		map[string]string{"reason": reason, "delivery_id": d.ID, "event_type": d.EventType, "last_answer": truncate(answer, errorMaxLen)})
}

// secrets opens the subscription's signing secrets: the current one, and the one a rotation replaced while
// it still signs.
func (s *Service) secrets(ctx context.Context, sub ports.WebhookSubscriptionRecord) ([]string, error) {
	open := func(sealed []byte) (string, error) {
		b, err := s.Cipher.Open(ctx, sealed, secretAD(sub.TenantID, sub.ID))
		if err != nil {
			return "", fmt.Errorf("opening the signing secret: %w", err)
		}
		return string(b), nil
	}
	current, err := open(sub.SealedSecret)
	if err != nil {
		return nil, err
	}
	out := []string{current}
	if sub.PreviousSealedSecret != nil && s.Clock.Now().Before(sub.PreviousSecretUntil) {
		prev, err := open(sub.PreviousSealedSecret)
		if err != nil {
			return nil, err
		}
		out = append(out, prev)
	}
	return out, nil
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

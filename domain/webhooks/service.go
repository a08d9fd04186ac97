// Package webhooks is the webhooks module: a tenant's subscriptions to employee, dependent and procedure
// events, the deliveries queued for them from the outbox, and the sending of those deliveries, signed, with
// retries for about three days, to public destinations only. It implements ports.Webhooks and reaches the
// world only through driven ports (the HTTP POST itself is a ports.WebhookSender).
//
// # What a receiver gets
//
// A POST with Content-Type application/json and the body
//
//	{"id": "<event id>", "type": "employee.hired", "tenant_id": "…", "occurred_at": "2026-04-01T00:00:00Z",
//	 "data": {…}}
//
// and the headers Roumu-Event-Id (the same on every attempt and for every subscription: dedupe on it),
// Roumu-Event-Type, Roumu-Delivery-Id and Roumu-Signature. Any 2xx answer is success; 410 Gone pauses the
// subscription at once; anything else, or no answer within 10 seconds, is retried with exponential backoff
// (RetryPolicy) until the delivery is three days old, after which the subscription is paused and its admin
// sees why.
//
// # Verifying a delivery
//
// Roumu-Signature is "t=<unix seconds>,v1=<hex>", where hex is HMAC-SHA256, keyed with the subscription's
// secret (the whole "whsec_…" string as bytes), of the timestamp, a full stop and the raw body as received:
//
//	expected = hex(HMAC_SHA256(secret, t + "." + body))
//
// The receiver must compute it over the bytes it received (before any JSON parsing), compare in constant time
// with each v1 value (after a secret rotation there are two for a day), and refuse a timestamp more than five
// minutes from its clock, so that a captured delivery cannot be replayed later. VerifySignature does exactly
// this, and is short enough to copy.
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/roumu/roumu/ports"
)

// Consumer is the module's name as a consumer of the outbox.
const Consumer = "webhooks"

// SystemActor is the account ID recorded for what the module does by itself (pausing a failing
// subscription).
const SystemActor = "system:webhooks"

// Deps are what the module needs. Rand, Concurrency and Retry have defaults.
type Deps struct {
	Store  ports.WebhookStore
	Outbox ports.Outbox
	Sender ports.WebhookSender
	Tx     ports.Transactor
	Cipher ports.Cipher
	Audit  ports.AuditLog
	Clock  ports.Clock
	// Destinations is the operator's policy on where webhooks may go; the zero value allows https to public
	// addresses only.
	Destinations ports.WebhookDestinations
	// Rand returns a uniform number in [0, 1), for the retry jitter; nil is math/rand/v2.Float64.
	Rand func() float64
	// Concurrency bounds the deliveries ProcessDue sends at once; 0 is DefaultConcurrency.
	Concurrency int
	// Retry is the retry schedule; the zero value is DefaultRetryPolicy.
	Retry RetryPolicy
}

// DefaultConcurrency is how many deliveries one instance sends at once.
const DefaultConcurrency = 8

// Service implements ports.Webhooks.
type Service struct {
	Deps
}

var _ ports.Webhooks = (*Service)(nil)

// New builds the webhooks module.
func New(deps Deps) (*Service, error) {
	if deps.Store == nil || deps.Outbox == nil || deps.Sender == nil || deps.Tx == nil || deps.Cipher == nil ||
		deps.Audit == nil || deps.Clock == nil {
		return nil, errors.New("webhooks: every dependency but Destinations, Rand, Concurrency and Retry is required")
	}
	if deps.Rand == nil {
		deps.Rand = rand.Float64
	}
	if deps.Concurrency <= 0 {
		deps.Concurrency = DefaultConcurrency
	}
	if deps.Retry == (RetryPolicy{}) {
		deps.Retry = DefaultRetryPolicy
	}
	if err := deps.Retry.validate(); err != nil {
		return nil, err
	}
	return &Service{Deps: deps}, nil
}

// requireAdmin admits only fully logged-in admins of a tenant.
func requireAdmin(p ports.Principal) error {
	if p.Kind != ports.KindMember || p.TenantID == "" || p.Stage != ports.StageFull || !p.HasRole(ports.RoleAdmin) {
		return forbidden()
	}
	return nil
}

// record appends an audit event of principal p; a failure fails the operation that wanted it recorded.
func (s *Service) record(ctx context.Context, p ports.Principal, action, subscriptionID string, detail map[string]string) error {
	err := s.Audit.Record(ctx, ports.AuditEvent{At: s.Clock.Now(), TenantID: p.TenantID, ActorID: p.AccountID,
		ActorKind: p.Kind, Action: action, Target: "webhook_subscription:" + subscriptionID, IP: p.Source.IP,
		UserAgent: p.Source.UserAgent, Outcome: ports.OutcomeSuccess, Detail: detail})
	if err != nil {
		return fmt.Errorf("webhooks: audit: %w", err)
	}
	return nil
}

// system is the principal the module acts as for a tenant when no person does; its audit entries' actor
// kind is "system".
func system(tenantID string) ports.Principal {
	return ports.Principal{AccountID: SystemActor, Kind: "system", TenantID: tenantID, Name: SystemActor}
}

// Errors of the module.

func forbidden() error {
	return ports.NewError(ports.ErrForbidden, "forbidden", "You are not allowed to do this.", "この操作を行う権限がありません。")
}

func subscriptionNotFound() error {
	return ports.NewError(ports.ErrNotFound, "not_found", "The webhook subscription was not found.",
		"Webhook の登録が見つかりません。")
}

func invalid(fields ...ports.FieldError) error {
	return ports.Invalid("validation_failed", "Some fields are invalid.", "入力内容に誤りがあります。", fields...)
}

func staleVersion() error {
	return ports.NewError(ports.ErrPreconditionFailed, "stale_version",
		"The subscription was changed by someone else; reload it and try again.",
		"他の人が先に更新しました。再読み込みしてからやり直してください。")
}

// notFoundAs turns a store's ErrNotFound into the module's own error; the module's own errors pass.
func notFoundAs(err error) error {
	if _, ours := ports.AsError(err); !ours && errors.Is(err, ports.ErrNotFound) {
		return subscriptionNotFound()
	}
	return err
}

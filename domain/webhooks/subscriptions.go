package webhooks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// Limits of subscriptions.
const (
	maxSubscriptions  = 20  // per tenant
	descriptionMaxLen = 200 // characters
	// previousSecretFor is how long the secret replaced by a rotation keeps signing deliveries, so the
	// receiver can switch to the new one without refusing any delivery in between.
	previousSecretFor = 24 * time.Hour
)

// secretPrefix makes a leaked webhook secret recognisable.
const secretPrefix = "whsec_"

// catalogue is the events a subscription may name, in the order the admin pages list them.
var catalogue = []ports.WebhookEventType{
	{Type: "employee.hired", DescriptionJA: "従業員が入社した（登録された）", DescriptionEN: "An employee was hired (registered)"},
	{Type: "employee.changed", DescriptionJA: "従業員の情報が変更された（予約された変更を含む）", DescriptionEN: "An employee's record changed (scheduled changes included)"},
	{Type: "employee.separated", DescriptionJA: "従業員が退職した", DescriptionEN: "An employee separated"},
	{Type: "employee.deleted", DescriptionJA: "従業員が削除された", DescriptionEN: "An employee was deleted"},
	{Type: "employees.imported", DescriptionJA: "CSV で従業員が一括登録・更新された", DescriptionEN: "Employees were imported from CSV"},
	{Type: "dependent.added", DescriptionJA: "扶養家族が追加された", DescriptionEN: "A dependent was added"},
	{Type: "dependent.removed", DescriptionJA: "扶養家族が外れた", DescriptionEN: "A dependent was removed"},
	{Type: ports.EventProcedureCreated, DescriptionJA: "手続きが作成された", DescriptionEN: "A procedure was created"},
	{Type: ports.EventProcedureStatusChanged, DescriptionJA: "手続きの状態が変わった", DescriptionEN: "A procedure's status changed"},
}

// subscribable are the catalogue's types, for the outbox consumer.
var subscribable = func() []string {
	out := make([]string, len(catalogue))
	for i, c := range catalogue {
		out[i] = c.Type
	}
	return out
}()

// EventTypes implements ports.Webhooks.
func (s *Service) EventTypes() []ports.WebhookEventType { return slices.Clone(catalogue) }

// CreateSubscription implements ports.Webhooks.
func (s *Service) CreateSubscription(ctx context.Context, p ports.Principal, in ports.WebhookSubscriptionInput) (ports.WebhookSubscription, string, error) {
	if err := requireAdmin(p); err != nil {
		return ports.WebhookSubscription{}, "", err
	}
	types, fields := s.checkInput(&in.URL, &in.Description, in.EventTypes)
	if len(fields) > 0 {
		return ports.WebhookSubscription{}, "", invalid(fields...)
	}
	now := s.Clock.Now()
	rec := ports.WebhookSubscriptionRecord{ID: kernel.NewID(), TenantID: p.TenantID, URL: in.URL,
		Description: in.Description, EventTypes: types, Status: ports.WebhookActive, CreatedBy: p.AccountID,
		Version: 1, CreatedAt: now, UpdatedAt: now}
	secret, sealed, err := s.newSecret(ctx, rec.TenantID, rec.ID)
	if err != nil {
		return ports.WebhookSubscription{}, "", err
	}
	rec.SealedSecret = sealed
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		existing, err := s.Store.ListSubscriptions(ctx, p.TenantID)
		if err != nil {
			return err
		}
		if len(existing) >= maxSubscriptions {
			return ports.NewError(ports.ErrConflict, "too_many_subscriptions",
				fmt.Sprintf("A tenant can have at most %d webhook subscriptions.", maxSubscriptions),
				fmt.Sprintf("Webhook は1テナントにつき%d件まで登録できます。", maxSubscriptions))
		}
		if err := s.Store.CreateSubscription(ctx, rec); err != nil {
			return err
		}
		return s.record(ctx, p, "webhook.subscription.create", rec.ID,
			map[string]string{"host": hostOf(rec.URL), "event_types": strings.Join(types, ",")})
	})
	if err != nil {
		return ports.WebhookSubscription{}, "", err
	}
	return s.view(rec), secret, nil
}

// ListSubscriptions implements ports.Webhooks.
func (s *Service) ListSubscriptions(ctx context.Context, p ports.Principal) ([]ports.WebhookSubscription, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	recs, err := s.Store.ListSubscriptions(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	out := make([]ports.WebhookSubscription, 0, len(recs))
	for _, r := range recs {
		out = append(out, s.view(r))
	}
	return out, nil
}

// GetSubscription implements ports.Webhooks.
func (s *Service) GetSubscription(ctx context.Context, p ports.Principal, id string) (ports.WebhookSubscription, error) {
	if err := requireAdmin(p); err != nil {
		return ports.WebhookSubscription{}, err
	}
	rec, err := s.Store.SubscriptionByID(ctx, p.TenantID, id)
	if err != nil {
		return ports.WebhookSubscription{}, notFoundAs(err)
	}
	return s.view(rec), nil
}

// UpdateSubscription implements ports.Webhooks.
func (s *Service) UpdateSubscription(ctx context.Context, p ports.Principal, id string, in ports.WebhookSubscriptionEdit) (ports.WebhookSubscription, error) {
	if err := requireAdmin(p); err != nil {
		return ports.WebhookSubscription{}, err
	}
	var changed []string
	var fields []ports.FieldError
	if in.URL != "" {
		changed = append(changed, "url")
		if f := checkDestination(s.Destinations, in.URL); f != nil {
			fields = append(fields, *f)
		}
	}
	if in.Description != nil {
		changed = append(changed, "description")
		if f := checkDescription(in.Description); f != nil {
			fields = append(fields, *f)
		}
	}
	var types []string
	if in.EventTypes != nil {
		changed = append(changed, "event_types")
		var f *ports.FieldError
		if types, f = checkEventTypes(in.EventTypes); f != nil {
			fields = append(fields, *f)
		}
	}
	if len(fields) > 0 {
		return ports.WebhookSubscription{}, invalid(fields...)
	}
	return s.update(ctx, p, id, "webhook.subscription.update", map[string]string{"fields": strings.Join(changed, ",")},
		func(r *ports.WebhookSubscriptionRecord) (bool, error) {
			if in.IfVersion != 0 && in.IfVersion != r.Version {
				return false, staleVersion()
			}
			if in.URL != "" {
				r.URL = in.URL
			}
			if in.Description != nil {
				r.Description = *in.Description
			}
			if types != nil {
				r.EventTypes = types
			}
			return len(changed) > 0, nil
		})
}

// DeleteSubscription implements ports.Webhooks.
func (s *Service) DeleteSubscription(ctx context.Context, p ports.Principal, id string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		rec, err := s.Store.SubscriptionByID(ctx, p.TenantID, id)
		if err != nil {
			return notFoundAs(err)
		}
		if err := s.Store.DeleteSubscription(ctx, p.TenantID, id); err != nil {
			return notFoundAs(err)
		}
		return s.record(ctx, p, "webhook.subscription.delete", id, map[string]string{"host": hostOf(rec.URL)})
	})
}

// RotateSecret implements ports.Webhooks.
func (s *Service) RotateSecret(ctx context.Context, p ports.Principal, id string) (ports.WebhookSubscription, string, error) {
	if err := requireAdmin(p); err != nil {
		return ports.WebhookSubscription{}, "", err
	}
	secret, sealed, err := s.newSecret(ctx, p.TenantID, id)
	if err != nil {
		return ports.WebhookSubscription{}, "", err
	}
	view, err := s.update(ctx, p, id, "webhook.subscription.rotate_secret", nil,
		func(r *ports.WebhookSubscriptionRecord) (bool, error) {
			r.PreviousSealedSecret, r.PreviousSecretUntil = r.SealedSecret, s.Clock.Now().Add(previousSecretFor)
			r.SealedSecret = sealed
			return true, nil
		})
	if err != nil {
		return ports.WebhookSubscription{}, "", err
	}
	return view, secret, nil
}

// PauseSubscription implements ports.Webhooks. Pausing a paused subscription changes nothing.
func (s *Service) PauseSubscription(ctx context.Context, p ports.Principal, id string) (ports.WebhookSubscription, error) {
	if err := requireAdmin(p); err != nil {
		return ports.WebhookSubscription{}, err
	}
	return s.update(ctx, p, id, "webhook.subscription.pause", map[string]string{"reason": ports.WebhookPausedByAdmin},
		func(r *ports.WebhookSubscriptionRecord) (bool, error) {
			return pause(r, s.Clock.Now(), ports.WebhookPausedByAdmin, ""), nil
		})
}

// ResumeSubscription implements ports.Webhooks. Resuming an active subscription changes nothing.
func (s *Service) ResumeSubscription(ctx context.Context, p ports.Principal, id string) (ports.WebhookSubscription, error) {
	if err := requireAdmin(p); err != nil {
		return ports.WebhookSubscription{}, err
	}
	return s.update(ctx, p, id, "webhook.subscription.resume", nil,
		func(r *ports.WebhookSubscriptionRecord) (bool, error) {
			if r.Status == ports.WebhookActive {
				return false, nil
			}
			r.Status, r.PausedAt, r.PauseReason, r.PauseDetail = ports.WebhookActive, time.Time{}, "", ""
			return true, nil
		})
}

// pause stops a subscription for reason, and reports whether it was active: a subscription already paused
// keeps its first reason.
func pause(r *ports.WebhookSubscriptionRecord, now time.Time, reason, detail string) bool {
	if r.Status == ports.WebhookPaused {
		return false
	}
	r.Status, r.PausedAt, r.PauseReason, r.PauseDetail = ports.WebhookPaused, now, reason, detail
	return true
}

// errUnchanged rolls back an update that changes nothing, so that it is neither stored nor audited.
var errUnchanged = errors.New("webhooks: unchanged")

// update applies fn to a subscription of p's tenant atomically and records action when fn reports a
// change. It returns the subscription as it is afterwards.
func (s *Service) update(ctx context.Context, p ports.Principal, id, action string, detail map[string]string,
	fn func(*ports.WebhookSubscriptionRecord) (bool, error)) (ports.WebhookSubscription, error) {
	var out ports.WebhookSubscriptionRecord
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		rec, err := s.Store.UpdateSubscription(ctx, p.TenantID, id, func(r *ports.WebhookSubscriptionRecord) error {
			changed, err := fn(r)
			if err != nil {
				return err
			}
			if !changed {
				out = *r
				return errUnchanged
			}
			r.UpdatedAt = s.Clock.Now()
			return nil
		})
		if err != nil {
			return err
		}
		out = rec
		return s.record(ctx, p, action, id, detail)
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return ports.WebhookSubscription{}, notFoundAs(err)
	}
	return s.view(out), nil
}

// SendTestEvent implements ports.Webhooks.
func (s *Service) SendTestEvent(ctx context.Context, p ports.Principal, id string) (ports.WebhookDelivery, error) {
	if err := requireAdmin(p); err != nil {
		return ports.WebhookDelivery{}, err
	}
	now := s.Clock.Now()
	ev := ports.OutboxEvent{ID: kernel.NewID(), TenantID: p.TenantID, Type: ports.WebhookTestEvent, OccurredAt: now}
	ev.Payload, _ = json.Marshal(map[string]string{"subscription_id": id,
		"message": "This is a test event from Roumu. / Roumu からのテスト送信です。"})
	var d ports.WebhookDeliveryRecord
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		sub, err := s.Store.SubscriptionByID(ctx, p.TenantID, id)
		if err != nil {
			return notFoundAs(err)
		}
		if sub.Status != ports.WebhookActive {
			return ports.NewError(ports.ErrConflict, "subscription_paused",
				"The subscription is paused; resume it before sending a test event.",
				"この Webhook は停止中です。再開してからテスト送信してください。")
		}
		d = newDelivery(sub, ev, now)
		if _, err := s.Store.AddDeliveries(ctx, d); err != nil {
			return err
		}
		return s.record(ctx, p, "webhook.subscription.test", id, map[string]string{"delivery_id": d.ID})
	})
	if err != nil {
		return ports.WebhookDelivery{}, err
	}
	return deliveryView(d), nil
}

// Delivery log pages.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// deliveryCursor continues the delivery log after a row (newest first).
type deliveryCursor struct {
	CreatedAt time.Time `json:"c"`
	ID        string    `json:"i"`
}

// ListDeliveries implements ports.Webhooks.
func (s *Service) ListDeliveries(ctx context.Context, p ports.Principal, subscriptionID string, f ports.WebhookDeliveryFilter) (ports.WebhookDeliveryPage, error) {
	if err := requireAdmin(p); err != nil {
		return ports.WebhookDeliveryPage{}, err
	}
	q := ports.WebhookDeliveryQuery{TenantID: p.TenantID, SubscriptionID: subscriptionID, Status: f.Status,
		Limit: f.Limit}
	var fields []ports.FieldError
	switch f.Status {
	case "", ports.DeliveryPending, ports.DeliverySucceeded, ports.DeliveryFailed:
	default:
		fields = append(fields, ports.FieldError{Field: "status", Code: "invalid_choice",
			MessageEN: "must be pending, succeeded or failed", MessageJA: "pending、succeeded、failed のいずれかを指定してください"})
	}
	switch {
	case q.Limit == 0:
		q.Limit = defaultPageSize
	case q.Limit < 0 || q.Limit > maxPageSize:
		fields = append(fields, ports.FieldError{Field: "limit", Code: "out_of_range",
			MessageEN: fmt.Sprintf("must be between 1 and %d", maxPageSize), MessageJA: fmt.Sprintf("1〜%dで指定してください", maxPageSize)})
	}
	if f.Cursor != "" {
		var c deliveryCursor
		b, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || len(f.Cursor) > 512 || json.Unmarshal(b, &c) != nil || c.ID == "" {
			fields = append(fields, ports.FieldError{Field: "cursor", Code: "invalid_cursor",
				MessageEN: "is not valid; start again from the first page", MessageJA: "正しくありません。最初のページからやり直してください"})
		}
		q.BeforeCreatedAt, q.BeforeID = c.CreatedAt, c.ID
	}
	if len(fields) > 0 {
		return ports.WebhookDeliveryPage{}, invalid(fields...)
	}
	if _, err := s.Store.SubscriptionByID(ctx, p.TenantID, subscriptionID); err != nil {
		return ports.WebhookDeliveryPage{}, notFoundAs(err)
	}
	pageSize := q.Limit
	q.Limit++ // one more tells whether a next page exists
	recs, err := s.Store.ListDeliveries(ctx, q)
	if err != nil {
		return ports.WebhookDeliveryPage{}, err
	}
	page := ports.WebhookDeliveryPage{Items: []ports.WebhookDelivery{}}
	if len(recs) > pageSize {
		recs = recs[:pageSize]
		last := recs[pageSize-1]
		b, _ := json.Marshal(deliveryCursor{CreatedAt: last.CreatedAt, ID: last.ID})
		page.NextCursor = base64.RawURLEncoding.EncodeToString(b)
	}
	for _, r := range recs {
		page.Items = append(page.Items, deliveryView(r))
	}
	return page, nil
}

// checkInput validates a new subscription's fields and returns its event types in catalogue order.
func (s *Service) checkInput(rawURL, description *string, eventTypes []string) ([]string, []ports.FieldError) {
	var fields []ports.FieldError
	if f := checkDestination(s.Destinations, *rawURL); f != nil {
		fields = append(fields, *f)
	}
	if f := checkDescription(description); f != nil {
		fields = append(fields, *f)
	}
	types, f := checkEventTypes(eventTypes)
	if f != nil {
		fields = append(fields, *f)
	}
	return types, fields
}

func checkDescription(d *string) *ports.FieldError {
	*d = strings.TrimSpace(*d)
	if utf8.RuneCountInString(*d) > descriptionMaxLen {
		return &ports.FieldError{Field: "description", Code: "length",
			MessageEN: fmt.Sprintf("must be at most %d characters", descriptionMaxLen),
			MessageJA: fmt.Sprintf("%d文字以内で入力してください", descriptionMaxLen)}
	}
	for _, r := range *d {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return &ports.FieldError{Field: "description", Code: "control_character",
				MessageEN: "must not contain control characters", MessageJA: "制御文字は使用できません"}
		}
	}
	return nil
}

// checkEventTypes returns the named types once each, in catalogue order; at least one, all known.
func checkEventTypes(types []string) ([]string, *ports.FieldError) {
	if len(types) == 0 {
		return nil, &ports.FieldError{Field: "event_types", Code: "required", MessageEN: "name at least one event type",
			MessageJA: "イベントを1つ以上選んでください"}
	}
	for _, t := range types {
		if !slices.Contains(subscribable, t) {
			return nil, &ports.FieldError{Field: "event_types", Code: "unknown_event_type",
				MessageEN: fmt.Sprintf("%q is not an event type (see the catalogue)", t),
				MessageJA: fmt.Sprintf("「%s」というイベントはありません", t)}
		}
	}
	var out []string
	for _, t := range subscribable {
		if slices.Contains(types, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// newSecret returns a fresh signing secret and its sealed form, bound to the subscription.
func (s *Service) newSecret(ctx context.Context, tenantID, id string) (string, []byte, error) {
	secret := secretPrefix + kernel.RandomToken(32)
	sealed, err := s.Cipher.Seal(ctx, []byte(secret), secretAD(tenantID, id))
	if err != nil {
		return "", nil, fmt.Errorf("webhooks: sealing a secret: %w", err)
	}
	return secret, sealed, nil
}

// secretAD binds a sealed secret to its subscription.
func secretAD(tenantID, id string) []byte { return []byte("webhook_secret:" + tenantID + ":" + id) }

// hostOf is the host of a destination, for audit entries: the URL itself may hold the receiver's credentials.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// view is a subscription as its admin sees it.
func (s *Service) view(r ports.WebhookSubscriptionRecord) ports.WebhookSubscription {
	v := ports.WebhookSubscription{ID: r.ID, URL: r.URL, Description: r.Description,
		EventTypes: slices.Clone(r.EventTypes), Status: r.Status, PausedAt: r.PausedAt, PauseReason: r.PauseReason,
		Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.PreviousSealedSecret != nil && s.Clock.Now().Before(r.PreviousSecretUntil) {
		v.PreviousSecretUntil = r.PreviousSecretUntil
	}
	switch r.PauseReason {
	case ports.WebhookPausedRetriesExhausted:
		hours := int(s.Retry.Window / time.Hour)
		v.PauseMessageEN = fmt.Sprintf("Deliveries kept failing for %d hours (last answer: %s), so they were paused. "+
			"Fix the receiver, then resume: the waiting deliveries are sent again.", hours, r.PauseDetail)
		v.PauseMessageJA = fmt.Sprintf("%d時間にわたり配信に失敗したため、配信を停止しました（最後の応答: %s）。"+
			"受信側を確認してから再開してください。待機中の配信が再送されます。", hours, r.PauseDetail)
	case ports.WebhookPausedGone:
		v.PauseMessageEN = "The receiver answered 410 Gone (it no longer accepts deliveries), so deliveries were paused."
		v.PauseMessageJA = "受信側が 410 Gone（受信終了）を返したため、配信を停止しました。"
	case ports.WebhookPausedByAdmin:
		v.PauseMessageEN = "An administrator paused deliveries."
		v.PauseMessageJA = "管理者が配信を停止しました。"
	}
	return v
}

// deliveryView is a delivery as the log shows it.
func deliveryView(r ports.WebhookDeliveryRecord) ports.WebhookDelivery {
	v := ports.WebhookDelivery{ID: r.ID, SubscriptionID: r.SubscriptionID, EventID: r.EventID,
		EventType: r.EventType, Status: r.Status, Attempts: r.Attempts, LastStatusCode: r.LastStatusCode,
		LastError: r.LastError, LastAttemptAt: r.LastAttemptAt, CompletedAt: r.CompletedAt, CreatedAt: r.CreatedAt}
	if r.Status == ports.DeliveryPending {
		v.NextAttemptAt = r.NextAttemptAt
	}
	return v
}

package ports

import (
	"context"
	"net/netip"
	"time"
)

// Webhook subscription states.
const (
	WebhookActive = "active"
	WebhookPaused = "paused"
)

// Why a subscription was paused (WebhookSubscription.PauseReason).
const (
	WebhookPausedRetriesExhausted = "retries_exhausted" // a delivery kept failing for the whole retry window
	WebhookPausedGone             = "endpoint_gone"     // the receiver answered 410 Gone
	WebhookPausedByAdmin          = "paused_by_admin"
)

// Webhook delivery states.
const (
	DeliveryPending   = "pending"   // waiting for its next attempt (or being sent)
	DeliverySucceeded = "succeeded" // the receiver answered 2xx
	DeliveryFailed    = "failed"    // given up: 410 Gone, or the retry window ended
)

// Event types that only webhooks know: a test event sent on request.
const WebhookTestEvent = "webhook.test"

// Procedure events that subscriptions may name. The procedures module writes them to the outbox, in the
// transaction of the change, with a payload of {"procedure_id", "type", "employee_id", "from", "to", "at"}: the
// procedure type, the status before ("" on creation) and after, and the instant (RFC 3339, UTC); no snapshot
// fields.
const (
	EventProcedureCreated       = "procedure.created"
	EventProcedureStatusChanged = "procedure.status_changed"
)

// OutboxSkipWebhooks is the member of an outbox event's JSON payload that marks a write made with
// skip_webhooks=true (a partner writing back what it learnt from a webhook): when it is true the event is
// delivered to no subscription, so the partner's write-back does not loop. Its value travels from the HTTP
// adapter to the module that writes the event through the request context (WithSkipWebhooks).
const OutboxSkipWebhooks = "skip_webhooks"

type skipWebhooksKey struct{}

// WithSkipWebhooks marks ctx as carrying a write whose events must not be delivered to webhooks.
func WithSkipWebhooks(ctx context.Context) context.Context {
	return context.WithValue(ctx, skipWebhooksKey{}, true)
}

// SkipWebhooks tells whether ctx carries a write made with skip_webhooks=true; a module writing outbox events
// then sets OutboxSkipWebhooks in their payloads.
func SkipWebhooks(ctx context.Context) bool {
	skip, _ := ctx.Value(skipWebhooksKey{}).(bool)
	return skip
}

// WebhookEventType is one entry of the catalogue of events a subscription may name.
type WebhookEventType struct {
	Type          string
	DescriptionJA string
	DescriptionEN string
}

// WebhookSubscription is a subscription as its tenant's admin sees it. The signing secret is never in it: it
// is returned once, by CreateSubscription and RotateSecret.
type WebhookSubscription struct {
	ID          string
	URL         string
	Description string
	EventTypes  []string
	Status      string    // WebhookActive or WebhookPaused
	PausedAt    time.Time // zero while active
	PauseReason string    // one of the WebhookPaused* codes; "" while active
	// PauseMessageJA and PauseMessageEN tell the admin why the subscription stopped and what to do.
	PauseMessageJA string
	PauseMessageEN string
	// PreviousSecretUntil is when the secret replaced by the last rotation stops signing deliveries (they carry
	// both signatures until then); zero when there is none.
	PreviousSecretUntil time.Time
	Version             int64
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// WebhookSubscriptionInput creates a subscription.
type WebhookSubscriptionInput struct {
	URL         string
	Description string
	EventTypes  []string
}

// WebhookSubscriptionEdit changes a subscription; zero fields stay as they are.
type WebhookSubscriptionEdit struct {
	URL         string   // "" = unchanged
	Description *string  // nil = unchanged
	EventTypes  []string // nil = unchanged
	IfVersion   int64    // when not 0, applies only to this version (If-Match), else ErrPreconditionFailed
}

// WebhookDelivery is one event sent (or to be sent) to one subscription, as the delivery log shows it.
type WebhookDelivery struct {
	ID             string
	SubscriptionID string
	EventID        string // the Roumu-Event-Id header: receivers dedupe on it
	EventType      string
	Status         string // one of the Delivery* constants
	Attempts       int
	LastStatusCode int    // 0 when no answer came (network error) or before the first attempt
	LastError      string // why the last attempt failed; never a secret
	LastAttemptAt  time.Time
	NextAttemptAt  time.Time // zero unless pending
	CompletedAt    time.Time // when it succeeded or was given up
	CreatedAt      time.Time
}

// WebhookDeliveryFilter selects deliveries of one subscription, newest first.
type WebhookDeliveryFilter struct {
	Status string // "" = any
	Cursor string // opaque, from WebhookDeliveryPage.NextCursor
	Limit  int    // default 50, at most 200
}

// WebhookDeliveryPage is one page of the delivery log.
type WebhookDeliveryPage struct {
	Items      []WebhookDelivery
	NextCursor string // "" on the last page
}

// Webhooks is the driving port of the webhooks module. Every call but the periodic jobs is for the tenant's
// admins; another tenant's subscription is ErrNotFound.
type Webhooks interface {
	// EventTypes is the catalogue of events a subscription may name.
	EventTypes() []WebhookEventType
	// CreateSubscription validates the destination (https, public addresses only) and returns the new
	// subscription with its signing secret, which is shown only this once.
	CreateSubscription(ctx context.Context, p Principal, in WebhookSubscriptionInput) (WebhookSubscription, string, error)
	ListSubscriptions(ctx context.Context, p Principal) ([]WebhookSubscription, error)
	GetSubscription(ctx context.Context, p Principal, id string) (WebhookSubscription, error)
	UpdateSubscription(ctx context.Context, p Principal, id string, in WebhookSubscriptionEdit) (WebhookSubscription, error)
	// DeleteSubscription removes the subscription and its delivery log.
	DeleteSubscription(ctx context.Context, p Principal, id string) error
	// RotateSecret gives the subscription a new signing secret, returned only this once; deliveries carry a
	// signature with the old one too for a day, so the receiver can switch without losing any.
	RotateSecret(ctx context.Context, p Principal, id string) (WebhookSubscription, string, error)
	// PauseSubscription stops deliveries; pending ones wait and new events are not queued for it.
	PauseSubscription(ctx context.Context, p Principal, id string) (WebhookSubscription, error)
	// ResumeSubscription reactivates a paused subscription: its pending deliveries go out at once.
	ResumeSubscription(ctx context.Context, p Principal, id string) (WebhookSubscription, error)
	// SendTestEvent queues a webhook.test delivery to an active subscription.
	SendTestEvent(ctx context.Context, p Principal, id string) (WebhookDelivery, error)
	ListDeliveries(ctx context.Context, p Principal, subscriptionID string, f WebhookDeliveryFilter) (WebhookDeliveryPage, error)

	// ConsumeEvents queues a delivery for every outbox event and every active subscription that names its
	// type and existed when it occurred, each pair once (a periodic job, safe on several instances). Events
	// marked with OutboxSkipWebhooks go to no one. It returns how many events it consumed.
	ConsumeEvents(ctx context.Context) (int, error)
	// ProcessDue sends the deliveries that are due, with bounded concurrency, and schedules retries (a
	// periodic job, safe on several instances: a delivery is leased to one of them at a time). It returns how
	// many attempts it made.
	ProcessDue(ctx context.Context) (int, error)
}

// WebhookSubscriptionRecord is a subscription as stored. The secret is sealed by the Cipher.
type WebhookSubscriptionRecord struct {
	ID           string
	TenantID     string
	URL          string
	Description  string
	EventTypes   []string
	SealedSecret []byte
	// PreviousSealedSecret is the secret replaced by the last rotation, still signing until
	// PreviousSecretUntil; nil when there is none.
	PreviousSealedSecret []byte
	PreviousSecretUntil  time.Time
	Status               string
	PausedAt             time.Time
	PauseReason          string
	PauseDetail          string // e.g. "HTTP 503"; never a secret or the URL
	CreatedBy            string
	Version              int64 // incremented by every update
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// WebhookDeliveryRecord is a delivery as stored. Body is the exact JSON sent on every attempt.
type WebhookDeliveryRecord struct {
	ID             string
	TenantID       string
	SubscriptionID string
	EventID        string // unique with SubscriptionID: an event is queued once per subscription
	EventType      string
	Body           []byte
	Status         string
	Attempts       int
	LastStatusCode int
	LastError      string
	LastAttemptAt  time.Time
	NextAttemptAt  time.Time
	CompletedAt    time.Time
	// LeaseID and LeaseUntil: while LeaseUntil is in the future the delivery belongs to the claim LeaseID and
	// no other claim takes it.
	LeaseID    string
	LeaseUntil time.Time
	CreatedAt  time.Time
}

// WebhookDeliveryQuery selects deliveries of one subscription, newest first (CreatedAt, then ID, descending).
type WebhookDeliveryQuery struct {
	TenantID       string
	SubscriptionID string
	Status         string // "" = any
	// BeforeCreatedAt and BeforeID continue a listing after the row with these values (keyset pagination).
	BeforeCreatedAt time.Time
	BeforeID        string
	Limit           int
}

// WebhookClaim leases due deliveries to one sender.
type WebhookClaim struct {
	Now        time.Time
	Limit      int
	LeaseID    string
	LeaseUntil time.Time
}

// WebhookStore keeps subscriptions and their deliveries. Every call is scoped by tenant but the claim.
type WebhookStore interface {
	// CreateSubscription stores a new subscription; ErrConflict when the ID is taken.
	CreateSubscription(ctx context.Context, s WebhookSubscriptionRecord) error
	SubscriptionByID(ctx context.Context, tenantID, id string) (WebhookSubscriptionRecord, error)
	// ListSubscriptions returns the tenant's subscriptions by CreatedAt, then ID.
	ListSubscriptions(ctx context.Context, tenantID string) ([]WebhookSubscriptionRecord, error)
	// ActiveSubscriptionsFor returns the tenant's active subscriptions that name eventType, by ID.
	ActiveSubscriptionsFor(ctx context.Context, tenantID, eventType string) ([]WebhookSubscriptionRecord, error)
	// UpdateSubscription applies fn to the current record atomically (Version incremented); an error from fn
	// changes nothing and is returned.
	UpdateSubscription(ctx context.Context, tenantID, id string, fn func(*WebhookSubscriptionRecord) error) (WebhookSubscriptionRecord, error)
	// DeleteSubscription removes the subscription and its deliveries.
	DeleteSubscription(ctx context.Context, tenantID, id string) error

	// AddDeliveries stores new deliveries, skipping any whose (SubscriptionID, EventID) is stored already (an
	// event reported twice is queued once), and returns how many it stored.
	AddDeliveries(ctx context.Context, ds ...WebhookDeliveryRecord) (int, error)
	ListDeliveries(ctx context.Context, q WebhookDeliveryQuery) ([]WebhookDeliveryRecord, error)
	// ClaimDueDeliveries leases to c.LeaseID, atomically, at most c.Limit pending deliveries of active
	// subscriptions whose NextAttemptAt is not after c.Now and whose lease has run out (LeaseUntil not after
	// c.Now), oldest NextAttemptAt first, and returns them as leased. Claims racing on several instances never
	// lease one delivery twice.
	ClaimDueDeliveries(ctx context.Context, c WebhookClaim) ([]WebhookDeliveryRecord, error)
	// UpdateDelivery applies fn to the current record atomically; an error from fn changes nothing and is
	// returned. The caller checks its lease inside fn.
	UpdateDelivery(ctx context.Context, tenantID, id string, fn func(*WebhookDeliveryRecord) error) (WebhookDeliveryRecord, error)
}

// WebhookRequest is one POST of a delivery.
type WebhookRequest struct {
	URL     string
	Headers map[string]string
	Body    []byte
}

// WebhookSender posts deliveries. It returns the receiver's status code whenever an answer came (whatever
// the code), and an error only when none did (network error, timeout, refused destination). Errors never
// contain the URL, which may hold the receiver's credentials.
type WebhookSender interface {
	Send(ctx context.Context, r WebhookRequest) (status int, err error)
}

// WebhookDestinations is the operator's policy for where webhooks may go: https only, to public addresses
// only, unless AllowHTTP or an Allowed range says otherwise (tests, on-premises partners). The module checks
// it when a subscription is saved, and the sender again on every address it connects to (a name that
// resolved to a public address then may resolve to a private one now). It lives in ports, as a pure
// function, because both sides must mean the same thing by "public".
type WebhookDestinations struct {
	AllowHTTP bool
	Allowed   []netip.Prefix
}

// ParseWebhookDestinations builds a policy from configured ranges (CIDR or single addresses), naming the
// first bad one.
func ParseWebhookDestinations(allowHTTP bool, allowed []string) (WebhookDestinations, error) {
	prefixes, err := parseAddrRanges("webhook allowed destination", allowed)
	if err != nil {
		return WebhookDestinations{}, err
	}
	return WebhookDestinations{AllowHTTP: allowHTTP, Allowed: prefixes}, nil
}

// SchemeAllowed tells whether a webhook may use the URL scheme: https, or http when AllowHTTP.
func (d WebhookDestinations) SchemeAllowed(scheme string) bool {
	return scheme == "https" || scheme == "http" && d.AllowHTTP
}

// AddrAllowed tells whether a webhook may connect to a: a public address, or one in an allowed range.
// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
func (d WebhookDestinations) AddrAllowed(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	return containsAddr(d.Allowed, a) || IsPublicAddr(a)
}

// nonPublicRanges are the special-purpose ranges (IANA registries) that netip's predicates and the IPv6
// global unicast space (2000::/3) do not exclude.
var nonPublicRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the limited broadcast
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments (Teredo, ORCHID …)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
}

// Ranges that carry an IPv4 address inside an IPv6 one: judged by the IPv4 address, so they cannot smuggle a
// private destination.
var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96") // the IPv4 address in the last 32 bits
	sixToFour   = netip.MustParsePrefix("2002::/16")    // the IPv4 address in bits 16–48
	// globalIPv6 is the only IPv6 space allocated for global unicast; the rest is reserved.
	globalIPv6 = netip.MustParsePrefix("2000::/3")
)

// IsPublicAddr tells whether a is a global unicast address reachable on the Internet: not loopback,
// link-local, private (RFC 1918, fc00::/7), carrier-grade NAT, multicast, unspecified, documentation or
// otherwise reserved, also when written as IPv4-mapped, NAT64 or 6to4 IPv6.
func IsPublicAddr(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	if !a.IsValid() {
		return false
	}
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64Prefix.Contains(a):
			return IsPublicAddr(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(a):
			return IsPublicAddr(netip.AddrFrom4([4]byte(b[2:6])))
		case !globalIPv6.Contains(a):
			return false
		}
	}
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range nonPublicRanges {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

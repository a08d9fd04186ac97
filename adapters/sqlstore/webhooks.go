package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/roumu/roumu/ports"
)

type webhookSubscriptionRow struct {
	ID                   string           `gorm:"column:id;primaryKey"`
	TenantID             string           `gorm:"column:tenant_id"`
	URL                  string           `gorm:"column:url"`
	Description          string           `gorm:"column:description"`
	EventTypes           jsonOf[[]string] `gorm:"column:event_types"`
	SealedSecret         []byte           `gorm:"column:sealed_secret"`
	PreviousSealedSecret []byte           `gorm:"column:previous_sealed_secret"` // NULL when none
	PreviousSecretUntil  optInstant       `gorm:"column:previous_secret_until"`
	Status               string           `gorm:"column:status"`
	PausedAt             optInstant       `gorm:"column:paused_at"`
	PauseReason          string           `gorm:"column:pause_reason"`
	PauseDetail          string           `gorm:"column:pause_detail"`
	CreatedBy            string           `gorm:"column:created_by"`
	Version              int64            `gorm:"column:version"`
	CreatedAt            instant          `gorm:"column:created_at"`
	UpdatedAt            instant          `gorm:"column:updated_at"`
}

func (webhookSubscriptionRow) TableName() string { return "webhook_subscriptions" }

// webhookSubscriptionColumns are what UpdateSubscription writes: everything but the identity.
var webhookSubscriptionColumns = []string{"url", "description", "event_types", "sealed_secret",
	"previous_sealed_secret", "previous_secret_until", "status", "paused_at", "pause_reason", "pause_detail",
	"created_by", "version", "created_at", "updated_at"}

func webhookSubscriptionRowOf(s ports.WebhookSubscriptionRecord) webhookSubscriptionRow {
	types := s.EventTypes
	if types == nil {
		types = []string{} // a list, not JSON null
	}
	return webhookSubscriptionRow{
		ID: s.ID, TenantID: s.TenantID, URL: s.URL, Description: s.Description,
		EventTypes: jsonOf[[]string]{types}, SealedSecret: blob(s.SealedSecret),
		PreviousSealedSecret: s.PreviousSealedSecret, PreviousSecretUntil: optInstant(s.PreviousSecretUntil),
		Status: s.Status, PausedAt: optInstant(s.PausedAt), PauseReason: s.PauseReason, PauseDetail: s.PauseDetail,
		CreatedBy: s.CreatedBy, Version: s.Version, CreatedAt: instant(s.CreatedAt), UpdatedAt: instant(s.UpdatedAt),
	}
}

func (r *webhookSubscriptionRow) record() ports.WebhookSubscriptionRecord {
	return ports.WebhookSubscriptionRecord{
		ID: r.ID, TenantID: r.TenantID, URL: r.URL, Description: r.Description, EventTypes: r.EventTypes.V,
		SealedSecret: r.SealedSecret, PreviousSealedSecret: r.PreviousSealedSecret,
		PreviousSecretUntil: time.Time(r.PreviousSecretUntil), Status: r.Status, PausedAt: time.Time(r.PausedAt),
		PauseReason: r.PauseReason, PauseDetail: r.PauseDetail, CreatedBy: r.CreatedBy, Version: r.Version,
		CreatedAt: time.Time(r.CreatedAt), UpdatedAt: time.Time(r.UpdatedAt),
	}
}

// setRecord keeps the identity and makes the version the stored one plus one, whatever fn did with them.
func (r *webhookSubscriptionRow) setRecord(s, stored ports.WebhookSubscriptionRecord) {
	s.ID, s.TenantID, s.Version = stored.ID, stored.TenantID, stored.Version+1
	*r = webhookSubscriptionRowOf(s)
}

type webhookDeliveryRow struct {
	ID             string     `gorm:"column:id;primaryKey"`
	TenantID       string     `gorm:"column:tenant_id"`
	SubscriptionID string     `gorm:"column:subscription_id"`
	EventID        string     `gorm:"column:event_id"`
	EventType      string     `gorm:"column:event_type"`
	Body           []byte     `gorm:"column:body"`
	Status         string     `gorm:"column:status"`
	Attempts       int        `gorm:"column:attempts"`
	LastStatusCode int        `gorm:"column:last_status_code"`
	LastError      string     `gorm:"column:last_error"`
	LastAttemptAt  optInstant `gorm:"column:last_attempt_at"`
	NextAttemptAt  instant    `gorm:"column:next_attempt_at"`
	CompletedAt    optInstant `gorm:"column:completed_at"`
	LeaseID        string     `gorm:"column:lease_id"`
	LeaseUntil     optInstant `gorm:"column:lease_until"`
	CreatedAt      instant    `gorm:"column:created_at"`
}

func (webhookDeliveryRow) TableName() string { return "webhook_deliveries" }

// webhookDeliveryColumns are what UpdateDelivery writes: everything but the identity and the event.
var webhookDeliveryColumns = []string{"event_type", "body", "status", "attempts", "last_status_code",
	"last_error", "last_attempt_at", "next_attempt_at", "completed_at", "lease_id", "lease_until", "created_at"}

func webhookDeliveryRowOf(d ports.WebhookDeliveryRecord) webhookDeliveryRow {
	return webhookDeliveryRow{
		ID: d.ID, TenantID: d.TenantID, SubscriptionID: d.SubscriptionID, EventID: d.EventID,
		EventType: d.EventType, Body: blob(d.Body), Status: d.Status, Attempts: d.Attempts,
		LastStatusCode: d.LastStatusCode, LastError: d.LastError, LastAttemptAt: optInstant(d.LastAttemptAt),
		NextAttemptAt: instant(d.NextAttemptAt), CompletedAt: optInstant(d.CompletedAt), LeaseID: d.LeaseID,
		LeaseUntil: optInstant(d.LeaseUntil), CreatedAt: instant(d.CreatedAt),
	}
}

func (r *webhookDeliveryRow) record() ports.WebhookDeliveryRecord {
	return ports.WebhookDeliveryRecord{
		ID: r.ID, TenantID: r.TenantID, SubscriptionID: r.SubscriptionID, EventID: r.EventID,
		EventType: r.EventType, Body: r.Body, Status: r.Status, Attempts: r.Attempts,
		LastStatusCode: r.LastStatusCode, LastError: r.LastError, LastAttemptAt: time.Time(r.LastAttemptAt),
		NextAttemptAt: time.Time(r.NextAttemptAt), CompletedAt: time.Time(r.CompletedAt), LeaseID: r.LeaseID,
		LeaseUntil: time.Time(r.LeaseUntil), CreatedAt: time.Time(r.CreatedAt),
	}
}

// setRecord keeps the identity and the event, whatever fn did with them.
func (r *webhookDeliveryRow) setRecord(d, stored ports.WebhookDeliveryRecord) {
	d.ID, d.TenantID, d.SubscriptionID, d.EventID = stored.ID, stored.TenantID, stored.SubscriptionID, stored.EventID
	*r = webhookDeliveryRowOf(d)
}

// ofTenantByID selects the row id of tenantID.
func ofTenantByID(tenantID, id string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB { return byID(id)(inTenant(tenantID)(db)) }
}

// CreateSubscription stores a new subscription; ErrConflict when its ID is taken, in any tenant, or its
// tenant does not exist.
func (s *Store) CreateSubscription(ctx context.Context, sub ports.WebhookSubscriptionRecord) error {
	row := webhookSubscriptionRowOf(sub)
	return s.insert(ctx, "create webhook subscription", &row)
}

// SubscriptionByID returns the subscription of tenantID; another tenant's is ErrNotFound.
func (s *Store) SubscriptionByID(ctx context.Context, tenantID, id string) (ports.WebhookSubscriptionRecord, error) {
	return first(ctx, s, "webhook subscription", ofTenantByID(tenantID, id), (*webhookSubscriptionRow).record)
}

// ListSubscriptions returns the tenant's subscriptions by CreatedAt, then ID.
func (s *Store) ListSubscriptions(ctx context.Context, tenantID string) ([]ports.WebhookSubscriptionRecord, error) {
	return list(ctx, s, "list webhook subscriptions", func(db *gorm.DB) *gorm.DB {
		return inTenant(tenantID)(db).Order("created_at").Order("id")
	}, (*webhookSubscriptionRow).record)
}

// ActiveSubscriptionsFor returns the tenant's active subscriptions that name eventType, by ID. It reads the
// tenant's active subscriptions (a handful) and matches the type here, the same way in both dialects.
func (s *Store) ActiveSubscriptionsFor(ctx context.Context, tenantID, eventType string) ([]ports.WebhookSubscriptionRecord, error) {
	active, err := list(ctx, s, "active webhook subscriptions", func(db *gorm.DB) *gorm.DB {
		return inTenant(tenantID)(db).Where("status = ?", ports.WebhookActive).Order("id")
	}, (*webhookSubscriptionRow).record)
	return slices.DeleteFunc(active, func(r ports.WebhookSubscriptionRecord) bool {
		return !slices.Contains(r.EventTypes, eventType)
	}), err
}

// UpdateSubscription locks the subscription's row, applies fn and stores the result with Version
// incremented, in one transaction.
func (s *Store) UpdateSubscription(ctx context.Context, tenantID, id string, fn func(*ports.WebhookSubscriptionRecord) error) (ports.WebhookSubscriptionRecord, error) {
	return update[ports.WebhookSubscriptionRecord, webhookSubscriptionRow](ctx, s, "update webhook subscription",
		ofTenantByID(tenantID, id), webhookSubscriptionColumns, fn)
}

// DeleteSubscription removes the subscription and, by the foreign key's cascade, its deliveries;
// ErrNotFound when the tenant has no such subscription.
func (s *Store) DeleteSubscription(ctx context.Context, tenantID, id string) error {
	return affected(ofTenantByID(tenantID, id)(s.writer(ctx)).Delete(&webhookSubscriptionRow{}), "delete webhook subscription")
}

// AddDeliveries stores the deliveries in multi-row INSERTs that skip a (subscription_id, event_id) already
// stored (ON CONFLICT DO NOTHING, which also waits for a racing insert of the same pair and then skips it),
// all or none: a taken delivery ID, or a subscription that is not the tenant's, is ErrConflict.
func (s *Store) AddDeliveries(ctx context.Context, ds ...ports.WebhookDeliveryRecord) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	rows := make([]webhookDeliveryRow, len(ds))
	for i, d := range ds {
		rows[i] = webhookDeliveryRowOf(d)
	}
	var n int64
	err := s.InTx(ctx, func(ctx context.Context) error {
		res := s.writer(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "subscription_id"}, {Name: "event_id"}},
			DoNothing: true,
		}).CreateInBatches(rows, s.batchRows)
		n = res.RowsAffected
		return translate("add webhook deliveries", res.Error)
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// ListDeliveries returns the deliveries of q's subscription in q's tenant, newest first, before
// (BeforeCreatedAt, BeforeID) when BeforeID is set: a row-value comparison that walks the log index
// backwards from the cursor.
func (s *Store) ListDeliveries(ctx context.Context, q ports.WebhookDeliveryQuery) ([]ports.WebhookDeliveryRecord, error) {
	return list(ctx, s, "list webhook deliveries", func(db *gorm.DB) *gorm.DB {
		db = inTenant(q.TenantID)(db).Where("subscription_id = ?", q.SubscriptionID)
		if q.Status != "" {
			db = db.Where("status = ?", q.Status)
		}
		if q.BeforeID != "" {
			db = db.Where("(created_at, id) < (?, ?)", instant(q.BeforeCreatedAt), q.BeforeID)
		}
		return limitRows(db, q.Limit).Order("created_at DESC").Order("id DESC")
	}, (*webhookDeliveryRow).record)
}

// claimSQL leases the due deliveries of active subscriptions in one statement. On Postgres the subquery
// locks the rows it picks FOR UPDATE SKIP LOCKED: a racing claim passes over them instead of waiting (and
// then finding them leased), and rechecks any row leased since its snapshot. SQLite has no row locks and
// needs none: the statement runs alone on the single write connection.
const claimSQL = `UPDATE webhook_deliveries SET lease_id = ?, lease_until = ?
WHERE id IN (
    SELECT d.id FROM webhook_deliveries d
    JOIN webhook_subscriptions s ON s.tenant_id = d.tenant_id AND s.id = d.subscription_id
    WHERE d.status = ? AND s.status = ? AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until <= ?)
    ORDER BY d.next_attempt_at, d.id%s)
RETURNING *`

// ClaimDueDeliveries leases at most c.Limit (all when 0) due deliveries to c.LeaseID, oldest NextAttemptAt
// first, and returns them in that order.
func (s *Store) ClaimDueDeliveries(ctx context.Context, c ports.WebhookClaim) ([]ports.WebhookDeliveryRecord, error) {
	tail := ""
	if c.Limit > 0 {
		tail = " LIMIT " + strconv.Itoa(c.Limit)
	}
	if s.driver == DriverPostgres {
		tail += " FOR UPDATE OF d SKIP LOCKED"
	}
	now := formatTime(c.Now)
	var rows []webhookDeliveryRow
	err := s.writer(ctx).Raw(fmt.Sprintf(claimSQL, tail), c.LeaseID, optInstant(c.LeaseUntil),
		ports.DeliveryPending, ports.WebhookActive, now, now).Scan(&rows).Error
	if err != nil {
		return nil, translate("claim webhook deliveries", err)
	}
	out := make([]ports.WebhookDeliveryRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].record()
	}
	slices.SortFunc(out, func(a, b ports.WebhookDeliveryRecord) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// UpdateDelivery locks the delivery's row, applies fn and stores the result, in one transaction.
func (s *Store) UpdateDelivery(ctx context.Context, tenantID, id string, fn func(*ports.WebhookDeliveryRecord) error) (ports.WebhookDeliveryRecord, error) {
	return update[ports.WebhookDeliveryRecord, webhookDeliveryRow](ctx, s, "update webhook delivery",
		ofTenantByID(tenantID, id), webhookDeliveryColumns, fn)
}

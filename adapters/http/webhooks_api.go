package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// The webhooks REST API (/api/v1/webhooks…), for the tenant's admins: subscriptions, their signing secret
// (shown once, on creation and rotation), pause and resume, a test event, and the delivery log. The module
// refuses everyone else too; the route gate only answers sooner.

// skipWebhooksParam is the query parameter of an API write whose events must reach no webhook: a partner
// writing back what it learnt from a webhook sets it so that the write does not come back to it.
const skipWebhooksParam = "skip_webhooks"

func (s *Server) webhookRoutes(api *echo.Group) {
	admin := s.bearer(gateFull, ports.RoleAdmin)
	id := validParams("id")
	api.GET("/webhooks", s.apiListWebhooks, admin)
	api.POST("/webhooks", s.apiCreateWebhook, admin)
	api.GET("/webhooks/event-types", s.apiWebhookEventTypes, admin)
	api.GET("/webhooks/:id", s.apiGetWebhook, admin, id)
	api.PATCH("/webhooks/:id", s.apiUpdateWebhook, admin, id)
	api.DELETE("/webhooks/:id", s.apiDeleteWebhook, admin, id)
	api.POST("/webhooks/:id/rotate-secret", s.apiRotateWebhookSecret, admin, id)
	api.POST("/webhooks/:id/pause", s.apiPauseWebhook, admin, id)
	api.POST("/webhooks/:id/resume", s.apiResumeWebhook, admin, id)
	api.POST("/webhooks/:id/test", s.apiTestWebhook, admin, id)
	api.GET("/webhooks/:id/deliveries", s.apiWebhookDeliveries, admin, id)
}

// skipWebhooks reads skip_webhooks on an API write, marks the request's context with it, and takes it out
// of the query string, so that the handlers, which refuse parameters they do not know, never see it.
func (s *Server) skipWebhooks(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodGet || r.Method == http.MethodHead || !strings.HasPrefix(r.URL.Path, "/api/v1/") ||
			!strings.Contains(r.URL.RawQuery, skipWebhooksParam) {
			return next(c)
		}
		q := r.URL.Query()
		vals, ok := q[skipWebhooksParam]
		if !ok {
			return next(c)
		}
		skip, err := strconv.ParseBool(vals[0])
		if err != nil || len(vals) > 1 {
			return invalidFields([]ports.FieldError{{Field: skipWebhooksParam, Code: "invalid_boolean",
				MessageEN: "must be true or false, once", MessageJA: "true または false を1つ指定してください"}})
		}
		q.Del(skipWebhooksParam)
		r.URL.RawQuery = q.Encode()
		if skip {
			r = r.WithContext(ports.WithSkipWebhooks(r.Context()))
		}
		c.SetRequest(r)
		return next(c)
	}
}

type webhookJSON struct {
	ID                  string   `json:"id"`
	URL                 string   `json:"url"`
	Description         string   `json:"description"`
	EventTypes          []string `json:"event_types"`
	Status              string   `json:"status"`
	PausedAt            *string  `json:"paused_at"`
	PauseReason         string   `json:"pause_reason"`
	PauseMessageJA      string   `json:"pause_message_ja"`
	PauseMessageEN      string   `json:"pause_message_en"`
	PreviousSecretUntil *string  `json:"previous_secret_until"`
	Version             int64    `json:"version"`
	CreatedAt           *string  `json:"created_at"`
	UpdatedAt           *string  `json:"updated_at"`
	// Secret is the signing secret, only in the answer that creates or rotates it.
	Secret string `json:"secret,omitempty"`
}

func toWebhookJSON(w ports.WebhookSubscription) webhookJSON {
	types := w.EventTypes
	if types == nil {
		types = []string{}
	}
	return webhookJSON{ID: w.ID, URL: w.URL, Description: w.Description, EventTypes: types, Status: w.Status,
		PausedAt: rfc3339(w.PausedAt), PauseReason: w.PauseReason, PauseMessageJA: w.PauseMessageJA,
		PauseMessageEN: w.PauseMessageEN, PreviousSecretUntil: rfc3339(w.PreviousSecretUntil), Version: w.Version,
		CreatedAt: rfc3339(w.CreatedAt), UpdatedAt: rfc3339(w.UpdatedAt)}
}

type webhookDeliveryJSON struct {
	ID             string  `json:"id"`
	SubscriptionID string  `json:"subscription_id"`
	EventID        string  `json:"event_id"`
	EventType      string  `json:"event_type"`
	Status         string  `json:"status"`
	Attempts       int     `json:"attempts"`
	LastStatusCode int     `json:"last_status_code"`
	LastError      string  `json:"last_error"`
	LastAttemptAt  *string `json:"last_attempt_at"`
	NextAttemptAt  *string `json:"next_attempt_at"`
	CompletedAt    *string `json:"completed_at"`
	CreatedAt      *string `json:"created_at"`
}

func toWebhookDeliveryJSON(d ports.WebhookDelivery) webhookDeliveryJSON {
	return webhookDeliveryJSON{ID: d.ID, SubscriptionID: d.SubscriptionID, EventID: d.EventID, EventType: d.EventType,
		Status: d.Status, Attempts: d.Attempts, LastStatusCode: d.LastStatusCode, LastError: d.LastError,
		LastAttemptAt: rfc3339(d.LastAttemptAt), NextAttemptAt: rfc3339(d.NextAttemptAt),
		CompletedAt: rfc3339(d.CompletedAt), CreatedAt: rfc3339(d.CreatedAt)}
}

type webhookEventTypeJSON struct {
	Type          string `json:"type"`
	DescriptionJA string `json:"description_ja"`
	DescriptionEN string `json:"description_en"`
}

// replyWebhook answers with the subscription a port call returned and its ETag, or passes its error on.
func replyWebhook(c echo.Context, status int) func(ports.WebhookSubscription, error) error {
	return func(w ports.WebhookSubscription, err error) error {
		if err != nil {
			return err
		}
		return sendVersioned(c, status, "/api/v1/webhooks/"+w.ID, w.Version, toWebhookJSON(w))
	}
}

// replyWebhookSecret is replyWebhook for the answers that carry the new secret, which no cache may keep.
func replyWebhookSecret(c echo.Context, status int) func(ports.WebhookSubscription, string, error) error {
	return func(w ports.WebhookSubscription, secret string, err error) error {
		if err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		body := toWebhookJSON(w)
		body.Secret = secret
		return sendVersioned(c, status, "/api/v1/webhooks/"+w.ID, w.Version, body)
	}
}

func (s *Server) apiListWebhooks(c echo.Context) error {
	return replyItems(c, toWebhookJSON)(s.webhooks.ListSubscriptions(c.Request().Context(), principalOf(c)))
}

func (s *Server) apiWebhookEventTypes(c echo.Context) error {
	return writeJSON(c, http.StatusOK, map[string]any{"items": jsonItems(s.webhooks.EventTypes(),
		func(t ports.WebhookEventType) webhookEventTypeJSON { return webhookEventTypeJSON(t) })})
}

type webhookCreateRequest struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types"`
}

func (s *Server) apiCreateWebhook(c echo.Context) error {
	var req webhookCreateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return replyWebhookSecret(c, http.StatusCreated)(s.webhooks.CreateSubscription(c.Request().Context(), principalOf(c),
		ports.WebhookSubscriptionInput{URL: req.URL, Description: req.Description, EventTypes: req.EventTypes}))
}

func (s *Server) apiGetWebhook(c echo.Context) error {
	return replyWebhook(c, http.StatusOK)(s.webhooks.GetSubscription(c.Request().Context(), principalOf(c), c.Param("id")))
}

// webhookEditRequest changes the members it names; event_types, when named, replaces the list.
type webhookEditRequest struct {
	URL         string   `json:"url"`
	Description *string  `json:"description"`
	EventTypes  []string `json:"event_types"`
}

// apiUpdateWebhook applies If-Match, when sent, as the version the edit is for.
func (s *Server) apiUpdateWebhook(c echo.Context) error {
	version, err := ifMatch(c, false)
	if err != nil {
		return err
	}
	var req webhookEditRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	return replyWebhook(c, http.StatusOK)(s.webhooks.UpdateSubscription(c.Request().Context(), principalOf(c), c.Param("id"),
		ports.WebhookSubscriptionEdit{URL: req.URL, Description: req.Description, EventTypes: req.EventTypes,
			IfVersion: version}))
}

func (s *Server) apiDeleteWebhook(c echo.Context) error {
	if err := s.webhooks.DeleteSubscription(c.Request().Context(), principalOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiRotateWebhookSecret(c echo.Context) error {
	return replyWebhookSecret(c, http.StatusOK)(s.webhooks.RotateSecret(c.Request().Context(), principalOf(c), c.Param("id")))
}

func (s *Server) apiPauseWebhook(c echo.Context) error {
	return replyWebhook(c, http.StatusOK)(s.webhooks.PauseSubscription(c.Request().Context(), principalOf(c), c.Param("id")))
}

func (s *Server) apiResumeWebhook(c echo.Context) error {
	return replyWebhook(c, http.StatusOK)(s.webhooks.ResumeSubscription(c.Request().Context(), principalOf(c), c.Param("id")))
}

// apiTestWebhook queues a webhook.test delivery: 202, since it goes out with the next sending round.
func (s *Server) apiTestWebhook(c echo.Context) error {
	d, err := s.webhooks.SendTestEvent(c.Request().Context(), principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusAccepted, toWebhookDeliveryJSON(d))
}

// webhookDeliveryQuery is the delivery log's query string.
var webhookDeliveryQuery = []string{"cursor", "limit", "status"}

func (s *Server) apiWebhookDeliveries(c echo.Context) error {
	q := c.QueryParams()
	limit, errs := listParams(q, webhookDeliveryQuery)
	if len(errs) > 0 {
		return invalidFields(errs)
	}
	page, err := s.webhooks.ListDeliveries(c.Request().Context(), principalOf(c), c.Param("id"),
		ports.WebhookDeliveryFilter{Status: q.Get("status"), Cursor: q.Get("cursor"), Limit: limit})
	if err != nil {
		return badCursor(err)
	}
	return writePage(c, page.Items, page.NextCursor, toWebhookDeliveryJSON)
}

package web

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// The tenant admin's webhook pages: /admin/webhooks (the subscriptions with their state and why a paused
// one stopped, and the form that adds one, showing its secret once) and /admin/webhooks/{id} (the
// settings, the delivery log and the actions: test event, pause, resume, rotate secret, delete).

const webhooksTitle = "Webhook / Webhooks"

// webhooksView is the pages' content.
type webhooksView struct {
	List       []ports.WebhookSubscription
	EventTypes []webhookTypeOption
	Current    *ports.WebhookSubscription // the detail page's subscription
	Deliveries []ports.WebhookDelivery
	Secret     string // a secret just created or rotated, shown this once
}

type webhookTypeOption struct {
	ports.WebhookEventType
	Checked bool
}

var webhookNotices = map[string]*message{
	"test":    {JA: "テストイベントを送信キューに入れました。数秒後に配信履歴に表示されます。", EN: "The test event is queued; it shows in the delivery log within seconds."},
	"paused":  {JA: "配信を停止しました。", EN: "Deliveries are paused."},
	"resumed": {JA: "配信を再開しました。待機中の配信が送信されます。", EN: "Deliveries resumed; waiting deliveries go out now."},
	"deleted": {JA: "Webhook を削除しました。", EN: "The webhook has been deleted."},
}

func (s *Server) webhookPageRoutes() {
	adminPage := s.session(memberArea, gateFull, ports.RoleAdmin)
	id := validParams("id")
	s.e.GET("/admin/webhooks", s.webhooksPage, s.csrf, adminPage)
	s.e.POST("/admin/webhooks", s.webhookCreateSubmit, s.csrf, adminPage)
	s.e.GET("/admin/webhooks/:id", s.webhookPage, s.csrf, adminPage, id)
	s.e.POST("/admin/webhooks/:id/:action", s.webhookActionSubmit, s.csrf, adminPage, id)
}

// showWebhooks renders the list page with v's message, form and secret.
func (s *Server) showWebhooks(c echo.Context, status int, v *view, checked []string, secret string) error {
	list, err := s.webhooks.ListSubscriptions(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	wv := &webhooksView{List: list, Secret: secret}
	for _, t := range s.webhooks.EventTypes() {
		wv.EventTypes = append(wv.EventTypes, webhookTypeOption{WebhookEventType: t, Checked: slices.Contains(checked, t.Type)})
	}
	v.Title, v.Webhooks = webhooksTitle, wv
	if secret != "" {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	}
	return s.render(c, status, "webhooks", v)
}

func (s *Server) webhooksPage(c echo.Context) error {
	return s.showWebhooks(c, http.StatusOK, &view{Notice: webhookNotices[c.QueryParam("notice")]}, nil, "")
}

// webhookCreateSubmit shows the list again rather than redirecting: the secret appears once and is kept
// nowhere in the clear.
func (s *Server) webhookCreateSubmit(c echo.Context) error {
	f := c.Request().PostForm
	in := ports.WebhookSubscriptionInput{URL: f.Get("url"), Description: f.Get("description"), EventTypes: f["event_types"]}
	_, secret, err := s.webhooks.CreateSubscription(c.Request().Context(), principalOf(c), in)
	if err != nil {
		status, msg, err := formFailure(c, err)
		if err != nil {
			return err
		}
		return s.showWebhooks(c, status, &view{Error: msg,
			Form: map[string]string{"url": kept(in.URL), "description": kept(in.Description)}}, in.EventTypes, "")
	}
	return s.showWebhooks(c, http.StatusCreated, &view{Notice: &message{JA: "Webhook を追加しました。", EN: "The webhook has been added."}},
		nil, secret)
}

// showWebhook renders the detail page of subscription id with its latest deliveries.
func (s *Server) showWebhook(c echo.Context, v *view, secret string) error {
	ctx, p, id := c.Request().Context(), principalOf(c), c.Param("id")
	sub, err := s.webhooks.GetSubscription(ctx, p, id)
	if err != nil {
		return err
	}
	page, err := s.webhooks.ListDeliveries(ctx, p, id, ports.WebhookDeliveryFilter{})
	if err != nil {
		return err
	}
	v.Title, v.Webhooks = "Webhook: "+sub.URL, &webhooksView{Current: &sub, Deliveries: page.Items, Secret: secret}
	if secret != "" {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	}
	return s.render(c, http.StatusOK, "webhooks", v)
}

func (s *Server) webhookPage(c echo.Context) error {
	return s.showWebhook(c, &view{Notice: webhookNotices[c.QueryParam("notice")]}, "")
}

// webhookActionSubmit runs a button of the detail page and comes back to it (Post/Redirect/Get), but for the
// rotation, whose new secret is shown once, and the deletion, which returns to the list.
func (s *Server) webhookActionSubmit(c echo.Context) error {
	ctx, p, id := c.Request().Context(), principalOf(c), c.Param("id")
	var err error
	switch c.Param("action") {
	case "test":
		_, err = s.webhooks.SendTestEvent(ctx, p, id)
	case "pause":
		_, err = s.webhooks.PauseSubscription(ctx, p, id)
	case "resume":
		_, err = s.webhooks.ResumeSubscription(ctx, p, id)
	case "rotate-secret":
		_, secret, err := s.webhooks.RotateSecret(ctx, p, id)
		if err != nil {
			return err
		}
		return s.showWebhook(c, &view{}, secret)
	case "delete":
		if err := s.webhooks.DeleteSubscription(ctx, p, id); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/admin/webhooks?notice=deleted")
	default:
		return errNotFound
	}
	if err != nil {
		_, msg, err := formFailure(c, err)
		if err != nil {
			return err
		}
		return s.showWebhook(c, &view{Error: msg}, "")
	}
	notice := map[string]string{"test": "test", "pause": "paused", "resume": "resumed"}[c.Param("action")]
	return c.Redirect(http.StatusSeeOther, "/admin/webhooks/"+id+"?notice="+notice)
}

package e2e

import (
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/roumu/roumu/ports"
)

// TestHostileWebhookRequestsAreRefusedAndChangeNothing: malformed and hostile requests to the webhooks API
// are each refused with a 4xx problem document, never a 500, and leave the subscriptions and their logs as
// they were.
func TestHostileWebhookRequestsAreRefusedAndChangeNothing(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	hr := a.activate("acme", a.createAccount(admin, "sato", "佐藤 一郎", "hr")).Token
	rcv := newReceiver(t)
	w := a.createWebhook(admin, rcv.URL, "employee.hired")
	path := "/api/v1/webhooks/" + w.ID

	const js = "application/json"
	text := func(s string) io.Reader { return strings.NewReader(s) }
	create := func(set string) io.Reader {
		return text(`{"url":"https://hooks.example.com/x","event_types":["employee.hired"]` + set + `}`)
	}
	cases := []hostileRequest{
		{"truncated JSON", "POST", "/api/v1/webhooks", "admin", js, text(`{"url":"https://`), 400, "malformed_json"},
		{"array body", "POST", "/api/v1/webhooks", "admin", js, text(`[{}]`), 400, "malformed_json"},
		{"unknown member", "POST", "/api/v1/webhooks", "admin", js, create(`,"secret":"whsec_mine"`), 400, "unknown_field"},
		{"duplicate member", "POST", "/api/v1/webhooks", "admin", js, text(`{"url":"https://a.example.com","url":"http://127.0.0.1"}`), 400, "duplicate_field"},
		{"NUL in the description", "POST", "/api/v1/webhooks", "admin", js, create(`,"description":"a\u0000b"`), 400, "malformed_json"},
		{"invalid UTF-8", "POST", "/api/v1/webhooks", "admin", js, create(",\"description\":\"\xff\xfe\""), 400, "malformed_json"},
		{"control character in the description", "POST", "/api/v1/webhooks", "admin", js, create(`,"description":"a\u001bb"`), 422, "validation_failed"},
		{"event types as a string", "POST", "/api/v1/webhooks", "admin", js, text(`{"url":"https://a.example.com","event_types":"employee.hired"}`), 422, "invalid_type"},
		{"unknown event type", "POST", "/api/v1/webhooks", "admin", js, text(`{"url":"https://a.example.com","event_types":["'; DROP TABLE webhook_subscriptions; --"]}`), 422, "validation_failed"},
		{"no event types", "POST", "/api/v1/webhooks", "admin", js, text(`{"url":"https://a.example.com","event_types":[]}`), 422, "validation_failed"},
		{"javascript URL", "POST", "/api/v1/webhooks", "admin", js, text(`{"url":"javascript:alert(1)","event_types":["employee.hired"]}`), 422, "validation_failed"},
		{"URL with a newline", "POST", "/api/v1/webhooks", "admin", js, text(`{"url":"https://a.example.com/\r\nX-Evil: 1","event_types":["employee.hired"]}`), 422, "validation_failed"},
		{"metadata address in decimal", "POST", "/api/v1/webhooks", "admin", js, text(`{"url":"https://2852039166/latest","event_types":["employee.hired"]}`), 422, "validation_failed"},
		{"loopback in short form", "POST", "/api/v1/webhooks", "admin", js, text(`{"url":"https://127.1/","event_types":["employee.hired"]}`), 422, "validation_failed"},
		{"10 kB URL", "POST", "/api/v1/webhooks", "admin", js, text(`{"url":"https://a.example.com/` + strings.Repeat("x", 10000) + `","event_types":["employee.hired"]}`), 422, "validation_failed"},
		{"2 MiB body", "POST", "/api/v1/webhooks", "admin", js, create(`,"description":"` + strings.Repeat("x", 2<<20) + `"`), 413, "body_too_large"},
		{"form encoding", "POST", "/api/v1/webhooks", "admin", "application/x-www-form-urlencoded", text("url=x"), 415, "unsupported_media_type"},
		{"PATCH to a private address", "PATCH", path, "admin", js, text(`{"url":"https://192.168.0.1/"}`), 422, "validation_failed"},
		{"PATCH of the status", "PATCH", path, "admin", js, text(`{"status":"active"}`), 400, "unknown_field"},
		{"unknown action", "POST", path + "/publish", "admin", "", nil, 404, "not_found"},
		{"GET an action", "GET", path + "/test", "admin", "", nil, 405, "method_not_allowed"},
		{"path traversal", "GET", "/api/v1/webhooks/..%2F..%2Fetc%2Fpasswd", "admin", "", nil, 404, "not_found"},
		{"overlong id", "GET", "/api/v1/webhooks/" + strings.Repeat("a", 65), "admin", "", nil, 404, "not_found"},
		{"SQL id", "POST", "/api/v1/webhooks/" + url.PathEscape("1' OR '1'='1") + "/test", "admin", "", nil, 404, "not_found"},
		{"unknown subscription", "POST", "/api/v1/webhooks/nosuch/rotate-secret", "admin", "", nil, 404, "not_found"},
		{"unknown delivery status", "GET", path + "/deliveries?status=lost", "admin", "", nil, 422, "validation_failed"},
		{"unknown log parameter", "GET", path + "/deliveries?sort=asc", "admin", "", nil, 422, "validation_failed"},
		{"huge limit", "GET", path + "/deliveries?limit=100000", "admin", "", nil, 422, "validation_failed"},
		{"garbage cursor", "GET", path + "/deliveries?cursor=" + strings.Repeat("%FF", 10), "admin", "", nil, 400, "invalid_cursor"},
		{"skip_webhooks twice", "POST", "/api/v1/employees?skip_webhooks=true&skip_webhooks=false", "admin", js, text(`{}`), 422, "validation_failed"},
		{"skip_webhooks not a boolean", "DELETE", "/api/v1/employees/nosuch?skip_webhooks=" + url.QueryEscape("' OR 1=1"), "admin", "", nil, 422, "validation_failed"},
		{"create by hr", "POST", "/api/v1/webhooks", "hr", js, create(""), 403, "forbidden"},
		{"no token", "GET", "/api/v1/webhooks", "", "", nil, 401, "unauthenticated"},
	}
	tenant, err := a.env.Store.TenantByCode(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	refuseAll(t, a, map[string]string{"admin": admin, "hr": hr}, cases, func() any {
		subs, err := a.env.Store.ListSubscriptions(t.Context(), tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		log, err := a.env.Store.ListDeliveries(t.Context(), ports.WebhookDeliveryQuery{TenantID: tenant.ID,
			SubscriptionID: w.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return []any{subs, log}
	})
}

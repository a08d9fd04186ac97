package roumusync_test

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/roumu/roumu/examples/roumusync"
)

// A partner's service: a webhook endpoint that asks for a sync when an event arrives (and removes deleted
// employees, which no sync shows), and a sync every ten minutes in case a delivery is late. Both are
// idempotent, so a delivery that arrives twice does no harm. test/e2e/sync_example_test.go runs the client
// and the handler against the service.
func Example() {
	client := &roumusync.Client{BaseURL: "https://roumu.example.jp", Token: os.Getenv("ROUMU_API_TOKEN")}
	var mu sync.Mutex
	var replica roumusync.Replica // load it (and its Mark) from your database
	syncs := make(chan struct{}, 1)
	handler := &roumusync.WebhookHandler{
		Secret: os.Getenv("ROUMU_WEBHOOK_SECRET"),
		Handle: func(_ context.Context, ev roumusync.Event) error {
			if ev.Type == "employee.deleted" {
				var data struct {
					EmployeeID string `json:"employee_id"`
				}
				if err := json.Unmarshal(ev.Data, &data); err != nil {
					return err
				}
				mu.Lock()
				delete(replica.Employees, data.EmployeeID)
				mu.Unlock()
			}
			select { // ask for a sync; one pending is enough
			case syncs <- struct{}{}:
			default:
			}
			return nil
		},
	}
	http.Handle("POST /roumu/webhooks", handler)
	go func() {
		for {
			mu.Lock()
			res, err := client.Sync(context.Background(), &replica)
			mu.Unlock()
			if err != nil {
				log.Printf("sync: %v", err) // an *roumusync.APIError says why, and when to retry after a 429
			}
			for _, e := range res.Changed {
				log.Printf("employee %s (%s) is at version %d", e.EmployeeNumber, e.ID, e.Version)
			}
			select {
			case <-syncs:
			case <-time.After(10 * time.Minute):
			}
		}
	}()
	log.Fatal(http.ListenAndServeTLS(":8443", "cert.pem", "key.pem", nil))
}

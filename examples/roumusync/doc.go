// Package roumusync is an example Roumu integration, written to be copied: it keeps a partner system's copy
// of a tenant's employee register up to date through the REST API, and receives Roumu's webhooks, verifying
// their signatures. It uses the standard library only. docs/webhooks.md describes the webhooks in full.
//
// # Syncing employees
//
// Have a tenant admin create an API token with the employees:read scope (/admin/tokens, or
// POST /api/v1/api-tokens), keep a Replica (in your own database, saved with the mark in one transaction),
// and call Sync every few minutes, or when a webhook says an employee changed:
//
//	c := &roumusync.Client{BaseURL: "https://roumu.example.jp", Token: os.Getenv("ROUMU_API_TOKEN")}
//	res, err := c.Sync(ctx, &replica) // res.Changed: what is new since the last sync
//
// The first Sync reads the whole register, later ones only what changed. Sync pages through
//
//	GET /api/v1/employees?sort=updated_at&updated_since=…&limit=…&cursor=…
//
// whose answer is {"items": [employee, …], "next_cursor": "…"} (next_cursor is null on the last page; send
// the same query with it to read the next), and keeps a high-water mark: the latest updated_at it has seen.
// Three details make that correct:
//
//   - updated_since is inclusive and the API gives updated_at in whole seconds, so a sync reads the records
//     of the mark's second again. Sync keeps a record only when its version is newer than the copy's.
//   - A write's updated_at is taken before it commits: a slow write stamped 10:00:01 may commit after a quick
//     one stamped 10:00:02 that a sync has already read. Sync therefore reads from Overlap before the mark,
//     and the version check drops what it already has.
//   - The pages are in updated_at order, so the mark only grows within a sync and a sync that fails half-way
//     (a network error, a 429 with Retry-After) keeps what it has read and resumes from there.
//
// A deleted employee leaves the list: subscribe to employee.deleted to hear of it.
//
// # Receiving webhooks
//
// WebhookHandler is an http.Handler for the URL you subscribe. It accepts a delivery only when its
// Roumu-Signature verifies (VerifySignature: HMAC-SHA256 with the subscription's secret over the timestamp,
// a full stop and the raw body, signed less than five minutes ago), hands the event to your function, and
// answers 204; an error of yours answers 500, and Roumu sends the delivery again later (for three days). A
// delivery may arrive more than once: Event.ID is the same on every attempt, so ignore IDs you have handled.
package roumusync

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/roumu/roumu/domain/kernel"
)

// operation is one request of a workload, done by worker w; it records itself in stats.
type operation func(ctx context.Context, w *worker, stats phaseStats)

// worker is one concurrent client: its index, its random source and the tenant and session it works in.
type worker struct {
	index  int
	rng    *rand.Rand
	tenant *tenantData
	token  string
}

// weighted picks operations in proportion to their weights.
type weighted struct {
	ops     []operation
	weights []int
	total   int
}

func (m *weighted) add(weight int, op operation) {
	if weight <= 0 {
		return
	}
	m.ops = append(m.ops, op)
	m.weights = append(m.weights, weight)
	m.total += weight
}

func (m *weighted) pick(rng *rand.Rand) operation {
	n := rng.IntN(m.total)
	for i, w := range m.weights {
		if n < w {
			return m.ops[i]
		}
		n -= w
	}
	return m.ops[len(m.ops)-1]
}

// runPhase runs workers that each repeat mix until duration has passed (or, with duration 0, until stop is
// closed), and returns what they measured. setup gives each worker its tenant and session.
func runPhase(ctx context.Context, name string, workers int, duration time.Duration, stop <-chan struct{},
	setup func(*worker), mix *weighted, rss *rssWatcher) phaseResult {
	if rss != nil {
		rss.resetPeak()
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	all := phaseStats{}
	start := time.Now()
	deadline := start.Add(duration)
	for i := range workers {
		w := &worker{index: i, rng: rand.New(rand.NewPCG(uint64(i)+1, uint64(len(name))))}
		setup(w)
		wg.Go(func() {
			mine := phaseStats{}
			for ctx.Err() == nil {
				if duration > 0 && !time.Now().Before(deadline) {
					break
				}
				if duration == 0 && closed(stop) {
					break
				}
				mix.pick(w.rng)(ctx, w, mine)
			}
			mu.Lock()
			all.merge(mine)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var peak int64
	if rss != nil {
		peak = rss.resetPeak()
	}
	return newPhaseResult(name, workers, elapsed, all, peak)
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// listQuery is one of the list requests an HR clerk makes: a name, reading or number search, a filter by
// employment type, a hire-date range in hire-date order, or the register in kana order.
type listQuery struct {
	name   string
	values url.Values
}

func randomListQuery(rng *rand.Rand) listQuery {
	v := url.Values{"limit": {"50"}}
	switch rng.IntN(5) {
	case 0:
		v.Set("q", familyNames[rng.IntN(len(familyNames))][0])
		return listQuery{"search-name", v}
	case 1:
		v.Set("q", givenNames[rng.IntN(len(givenNames))][1])
		return listQuery{"search-kana", v}
	case 2:
		v.Set("q", fmt.Sprintf("E%04d", rng.IntN(1000)))
		return listQuery{"search-number", v}
	case 3:
		v.Set("employment_type", []string{"contract", "part_time", "arbeit"}[rng.IntN(3)])
		return listQuery{"filter-type", v}
	default:
		from := 2005 + rng.IntN(18)
		v.Set("hired_from", fmt.Sprintf("%d-01-01", from))
		v.Set("hired_to", fmt.Sprintf("%d-12-31", from+1))
		v.Set("sort", "hire_date")
		return listQuery{"filter-hired", v}
	}
}

func (w *worker) employee() string { return w.tenant.employees[w.rng.IntN(len(w.tenant.employees))] }

// apiOps are the register's operations through the service's REST API.
type apiOps struct{ api *api }

// record times one request and files it under op: an answer with status want is a success.
func (o apiOps) record(ctx context.Context, stats phaseStats, op string, r request, want int) (response, bool) {
	start := time.Now()
	resp, err := o.api.do(ctx, r)
	d := time.Since(start)
	if err != nil || resp.status != want {
		if ctx.Err() == nil {
			stats.fail(op, d)
		}
		return resp, false
	}
	stats.ok(op, d)
	return resp, true
}

func (o apiOps) list(ctx context.Context, w *worker, stats phaseStats) {
	q := randomListQuery(w.rng)
	o.record(ctx, stats, "list", request{method: http.MethodGet, path: "/api/v1/employees?" + q.values.Encode(),
		token: w.token}, http.StatusOK)
}

func (o apiOps) detail(ctx context.Context, w *worker, stats phaseStats) {
	o.record(ctx, stats, "detail", request{method: http.MethodGet, path: "/api/v1/employees/" + w.employee(),
		token: w.token}, http.StatusOK)
}

// update reads an employee (timed as a detail) and changes its phone number with the ETag it read, as the
// edit form does. A 412 means another worker changed the same employee in between: counted, not an error.
func (o apiOps) update(ctx context.Context, w *worker, stats phaseStats) {
	path := "/api/v1/employees/" + w.employee()
	got, ok := o.record(ctx, stats, "detail", request{method: http.MethodGet, path: path, token: w.token}, http.StatusOK)
	if !ok {
		return
	}
	start := time.Now()
	resp, err := o.api.do(ctx, request{method: http.MethodPatch, path: path, token: w.token, ifMatch: got.etag,
		body: map[string]string{"phone": fmt.Sprintf("03-%04d-%04d", w.rng.IntN(10000), w.rng.IntN(10000))}})
	d := time.Since(start)
	switch {
	case err == nil && resp.status == http.StatusOK:
		stats.ok("update", d)
	case err == nil && resp.status == http.StatusPreconditionFailed:
		stats.ok("update", d)
		stats.op("update").conflicts++
	case ctx.Err() == nil:
		stats.fail("update", d)
	}
}

// procedure is an address change (住所変更届) through the workflow: an HR clerk prepares it for an employee
// and submits it, and the tenant's admin (another person, as the two-person rule wants) approves it.
func (o apiOps) procedure(ctx context.Context, w *worker, stats phaseStats) {
	today := time.Now().In(kernel.Tokyo).Format(time.DateOnly)
	resp, ok := o.record(ctx, stats, "procedure-create", request{method: http.MethodPost, path: "/api/v1/procedures",
		token: w.token, body: map[string]string{"type": "address_change", "employee_id": w.employee(), "fact_date": today}},
		http.StatusCreated)
	var created struct {
		ID string `json:"id"`
	}
	if !ok || json.Unmarshal(resp.body, &created) != nil || created.ID == "" {
		return
	}
	path := "/api/v1/procedures/" + created.ID
	if _, ok := o.record(ctx, stats, "procedure-submit", request{method: http.MethodPost, path: path + "/submit",
		token: w.token}, http.StatusOK); !ok {
		return
	}
	o.record(ctx, stats, "procedure-approve", request{method: http.MethodPost, path: path + "/approve",
		token: w.tenant.adminToken}, http.StatusOK)
}

// login is an HR clerk logging in with the right password (argon2id at the production cost), from any desk of
// the company's network, so that the per-address login limit does not count the harness as one client.
func (o apiOps) login(ctx context.Context, w *worker, stats phaseStats) {
	login := w.tenant.hrLogins[w.rng.IntN(len(w.tenant.hrLogins))]
	o.record(ctx, stats, "login", request{method: http.MethodPost, path: "/api/v1/auth/login",
		forwardedFor: netip.AddrFrom4([4]byte{10, byte(w.rng.IntN(256)), byte(w.rng.IntN(256)), byte(1 + w.rng.IntN(254))}).String(),
		body:         map[string]string{"tenant": w.tenant.code, "login": login, "password": ownPassword}}, http.StatusOK)
}

// me is the cheapest authenticated request: the session check and the caller's account.
func (o apiOps) me(ctx context.Context, w *worker, stats phaseStats) {
	o.record(ctx, stats, "me", request{method: http.MethodGet, path: "/api/v1/me", token: w.token}, http.StatusOK)
}

// hrSessions gives worker i a tenant round robin and one of that tenant's HR sessions.
func hrSessions(tenants []*tenantData) func(*worker) {
	return func(w *worker) {
		w.tenant = tenants[w.index%len(tenants)]
		w.token = w.tenant.hrTokens[(w.index/len(tenants))%len(w.tenant.hrTokens)]
	}
}

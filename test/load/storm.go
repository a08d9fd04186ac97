package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"sort"
	"sync"
	"time"
)

// The login storm: credential stuffing from a few addresses against many identifiers (real accounts and
// logins that do not exist), mixed with real people who mistype their password now and then. Each
// identifier's attempts are made one after another, so that the lockout's expected answer to every attempt
// is known in advance; identifiers are interleaved across the storm's workers.

// lockThreshold is the lockout policy's count of consecutive failures (domain/accounts DefaultLockout).
const lockThreshold = 5

// identifier is one login the storm tries, with its planned attempts (true: the right password).
type identifier struct {
	tenant   *tenantData
	login    string
	real     bool   // an account exists
	attacker bool   // the attempts come from the stuffing addresses
	ip       string // X-Forwarded-For of the attempts
	attempts []bool
	model    lockModel // the lockout as predicted from the attempts the service admitted so far
}

// lockModel is the lockout policy as the storm predicts it for one identifier: 5 consecutive failures lock it
// (the 5th is hashed and already answers 423); a success resets the count; while locked every attempt is 423
// without a hash. It advances only on attempts the service admitted: one refused by the per-address login
// limit (429) never reaches the account.
type lockModel struct {
	failures int
	locked   bool
	hashed   int // attempts that reached the password hash
}

// next returns the status the service must answer to an admitted attempt, and records it.
func (m *lockModel) next(right, real bool) int {
	if m.locked {
		return http.StatusLocked
	}
	m.hashed++
	if right && real {
		m.failures = 0
		return http.StatusOK
	}
	m.failures++
	if m.failures >= lockThreshold {
		m.locked = true
		return http.StatusLocked
	}
	return http.StatusUnauthorized
}

// expected returns the statuses of every planned attempt when all are admitted, whether the identifier ends
// locked, and how many attempts reach the password hash.
func (id identifier) expected() (statuses []int, locked bool, hashed int) {
	var m lockModel
	out := make([]int, len(id.attempts))
	for i, right := range id.attempts {
		out[i] = m.next(right, id.real)
	}
	return out, m.locked, m.hashed
}

// peopleAttempts is how often each real person logs in during the storm: a few times, with typos.
const peopleAttempts = 6

// planStorm plans total attempts on the tenants' storm accounts and as many unknown logins. Half the real
// accounts belong to people who make peopleAttempts attempts, mistyping at most four times in a row before
// getting it right; the rest of the attempts go to the other half and to every unknown login, attacked from
// stuffingIPs with mostly wrong passwords, as credential stuffing hammers few targets many times.
func planStorm(tenants []*tenantData, total, stuffingIPs int, seed uint64) []*identifier {
	rng := rand.New(rand.NewPCG(seed, 7))
	var ids, attacked []*identifier
	for _, t := range tenants {
		for i, login := range t.stormLogins {
			ids = append(ids, &identifier{tenant: t, login: login, real: true, attacker: i%2 == 1})
			ids = append(ids, &identifier{tenant: t, login: fmt.Sprintf("ghost%03d", i+1), attacker: true})
		}
	}
	left := total
	for i, id := range ids {
		if id.attacker {
			id.ip = fmt.Sprintf("203.0.113.%d", 1+rng.IntN(stuffingIPs))
			attacked = append(attacked, id)
			continue
		}
		id.ip = fmt.Sprintf("198.51.100.%d", 1+i%250)
		for len(id.attempts) < min(peopleAttempts, left) {
			for range rng.IntN(lockThreshold) { // 0–4 typos, then the right password
				id.attempts = append(id.attempts, false)
			}
			id.attempts = append(id.attempts, true)
		}
		id.attempts = id.attempts[:min(peopleAttempts, left)]
		left -= len(id.attempts)
	}
	for i, id := range attacked {
		n := left / len(attacked)
		if i < left%len(attacked) {
			n++
		}
		for range n {
			id.attempts = append(id.attempts, rng.IntN(100) < 15) // stuffing lists hold some right passwords
		}
	}
	return ids
}

// stormResult is what the storm measured and whether the lockouts came out exact.
type stormResult struct {
	phase       phaseResult // attempts by outcome
	attempts    int
	identifiers int
	hashed      int // attempts that reached the password check (not refused as locked)
	limited     int // attempts refused by the per-address login limit (429)
	mismatches  []string
	lockedWant  int
	lockedGot   int
	lockErrors  []string
}

func (r stormResult) exact() bool { return len(r.mismatches) == 0 && len(r.lockErrors) == 0 }

// runStorm makes every planned attempt with workers concurrent clients, each identifier's in order.
func runStorm(ctx context.Context, a *api, ids []*identifier, workers int) stormResult {
	res := stormResult{identifiers: len(ids)}
	ready := make(chan int, len(ids))
	next := make([]int, len(ids)) // index of each identifier's next attempt
	for i, id := range ids {
		res.attempts += len(id.attempts)
		if len(id.attempts) > 0 {
			ready <- i
		}
	}
	remaining := res.attempts
	var mu sync.Mutex
	all := phaseStats{}
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			mine := phaseStats{}
			for i := range ready {
				id := ids[i]
				k := next[i] // only the worker holding i touches next[i]
				password := wrongPassword
				if id.attempts[k] {
					password = initialPassword // the storm's accounts never log in otherwise, so keep their first one
				}
				t0 := time.Now()
				resp, err := a.do(ctx, request{method: http.MethodPost, path: "/api/v1/auth/login", forwardedFor: id.ip,
					body: map[string]string{"tenant": id.tenant.code, "login": id.login, "password": password}})
				d := time.Since(t0)
				mu.Lock()
				switch {
				case err != nil:
					mine.fail("login-error", d)
					res.mismatches = append(res.mismatches, fmt.Sprintf("%s/%s #%d: %v", id.tenant.code, id.login, k+1, err))
				case resp.status == http.StatusTooManyRequests && id.attacker:
					res.limited++
					mine.ok("login-429", d)
				default:
					if want := id.model.next(id.attempts[k], id.real); resp.status != want {
						mine.fail(fmt.Sprintf("login-%d", resp.status), d)
						res.mismatches = append(res.mismatches, fmt.Sprintf("%s/%s #%d: got %d, want %d", id.tenant.code,
							id.login, k+1, resp.status, want))
					} else {
						mine.ok(fmt.Sprintf("login-%d", resp.status), d)
					}
				}
				next[i]++
				remaining--
				if next[i] < len(id.attempts) {
					ready <- i
				} else if remaining == 0 {
					close(ready)
				}
				mu.Unlock()
			}
			mu.Lock()
			all.merge(mine)
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, id := range ids {
		res.hashed += id.model.hashed
	}
	res.phase = newPhaseResult("login storm", workers, time.Since(start), all, 0)
	return res
}

// verifyLockouts compares the accounts' lock state, as their tenant admin sees it, with the plan; and
// probes each unknown login once with a wrong password (423 when locked, else 401), each probe from an
// address of its own so that the per-address login limit stays out of the way.
func verifyLockouts(ctx context.Context, a *api, ids []*identifier, res *stormResult) {
	byTenant := map[*tenantData]map[string]bool{} // login → locked, as the admin API reports
	for i, id := range ids {
		locked := id.model.locked
		if locked {
			res.lockedWant++
		}
		var got bool
		if id.real {
			states, ok := byTenant[id.tenant]
			if !ok {
				var err error
				if states, err = lockStates(ctx, a, id.tenant); err != nil {
					res.lockErrors = append(res.lockErrors, err.Error())
					return
				}
				byTenant[id.tenant] = states
			}
			got = states[id.login]
		} else {
			probeIP := netip.AddrFrom4([4]byte{100, 64, byte(i >> 8), byte(i)}).String()
			resp, err := a.do(ctx, request{method: http.MethodPost, path: "/api/v1/auth/login", forwardedFor: probeIP,
				body: map[string]string{"tenant": id.tenant.code, "login": id.login, "password": wrongPassword}})
			if err != nil {
				res.lockErrors = append(res.lockErrors, err.Error())
				continue
			}
			got = resp.status == http.StatusLocked
		}
		if got {
			res.lockedGot++
		}
		if got != locked {
			res.lockErrors = append(res.lockErrors, fmt.Sprintf("%s/%s: locked %v, want %v", id.tenant.code, id.login, got, locked))
		}
	}
	// Nobody else may be locked: the HR staff whose sessions ran the ordinary load, and the admins.
	tenants := make([]*tenantData, 0, len(byTenant))
	for t := range byTenant {
		tenants = append(tenants, t)
	}
	sort.Slice(tenants, func(i, j int) bool { return tenants[i].code < tenants[j].code })
	for _, t := range tenants {
		for login, locked := range byTenant[t] {
			if _, storm := t.stormIDs[login]; !storm && locked {
				res.lockErrors = append(res.lockErrors, fmt.Sprintf("%s/%s is locked but was never attacked", t.code, login))
			}
		}
	}
}

// lockStates lists a tenant's accounts with their lock state.
func lockStates(ctx context.Context, a *api, t *tenantData) (map[string]bool, error) {
	var list struct {
		Items []struct {
			Login  string `json:"login"`
			Locked bool   `json:"locked"`
		} `json:"items"`
	}
	if _, err := a.call(ctx, request{method: http.MethodGet, path: "/api/v1/accounts", token: t.adminToken},
		http.StatusOK, &list); err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(list.Items))
	for _, it := range list.Items {
		out[it.Login] = it.Locked
	}
	return out, nil
}

package porttest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// chainHash is the suites' stand-in for the audit module's hash: enough to tell each link from the next.
func chainHash(prevHash string, seq int64) string {
	return hashOf(prevHash + "|" + strconv.FormatInt(seq, 10))
}

// chained returns a build function that appends e after the head, as the audit module does.
func chained(e ports.AuditEvent) func(ports.AuditRecord) (ports.AuditRecord, error) {
	return func(head ports.AuditRecord) (ports.AuditRecord, error) {
		seq := head.Seq + 1
		return ports.AuditRecord{Seq: seq, Event: e, PrevHash: head.Hash, Hash: chainHash(head.Hash, seq)}, nil
	}
}

func newEvent(tenantID, actorID, action string, when time.Time) ports.AuditEvent {
	return ports.AuditEvent{
		At: when, TenantID: tenantID, ActorID: actorID, ActorKind: "member", Action: action,
		Target: "account:" + actorID, IP: "192.0.2.10", UserAgent: "curl/8.5.0", Outcome: ports.OutcomeSuccess,
		Detail: map[string]string{"reason": "パスワード変更", "via": "browser", "empty": ""},
	}
}

func checkAuditRecord(t *testing.T, got, want ports.AuditRecord) {
	t.Helper()
	checkEq(t, "Seq", got.Seq, want.Seq)
	checkEq(t, "PrevHash", got.PrevHash, want.PrevHash)
	checkEq(t, "Hash", got.Hash, want.Hash)
	g, w := got.Event, want.Event
	checkTime(t, "At", g.At, w.At)
	checkEq(t, "TenantID", g.TenantID, w.TenantID)
	checkEq(t, "ActorID", g.ActorID, w.ActorID)
	checkEq(t, "ActorKind", g.ActorKind, w.ActorKind)
	checkEq(t, "Action", g.Action, w.Action)
	checkEq(t, "Target", g.Target, w.Target)
	checkEq(t, "IP", g.IP, w.IP)
	checkEq(t, "UserAgent", g.UserAgent, w.UserAgent)
	checkEq(t, "Outcome", g.Outcome, w.Outcome)
	checkMap(t, "Detail", g.Detail, w.Detail)
}

func appendAudit(t *testing.T, s Stores, e ports.AuditEvent) ports.AuditRecord {
	t.Helper()
	r, err := s.Audit.AppendAudit(t.Context(), chained(e))
	must(t, err, "AppendAudit")
	return r
}

// listSeqs returns the sequence numbers ListAudit(f) returns.
func listSeqs(t *testing.T, s Stores, f ports.AuditFilter) []int64 {
	t.Helper()
	recs, err := s.Audit.ListAudit(t.Context(), f)
	must(t, err, "ListAudit")
	seqs := []int64{}
	for _, r := range recs {
		seqs = append(seqs, r.Seq)
	}
	return seqs
}

// checkChain fails unless the whole log is records 1 … n, each linked to the one before.
func checkChain(t *testing.T, s Stores, n int) []ports.AuditRecord {
	t.Helper()
	recs, err := s.Audit.ListAudit(t.Context(), ports.AuditFilter{})
	must(t, err, "ListAudit")
	if len(recs) != n {
		t.Fatalf("ListAudit returned %d records, want %d", len(recs), n)
	}
	prev := ""
	for i, r := range recs {
		if r.Seq != int64(i+1) || r.PrevHash != prev || r.Hash != chainHash(prev, r.Seq) {
			t.Fatalf("record %d = {Seq:%d PrevHash:%.8s Hash:%.8s}, want {Seq:%d PrevHash:%.8s Hash:%.8s}",
				i, r.Seq, r.PrevHash, r.Hash, i+1, prev, chainHash(prev, int64(i+1)))
		}
		prev = r.Hash
	}
	return recs
}

// TestAuditStore is the contract suite of ports.AuditStore. ListAudit is checked away from the Since and
// Until instants themselves, whose inclusiveness the port does not fix.
func TestAuditStore(t *testing.T, factory Factory) {
	t.Run("FirstAppendSeesEmptyHead", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Audit")
		list, err := s.Audit.ListAudit(t.Context(), ports.AuditFilter{})
		must(t, err, "ListAudit(empty)")
		checkEq(t, "len(ListAudit(empty))", len(list), 0)

		e := newEvent(newID(), newID(), "auth.login", at(0))
		var head ports.AuditRecord
		got, err := s.Audit.AppendAudit(t.Context(), func(h ports.AuditRecord) (ports.AuditRecord, error) {
			head = h
			return chained(e)(h)
		})
		must(t, err, "AppendAudit")
		if head.Seq != 0 || head.Hash != "" || head.PrevHash != "" {
			t.Errorf("head of the empty chain = {Seq:%d PrevHash:%q Hash:%q}, want the zero record", head.Seq, head.PrevHash, head.Hash)
		}
		want := ports.AuditRecord{Seq: 1, Event: e, Hash: chainHash("", 1)}
		checkAuditRecord(t, got, want)
		recs := checkChain(t, s, 1)
		checkAuditRecord(t, recs[0], want)
	})

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Audit")
		member := newEvent(newID(), newID(), "account.create", at(0))
		provider := ports.AuditEvent{At: at(time.Second), ActorKind: "system", Action: "auth.login", Outcome: ports.OutcomeFailure}
		denied := newEvent(newID(), newID(), "employee.read", at(2*time.Second))
		denied.Outcome, denied.ActorKind, denied.Detail = ports.OutcomeDenied, "token", map[string]string{}
		var want []ports.AuditRecord
		for _, e := range []ports.AuditEvent{member, provider, denied} {
			r := appendAudit(t, s, e)
			want = append(want, r)
			checkEq(t, "appended Seq", r.Seq, int64(len(want)))
			checkMap(t, "appended Detail", r.Event.Detail, e.Detail)
		}
		recs := checkChain(t, s, 3)
		for i := range want {
			checkAuditRecord(t, recs[i], want[i])
		}
	})

	t.Run("BuildSeesHead", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Audit")
		var last ports.AuditRecord
		for i := range 3 {
			last = appendAudit(t, s, newEvent(newID(), newID(), "auth.login", at(time.Duration(i)*time.Second)))
		}
		_, err := s.Audit.AppendAudit(t.Context(), func(head ports.AuditRecord) (ports.AuditRecord, error) {
			// The chain only needs the head's position and hashes.
			checkEq(t, "head.Seq", head.Seq, last.Seq)
			checkEq(t, "head.Hash", head.Hash, last.Hash)
			checkEq(t, "head.PrevHash", head.PrevHash, last.PrevHash)
			return chained(newEvent("", "", "auth.logout", at(time.Minute)))(head)
		})
		must(t, err, "AppendAudit")
		checkChain(t, s, 4)
	})

	t.Run("BuildErrorAppendsNothing", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Audit")
		first := appendAudit(t, s, newEvent(newID(), newID(), "auth.login", at(0)))
		_, err := s.Audit.AppendAudit(t.Context(), func(ports.AuditRecord) (ports.AuditRecord, error) {
			return ports.AuditRecord{}, fmt.Errorf("cannot hash: %w", errBoom)
		})
		checkIs(t, "AppendAudit(build fails)", err, errBoom)
		recs := checkChain(t, s, 1)
		checkAuditRecord(t, recs[0], first)
		second := appendAudit(t, s, newEvent(newID(), newID(), "auth.login", at(time.Second)))
		checkEq(t, "Seq after a failed build", second.Seq, 2)
	})

	t.Run("ListFilters", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Audit")
		a, b, a1, a2, b1 := newID(), newID(), newID(), newID(), newID()
		h := time.Hour
		for _, e := range []ports.AuditEvent{
			newEvent(a, a1, "auth.login", at(0)),              // 1
			newEvent(a, a2, "account.create", at(h)),          // 2
			newEvent(b, b1, "auth.login", at(2*h)),            // 3
			newEvent("", "", "auth.login", at(3*h)),           // 4: provider level, unknown actor
			newEvent(a, a1, "account.create", at(4*h)),        // 5
			newEvent(b, b1, "account.update", at(5*h)),        // 6
			newEvent(a, a1, "auth.login", at(30*time.Minute)), // 7: recorded late; order is by Seq, not At
		} {
			appendAudit(t, s, e)
		}
		for _, c := range []struct {
			name string
			f    ports.AuditFilter
			want []int64
		}{
			{"none", ports.AuditFilter{}, []int64{1, 2, 3, 4, 5, 6, 7}},
			{"TenantID", ports.AuditFilter{TenantID: a}, []int64{1, 2, 5, 7}},
			{"unknown TenantID", ports.AuditFilter{TenantID: newID()}, []int64{}},
			{"ActorID", ports.AuditFilter{ActorID: a1}, []int64{1, 5, 7}},
			{"Action", ports.AuditFilter{Action: "auth.login"}, []int64{1, 3, 4, 7}},
			{"Since", ports.AuditFilter{Since: at(90 * time.Minute)}, []int64{3, 4, 5, 6}},
			{"Until", ports.AuditFilter{Until: at(150 * time.Minute)}, []int64{1, 2, 3, 7}},
			{"Since and Until", ports.AuditFilter{Since: at(45 * time.Minute), Until: at(270 * time.Minute)}, []int64{2, 3, 4, 5}},
			{"Since in UTC", ports.AuditFilter{Since: at(90 * time.Minute).UTC()}, []int64{3, 4, 5, 6}},
			{"AfterSeq", ports.AuditFilter{AfterSeq: 4}, []int64{5, 6, 7}},
			{"Limit", ports.AuditFilter{Limit: 3}, []int64{1, 2, 3}},
			{"AfterSeq and Limit", ports.AuditFilter{AfterSeq: 2, Limit: 2}, []int64{3, 4}},
			{"TenantID and Action", ports.AuditFilter{TenantID: a, Action: "auth.login"}, []int64{1, 7}},
			{"TenantID and ActorID", ports.AuditFilter{TenantID: b, ActorID: a1}, []int64{}},
			{"TenantID, AfterSeq and Limit", ports.AuditFilter{TenantID: a, AfterSeq: 2, Limit: 1}, []int64{5}},
			{"everything", ports.AuditFilter{TenantID: a, ActorID: a1, Action: "account.create", Since: at(h), Until: at(6 * h), AfterSeq: 1, Limit: 10}, []int64{5}},
		} {
			if got := listSeqs(t, s, c.f); !slices.Equal(got, c.want) {
				t.Errorf("ListAudit(%s) returned Seq %v, want %v", c.name, got, c.want)
			}
		}
	})

	t.Run("NoAliasing", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Audit")
		e := newEvent(newID(), newID(), "auth.login", at(0))
		want := maps.Clone(e.Detail)
		r := appendAudit(t, s, e)
		e.Detail["reason"] = "spoiled"
		r.Event.Detail["via"] = "spoiled"
		recs, err := s.Audit.ListAudit(t.Context(), ports.AuditFilter{})
		must(t, err, "ListAudit")
		recs[0].Event.Detail["empty"] = "spoiled"
		recs = checkChain(t, s, 1)
		checkMap(t, "Detail", recs[0].Event.Detail, want)
	})

	t.Run("ConcurrentAppend", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Audit")
		const n = 20
		seqs := make([]int64, n)
		concurrently(n, func(i int) {
			r, err := s.Audit.AppendAudit(t.Context(), chained(newEvent("", "", "test."+strconv.Itoa(i), at(0))))
			if err != nil {
				t.Errorf("AppendAudit #%d: %v", i, err)
			}
			seqs[i] = r.Seq
		})
		// One chain: 1 … n without gaps, each record linked to the one before it, each append its own Seq.
		recs := checkChain(t, s, n)
		slices.Sort(seqs)
		for i, seq := range seqs {
			if seq != int64(i+1) {
				t.Fatalf("AppendAudit returned Seq %v, want 1 … %d each once", seqs, n)
			}
		}
		actions := map[string]bool{}
		for _, r := range recs {
			actions[r.Event.Action] = true
		}
		checkEq(t, "distinct events kept", len(actions), n)
	})
}

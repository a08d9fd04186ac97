// Package audit is the provider's tamper-evident audit log: every security and data event is appended to a hash
// chain in which each entry commits to the previous entry's hash and to its own canonical content, so that
// changing, removing or reordering any entry breaks every hash after it.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/roumu/roumu/ports"
)

// maxFieldLength bounds each text field, so one hostile request cannot bloat the log.
const maxFieldLength = 512

// Log implements ports.AuditLog over an AuditStore.
type Log struct {
	store ports.AuditStore
	clock ports.Clock
}

var _ ports.AuditLog = (*Log)(nil)

// New returns the audit log.
func New(store ports.AuditStore, clock ports.Clock) *Log { return &Log{store: store, clock: clock} }

// Record appends e to the chain. Outside text is made safe first: control characters (a newline that could
// forge a second entry in an export) become U+FFFD and long fields are cut.
func (l *Log) Record(ctx context.Context, e ports.AuditEvent) error {
	e = sanitize(e)
	if e.At.IsZero() {
		e.At = l.clock.Now()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond) // what every store keeps, so the hash verifies after a round trip
	_, err := l.store.AppendAudit(ctx, func(head ports.AuditRecord) (ports.AuditRecord, error) {
		rec := ports.AuditRecord{Seq: head.Seq + 1, Event: e, PrevHash: head.Hash}
		rec.Hash = Hash(rec)
		return rec, nil
	})
	return err
}

// Hash is the chain hash of a record: SHA-256 over the previous hash and the record's canonical JSON.
func Hash(r ports.AuditRecord) string {
	detail := r.Event.Detail
	if len(detail) == 0 {
		detail = nil // a store may give back an empty map for none: both hash alike
	}
	canonical, err := json.Marshal(struct {
		Seq       int64             `json:"seq"`
		PrevHash  string            `json:"prev_hash"`
		At        string            `json:"at"`
		TenantID  string            `json:"tenant_id"`
		ActorID   string            `json:"actor_id"`
		ActorKind string            `json:"actor_kind"`
		Action    string            `json:"action"`
		Target    string            `json:"target"`
		IP        string            `json:"ip"`
		UserAgent string            `json:"user_agent"`
		Outcome   string            `json:"outcome"`
		Detail    map[string]string `json:"detail"` // encoding/json sorts map keys: canonical
	}{r.Seq, r.PrevHash, r.Event.At.UTC().Format(time.RFC3339Nano), r.Event.TenantID, r.Event.ActorID,
		r.Event.ActorKind, r.Event.Action, r.Event.Target, r.Event.IP, r.Event.UserAgent, r.Event.Outcome, detail})
	if err != nil {
		panic("audit: marshalling strings cannot fail: " + err.Error())
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// BrokenError names the first entry at which the chain does not verify.
type BrokenError struct {
	Seq    int64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit chain broken at entry %d: %s", e.Seq, e.Reason)
}

// walkPage is how many entries walk reads at a time.
const walkPage = 1000

// Verify walks the whole chain and returns the number of entries checked, or a *BrokenError naming the first
// entry that is missing, out of order, or does not hash to what the next entry committed to. With checkpoints
// (nil for none) it also names the first entry whose hash differs from a signed checkpoint, and a chain that
// ends before a checkpoint's entry (its tail removed); so even a chain rewritten consistently from some entry
// on, hashes and all, is caught up to the newest checkpoint.
func Verify(ctx context.Context, store ports.AuditStore, checkpoints ports.AuditCheckpoints) (int64, error) {
	anchors := map[int64]string{}
	var newest int64
	if checkpoints != nil {
		cps, err := checkpoints.Checkpoints(ctx)
		if err != nil {
			return 0, fmt.Errorf("audit checkpoints: %w", err)
		}
		for _, c := range cps {
			if h, seen := anchors[c.Seq]; seen && h != c.Hash {
				return 0, &BrokenError{Seq: c.Seq, Reason: "two checkpoints disagree about this entry"}
			}
			anchors[c.Seq] = c.Hash
			newest = max(newest, c.Seq)
		}
	}
	var prev ports.AuditRecord
	err := walk(ctx, store, 0, func(r ports.AuditRecord) error {
		switch {
		case r.Seq != prev.Seq+1:
			return &BrokenError{Seq: prev.Seq + 1, Reason: fmt.Sprintf("entry missing (next is %d)", r.Seq)}
		case r.PrevHash != prev.Hash:
			return &BrokenError{Seq: r.Seq, Reason: "does not link to the previous entry"}
		case Hash(r) != r.Hash:
			return &BrokenError{Seq: r.Seq, Reason: "content does not match its hash"}
		}
		if h, ok := anchors[r.Seq]; ok && h != r.Hash {
			return &BrokenError{Seq: r.Seq, Reason: "differs from the signed checkpoint (the chain was rewritten)"}
		}
		prev = r
		return nil
	})
	if err == nil && prev.Seq < newest {
		err = &BrokenError{Seq: prev.Seq + 1,
			Reason: fmt.Sprintf("entry missing: a signed checkpoint names entry %d, the chain ends at %d", newest, prev.Seq)}
	}
	return prev.Seq, err
}

// walk gives fn every record after the entry after, in order, a page at a time; it stops at fn's first error.
func walk(ctx context.Context, store ports.AuditStore, after int64, fn func(ports.AuditRecord) error) error {
	for {
		page, err := store.ListAudit(ctx, ports.AuditFilter{AfterSeq: after, Limit: walkPage})
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
			after = r.Seq
		}
		if len(page) < walkPage {
			return nil
		}
	}
}

// Checkpointer writes signed checkpoints of the chain's head outside the database (periodically, from the
// serve command). Only entries since the last checkpoint are read, so a run costs little however long the
// chain grows. Several instances may checkpoint the same chain: any (Seq, Hash) of the chain is a true
// statement, so duplicates are harmless.
type Checkpointer struct {
	store       ports.AuditStore
	checkpoints ports.AuditCheckpoints
	clock       ports.Clock
	last        ports.AuditRecord // the head at the last checkpoint (Seq 0 before the first run)
	loaded      bool
}

// NewCheckpointer returns a checkpointer; it is not safe for concurrent use (one goroutine runs it).
func NewCheckpointer(store ports.AuditStore, checkpoints ports.AuditCheckpoints, clock ports.Clock) *Checkpointer {
	return &Checkpointer{store: store, checkpoints: checkpoints, clock: clock}
}

// Checkpoint writes a checkpoint of the current head when the chain has grown since the last one and returns
// how many entries it newly covers.
func (c *Checkpointer) Checkpoint(ctx context.Context) (int, error) {
	if !c.loaded {
		cps, err := c.checkpoints.Checkpoints(ctx)
		if err != nil {
			return 0, fmt.Errorf("audit checkpoints: %w", err)
		}
		for _, cp := range cps {
			if cp.Seq > c.last.Seq {
				c.last = ports.AuditRecord{Seq: cp.Seq, Hash: cp.Hash}
			}
		}
		c.loaded = true
	}
	head := c.last
	if err := walk(ctx, c.store, head.Seq, func(r ports.AuditRecord) error { head = r; return nil }); err != nil {
		return 0, err
	}
	if head.Seq == c.last.Seq {
		return 0, nil
	}
	err := c.checkpoints.AppendCheckpoint(ctx, ports.AuditCheckpoint{Seq: head.Seq, Hash: head.Hash, At: c.clock.Now().UTC()})
	if err != nil {
		return 0, fmt.Errorf("audit checkpoint: %w", err)
	}
	n := head.Seq - c.last.Seq
	c.last = head
	return int(n), nil
}

func sanitize(e ports.AuditEvent) ports.AuditEvent {
	for _, f := range []*string{&e.TenantID, &e.ActorID, &e.ActorKind, &e.Action, &e.Target, &e.IP, &e.UserAgent, &e.Outcome} {
		*f = safeText(*f)
	}
	if e.Detail != nil {
		d := make(map[string]string, len(e.Detail))
		for k, v := range e.Detail {
			d[safeText(k)] = safeText(v)
		}
		e.Detail = d
	}
	return e
}

func safeText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > maxFieldLength {
		s = string([]rune(s)[:maxFieldLength])
	}
	return s
}

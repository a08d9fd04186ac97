package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// newIncident returns an open incident with every incident field set, visible from its posting on.
func newIncident(id string) ports.NoticeRecord {
	return ports.NoticeRecord{ID: id, Kind: ports.NoticeIncident, Severity: ports.SeverityMajor,
		NoticeText: ports.NoticeText{TitleJA: "一部機能の障害", TitleEN: "Partial outage", BodyJA: "調査中です。\n続報します。", BodyEN: "Investigating."},
		KnownAt:    at(-time.Hour), DeadlineAt: at(0), PostedAt: at(-30 * time.Minute), PostedBy: "op-1",
		VisibleFrom: at(-30 * time.Minute), UpdatedAt: at(-30 * time.Minute)}
}

// newMaintenance returns a four-hour maintenance window from starts, visible from t0 to its end.
func newMaintenance(id string, starts time.Time) ports.NoticeRecord {
	return ports.NoticeRecord{ID: id, Kind: ports.NoticeMaintenance, Severity: ports.SeverityInfo,
		NoticeText: ports.NoticeText{TitleJA: "定期メンテナンス", BodyJA: "サービスを停止します。"}, StartsAt: starts, EndsAt: starts.Add(4 * time.Hour),
		PostedAt: at(0), PostedBy: "op-2", VisibleFrom: at(0), VisibleUntil: starts.Add(4 * time.Hour), UpdatedAt: at(0)}
}

func checkNotice(t *testing.T, got, want ports.NoticeRecord) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "Kind", got.Kind, want.Kind)
	checkEq(t, "Severity", got.Severity, want.Severity)
	checkEq(t, "NoticeText", got.NoticeText, want.NoticeText)
	checkTime(t, "KnownAt", got.KnownAt, want.KnownAt)
	checkTime(t, "DeadlineAt", got.DeadlineAt, want.DeadlineAt)
	checkTime(t, "ResolvedAt", got.ResolvedAt, want.ResolvedAt)
	checkTime(t, "StartsAt", got.StartsAt, want.StartsAt)
	checkTime(t, "EndsAt", got.EndsAt, want.EndsAt)
	checkTime(t, "CancelledAt", got.CancelledAt, want.CancelledAt)
	checkTime(t, "PostedAt", got.PostedAt, want.PostedAt)
	checkEq(t, "PostedBy", got.PostedBy, want.PostedBy)
	checkTime(t, "VisibleFrom", got.VisibleFrom, want.VisibleFrom)
	checkTime(t, "VisibleUntil", got.VisibleUntil, want.VisibleUntil)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

// noticeIDs returns the IDs of ns, in order.
func noticeIDs(ns []ports.NoticeRecord) []string {
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	return ids
}

func createNotices(t *testing.T, s ports.NoticeStore, ns ...ports.NoticeRecord) {
	t.Helper()
	for _, n := range ns {
		must(t, s.CreateNotice(t.Context(), n), "CreateNotice")
	}
}

// storedNotice returns the stored notice id, found through ListNotices (the port has no lookup by ID).
func storedNotice(t *testing.T, s ports.NoticeStore, id string) ports.NoticeRecord {
	t.Helper()
	all, err := s.ListNotices(t.Context(), ports.NoticeFilter{})
	must(t, err, "ListNotices")
	for _, n := range all {
		if n.ID == id {
			return n
		}
	}
	t.Fatalf("notice %s is not stored", id)
	return ports.NoticeRecord{}
}

// newNoticeFixture returns a NoticeStore with one open incident in it.
func newNoticeFixture(t *testing.T, factory Factory) (ports.NoticeStore, ports.NoticeRecord) {
	t.Helper()
	s := open(t, factory, "Notices").Notices
	inc := newIncident(newID())
	createNotices(t, s, inc)
	return s, inc
}

// TestNoticeStore is the contract suite of ports.NoticeStore. Notices belong to no tenant.
func TestNoticeStore(t *testing.T, factory Factory) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Notices").Notices
		inc, m := newIncident(newID()), newMaintenance(newID(), at(40*24*time.Hour))
		m.CancelledAt = at(time.Hour)
		createNotices(t, s, inc, m)
		checkNotice(t, storedNotice(t, s, inc.ID), inc) // zero ResolvedAt, StartsAt, EndsAt, VisibleUntil stay zero
		checkNotice(t, storedNotice(t, s, m.ID), m)
	})

	t.Run("IDConflict", func(t *testing.T) {
		t.Parallel()
		s, inc := newNoticeFixture(t, factory)
		dup := newMaintenance(inc.ID, at(time.Hour))
		checkIs(t, "CreateNotice(same ID)", s.CreateNotice(t.Context(), dup), ports.ErrConflict)
		checkNotice(t, storedNotice(t, s, inc.ID), inc)
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		s, inc := newNoticeFixture(t, factory)
		want := inc
		want.ResolvedAt, want.VisibleUntil, want.UpdatedAt, want.TitleEN = at(time.Hour), at(73*time.Hour), at(time.Hour), ""
		got, err := s.UpdateNotice(t.Context(), inc.ID, func(n *ports.NoticeRecord) error {
			checkNotice(t, *n, inc) // fn sees the stored record
			n.ResolvedAt, n.VisibleUntil, n.UpdatedAt, n.TitleEN = want.ResolvedAt, want.VisibleUntil, want.UpdatedAt, want.TitleEN
			n.ID = newID() // the identity is not fn's to change
			return nil
		})
		must(t, err, "UpdateNotice")
		checkNotice(t, got, want)
		checkNotice(t, storedNotice(t, s, inc.ID), want)
		_, err = s.UpdateNotice(t.Context(), newID(), func(*ports.NoticeRecord) error { return nil })
		checkIs(t, "UpdateNotice(unknown ID)", err, ports.ErrNotFound)
	})

	t.Run("UpdateErrorChangesNothing", func(t *testing.T) {
		t.Parallel()
		s, inc := newNoticeFixture(t, factory)
		_, err := s.UpdateNotice(t.Context(), inc.ID, func(n *ports.NoticeRecord) error {
			n.TitleJA, n.ResolvedAt = "changed", at(time.Hour)
			return errBoom
		})
		checkIs(t, "UpdateNotice(fn fails)", err, errBoom)
		checkNotice(t, storedNotice(t, s, inc.ID), inc)
	})

	t.Run("RollbackInTx", func(t *testing.T) {
		t.Parallel()
		st := open(t, factory, "Notices", "Tx")
		inc := newIncident(newID())
		createNotices(t, st.Notices, inc)
		lost := newMaintenance(newID(), at(time.Hour))
		err := st.Tx.InTx(t.Context(), func(ctx context.Context) error {
			must(t, st.Notices.CreateNotice(ctx, lost), "CreateNotice(in tx)")
			_, err := st.Notices.UpdateNotice(ctx, inc.ID, func(n *ports.NoticeRecord) error {
				n.ResolvedAt = at(time.Hour)
				return nil
			})
			must(t, err, "UpdateNotice(in tx)")
			return errBoom
		})
		checkIs(t, "InTx(fn fails)", err, errBoom)
		all, err := st.Notices.ListNotices(t.Context(), ports.NoticeFilter{})
		must(t, err, "ListNotices")
		checkStrings(t, "notices after rollback", noticeIDs(all), []string{inc.ID})
		checkNotice(t, all[0], inc)
	})

	t.Run("ConcurrentUpdates", func(t *testing.T) {
		t.Parallel()
		s, inc := newNoticeFixture(t, factory)
		checkOneWins(t, "resolutions", 20, ports.ErrConflict, func(i int) error {
			_, err := s.UpdateNotice(t.Context(), inc.ID, func(n *ports.NoticeRecord) error {
				if !n.ResolvedAt.IsZero() {
					return ports.ErrConflict
				}
				n.ResolvedAt, n.PostedBy = at(time.Hour), "op-"+itoa(i)
				return nil
			})
			return err
		})
		checkTime(t, "ResolvedAt", storedNotice(t, s, inc.ID).ResolvedAt, at(time.Hour))
	})

	t.Run("ListCurrentNotices", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Notices").Notices
		current := newIncident("b-open") // visible from at(-30m), no end
		closed := newIncident("c-closed")
		closed.VisibleFrom, closed.VisibleUntil = at(-2*time.Hour), at(-time.Hour)
		soon := newMaintenance("d-soon", at(48*time.Hour)) // visible from at(0) to its end
		sameStart := newMaintenance("a-same", at(72*time.Hour))
		sameStart.VisibleUntil = at(73 * time.Hour)
		createNotices(t, s, current, closed, soon, sameStart)
		for _, tc := range []struct {
			at   time.Time
			want []string
		}{
			{at(-3 * time.Hour), nil},
			{at(-2 * time.Hour), []string{"c-closed"}}, // VisibleFrom is inclusive
			{at(-time.Hour), nil},                      // VisibleUntil is exclusive
			{at(-30 * time.Minute), []string{"b-open"}},
			{at(0), []string{"a-same", "d-soon", "b-open"}}, // newest VisibleFrom first, then by ID
			{at(52*time.Hour - time.Microsecond), []string{"a-same", "d-soon", "b-open"}},
			{at(52 * time.Hour), []string{"a-same", "b-open"}},
			{at(73 * time.Hour), []string{"b-open"}},
		} {
			got, err := s.ListCurrentNotices(t.Context(), tc.at.In(time.UTC))
			must(t, err, "ListCurrentNotices")
			checkStrings(t, "current at "+tc.at.String(), noticeIDs(got), tc.want)
		}
		got, err := s.ListCurrentNotices(t.Context(), at(0))
		must(t, err, "ListCurrentNotices")
		checkNotice(t, got[1], soon)
	})

	t.Run("ListNotices", func(t *testing.T) {
		t.Parallel()
		s := open(t, factory, "Notices").Notices
		inc := newIncident("inc")
		m1 := newMaintenance("m1", at(40*24*time.Hour))
		m2 := newMaintenance("m2", at(80*24*time.Hour))
		m2.PostedAt = at(time.Minute)
		m3 := newMaintenance("m3", at(90*24*time.Hour)) // posted with m1: by ID after it
		createNotices(t, s, m3, inc, m1, m2)
		for _, tc := range []struct {
			name string
			f    ports.NoticeFilter
			want []string
		}{
			{"all", ports.NoticeFilter{}, []string{"m2", "m1", "m3", "inc"}},
			{"limit", ports.NoticeFilter{Limit: 2}, []string{"m2", "m1"}},
			{"kind", ports.NoticeFilter{Kind: ports.NoticeIncident}, []string{"inc"}},
			{"starts from (inclusive)", ports.NoticeFilter{Kind: ports.NoticeMaintenance, StartsFrom: m2.StartsAt}, []string{"m2", "m3"}},
			{"starts before (exclusive)", ports.NoticeFilter{Kind: ports.NoticeMaintenance, StartsBefore: m2.StartsAt}, []string{"m1"}},
			{"starts between", ports.NoticeFilter{StartsFrom: m1.StartsAt.Add(time.Microsecond), StartsBefore: m3.StartsAt}, []string{"m2"}},
			// A start bound selects maintenance windows: an incident has no start to be before anything.
			{"starts before, any kind", ports.NoticeFilter{StartsBefore: m2.StartsAt.In(time.UTC)}, []string{"m1"}},
		} {
			got, err := s.ListNotices(t.Context(), tc.f)
			must(t, err, "ListNotices")
			checkStrings(t, tc.name, noticeIDs(got), tc.want)
		}
	})
}

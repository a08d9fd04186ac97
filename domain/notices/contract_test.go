package notices_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// This file is the contract suite of ports.NoticeStore, written in the style of ports/porttest so that it can
// move there (as TestNoticeStore(t, factory)) once the memory and SQL adapters implement the port. Until
// then it runs against the in-test fake.

func TestNoticeStoreContract(t *testing.T) {
	t.Parallel()
	testNoticeStore(t, func(*testing.T) ports.NoticeStore { return newFakeNotices() })
}

// contractJST is the zone of the suite's inputs: not UTC, so a store that keeps the wall clock fails.
var contractJST = time.FixedZone("JST", 9*60*60)

var contractT0 = time.Date(2025, time.April, 1, 9, 30, 15, 123456000, contractJST)

func cat(d time.Duration) time.Time { return contractT0.Add(d) }

func sampleIncident(id string) ports.NoticeRecord {
	return ports.NoticeRecord{ID: id, Kind: ports.NoticeIncident, Severity: ports.SeverityMajor,
		NoticeText: ports.NoticeText{TitleJA: "一部機能の障害", TitleEN: "Partial outage", BodyJA: "調査中です。\n続報します。", BodyEN: "Investigating."},
		KnownAt:    cat(-time.Hour), DeadlineAt: cat(0), PostedAt: cat(-30 * time.Minute), PostedBy: "op-1",
		VisibleFrom: cat(-30 * time.Minute), UpdatedAt: cat(-30 * time.Minute)}
}

func sampleMaintenance(id string, starts time.Time) ports.NoticeRecord {
	return ports.NoticeRecord{ID: id, Kind: ports.NoticeMaintenance, Severity: ports.SeverityInfo,
		NoticeText: ports.NoticeText{TitleJA: "定期メンテナンス", BodyJA: "サービスを停止します。"}, StartsAt: starts, EndsAt: starts.Add(4 * time.Hour),
		PostedAt: cat(0), PostedBy: "op-2", VisibleFrom: cat(0), VisibleUntil: starts.Add(4 * time.Hour), UpdatedAt: cat(0)}
}

// utcMicros returns n with every instant in UTC at microsecond precision, as a store keeps them.
func utcMicros(n ports.NoticeRecord) ports.NoticeRecord {
	for _, t := range []*time.Time{&n.KnownAt, &n.DeadlineAt, &n.ResolvedAt, &n.StartsAt, &n.EndsAt,
		&n.CancelledAt, &n.PostedAt, &n.VisibleFrom, &n.VisibleUntil, &n.UpdatedAt} {
		*t = t.UTC().Truncate(time.Microsecond)
	}
	return n
}

func sameNotice(t *testing.T, got, want ports.NoticeRecord) {
	t.Helper()
	if utcMicros(got) != utcMicros(want) {
		t.Errorf("notice = %+v\nwant %+v", got, want)
	}
}

func ids(ns []ports.NoticeRecord) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

func sameIDs(t *testing.T, what string, got []ports.NoticeRecord, want ...string) {
	t.Helper()
	g := ids(got)
	if len(g) != len(want) {
		t.Errorf("%s = %v, want %v", what, g, want)
		return
	}
	for i := range g {
		if g[i] != want[i] {
			t.Errorf("%s = %v, want %v", what, g, want)
			return
		}
	}
}

func testNoticeStore(t *testing.T, factory func(*testing.T) ports.NoticeStore) {
	t.Run("create and list keep every field", func(t *testing.T) {
		t.Parallel()
		s := factory(t)
		inc := sampleIncident("n-1")
		if err := s.CreateNotice(t.Context(), inc); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateNotice(t.Context(), inc); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("duplicate ID: %v, want ErrConflict", err)
		}
		all, err := s.ListNotices(t.Context(), ports.NoticeFilter{})
		if err != nil || len(all) != 1 {
			t.Fatalf("ListNotices = %v, %v", all, err)
		}
		sameNotice(t, all[0], inc)
	})
	t.Run("update is atomic and all-or-nothing", func(t *testing.T) {
		t.Parallel()
		s := factory(t)
		inc := sampleIncident("n-1")
		if err := s.CreateNotice(t.Context(), inc); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateNotice(t.Context(), "nosuch", func(*ports.NoticeRecord) error { return nil }); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("unknown ID: %v, want ErrNotFound", err)
		}
		boom := errors.New("boom")
		if _, err := s.UpdateNotice(t.Context(), inc.ID, func(n *ports.NoticeRecord) error {
			n.TitleJA = "changed"
			return boom
		}); !errors.Is(err, boom) {
			t.Errorf("failing fn: %v, want its error", err)
		}
		var winners atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				_, err := s.UpdateNotice(t.Context(), inc.ID, func(n *ports.NoticeRecord) error {
					if !n.ResolvedAt.IsZero() {
						return ports.ErrConflict
					}
					n.ResolvedAt, n.VisibleUntil = cat(time.Hour), cat(time.Hour+72*time.Hour)
					return nil
				})
				if err == nil {
					winners.Add(1)
				} else if !errors.Is(err, ports.ErrConflict) {
					t.Errorf("concurrent update: %v", err)
				}
			})
		}
		wg.Wait()
		if winners.Load() != 1 {
			t.Errorf("%d updates won, want exactly 1", winners.Load())
		}
		all, _ := s.ListNotices(t.Context(), ports.NoticeFilter{})
		want := inc
		want.ResolvedAt, want.VisibleUntil = cat(time.Hour), cat(time.Hour+72*time.Hour)
		sameNotice(t, all[0], want)
	})
	t.Run("current notices are those visible at the instant", func(t *testing.T) {
		t.Parallel()
		s := factory(t)
		open := sampleIncident("open") // visible from cat(-30m), no end
		closed := sampleIncident("closed")
		closed.VisibleFrom, closed.VisibleUntil = cat(-2*time.Hour), cat(-time.Hour)
		soon := sampleMaintenance("soon", cat(48*time.Hour)) // visible from cat(0) to its end
		for _, n := range []ports.NoticeRecord{open, closed, soon} {
			if err := s.CreateNotice(t.Context(), n); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			at   time.Time
			want []string
		}{
			{cat(-90 * time.Minute), []string{"closed"}},
			{cat(-time.Hour), nil}, // VisibleUntil is exclusive
			{cat(-30 * time.Minute), []string{"open"}},
			{cat(0), []string{"soon", "open"}}, // VisibleFrom inclusive; newest first
			{cat(52*time.Hour - time.Microsecond), []string{"soon", "open"}},
			{cat(52 * time.Hour), []string{"open"}},
		} {
			got, err := s.ListCurrentNotices(t.Context(), tc.at.In(time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			sameIDs(t, "current at "+tc.at.String(), got, tc.want...)
		}
	})
	t.Run("list filters by kind and start and orders newest first", func(t *testing.T) {
		t.Parallel()
		s := factory(t)
		inc := sampleIncident("inc")
		m1 := sampleMaintenance("m1", cat(40*24*time.Hour))
		m2 := sampleMaintenance("m2", cat(80*24*time.Hour))
		m2.PostedAt = cat(time.Minute)
		for _, n := range []ports.NoticeRecord{inc, m1, m2} {
			if err := s.CreateNotice(t.Context(), n); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name string
			f    ports.NoticeFilter
			want []string
		}{
			{"all", ports.NoticeFilter{}, []string{"m2", "m1", "inc"}},
			{"limit", ports.NoticeFilter{Limit: 2}, []string{"m2", "m1"}},
			{"kind", ports.NoticeFilter{Kind: ports.NoticeIncident}, []string{"inc"}},
			{"starts from (inclusive)", ports.NoticeFilter{Kind: ports.NoticeMaintenance, StartsFrom: m2.StartsAt}, []string{"m2"}},
			{"starts before (exclusive)", ports.NoticeFilter{Kind: ports.NoticeMaintenance, StartsBefore: m2.StartsAt}, []string{"m1"}},
		} {
			got, err := s.ListNotices(t.Context(), tc.f)
			if err != nil {
				t.Fatal(err)
			}
			sameIDs(t, tc.name, got, tc.want...)
		}
	})
}

package operations_test

import (
	"errors"
	"maps"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// This file is the contract suite of ports.OperationRequestStore, written in the style of ports/porttest so
// that it can move there (as TestOperationRequestStore(t, factory)) once the memory and SQL adapters
// implement the port. Until then it runs against the in-test fake.

func TestOperationRequestStoreContract(t *testing.T) {
	t.Parallel()
	testOperationRequestStore(t, func(*testing.T) ports.OperationRequestStore { return newFakeRequests() })
}

// contractT0 is in a non-UTC zone, so a store that keeps the wall clock instead of the instant fails.
var contractT0 = time.Date(2025, time.April, 1, 9, 30, 15, 123456000, time.FixedZone("JST", 9*60*60))

func cat(d time.Duration) time.Time { return contractT0.Add(d) }

// utcMicros returns r with every instant in UTC at microsecond precision, as a store keeps them.
func utcMicros(r ports.OperationRequest) ports.OperationRequest {
	for _, t := range []*time.Time{&r.RequestedAt, &r.ExpiresAt, &r.DecidedAt, &r.StartedAt, &r.FinishedAt, &r.UpdatedAt} {
		*t = t.UTC().Truncate(time.Microsecond)
	}
	return r
}

func sameRequest(t *testing.T, got, want ports.OperationRequest) {
	t.Helper()
	g, w := utcMicros(got), utcMicros(want)
	if len(g.Params) == 0 && len(w.Params) == 0 {
		g.Params, w.Params = nil, nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("request = %+v\nwant %+v", got, want)
	}
}

func sampleRequest(id string, requestedAt time.Time) ports.OperationRequest {
	return ports.OperationRequest{ID: id, Kind: ports.OpTenantSuspend,
		Params: map[string]string{"tenant_id": "t-1", "note": "未払い\tのため"}, Reason: "契約解除の申し出\n2回目",
		Status: ports.OperationPending, RequestedBy: "op-1", RequestedByLogin: "alice", RequestedAt: requestedAt,
		ExpiresAt: requestedAt.Add(24 * time.Hour), UpdatedAt: requestedAt}
}

func testOperationRequestStore(t *testing.T, factory func(*testing.T) ports.OperationRequestStore) {
	t.Run("create and read keep every field", func(t *testing.T) {
		t.Parallel()
		s := factory(t)
		r := sampleRequest("r-1", cat(0))
		if err := s.CreateOperationRequest(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateOperationRequest(t.Context(), r); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("duplicate ID: %v, want ErrConflict", err)
		}
		if _, err := s.OperationRequest(t.Context(), "nosuch"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("unknown ID: %v, want ErrNotFound", err)
		}
		got, err := s.OperationRequest(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameRequest(t, got, r)
		got.Params["tenant_id"] = "changed by the caller" // the store hands out copies
		again, _ := s.OperationRequest(t.Context(), r.ID)
		sameRequest(t, again, r)
	})
	t.Run("a full work record round-trips", func(t *testing.T) {
		t.Parallel()
		s := factory(t)
		r := sampleRequest("r-1", cat(0))
		if err := s.CreateOperationRequest(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		want := r
		want.Params = maps.Clone(r.Params)
		want.Status, want.DecidedBy, want.DecidedByLogin, want.DecidedAt, want.DecisionComment = ports.OperationExecuted, "op-2", "bob", cat(time.Hour), "確認しました"
		want.ExecutedBy, want.ExecutedByLogin, want.StartedAt, want.FinishedAt = "op-2", "bob", cat(time.Hour+time.Second), cat(time.Hour+2*time.Second)
		want.Result, want.Error, want.UpdatedAt = "suspended", "", cat(time.Hour+2*time.Second)
		got, err := s.UpdateOperationRequest(t.Context(), r.ID, func(x *ports.OperationRequest) error {
			sameRequest(t, *x, r)
			*x = want
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sameRequest(t, got, want)
		stored, _ := s.OperationRequest(t.Context(), r.ID)
		sameRequest(t, stored, want)
	})
	t.Run("update is all-or-nothing and serialised", func(t *testing.T) {
		t.Parallel()
		s := factory(t)
		r := sampleRequest("r-1", cat(0))
		if err := s.CreateOperationRequest(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateOperationRequest(t.Context(), "nosuch", func(*ports.OperationRequest) error { return nil }); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("unknown ID: %v, want ErrNotFound", err)
		}
		boom := errors.New("boom")
		if _, err := s.UpdateOperationRequest(t.Context(), r.ID, func(x *ports.OperationRequest) error {
			x.Status = ports.OperationApproved
			x.Params["tenant_id"] = "t-2"
			return boom
		}); !errors.Is(err, boom) {
			t.Errorf("failing fn: %v, want its error", err)
		}
		got, _ := s.OperationRequest(t.Context(), r.ID)
		sameRequest(t, got, r)
		var winners atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				_, err := s.UpdateOperationRequest(t.Context(), r.ID, func(x *ports.OperationRequest) error {
					if x.Status != ports.OperationPending {
						return ports.ErrConflict
					}
					x.Status, x.DecidedBy = ports.OperationApproved, "op-"+string(rune('a'+i))
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
			t.Errorf("%d concurrent approvals won, want exactly 1", winners.Load())
		}
	})
	t.Run("list filters and orders newest first", func(t *testing.T) {
		t.Parallel()
		s := factory(t)
		a := sampleRequest("a", cat(0))
		b := sampleRequest("b", cat(time.Minute))
		b.Kind = ports.OpKeyRotation
		b.Params = nil
		c := sampleRequest("c", cat(2*time.Minute))
		c.Status = ports.OperationRejected
		for _, r := range []ports.OperationRequest{a, b, c} {
			if err := s.CreateOperationRequest(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name string
			f    ports.OperationFilter
			want []string
		}{
			{"all", ports.OperationFilter{}, []string{"c", "b", "a"}},
			{"limit", ports.OperationFilter{Limit: 1}, []string{"c"}},
			{"status", ports.OperationFilter{Status: ports.OperationPending}, []string{"b", "a"}},
			{"kind", ports.OperationFilter{Kind: ports.OpKeyRotation}, []string{"b"}},
			{"status and kind", ports.OperationFilter{Status: ports.OperationRejected, Kind: ports.OpKeyRotation}, nil},
		} {
			got, err := s.ListOperationRequests(t.Context(), tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, ids, tc.want)
			}
		}
	})
}

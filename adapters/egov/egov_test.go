package egov

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

var start = time.Date(2026, 4, 6, 1, 2, 3, 0, time.UTC) // 10:02:03 in Tokyo

func submission(tenant, ref string) ports.Submission {
	return ports.Submission{
		TenantID: tenant, Reference: ref, FormType: ports.FormHealthPensionAcquisition,
		Attachments: []ports.FilingAttachment{{Name: "SHFD0006.CSV", ContentType: "text/csv; charset=Shift_JIS", Data: []byte("2200700\r\n")}},
	}
}

// testGateway is the contract of a ports.FilingGateway whose office takes review and complete to respond,
// driven by advance.
func testGateway(t *testing.T, g ports.FilingGateway, advance func(time.Duration), review, complete time.Duration) {
	ctx := context.Background()
	number, err := g.Submit(ctx, submission("t1", "proc-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9]{20}$`).MatchString(number) {
		t.Errorf("arrival number %q is not 20 digits", number)
	}
	expect := func(want ports.FilingState) {
		t.Helper()
		st, err := g.Status(ctx, number)
		if err != nil || st.State != want || st.ArrivalNumber != number || st.Message == "" {
			t.Fatalf("status = %+v, %v; want %s with a message", st, err, want)
		}
	}
	expect(ports.FilingArrived)
	advance(review - time.Second)
	expect(ports.FilingArrived)
	advance(time.Second)
	expect(ports.FilingUnderReview)
	advance(complete - review - time.Second)
	expect(ports.FilingUnderReview)
	advance(time.Second)
	expect(ports.FilingCompleted)
	advance(30 * 24 * time.Hour)
	expect(ports.FilingCompleted) // final

	// A retried submission files once; another tenant's same reference is another filing.
	again, err := g.Submit(ctx, submission("t1", "proc-1"))
	if err != nil || again != number {
		t.Errorf("resubmission = %q, %v; want %q", again, err, number)
	}
	other, err := g.Submit(ctx, submission("t2", "proc-1"))
	if err != nil || other == number {
		t.Errorf("another tenant's filing = %q, %v", other, err)
	}

	if _, err := g.Status(ctx, "00000000000000000000"); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("unknown arrival number: %v", err)
	}

	invalid := map[string]ports.Submission{
		"no files":     {TenantID: "t1", FormType: ports.FormHealthPensionLoss},
		"empty file":   {TenantID: "t1", FormType: ports.FormHealthPensionLoss, Attachments: []ports.FilingAttachment{{Name: "a.pdf"}}},
		"unknown form": func() ports.Submission { s := submission("t1", "x"); s.FormType = "annual_leave"; return s }(),
		"no tenant":    submission("", "y"),
	}
	for name, s := range invalid {
		if _, err := g.Submit(ctx, s); !errors.Is(err, ports.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}

	// Concurrent submissions get distinct numbers; concurrent retries of one reference get one.
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := fmt.Sprintf("p-%d", i)
			if i%2 == 0 {
				ref = "shared"
			}
			n, err := g.Submit(ctx, submission("t3", ref))
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = g.Status(ctx, n)
			mu.Lock()
			seen[n]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(seen) != 21 {
		t.Errorf("%d distinct arrival numbers for 20 references and 20 retries of one, want 21", len(seen))
	}
}

func TestFakeGatewayContract(t *testing.T) {
	t.Parallel()
	clock := kernel.NewFakeClock(start)
	testGateway(t, New(clock), clock.Advance, DefaultReviewAfter, DefaultCompleteAfter)

	clock2 := kernel.NewFakeClock(start)
	testGateway(t, New(clock2, WithTimings(time.Minute, 10*time.Minute)), clock2.Advance, time.Minute, 10*time.Minute)
}

func TestArrivalNumberIsDatedInTokyo(t *testing.T) {
	t.Parallel()
	g := New(kernel.NewFakeClock(start))
	n, err := g.Submit(context.Background(), submission("t", "r"))
	if err != nil || n != "20260406100203000001" {
		t.Errorf("arrival number = %q, %v", n, err)
	}
	st, _ := g.Status(context.Background(), n)
	if !st.UpdatedAt.Equal(start) {
		t.Errorf("arrived at %v, want %v", st.UpdatedAt, start)
	}
}

func TestCorrectionRequested(t *testing.T) {
	t.Parallel()
	clock := kernel.NewFakeClock(start)
	g := New(clock, WithCorrections(func(s ports.Submission) string {
		if s.Reference == "needs-fix" {
			return "標準報酬月額の記載に誤りがあります"
		}
		return ""
	}))
	ctx := context.Background()
	fix, _ := g.Submit(ctx, submission("t", "needs-fix"))
	ok, _ := g.Submit(ctx, submission("t", "fine"))
	clock.Advance(DefaultReviewAfter)
	if st, _ := g.Status(ctx, fix); st.State != ports.FilingUnderReview {
		t.Errorf("before the decision: %+v", st)
	}
	clock.Advance(DefaultCompleteAfter)
	st, err := g.Status(ctx, fix)
	if err != nil || st.State != ports.FilingCorrectionRequested || !st.State.Final() || st.Message != "補正が必要です: 標準報酬月額の記載に誤りがあります" {
		t.Errorf("correction: %+v, %v", st, err)
	}
	if st, _ := g.Status(ctx, ok); st.State != ports.FilingCompleted {
		t.Errorf("the other filing: %+v", st)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g := New(kernel.NewFakeClock(start))
	if _, err := g.Submit(ctx, submission("t", "r")); !errors.Is(err, context.Canceled) {
		t.Errorf("Submit: %v", err)
	}
	if _, err := g.Status(ctx, "1"); !errors.Is(err, context.Canceled) {
		t.Errorf("Status: %v", err)
	}
}

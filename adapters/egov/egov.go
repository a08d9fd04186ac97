// Package egov is a fake e-Gov electronic-filing gateway for tests and the demo: it accepts a submission, returns
// an arrival number (到達番号) and moves the filing through 到達 → 審査中 → 手続終了 (or 補正) as its clock advances.
// The real service needs a registered software key that Roumu does not have (DOMAIN.md); this adapter keeps the
// rest of the filing path real. State lives in memory, so a restart forgets every filing: do not use it where
// filings must be kept.
package egov

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/roumu/roumu/ports"
)

// Defaults: review starts an hour after arrival and the office finishes a day after it.
const (
	DefaultReviewAfter   = time.Hour
	DefaultCompleteAfter = 24 * time.Hour
)

// maxAttachmentBytes mirrors e-Gov's limit on one application's attachments.
const maxAttachmentBytes = 50 << 20

// Gateway is the fake. It is safe for concurrent use.
type Gateway struct {
	clock         ports.Clock
	reviewAfter   time.Duration
	completeAfter time.Duration
	correction    func(ports.Submission) string

	mu       sync.Mutex
	seq      uint64
	filings  map[string]*filing // by arrival number
	byTenant map[string]string  // tenant + "\x00" + reference → arrival number
}

type filing struct {
	arrived    time.Time
	correction string // non-empty: the filing ends in 補正 with this message
}

// Option configures a Gateway.
type Option func(*Gateway)

// WithTimings sets how long after arrival review starts and the office finishes.
func WithTimings(reviewAfter, completeAfter time.Duration) Option {
	return func(g *Gateway) { g.reviewAfter, g.completeAfter = reviewAfter, completeAfter }
}

// WithCorrections makes the office ask for a correction (補正) instead of finishing when decide returns a
// message for a submission; tests use it to walk the 補正 path.
func WithCorrections(decide func(ports.Submission) string) Option {
	return func(g *Gateway) { g.correction = decide }
}

// New returns a fake gateway whose filings progress with clock.
func New(clock ports.Clock, opts ...Option) *Gateway {
	g := &Gateway{
		clock: clock, reviewAfter: DefaultReviewAfter, completeAfter: DefaultCompleteAfter,
		filings: map[string]*filing{}, byTenant: map[string]string{},
	}
	for _, o := range opts {
		o(g)
	}
	return g
}

var _ ports.FilingGateway = (*Gateway)(nil)

// knownForms are the procedures this gateway accepts (e-Gov's proc_id).
var knownForms = map[string]bool{
	ports.FormHealthPensionAcquisition:       true,
	ports.FormHealthPensionLoss:              true,
	ports.FormEmploymentInsuranceAcquisition: true,
}

// Submit validates and files s. The same tenant and reference filed again returns the first arrival number.
func (g *Gateway) Submit(ctx context.Context, s ports.Submission) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := validate(s); err != nil {
		return "", err
	}
	var correction string
	if g.correction != nil {
		correction = g.correction(s)
	}
	now := g.clock.Now().UTC()
	key := s.TenantID + "\x00" + s.Reference
	g.mu.Lock()
	defer g.mu.Unlock()
	if number, ok := g.byTenant[key]; ok && s.Reference != "" {
		return number, nil
	}
	g.seq++
	// 到達番号: the arrival time in Tokyo to the second and a serial, 20 digits.
	number := fmt.Sprintf("%s%06d", now.In(tokyo).Format("20060102150405"), g.seq%1_000_000)
	g.filings[number] = &filing{arrived: now, correction: correction}
	if s.Reference != "" {
		g.byTenant[key] = number
	}
	return number, nil
}

// Status reports where the filing stands now.
func (g *Gateway) Status(ctx context.Context, arrivalNumber string) (ports.FilingStatus, error) {
	if err := ctx.Err(); err != nil {
		return ports.FilingStatus{}, err
	}
	g.mu.Lock()
	f, ok := g.filings[arrivalNumber]
	g.mu.Unlock()
	if !ok {
		return ports.FilingStatus{}, ports.NewError(ports.ErrNotFound, "filing_not_found",
			"no filing has this arrival number", "この到達番号の申請はありません")
	}
	now := g.clock.Now().UTC()
	st := ports.FilingStatus{ArrivalNumber: arrivalNumber}
	switch {
	case now.Sub(f.arrived) >= g.completeAfter && f.correction != "":
		st.State, st.UpdatedAt, st.Message = ports.FilingCorrectionRequested, f.arrived.Add(g.completeAfter), "補正が必要です: "+f.correction
	case now.Sub(f.arrived) >= g.completeAfter:
		st.State, st.UpdatedAt, st.Message = ports.FilingCompleted, f.arrived.Add(g.completeAfter), "手続が終了しました"
	case now.Sub(f.arrived) >= g.reviewAfter:
		st.State, st.UpdatedAt, st.Message = ports.FilingUnderReview, f.arrived.Add(g.reviewAfter), "審査中です"
	default:
		st.State, st.UpdatedAt, st.Message = ports.FilingArrived, f.arrived, "到達しました"
	}
	return st, nil
}

// validate checks what e-Gov checks on arrival: a known procedure, a tenant, and files that are not empty.
func validate(s ports.Submission) error {
	var fields []ports.FieldError
	bad := func(field, code, en, ja string) {
		fields = append(fields, ports.FieldError{Field: field, Code: code, MessageEN: en, MessageJA: ja})
	}
	if strings.TrimSpace(s.TenantID) == "" {
		bad("tenant_id", "required", "the tenant is required", "テナントは必須です")
	}
	if !knownForms[s.FormType] {
		bad("form_type", "unknown_form", "this procedure cannot be filed electronically here", "この手続は電子申請できません")
	}
	if len(s.Attachments) == 0 {
		bad("attachments", "required", "a submission needs at least one file", "申請には少なくとも1つのファイルが必要です")
	}
	total := 0
	for i, a := range s.Attachments {
		if strings.TrimSpace(a.Name) == "" || len(a.Data) == 0 {
			bad(fmt.Sprintf("attachments[%d]", i), "empty", "every file needs a name and content", "ファイル名と内容が必要です")
		}
		total += len(a.Data)
	}
	if total > maxAttachmentBytes {
		bad("attachments", "too_large", "the files exceed 50 MiB", "添付ファイルの合計が上限（50MiB）を超えています")
	}
	if len(fields) > 0 {
		return ports.Invalid("submission_invalid", "the submission was refused", "申請が受け付けられませんでした", fields...)
	}
	return nil
}

// tokyo is Asia/Tokyo, where arrival numbers are dated.
var tokyo = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return loc
	}
	return time.FixedZone("JST", 9*60*60)
}()

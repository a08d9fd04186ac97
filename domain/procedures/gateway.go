package procedures

import (
	"context"
	"errors"
	"fmt"

	"github.com/roumu/roumu/ports"
)

// GatewayFiler is the ports.ProcedureFiler of electronic filing through a ports.FilingGateway (e-Gov): it
// submits a procedure with its files under the procedure's ID and filing count as the reference (so a
// retried filing files once), and reads the office's 手続終了 or 補正 from the gateway's status.
type GatewayFiler struct {
	Gateway ports.FilingGateway
	// Attachments makes the files of a procedure's submission (the electronic-filing data, the form PDF),
	// from the procedure's snapshot and what the register holds sealed: the Service's FilingAttachments.
	Attachments func(ctx context.Context, tenantID string, p ports.Procedure) ([]ports.FilingAttachment, error)
}

var _ ports.ProcedureFiler = GatewayFiler{}

// File implements ports.ProcedureFiler.
func (g GatewayFiler) File(ctx context.Context, tenantID string, p ports.Procedure) (string, error) {
	if g.Gateway == nil || g.Attachments == nil {
		return "", errors.New("procedures: GatewayFiler needs a Gateway and Attachments")
	}
	files, err := g.Attachments(ctx, tenantID, p)
	if err != nil {
		return "", fmt.Errorf("procedures: documents of %s: %w", p.ID, err)
	}
	// The reference counts the procedure's filings as its 媒体通番 does: a retried filing files once, and
	// one filed again after a 補正 is a new submission, not the corrected one's number again.
	ref := fmt.Sprintf("%s/%03d", p.ID, mediaSequence(p))
	return g.Gateway.Submit(ctx, ports.Submission{TenantID: tenantID, Reference: ref, FormType: p.Type, Attachments: files})
}

// Progress implements ports.ProcedureFiler: 到達 and 審査中 are not done; 手続終了 is accepted; 補正 is done
// and not accepted, with the office's message.
func (g GatewayFiler) Progress(ctx context.Context, _ string, arrivalNumber string) (ports.FilingProgress, error) {
	st, err := g.Gateway.Status(ctx, arrivalNumber)
	if err != nil {
		return ports.FilingProgress{}, err
	}
	return ports.FilingProgress{Done: st.State.Final(), Accepted: st.State == ports.FilingCompleted, Message: st.Message}, nil
}

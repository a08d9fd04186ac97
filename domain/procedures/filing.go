package procedures

import (
	"context"
	"errors"
	"fmt"

	"github.com/roumu/roumu/ports"
)

// pollBatch is how many filed procedures one round of PollFilings reads.
const pollBatch = 100

// fileElectronically submits an approved procedure through the Filer before the file transition records
// it. The submission happens outside the transaction (it is a call to an office); the Filer returns the
// same arrival number for the same procedure, so a file action retried after a failure files once.
func (s *Service) fileElectronically(ctx context.Context, p ports.Principal, id string, a ports.ProcedureAction) (string, error) {
	rec, err := s.Procedures.ProcedureByID(ctx, p.TenantID, id)
	if err != nil {
		return "", notFoundAs(err)
	}
	d, err := decodeData(rec.Data)
	if err != nil {
		return "", err
	}
	// Refuse early what the transition would refuse, so that nothing reaches the office.
	if err := workflow[ports.ActionFile].check(a.Action, rec.Status, p, d.Preparers, a.Comment); err != nil {
		return "", err
	}
	v, err := view(rec)
	if err != nil {
		return "", err
	}
	arrival, err := s.Filer.File(ctx, p.TenantID, v)
	if err != nil {
		return "", fmt.Errorf("procedures: filing %s: %w", id, err)
	}
	return arrival, nil
}

// PollFilings implements ports.Procedures: for every electronic filing awaiting its office's answer, it asks
// the Filer, and completes the procedure (手続終了) or returns it to its preparers with the office's message
// (補正), as FilingActor. Without a Filer there is nothing to poll. A filing the office cannot be asked
// about now stays filed for the next round.
func (s *Service) PollFilings(ctx context.Context) (int, error) {
	if s.Filer == nil {
		return 0, nil
	}
	moved, after := 0, ""
	var errs []error
	for {
		keys, err := s.Procedures.FiledProcedures(ctx, after, pollBatch)
		if err != nil {
			return moved, err
		}
		for _, k := range keys {
			after = k.ID
			ok, err := s.pollOne(ctx, k)
			if err != nil {
				errs = append(errs, fmt.Errorf("procedures: polling %s: %w", k.ID, err))
				continue
			}
			if ok {
				moved++
			}
		}
		if len(keys) < pollBatch {
			return moved, errors.Join(errs...)
		}
	}
}

// pollOne asks about one filing and records a final answer; it reports whether the procedure moved.
func (s *Service) pollOne(ctx context.Context, k ports.ProcedureKey) (bool, error) {
	rec, err := s.Procedures.ProcedureByID(ctx, k.TenantID, k.ID)
	if err != nil {
		return false, err
	}
	prog, err := s.Filer.Progress(ctx, k.TenantID, rec.ArrivalNumber)
	if err != nil || !prog.Done {
		return false, err
	}
	a := ports.ProcedureAction{Action: ports.ActionComplete, Comment: "手続終了 (completed by the office)", IfVersion: rec.Version}
	if !prog.Accepted {
		a = ports.ProcedureAction{Action: ports.ActionReturn, Comment: "補正: " + prog.Message, IfVersion: rec.Version}
	}
	_, err = s.transition(ctx, system(k.TenantID, FilingActor), k.ID, a, nil)
	if errors.Is(err, ports.ErrPreconditionFailed) || errors.Is(err, ports.ErrConflict) {
		return false, nil // someone acted on it meanwhile; the next round sees what they did
	}
	return err == nil, err
}

package operations

import (
	"context"
	"errors"
	"fmt"

	"github.com/roumu/roumu/ports"
)

// ServerExecutor is the work record's executor of a command run on the server: no operator account, the
// command and the system user who ran it.
func ServerExecutor(command, user string) string { return "server: " + command + " (" + user + ")" }

// RunOnServer executes an approved request of a server-side kind (Deps.OnServer) from the command on the
// server: it claims the request (approved → executing, so that it runs once), runs the action, and stores
// the work record executed, or failed with the reason, with its audit entry. The action runs outside any
// transaction of this module and may replace the whole database, the work record included (a restore):
// the record is then stored again as it ends, so that the restored database holds it. A request of another
// kind, not approved, or expired is refused before anything runs; a failed action is not an error of
// RunOnServer: the returned record says failed and why.
func (s *Service) RunOnServer(ctx context.Context, id, kind, executor string, action func(context.Context, ports.OperationRequest) (string, error)) (ports.OperationRequest, error) {
	if !s.onServer(kind) {
		return ports.OperationRequest{}, fmt.Errorf("operations: %q is not a server-side operation", kind)
	}
	now := s.Clock.Now()
	expired := false
	claimed, err := s.Requests.UpdateOperationRequest(ctx, id, func(r *ports.OperationRequest) error {
		switch {
		case r.Kind != kind:
			return ports.NewError(ports.ErrConflict, "wrong_operation",
				"This request is for another operation ("+r.Kind+").", "この申請は別の操作（"+r.Kind+"）のものです。")
		case r.Status != ports.OperationApproved:
			return ports.NewError(ports.ErrConflict, codeNotApproved,
				"Only an approved request that has not run can be executed ("+s.effective(*r, now).Status+").",
				"承認済みで未実行の申請のみ実行できます（"+s.effective(*r, now).Status+"）。")
		}
		if expired = expireIfDue(r, now); expired {
			return nil
		}
		r.Status, r.ExecutedByLogin, r.StartedAt, r.UpdatedAt = ports.OperationExecuting, executor, now, now
		return nil
	})
	if err != nil {
		return ports.OperationRequest{}, notFoundAs(err)
	}
	system := ports.Principal{Kind: "system", Login: executor}
	if expired {
		if err := s.record(ctx, systemEvent("operation.expire", claimed)); err != nil {
			return ports.OperationRequest{}, err
		}
		return ports.OperationRequest{}, errExpired()
	}
	final := claimed
	result, runErr := action(ctx, claimed)
	final.Status, final.Result = ports.OperationExecuted, result
	if runErr != nil {
		final.Status, final.Result, final.Error = ports.OperationFailed, "", errorText(runErr)
	}
	final.FinishedAt = s.Clock.Now()
	final.UpdatedAt = final.FinishedAt
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		_, err := s.Requests.UpdateOperationRequest(ctx, id, func(r *ports.OperationRequest) error {
			*r = final
			return nil
		})
		if errors.Is(err, ports.ErrNotFound) {
			err = s.Requests.CreateOperationRequest(ctx, final)
		}
		if err != nil {
			return err
		}
		e := event(system, "operation.execute", final)
		if runErr != nil {
			e.Outcome = ports.OutcomeFailure
		}
		return s.record(ctx, e)
	})
	if err != nil {
		return final, fmt.Errorf("operations: recording the end of %s (%s): %w", id, final.Status, err)
	}
	return final, nil
}

package operations_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/operations"
	"github.com/roumu/roumu/ports"
)

const backupSHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func (e *env) requestRestore(t *testing.T, by ports.Principal) ports.OperationRequest {
	t.Helper()
	r, err := e.svc.Request(t.Context(), by, ports.RequestOperationCommand{Kind: ports.OpRestore, Reason: "誤操作の復旧",
		Params: map[string]string{operations.RestoreFileParam: "roumu-2025-06-01.roumu", operations.RestoreSHA256Param: strings.ToUpper(backupSHA256)}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRestoreRequestParameters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for name, tc := range map[string]struct {
		params map[string]string
		fields []string
	}{
		"nothing":       {nil, []string{"params.backup_file", "params.backup_sha256"}},
		"a path":        {map[string]string{"backup_file": "/backups/x.roumu", "backup_sha256": backupSHA256}, []string{"params.backup_file"}},
		"parent":        {map[string]string{"backup_file": "..", "backup_sha256": backupSHA256}, []string{"params.backup_file"}},
		"short digest":  {map[string]string{"backup_file": "x.roumu", "backup_sha256": backupSHA256[:63]}, []string{"params.backup_sha256"}},
		"not hex":       {map[string]string{"backup_file": "x.roumu", "backup_sha256": "z" + backupSHA256[1:]}, []string{"params.backup_sha256"}},
		"unknown param": {map[string]string{"backup_file": "x.roumu", "backup_sha256": backupSHA256, "force": "true"}, []string{"params.force"}},
	} {
		_, err := e.svc.Request(t.Context(), op("alice"), ports.RequestOperationCommand{Kind: ports.OpRestore, Params: tc.params, Reason: "r"})
		pe, ok := ports.AsError(err)
		if !ok || !errors.Is(err, ports.ErrInvalid) {
			t.Fatalf("%s: %v", name, err)
		}
		var got []string
		for _, f := range pe.Fields {
			got = append(got, f.Field)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.fields) {
			t.Errorf("%s: fields %v, want %v", name, got, tc.fields)
		}
	}
	order, err := operations.ParseRestore(e.requestRestore(t, op("alice")).Params)
	if err != nil || order.SHA256 != backupSHA256 || order.File != "roumu-2025-06-01.roumu" {
		t.Fatalf("ParseRestore = %+v, %v", order, err)
	}
}

// TestRestoreRunsOnTheServer: an approved restore waits for the command on the server, which claims it
// once; the console cannot execute it; its approval expires with the request.
func TestRestoreRunsOnTheServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	alice, bob := op("alice"), op("bob")
	r := e.requestRestore(t, alice)
	if _, err := e.svc.Approve(ctx, alice, r.ID, ""); errCode(err) != "self_approval" {
		t.Fatalf("self-approval of a restore: %v", err)
	}
	r, err := e.svc.Approve(ctx, bob, r.ID, "")
	if err != nil || r.Status != ports.OperationApproved || !r.StartedAt.IsZero() {
		t.Fatalf("approved restore: %+v %v", r, err)
	}
	if _, err := e.svc.Execute(ctx, bob, r.ID); errCode(err) != "runs_on_server" {
		t.Fatalf("executing a restore from the console: %v", err)
	}
	executor := operations.ServerExecutor("roumu restore", "root")
	ran := 0
	restore := func(_ context.Context, req ports.OperationRequest) (string, error) {
		ran++
		if req.Status != ports.OperationExecuting || req.ExecutedByLogin != executor {
			t.Errorf("the action sees %+v", req)
		}
		return "restored 12 tables", nil
	}
	suspend := e.request(t, alice)
	if _, err := e.svc.RunOnServer(ctx, suspend.ID, ports.OpRestore, executor, restore); errCode(err) != "wrong_operation" {
		t.Fatalf("running a suspension as a restore: %v", err)
	}
	e.clock.Advance(time.Minute)
	done, err := e.svc.RunOnServer(ctx, r.ID, ports.OpRestore, executor, restore)
	if err != nil || done.Status != ports.OperationExecuted || done.Result != "restored 12 tables" || ran != 1 ||
		!done.FinishedAt.Equal(e.clock.Now()) || done.ExecutedBy != "" || done.DecidedByLogin != bob.Login {
		t.Fatalf("RunOnServer = %+v, %v (ran %d)", done, err, ran)
	}
	if _, err := e.svc.RunOnServer(ctx, r.ID, ports.OpRestore, executor, restore); errCode(err) != "not_approved" || ran != 1 {
		t.Fatalf("running the restore twice: %v (ran %d)", err, ran)
	}

	// A failed restore is recorded failed with the reason.
	failing := e.requestRestore(t, alice)
	if _, err := e.svc.Approve(ctx, bob, failing.ID, ""); err != nil {
		t.Fatal(err)
	}
	failed, err := e.svc.RunOnServer(ctx, failing.ID, ports.OpRestore, executor, func(context.Context, ports.OperationRequest) (string, error) {
		return "", errors.New("the backup file is damaged")
	})
	if err != nil || failed.Status != ports.OperationFailed || failed.Error != "the backup file is damaged" {
		t.Fatalf("failed restore: %+v %v", failed, err)
	}

	// An approval not used before the request's expiry is void, and the sweep stores it expired.
	late, unused := e.requestRestore(t, alice), e.requestRestore(t, alice)
	for _, r := range []ports.OperationRequest{late, unused} {
		if _, err := e.svc.Approve(ctx, bob, r.ID, ""); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(operations.RequestLifetime)
	if got, _ := e.svc.Get(ctx, bob, unused.ID); got.Status != ports.OperationExpired {
		t.Fatalf("an approved restore past its expiry shows as %s", got.Status)
	}
	if _, err := e.svc.RunOnServer(ctx, late.ID, ports.OpRestore, executor, restore); errCode(err) != "operation_expired" || ran != 1 {
		t.Fatalf("running an expired restore: %v (ran %d)", err, ran)
	}
	if n, err := e.svc.ExpireDue(ctx); err != nil || n != 2 {
		t.Fatalf("ExpireDue = %d, %v; want 2 (the unused approval and the suspension left pending)", n, err)
	}
	for _, id := range []string{late.ID, unused.ID} {
		if stored, _ := e.mem.OperationRequest(ctx, id); stored.Status != ports.OperationExpired || stored.DecidedByLogin != bob.Login {
			t.Errorf("stored %s: %+v, want expired with its approval kept", id, stored)
		}
	}
	// Executed approvals of other kinds never expire.
	if got, _ := e.svc.Get(ctx, bob, r.ID); got.Status != ports.OperationExecuted {
		t.Errorf("an executed restore shows as %s", got.Status)
	}
}

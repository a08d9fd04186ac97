package operations

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// Key rotation (OpKeyRotation). When two operators have agreed, the keyring gets a new key, which seals
// every new value from then on, and a key rotation job (ports.ResealJob, the work record's ID) is stored.
// The job runs in the background (RunJobs, a periodic job on every instance): it counts the values under
// older keys, then walks every module's sealed data (ports.SealedData) in batches, sealing each such value
// again under the new key, and records its progress and cursor after every batch, so that operators follow
// it and a job whose instance stopped is taken over where it was once its lease lapses. When the walk ends,
// the values are counted again: none left under older keys, the older keys are retired (their material
// destroyed) and the job has succeeded; some left (a value that does not open, or one written under an old
// key meanwhile), the keys are kept and the job has failed, saying why. A new rotation re-seals what is left.

// Tuning of the key rotation job.
const (
	// ResealBatchSize is how many records one batch visits: each batch's progress is one update of the job.
	ResealBatchSize = 100
	// ResealLease is how long a job belongs to the worker that last reported progress. A batch takes well
	// under a second, so a job whose worker is silent this long has lost it (the process stopped).
	ResealLease = 2 * time.Minute
	// maxFailuresKept bounds the failures a job lists; Failed counts them all.
	maxFailuresKept = 20
)

// KeyDeps are what key rotation needs: the keyring, the jobs' store, and every module's sealed data, in the
// order the job walks them (the order must stay the same between versions only for the names a running
// job's cursor holds, which it finds by name).
type KeyDeps struct {
	// BatchSize is how many records a batch visits; 0 is ResealBatchSize.
	BatchSize int
	Keyring   ports.DataKeys
	Jobs      ports.ResealJobStore
	Data      []ports.SealedData
	Tx        ports.Transactor
	Audit     ports.AuditLog
	Clock     ports.Clock
}

// KeyRotation executes OpKeyRotation and runs its jobs; it implements ports.KeyRotations for the console.
type KeyRotation struct {
	KeyDeps
	// worker names this instance's leases.
	worker string
}

var _ ports.KeyRotations = (*KeyRotation)(nil)

// NewKeyRotation builds key rotation.
func NewKeyRotation(deps KeyDeps) (*KeyRotation, error) {
	if deps.Keyring == nil || deps.Jobs == nil || deps.Tx == nil || deps.Audit == nil || deps.Clock == nil || len(deps.Data) == 0 {
		return nil, errors.New("operations: Keyring, Jobs, Data, Tx, Audit and Clock are required")
	}
	seen := map[string]bool{}
	for _, d := range deps.Data {
		name := d.SealedName()
		if name == "" || strings.ContainsAny(name, " \n") || seen[name] {
			return nil, fmt.Errorf("operations: sealed data names must be unique words, not %q", name)
		}
		seen[name] = true
	}
	if deps.BatchSize <= 0 {
		deps.BatchSize = ResealBatchSize
	}
	return &KeyRotation{KeyDeps: deps, worker: kernel.NewID()}, nil
}

// Handlers returns the action of OpKeyRotation, for Deps.Handlers. It takes no parameters.
func (k *KeyRotation) Handlers() map[string]ports.OperationHandler {
	return map[string]ports.OperationHandler{ports.OpKeyRotation: {
		Check: func(ctx context.Context, params map[string]string) error {
			if fields := kernel.UnknownParams(params); len(fields) > 0 {
				return invalid(fields)
			}
			return k.refuseWhileRunning(ctx)
		},
		Execute: k.rotate,
	}}
}

// refuseWhileRunning refuses a rotation while a job runs: its values would be sealed twice over, and its
// retirement of the keys it replaced must come first.
func (k *KeyRotation) refuseWhileRunning(ctx context.Context) error {
	running, err := k.Jobs.ListResealJobs(ctx, ports.ResealJobFilter{Status: ports.ResealRunning, Limit: 1})
	if err != nil {
		return err
	}
	if len(running) > 0 {
		return ports.NewError(ports.ErrConflict, "reseal_running",
			"A key rotation job is still running ("+running[0].ID+"): wait for it to end.",
			"鍵ローテーションのジョブ（"+running[0].ID+"）が実行中です。終了を待ってください。")
	}
	return nil
}

// rotate is OpKeyRotation's Execute: a new key, and the job that brings the stored values under it. The key
// is added before the job is stored, as the job names it; should the transaction then fail, the new key
// stays and simply seals from then on, and the work record says the rotation failed.
func (k *KeyRotation) rotate(ctx context.Context, req ports.OperationRequest) (string, error) {
	if err := k.refuseWhileRunning(ctx); err != nil {
		return "", err
	}
	key, err := k.Keyring.Rotate(ctx)
	if err != nil {
		return "", err
	}
	now := k.Clock.Now()
	if err := k.Jobs.CreateResealJob(ctx, ports.ResealJob{ID: req.ID, KeyID: key.ID, Status: ports.ResealRunning,
		StartedAt: now, UpdatedAt: now}); err != nil {
		return "", err
	}
	return fmt.Sprintf("key %d seals from now on; the stored values are being re-sealed under it in the background (job %s)",
		key.ID, req.ID), nil
}

// RunJobs works every running job whose lease is free (new, or its worker stopped) to its end, and returns
// how many values it sealed again: the periodic job of every instance, and `roumu keys reseal`. A job
// another worker holds is left to it.
func (k *KeyRotation) RunJobs(ctx context.Context) (int, error) {
	jobs, err := k.Jobs.ListResealJobs(ctx, ports.ResealJobFilter{Status: ports.ResealRunning})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, j := range jobs {
		done, err := k.run(ctx, j.ID)
		n += done
		if err != nil && !errors.Is(err, errLeaseHeld) {
			return n, fmt.Errorf("operations: key rotation job %s: %w", j.ID, err)
		}
	}
	return n, nil
}

// errLeaseHeld stops a worker at a job another worker holds.
var errLeaseHeld = errors.New("the job belongs to another worker")

// run takes the job, counts what is left, walks the sealed data from the job's cursor and ends the job.
func (k *KeyRotation) run(ctx context.Context, id string) (int, error) {
	job, err := k.progress(ctx, id, true, func(j *ports.ResealJob) {})
	if err != nil {
		return 0, err
	}
	stale := k.staleUnder(job.KeyID)
	left, err := k.count(ctx, stale)
	if err != nil {
		return 0, err
	}
	// What is left now is the rest of the work: the values after the cursor, and those a failed batch or
	// another writer left behind it. Done stays as counted, so Total is Done plus what is left.
	if job, err = k.progress(ctx, id, false, func(j *ports.ResealJob) { j.Total = j.Done + left }); err != nil {
		return 0, err
	}
	done := 0
	for {
		i, after := k.position(job.Cursor)
		if i < 0 {
			break
		}
		data := k.Data[i]
		batch, err := data.ResealBatch(ctx, after, k.BatchSize, stale)
		done += batch.Resealed
		if err != nil {
			return done, err
		}
		job, err = k.progress(ctx, id, false, func(j *ports.ResealJob) {
			j.Done += batch.Resealed
			j.Failed += len(batch.Failures)
			for _, f := range batch.Failures {
				if len(j.Failures) < maxFailuresKept {
					j.Failures = append(j.Failures, ports.ResealFailure{Record: data.SealedName() + ":" + f.Record, Reason: f.Reason})
				}
			}
			j.Cursor = k.next(i, batch.Next)
		})
		if err != nil {
			return done, err
		}
		if err := ctx.Err(); err != nil {
			return done, err // stopping: the next worker goes on from the cursor
		}
	}
	return done, k.finish(ctx, job, stale)
}

// staleUnder reports a value sealed under a key older than target (or not sealed by the keyring at all,
// which no re-seal can open either: it stays counted as left). Values under a newer key, of a rotation
// made from the server meanwhile, are not this job's.
func (k *KeyRotation) staleUnder(target uint32) func([]byte) bool {
	return func(sealed []byte) bool {
		id, err := k.Keyring.SealedBy(sealed)
		return err != nil || id < target
	}
}

func (k *KeyRotation) count(ctx context.Context, stale func([]byte) bool) (int, error) {
	n := 0
	for _, d := range k.Data {
		c, err := d.CountSealed(ctx, stale)
		if err != nil {
			return 0, fmt.Errorf("counting %s: %w", d.SealedName(), err)
		}
		n += c
	}
	return n, nil
}

// A job's cursor is the name of the sealed data it walks, a space, and that data's cursor; "" before the
// first batch. The walk is over when the cursor names no data.

// position returns the index of the data a job's cursor points at and that data's cursor; -1 when the
// walk is over.
func (k *KeyRotation) position(cursor string) (int, string) {
	if cursor == "" {
		return 0, ""
	}
	name, after, _ := strings.Cut(cursor, " ")
	for i, d := range k.Data {
		if d.SealedName() == name {
			return i, after
		}
	}
	return -1, ""
}

// next is the job's cursor after a batch of data i that ended at its cursor next ("" when that data's walk
// is over: the next data from its start, or the end).
func (k *KeyRotation) next(i int, next string) string {
	switch {
	case next != "":
		return k.Data[i].SealedName() + " " + next
	case i+1 < len(k.Data):
		return k.Data[i+1].SealedName() + " "
	}
	return endOfWalk
}

// endOfWalk is the cursor of a walk that is over: it names no data.
const endOfWalk = "-"

// progress updates the job as this worker, renewing its lease before set runs (which may give it back):
// claim takes a job whose lease is free; a job that is no longer running, or held by another worker, is
// errLeaseHeld.
func (k *KeyRotation) progress(ctx context.Context, id string, claim bool, set func(*ports.ResealJob)) (ports.ResealJob, error) {
	now := k.Clock.Now()
	return k.Jobs.UpdateResealJob(ctx, id, func(j *ports.ResealJob) error {
		free := j.LeaseOwner == "" || !now.Before(j.LeaseUntil)
		if j.Status != ports.ResealRunning || j.LeaseOwner != k.worker && !(claim && free) {
			return errLeaseHeld
		}
		j.LeaseOwner, j.LeaseUntil, j.UpdatedAt = k.worker, now.Add(ResealLease), now
		set(j)
		return nil
	})
}

// finish counts the values left under older keys once the walk is over: none, and the older keys are
// retired and the job has succeeded; some, and the keys stay and the job has failed. The end is audited.
func (k *KeyRotation) finish(ctx context.Context, job ports.ResealJob, stale func([]byte) bool) error {
	left, err := k.count(ctx, stale)
	if err != nil {
		return err
	}
	var retired []uint32
	if left == 0 {
		keys, err := k.Keyring.Keys(ctx)
		if err != nil {
			return err
		}
		for _, key := range keys {
			if key.ID < job.KeyID && key.RetiredAt.IsZero() {
				if _, err := k.Keyring.Retire(ctx, key.ID); err != nil {
					return err
				}
				retired = append(retired, key.ID)
			}
		}
	}
	return k.Tx.InTx(ctx, func(ctx context.Context) error {
		out, err := k.progress(ctx, job.ID, false, func(j *ports.ResealJob) {
			j.Status, j.FinishedAt, j.RetiredKeys = ports.ResealSucceeded, j.UpdatedAt, append(j.RetiredKeys, retired...)
			if left > 0 {
				j.Status = ports.ResealFailed
				j.Error = fmt.Sprintf("%d values are still under older keys (%d did not open): the older keys are kept", left, j.Failed)
			}
			// What is left but did not fail was written under an older key meanwhile: still to do.
			j.Total = j.Done + max(left, j.Failed)
			j.LeaseOwner, j.LeaseUntil = "", time.Time{} // a finished job belongs to no one
		})
		if err != nil {
			return err
		}
		e := ports.AuditEvent{ActorKind: "system", Action: "keys.reseal", Target: "operation:" + job.ID,
			Outcome: ports.OutcomeSuccess, Detail: map[string]string{"key_id": strconv.FormatUint(uint64(out.KeyID), 10),
				"done": strconv.Itoa(out.Done), "failed": strconv.Itoa(out.Failed), "left": strconv.Itoa(left),
				"retired_keys": keyList(out.RetiredKeys)}}
		if out.Status == ports.ResealFailed {
			e.Outcome = ports.OutcomeFailure
		}
		return record(ctx, k.Audit, k.Clock, e)
	})
}

func keyList(ids []uint32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(s, ",")
}

// Keys implements ports.KeyRotations.
func (k *KeyRotation) Keys(ctx context.Context, p ports.Principal) ([]ports.DataKey, error) {
	if err := requireOperator(ctx, k.Audit, k.Clock, p, "keys.read"); err != nil {
		return nil, err
	}
	return k.Keyring.Keys(ctx)
}

// ResealJobs implements ports.KeyRotations.
func (k *KeyRotation) ResealJobs(ctx context.Context, p ports.Principal, limit int) ([]ports.ResealJob, error) {
	if err := requireOperator(ctx, k.Audit, k.Clock, p, "keys.read"); err != nil {
		return nil, err
	}
	return k.Jobs.ListResealJobs(ctx, ports.ResealJobFilter{Limit: limit})
}

// ResealJob implements ports.KeyRotations.
func (k *KeyRotation) ResealJob(ctx context.Context, p ports.Principal, id string) (ports.ResealJob, error) {
	if err := requireOperator(ctx, k.Audit, k.Clock, p, "keys.read"); err != nil {
		return ports.ResealJob{}, err
	}
	j, err := k.Jobs.ResealJob(ctx, id)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.ResealJob{}, ports.NewError(ports.ErrNotFound, "not_found",
			"No key rotation job was found.", "鍵ローテーションのジョブが見つかりません。")
	}
	return j, err
}

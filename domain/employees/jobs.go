package employees

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// JobKindImport is the kind of an employee import job.
const JobKindImport = "employees.import"

// JobAbandonAfter is how long an unfinished job may go without storing progress before it counts as
// abandoned by a process that ended mid-job (killed, crashed, its machine lost). A running import stores its
// progress every 500 rows; its longest silence is SQLite's writing pass, whose transaction holds the one
// write connection (the largest upload, 256 MiB, about 850,000 rows, takes a few minutes). Judging by
// silence rather than by process start-up keeps the jobs of other instances, still running, from being
// failed when one instance restarts.
const JobAbandonAfter = 15 * time.Minute

// failureInterrupted is an abandoned job's failure: its process ended before it did.
const failureInterrupted = "interrupted"

// ImportJobResult is a finished import job's Result, as JSON: the contract's import response.
type ImportJobResult struct {
	Created int              `json:"created"`
	Updated int              `json:"updated"`
	Errors  []ImportJobError `json:"errors"`
	Failure string           `json:"failure,omitempty"` // set when the import stopped on an error of the service, not of the file
}

// ImportJobError is one row error in a job result; message is the Japanese message.
type ImportJobError struct {
	Row       int    `json:"row"`
	Column    string `json:"column"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageEN string `json:"message_en"`
}

// StartImport records a queued import job (for a 202 with Location) and returns it with the function that
// runs the import and records its progress and result. The caller runs that function, typically in a
// goroutine after answering, and keeps req.CSV open (and re-readable: see MaxBufferedImport) until it
// returns. Progress is written by a helper goroutine, so that the import's transaction never waits for it.
func (s *Service) StartImport(ctx context.Context, p ports.Principal, req ports.ImportRequest) (ports.JobRecord, func(context.Context) error, error) {
	if err := require(AccessOf(p).Full()); err != nil {
		return ports.JobRecord{}, nil, err
	}
	if s.Jobs == nil {
		return ports.JobRecord{}, nil, errors.New("employees: no job store wired")
	}
	now := s.Clock.Now()
	job := ports.JobRecord{ID: kernel.NewID(), TenantID: p.TenantID, Kind: JobKindImport, Status: ports.JobQueued,
		CreatedBy: p.AccountID, CreatedAt: now, UpdatedAt: now}
	if err := s.Jobs.CreateJob(ctx, job); err != nil {
		return ports.JobRecord{}, nil, err
	}
	set := func(ctx context.Context, fn func(*ports.JobRecord)) error {
		_, err := s.Jobs.UpdateJob(ctx, p.TenantID, job.ID, func(j *ports.JobRecord) error {
			fn(j)
			j.UpdatedAt = s.Clock.Now()
			return nil
		})
		return err
	}
	run := func(ctx context.Context) error {
		if err := set(ctx, func(j *ports.JobRecord) { j.Status = ports.JobRunning }); err != nil {
			return err
		}
		latest := make(chan [2]int, 1)
		written := make(chan struct{})
		go func() {
			defer close(written)
			for pr := range latest {
				_ = set(ctx, func(j *ports.JobRecord) { j.Done, j.Total = pr[0], pr[1] }) // progress is advisory
			}
		}()
		var last [2]int // the final progress, which the writer may have skipped
		res, err := s.ImportEmployees(ctx, p, req, func(done, total int) {
			last = [2]int{done, total}
			select {
			case latest <- [2]int{done, total}:
			default: // the writer is busy: a later report will do
			}
		})
		close(latest)
		<-written
		out := ImportJobResult{Created: res.Created, Updated: res.Updated, Errors: []ImportJobError{}}
		for _, e := range res.Errors {
			out.Errors = append(out.Errors, ImportJobError{Row: e.Row, Column: e.Column, Code: e.Code,
				Message: e.MessageJA, MessageEN: e.MessageEN})
		}
		if err != nil {
			out.Failure = "internal"
			if pe, ok := ports.AsError(err); ok {
				out.Failure = pe.Code
			}
		}
		body, _ := json.Marshal(out)
		// Without ctx's end: an import stopped by its timeout must still be recorded as failed.
		return errors.Join(err, set(context.WithoutCancel(ctx), func(j *ports.JobRecord) {
			j.Status, j.Result = ports.JobSucceeded, body
			if err != nil || len(res.Errors) > 0 {
				j.Status = ports.JobFailed
			}
			j.Done, j.Total = last[0], max(last[1], last[0])
		}))
	}
	return job, run, nil
}

// FailAbandonedJobs marks the jobs abandoned by a process that ended mid-job (JobAbandonAfter) as failed
// with failure "interrupted", so that no job shows "running" forever; it returns how many. The import's
// transaction ended with its process, so nothing of that import was written and the file can be sent again.
func (s *Service) FailAbandonedJobs(ctx context.Context) (int, error) {
	if s.Jobs == nil {
		return 0, errors.New("employees: no job store wired")
	}
	now := s.Clock.Now()
	body, _ := json.Marshal(ImportJobResult{Errors: []ImportJobError{}, Failure: failureInterrupted})
	return s.Jobs.FailStaleJobs(ctx, now.Add(-JobAbandonAfter), now, body)
}

// Job returns an import job of the caller's tenant (admin and hr).
func (s *Service) Job(ctx context.Context, p ports.Principal, id string) (ports.JobRecord, error) {
	if err := require(AccessOf(p).Full()); err != nil {
		return ports.JobRecord{}, err
	}
	if s.Jobs == nil {
		return ports.JobRecord{}, errors.New("employees: no job store wired")
	}
	j, err := s.Jobs.JobByID(ctx, p.TenantID, id)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.JobRecord{}, ports.NewError(ports.ErrNotFound, "not_found", "The job was not found.", "ジョブが見つかりません。")
	}
	return j, err
}

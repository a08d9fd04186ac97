package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// The data keys in the operator console: the keyring's keys and the key rotation jobs with their progress
// (/ops/keys, /api/v1/ops/keys). A rotation is requested and approved like every privileged operation
// (OpKeyRotation); the rotation's work record shows its job.

// keyJobsShown is how many key rotation jobs the keys page and API list, newest first.
const keyJobsShown = 20

func (s *Server) keyRoutes(api *echo.Group, op echo.MiddlewareFunc) {
	if s.keys == nil {
		return
	}
	s.e.GET("/ops/keys", s.opsKeys, s.csrf, op)
	apiOp := []echo.MiddlewareFunc{s.bearer(gateFull), operatorsOnly}
	api.GET("/ops/keys", s.apiOpsKeys, apiOp...)
	api.GET("/ops/key-rotations/:id", s.apiOpsKeyJob, append(apiOp, validID)...)
}

func (s *Server) opsKeys(c echo.Context) error { return s.showKeys(c, http.StatusOK, &view{}) }

// keysAndJobs reads the keys, oldest first (the last one seals), and the newest jobs.
func (s *Server) keysAndJobs(c echo.Context) ([]ports.DataKey, []ports.ResealJob, error) {
	ctx, p := c.Request().Context(), principalOf(c)
	keys, err := s.keys.Keys(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	jobs, err := s.keys.ResealJobs(ctx, p, keyJobsShown)
	return keys, jobs, err
}

func (s *Server) showKeys(c echo.Context, status int, v *view) error {
	keys, jobs, err := s.keysAndJobs(c)
	if err != nil {
		return err
	}
	cv := &consoleView{Keys: keys, Jobs: jobs}
	if len(keys) > 0 {
		cv.CurrentKey = keys[len(keys)-1].ID
	}
	return s.console(c, status, "ops_keys", "暗号鍵 / Encryption keys", cv, v)
}

// requestJob is the key rotation job a rotation's work record started; nil for other records, and for a
// rotation whose execution did not get as far.
func (s *Server) requestJob(c echo.Context, r ports.OperationRequest) (*ports.ResealJob, error) {
	if s.keys == nil || r.Kind != ports.OpKeyRotation {
		return nil, nil
	}
	j, err := s.keys.ResealJob(c.Request().Context(), principalOf(c), r.ID)
	if errors.Is(err, ports.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &j, nil
}

type dataKeyJSON struct {
	ID        uint32  `json:"id"`
	CreatedAt *string `json:"created_at"`
	RetiredAt *string `json:"retired_at"`
	Current   bool    `json:"current"`
}

type resealFailureJSON struct {
	Record string `json:"record"`
	Reason string `json:"reason"`
}

// resealJobJSON is a key rotation job's progress: of total values under older keys, done are sealed again,
// failed did not open, remaining are still to do.
type resealJobJSON struct {
	ID          string              `json:"id"`
	KeyID       uint32              `json:"key_id"`
	Status      string              `json:"status"`
	Total       int                 `json:"total"`
	Done        int                 `json:"done"`
	Failed      int                 `json:"failed"`
	Remaining   int                 `json:"remaining"`
	Failures    []resealFailureJSON `json:"failures"`
	RetiredKeys []uint32            `json:"retired_keys"`
	Error       string              `json:"error"`
	StartedAt   *string             `json:"started_at"`
	FinishedAt  *string             `json:"finished_at"`
	UpdatedAt   *string             `json:"updated_at"`
}

func toResealJobJSON(j ports.ResealJob) resealJobJSON {
	retired := j.RetiredKeys
	if retired == nil {
		retired = []uint32{}
	}
	return resealJobJSON{ID: j.ID, KeyID: j.KeyID, Status: j.Status, Total: j.Total, Done: j.Done, Failed: j.Failed,
		Remaining: j.Remaining(), RetiredKeys: retired, Error: j.Error, StartedAt: rfc3339(j.StartedAt),
		FinishedAt: rfc3339(j.FinishedAt), UpdatedAt: rfc3339(j.UpdatedAt),
		Failures: jsonItems(j.Failures, func(f ports.ResealFailure) resealFailureJSON {
			return resealFailureJSON{Record: f.Record, Reason: f.Reason}
		})}
}

// apiOpsKeys answers the keys, oldest first (the last one seals), and the newest jobs.
func (s *Server) apiOpsKeys(c echo.Context) error {
	keys, jobs, err := s.keysAndJobs(c)
	if err != nil {
		return err
	}
	items := make([]dataKeyJSON, len(keys))
	for i, k := range keys {
		items[i] = dataKeyJSON{ID: k.ID, CreatedAt: rfc3339(k.CreatedAt), RetiredAt: rfc3339(k.RetiredAt), Current: i == len(keys)-1}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"keys": items, "jobs": jsonItems(jobs, toResealJobJSON)})
}

// apiOpsKeyJob answers one job, named by its rotation's work record ID.
func (s *Server) apiOpsKeyJob(c echo.Context) error {
	j, err := s.keys.ResealJob(c.Request().Context(), principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, toResealJobJSON(j))
}

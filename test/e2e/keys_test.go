package e2e

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roumu/roumu/ports"
)

// resealJob is a key rotation job's progress as the API shows it.
type resealJob struct {
	ID          string   `json:"id"`
	KeyID       uint32   `json:"key_id"`
	Status      string   `json:"status"`
	Total       int      `json:"total"`
	Done        int      `json:"done"`
	Failed      int      `json:"failed"`
	Remaining   int      `json:"remaining"`
	RetiredKeys []uint32 `json:"retired_keys"`
	StartedAt   *string  `json:"started_at"`
	FinishedAt  *string  `json:"finished_at"`
}

// TestOpsKeyRotation: operator A requests a key rotation on the console's keys page, B approves it through
// the API; the job's progress shows on the work record's page and through the API until it ends with the
// old key retired. Tenant members do not see the keys API at all.
func TestOpsKeyRotation(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	a.createEmployee(admin, "E1", nil)
	_, tokenA, secretA := a.operator("ops.suzuki")
	_, tokenB, _ := a.operator("ops.tanaka")

	browserA := a.opsBrowser("ops.suzuki", secretA)
	wantPage(t, browserA.get("/ops/keys"), http.StatusOK, `id="key-list"`, "（現在", `value="keys.rotate"`)
	res := browserA.submit("/ops/requests", url.Values{"kind": {ports.OpKeyRotation}, "reason": {"年次の鍵更新"}})
	recordPath := res.header.Get("Location")
	id, ok := strings.CutPrefix(recordPath, "/ops/requests/")
	if !ok {
		t.Fatalf("after the request: %d to %q: %s", res.status, recordPath, res.body)
	}
	wantProblem(t, a.api(http.MethodPost, "/api/v1/ops/requests/"+id+"/approve", tokenA, ""), http.StatusForbidden, "self_approval")
	var r operation
	wantJSON(t, a.api(http.MethodPost, "/api/v1/ops/requests/"+id+"/approve", tokenB, ""), http.StatusOK, &r)
	if r.Status != ports.OperationExecuted || !strings.Contains(r.Result, "key 2") {
		t.Fatalf("approved rotation: %+v", r)
	}
	var j resealJob
	wantJSON(t, a.api(http.MethodGet, "/api/v1/ops/key-rotations/"+id, tokenA, ""), http.StatusOK, &j)
	if j.ID != id || j.KeyID != 2 || j.Status != ports.ResealRunning || j.StartedAt == nil || j.FinishedAt != nil || j.Done != 0 {
		t.Fatalf("job before it ran: %+v", j)
	}
	wantPage(t, browserA.get(recordPath), http.StatusOK, `id="job-status">running`)

	n, err := a.env.KeyRotation.RunJobs(t.Context())
	if err != nil || n == 0 {
		t.Fatalf("RunJobs = %d, %v", n, err)
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/ops/key-rotations/"+id, tokenA, ""), http.StatusOK, &j)
	if j.Status != ports.ResealSucceeded || j.Total != n || j.Done != n || j.Remaining != 0 || j.Failed != 0 ||
		len(j.RetiredKeys) != 1 || j.RetiredKeys[0] != 1 || j.FinishedAt == nil {
		t.Fatalf("job after it ran (%d values): %+v", n, j)
	}
	wantPage(t, browserA.get(recordPath), http.StatusOK, `id="job-status">succeeded`, `id="job-retired">1 `)
	var keys struct {
		Keys []struct {
			ID        uint32  `json:"id"`
			RetiredAt *string `json:"retired_at"`
			Current   bool    `json:"current"`
		} `json:"keys"`
		Jobs []resealJob `json:"jobs"`
	}
	wantJSON(t, a.api(http.MethodGet, "/api/v1/ops/keys", tokenB, ""), http.StatusOK, &keys)
	if len(keys.Keys) != 2 || keys.Keys[0].RetiredAt == nil || keys.Keys[0].Current || !keys.Keys[1].Current ||
		len(keys.Jobs) != 1 || keys.Jobs[0].ID != id {
		t.Fatalf("keys: %+v", keys)
	}
	wantPage(t, browserA.get("/ops/keys"), http.StatusOK, "/ops/requests/"+id, "succeeded")

	// Tenant members: the keys API does not exist for them; an unknown job is 404.
	wantProblem(t, a.api(http.MethodGet, "/api/v1/ops/keys", admin, ""), http.StatusNotFound, "not_found")
	wantProblem(t, a.api(http.MethodGet, "/api/v1/ops/key-rotations/01a21617-9d23-7f83-8ec6-6c69cfbd75a2", tokenA, ""), http.StatusNotFound, "not_found")
}

// TestOpsRestoreRequest: a restore is requested on the console naming the file and its SHA-256; approved by
// another operator it waits for the command on the server, which the work record's page shows.
func TestOpsRestoreRequest(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, tokenA, secretA := a.operator("ops.suzuki")
	_, tokenB, _ := a.operator("ops.tanaka")
	browserA := a.opsBrowser("ops.suzuki", secretA)
	wantPage(t, browserA.get("/ops/requests"), http.StatusOK, `value="backup.restore"`)
	wantPage(t, browserA.submit("/ops/requests", url.Values{"kind": {ports.OpRestore}, "backup_file": {"/etc/passwd"},
		"backup_sha256": {"abc"}, "reason": {"復旧"}}), http.StatusUnprocessableEntity, "ディレクトリなし", "16進数64桁")
	sum := strings.Repeat("ab", 32)
	res := browserA.submit("/ops/requests", url.Values{"kind": {ports.OpRestore}, "backup_file": {"roumu-0601.roumu"},
		"backup_sha256": {sum}, "reason": {"誤削除の復旧"}})
	recordPath := res.header.Get("Location")
	id, ok := strings.CutPrefix(recordPath, "/ops/requests/")
	if !ok {
		t.Fatalf("after the request: %d to %q: %s", res.status, recordPath, res.body)
	}
	var r operation
	wantJSON(t, a.api(http.MethodPost, "/api/v1/ops/requests/"+id+"/approve", tokenB, ""), http.StatusOK, &r)
	if r.Status != ports.OperationApproved || r.StartedAt != nil || r.Params["backup_sha256"] != sum {
		t.Fatalf("approved restore: %+v", r)
	}
	wantPage(t, browserA.get(recordPath), http.StatusOK, `id="run-on-server"`,
		html.EscapeString("roumu restore --request "+id))
	wantProblem(t, a.api(http.MethodPost, "/api/v1/ops/requests/"+id+"/approve", tokenA, ""), http.StatusConflict, "not_pending")
}

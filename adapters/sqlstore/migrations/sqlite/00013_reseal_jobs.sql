-- Key rotation jobs: the background re-sealing of every stored sealed value under the key a rotation made
-- current, with its progress. Of no tenant, like the work records; id is the work record's that ordered the
-- rotation. Conventions as in 00001. failures and retired_keys are JSON lists; cursor is where the walk goes
-- on after a restart; lease_until is NULL while no worker holds the job.

-- +goose Up
CREATE TABLE reseal_jobs (
    id           TEXT    NOT NULL PRIMARY KEY,
    key_id       INTEGER NOT NULL CHECK (key_id > 0),
    status       TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    total        INTEGER NOT NULL,
    done         INTEGER NOT NULL,
    failed       INTEGER NOT NULL,
    cursor       TEXT    NOT NULL,
    failures     TEXT    NOT NULL CHECK (json_valid(failures)),
    retired_keys TEXT    NOT NULL CHECK (json_valid(retired_keys)),
    error        TEXT    NOT NULL,
    lease_owner  TEXT    NOT NULL,
    lease_until  TEXT,
    started_at   TEXT    NOT NULL,
    finished_at  TEXT,
    updated_at   TEXT    NOT NULL
) STRICT;
-- ListResealJobs, newest first, all or the running ones (the workers' look for a job to take).
CREATE INDEX reseal_jobs_started_idx ON reseal_jobs (started_at DESC, id);
CREATE INDEX reseal_jobs_status_idx ON reseal_jobs (status, started_at DESC, id);

-- +goose Down
DROP TABLE reseal_jobs;

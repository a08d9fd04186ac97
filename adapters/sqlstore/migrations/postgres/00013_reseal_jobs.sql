-- Key rotation jobs: the background re-sealing of every stored sealed value under the key a rotation made
-- current, with its progress. Of no tenant, like the work records; id is the work record's that ordered the
-- rotation. Conventions as in 00001. failures and retired_keys are JSON lists; cursor is where the walk goes
-- on after a restart; lease_until is NULL while no worker holds the job.

-- +goose Up
CREATE TABLE reseal_jobs (
    id           text        COLLATE "C" NOT NULL PRIMARY KEY,
    key_id       bigint      NOT NULL CHECK (key_id > 0),
    status       text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    total        bigint      NOT NULL,
    done         bigint      NOT NULL,
    failed       bigint      NOT NULL,
    cursor       text        NOT NULL,
    failures     jsonb       NOT NULL,
    retired_keys jsonb       NOT NULL,
    error        text        NOT NULL,
    lease_owner  text        NOT NULL,
    lease_until  timestamptz,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    updated_at   timestamptz NOT NULL
);
-- ListResealJobs, newest first, all or the running ones (the workers' look for a job to take).
CREATE INDEX reseal_jobs_started_idx ON reseal_jobs (started_at DESC, id);
CREATE INDEX reseal_jobs_status_idx ON reseal_jobs (status, started_at DESC, id);

-- +goose Down
DROP TABLE reseal_jobs;

-- The operators' records, of no tenant: notices on the login pages and the work records of privileged
-- operations under the two-person rule.
--
-- Conventions as in 00001. The instants a record may lack (an open incident's resolution, a maintenance
-- window's start for an incident, a pending request's decision) are NULL, so a bound on them never selects
-- a record without one. params is the request's plain parameter map.

-- +goose Up
CREATE TABLE notices (
    id            TEXT NOT NULL PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('incident', 'maintenance')),
    severity      TEXT NOT NULL CHECK (severity IN ('info', 'minor', 'major', 'critical')),
    title_ja      TEXT NOT NULL,
    title_en      TEXT NOT NULL,
    body_ja       TEXT NOT NULL,
    body_en       TEXT NOT NULL,
    known_at      TEXT,
    deadline_at   TEXT,
    resolved_at   TEXT,
    starts_at     TEXT,
    ends_at       TEXT,
    cancelled_at  TEXT,
    posted_at     TEXT NOT NULL,
    posted_by     TEXT NOT NULL,
    visible_from  TEXT NOT NULL,
    visible_until TEXT,
    updated_at    TEXT NOT NULL
) STRICT;
-- ListCurrentNotices: the notices still visible are the open ones (NULL) and those ending later; the
-- ended ones, which are nearly all of them in time, stay out of the scan.
CREATE INDEX notices_visible_until_idx ON notices (visible_until, visible_from);
-- ListNotices, newest first, with or without a kind.
CREATE INDEX notices_posted_idx ON notices (posted_at DESC, id);
CREATE INDEX notices_kind_posted_idx ON notices (kind, posted_at DESC, id);

CREATE TABLE operation_requests (
    id                 TEXT NOT NULL PRIMARY KEY,
    kind               TEXT NOT NULL,
    params             TEXT NOT NULL CHECK (json_valid(params)),
    reason             TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'executing', 'executed',
                                                       'failed', 'rejected', 'expired')),
    requested_by       TEXT NOT NULL,
    requested_by_login TEXT NOT NULL,
    requested_at       TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    decided_by         TEXT NOT NULL,
    decided_by_login   TEXT NOT NULL,
    decided_at         TEXT,
    decision_comment   TEXT NOT NULL,
    executed_by        TEXT NOT NULL,
    executed_by_login  TEXT NOT NULL,
    started_at         TEXT,
    finished_at        TEXT,
    result             TEXT NOT NULL,
    error              TEXT NOT NULL,
    updated_at         TEXT NOT NULL
) STRICT;
-- ListOperationRequests, newest first, by status (the pending ones, for the console and ExpireDue), by
-- kind, or all.
CREATE INDEX operation_requests_requested_idx ON operation_requests (requested_at DESC, id);
CREATE INDEX operation_requests_status_idx ON operation_requests (status, requested_at DESC, id);
CREATE INDEX operation_requests_kind_idx ON operation_requests (kind, requested_at DESC, id);

-- +goose Down
DROP TABLE operation_requests;
DROP TABLE notices;

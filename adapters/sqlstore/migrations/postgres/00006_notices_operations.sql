-- The operators' records, of no tenant: notices on the login pages and the work records of privileged
-- operations under the two-person rule.
--
-- Conventions as in 00001. The instants a record may lack (an open incident's resolution, a maintenance
-- window's start for an incident, a pending request's decision) are NULL, so a bound on them never selects
-- a record without one. params is the request's plain parameter map.

-- +goose Up
CREATE TABLE notices (
    id            text        COLLATE "C" NOT NULL PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind IN ('incident', 'maintenance')),
    severity      text        NOT NULL CHECK (severity IN ('info', 'minor', 'major', 'critical')),
    title_ja      text        NOT NULL,
    title_en      text        NOT NULL,
    body_ja       text        NOT NULL,
    body_en       text        NOT NULL,
    known_at      timestamptz,
    deadline_at   timestamptz,
    resolved_at   timestamptz,
    starts_at     timestamptz,
    ends_at       timestamptz,
    cancelled_at  timestamptz,
    posted_at     timestamptz NOT NULL,
    posted_by     text        NOT NULL,
    visible_from  timestamptz NOT NULL,
    visible_until timestamptz,
    updated_at    timestamptz NOT NULL
);
-- ListCurrentNotices: the notices still visible are the open ones (NULL) and those ending later; the
-- ended ones, which are nearly all of them in time, stay out of the scan.
CREATE INDEX notices_visible_until_idx ON notices (visible_until, visible_from);
-- ListNotices, newest first, with or without a kind.
CREATE INDEX notices_posted_idx ON notices (posted_at DESC, id);
CREATE INDEX notices_kind_posted_idx ON notices (kind, posted_at DESC, id);

CREATE TABLE operation_requests (
    id                 text        COLLATE "C" NOT NULL PRIMARY KEY,
    kind               text        NOT NULL,
    params             jsonb       NOT NULL,
    reason             text        NOT NULL,
    status             text        NOT NULL CHECK (status IN ('pending', 'approved', 'executing', 'executed',
                                                              'failed', 'rejected', 'expired')),
    requested_by       text        NOT NULL,
    requested_by_login text        NOT NULL,
    requested_at       timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL,
    decided_by         text        NOT NULL,
    decided_by_login   text        NOT NULL,
    decided_at         timestamptz,
    decision_comment   text        NOT NULL,
    executed_by        text        NOT NULL,
    executed_by_login  text        NOT NULL,
    started_at         timestamptz,
    finished_at        timestamptz,
    result             text        NOT NULL,
    error              text        NOT NULL,
    updated_at         timestamptz NOT NULL
);
-- ListOperationRequests, newest first, by status (the pending ones, for the console and ExpireDue), by
-- kind, or all.
CREATE INDEX operation_requests_requested_idx ON operation_requests (requested_at DESC, id);
CREATE INDEX operation_requests_status_idx ON operation_requests (status, requested_at DESC, id);
CREATE INDEX operation_requests_kind_idx ON operation_requests (kind, requested_at DESC, id);

-- +goose Down
DROP TABLE operation_requests;
DROP TABLE notices;

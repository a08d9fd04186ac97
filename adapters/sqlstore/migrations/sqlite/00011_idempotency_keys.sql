-- Idempotency-Key records of the API's POST requests, shared by every instance. A key belongs to one
-- principal (an account's sessions, or one API token) of one tenant ('' for operators); no foreign key, as
-- a record lives a day at most. claim names the request that holds the key; status is 0 while it runs,
-- then the answer's status, with the headers a replay repeats and the body sealed by the domain (it holds
-- personal data). ClaimIdempotencyKey takes the key with one upsert guarded by expires_at, so of
-- concurrent requests exactly one runs; the periodic cleanup deletes expired records by expires_at.

-- +goose Up
CREATE TABLE idempotency_keys (
    tenant_id   TEXT    NOT NULL,
    principal   TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    claim       TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    status      INTEGER NOT NULL CHECK (status = 0 OR status BETWEEN 100 AND 599),
    header      TEXT    NOT NULL CHECK (json_valid(header)),
    body        BLOB,
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, principal, key)
) STRICT;
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;

-- Accounts, second factors, sessions, login throttling and the audit chain.
--
-- Conventions (SQLite): STRICT tables, so a column holds only its declared type. Instants are TEXT in
-- one fixed-width UTC form ('2006-01-02T15:04:05.000000Z', see types.go), so text order is time order
-- and microseconds round-trip; NULL only where the record says "zero when never". Booleans are 0/1.
-- Lists and maps are JSON text. tenant_id is '' for operators and provider-level rows, never NULL, so
-- the uniqueness of (tenant_id, login_key) holds for operators too.
--
-- Referential integrity: a member's account references its tenant through the generated column
-- member_tenant_id (NULL, so unchecked, for operators); every per-account row (sessions, factors, codes,
-- challenges) references its account by (tenant_id, account_id), so it can never claim an account of
-- another tenant.

-- +goose Up
CREATE TABLE tenants (
    id             TEXT    NOT NULL PRIMARY KEY,
    code           TEXT    NOT NULL CONSTRAINT tenants_code_key UNIQUE,
    name           TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    mfa_required   INTEGER NOT NULL CHECK (mfa_required IN (0, 1)),
    ip_restriction INTEGER NOT NULL CHECK (ip_restriction IN (0, 1)),
    allowed_cidrs  TEXT    NOT NULL CHECK (json_valid(allowed_cidrs)),
    seats          INTEGER NOT NULL CHECK (seats >= 0),
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
) STRICT;

CREATE TABLE accounts (
    id                   TEXT    NOT NULL PRIMARY KEY,
    tenant_id            TEXT    NOT NULL,
    kind                 TEXT    NOT NULL,
    login                TEXT    NOT NULL,
    login_key            TEXT    NOT NULL,
    name                 TEXT    NOT NULL,
    roles                TEXT    NOT NULL CHECK (json_valid(roles)),
    status               TEXT    NOT NULL,
    password_hash        TEXT    NOT NULL,
    must_change_password INTEGER NOT NULL CHECK (must_change_password IN (0, 1)),
    password_changed_at  TEXT,
    last_login_at        TEXT,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL,
    member_tenant_id     TEXT    GENERATED ALWAYS AS (nullif(tenant_id, '')) VIRTUAL
                                 CONSTRAINT accounts_tenant_fkey REFERENCES tenants (id),
    CONSTRAINT accounts_login_key UNIQUE (tenant_id, login_key),
    CONSTRAINT accounts_tenant_id_key UNIQUE (tenant_id, id)
) STRICT;
-- ListAccounts orders by login within a tenant.
CREATE INDEX accounts_tenant_login_idx ON accounts (tenant_id, login);

CREATE TABLE login_throttles (
    key          TEXT    NOT NULL PRIMARY KEY,
    failures     INTEGER NOT NULL CHECK (failures >= 0),
    locked_until TEXT
) STRICT;

CREATE TABLE sessions (
    token_hash   TEXT NOT NULL PRIMARY KEY,
    account_id   TEXT NOT NULL,
    tenant_id    TEXT NOT NULL,
    stage        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    ip           TEXT NOT NULL,
    user_agent   TEXT NOT NULL,
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX sessions_account_idx ON sessions (account_id);
-- DeleteSessionsBefore sweeps by idleness and by age.
CREATE INDEX sessions_last_seen_idx ON sessions (last_seen_at);
CREATE INDEX sessions_created_idx ON sessions (created_at);

CREATE TABLE totp_authenticators (
    tenant_id     TEXT    NOT NULL,
    account_id    TEXT    NOT NULL,
    secret_sealed BLOB    NOT NULL,
    confirmed     INTEGER NOT NULL CHECK (confirmed IN (0, 1)),
    last_step     INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, account_id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE TABLE webauthn_credentials (
    id               TEXT    NOT NULL PRIMARY KEY,
    tenant_id        TEXT    NOT NULL,
    account_id       TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    credential_id    BLOB    NOT NULL CONSTRAINT webauthn_credentials_credential_id_key UNIQUE,
    public_key       BLOB    NOT NULL,
    attestation_type TEXT    NOT NULL,
    aaguid           BLOB    NOT NULL,
    sign_count       INTEGER NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    clone_warning    INTEGER NOT NULL CHECK (clone_warning IN (0, 1)),
    backup_eligible  INTEGER NOT NULL CHECK (backup_eligible IN (0, 1)),
    backup_state     INTEGER NOT NULL CHECK (backup_state IN (0, 1)),
    user_present     INTEGER NOT NULL CHECK (user_present IN (0, 1)),
    user_verified    INTEGER NOT NULL CHECK (user_verified IN (0, 1)),
    transports       TEXT    NOT NULL CHECK (json_valid(transports)),
    created_at       TEXT    NOT NULL,
    last_used_at     TEXT,
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX webauthn_credentials_account_idx ON webauthn_credentials (tenant_id, account_id, created_at);

CREATE TABLE recovery_codes (
    tenant_id  TEXT NOT NULL,
    account_id TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at    TEXT,
    PRIMARY KEY (tenant_id, account_id, code_hash),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE TABLE webauthn_challenges (
    id         TEXT NOT NULL PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    account_id TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    data       BLOB NOT NULL,
    expires_at TEXT NOT NULL,
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX webauthn_challenges_account_idx ON webauthn_challenges (tenant_id, account_id);

-- The audit chain: seq is the chain position (1, 2, 3 … without gaps, checked by the store), kept as the
-- rowid. Append-only: the triggers refuse every UPDATE and DELETE.
CREATE TABLE audit_records (
    seq        INTEGER NOT NULL PRIMARY KEY CHECK (seq > 0),
    at         TEXT    NOT NULL,
    tenant_id  TEXT    NOT NULL,
    actor_id   TEXT    NOT NULL,
    actor_kind TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    ip         TEXT    NOT NULL,
    user_agent TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    detail     TEXT    NOT NULL CHECK (json_valid(detail)),
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_records_tenant_idx ON audit_records (tenant_id, seq);
CREATE INDEX audit_records_actor_idx ON audit_records (actor_id, seq);
CREATE INDEX audit_records_action_idx ON audit_records (action, seq);
CREATE INDEX audit_records_at_idx ON audit_records (at);

-- +goose StatementBegin
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_records;
DROP TABLE webauthn_challenges;
DROP TABLE recovery_codes;
DROP TABLE webauthn_credentials;
DROP TABLE totp_authenticators;
DROP TABLE sessions;
DROP TABLE login_throttles;
DROP TABLE accounts;
DROP TABLE tenants;

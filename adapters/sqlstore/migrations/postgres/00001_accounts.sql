-- Accounts, second factors, sessions, login throttling and the audit chain.
--
-- Conventions (Postgres): instants are timestamptz (microseconds, UTC), NULL only where the record says
-- "zero when never". Lists and maps are jsonb. tenant_id is '' for operators and provider-level rows,
-- never NULL, so the uniqueness of (tenant_id, login_key) holds for operators too. Columns that lists
-- are ordered by use the "C" collation: code point order, the same on every server and in SQLite. Tables
-- are created in the connection's current schema (search_path).
--
-- Referential integrity: a member's account references its tenant through the generated column
-- member_tenant_id (NULL, so unchecked, for operators); every per-account row (sessions, factors, codes,
-- challenges) references its account by (tenant_id, account_id), so it can never claim an account of
-- another tenant.

-- +goose Up
CREATE TABLE tenants (
    id             text        NOT NULL PRIMARY KEY,
    code           text        COLLATE "C" NOT NULL CONSTRAINT tenants_code_key UNIQUE,
    name           text        NOT NULL,
    status         text        NOT NULL,
    mfa_required   boolean     NOT NULL,
    ip_restriction boolean     NOT NULL,
    allowed_cidrs  jsonb       NOT NULL,
    seats          integer     NOT NULL CHECK (seats >= 0),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE accounts (
    id                   text        COLLATE "C" NOT NULL PRIMARY KEY,
    tenant_id            text        NOT NULL,
    kind                 text        NOT NULL,
    login                text        COLLATE "C" NOT NULL,
    login_key            text        NOT NULL,
    name                 text        NOT NULL,
    roles                jsonb       NOT NULL,
    status               text        NOT NULL,
    password_hash        text        NOT NULL,
    must_change_password boolean     NOT NULL,
    password_changed_at  timestamptz,
    last_login_at        timestamptz,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    member_tenant_id     text        GENERATED ALWAYS AS (nullif(tenant_id, '')) STORED
                                     CONSTRAINT accounts_tenant_fkey REFERENCES tenants (id),
    CONSTRAINT accounts_login_key UNIQUE (tenant_id, login_key),
    CONSTRAINT accounts_tenant_id_key UNIQUE (tenant_id, id)
);
-- ListAccounts orders by login within a tenant.
CREATE INDEX accounts_tenant_login_idx ON accounts (tenant_id, login);

CREATE TABLE login_throttles (
    key          text    NOT NULL PRIMARY KEY,
    failures     integer NOT NULL CHECK (failures >= 0),
    locked_until timestamptz
);

CREATE TABLE sessions (
    token_hash   text        NOT NULL PRIMARY KEY,
    account_id   text        NOT NULL,
    tenant_id    text        NOT NULL,
    stage        text        NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ip           text        NOT NULL,
    user_agent   text        NOT NULL,
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_account_idx ON sessions (account_id);
-- DeleteSessionsBefore sweeps by idleness and by age.
CREATE INDEX sessions_last_seen_idx ON sessions (last_seen_at);
CREATE INDEX sessions_created_idx ON sessions (created_at);

CREATE TABLE totp_authenticators (
    tenant_id     text        NOT NULL,
    account_id    text        NOT NULL,
    secret_sealed bytea       NOT NULL,
    confirmed     boolean     NOT NULL,
    last_step     bigint      NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, account_id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE webauthn_credentials (
    id               text        COLLATE "C" NOT NULL PRIMARY KEY,
    tenant_id        text        NOT NULL,
    account_id       text        NOT NULL,
    name             text        NOT NULL,
    credential_id    bytea       NOT NULL CONSTRAINT webauthn_credentials_credential_id_key UNIQUE,
    public_key       bytea       NOT NULL,
    attestation_type text        NOT NULL,
    aaguid           bytea       NOT NULL,
    sign_count       bigint      NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    clone_warning    boolean     NOT NULL,
    backup_eligible  boolean     NOT NULL,
    backup_state     boolean     NOT NULL,
    user_present     boolean     NOT NULL,
    user_verified    boolean     NOT NULL,
    transports       jsonb       NOT NULL,
    created_at       timestamptz NOT NULL,
    last_used_at     timestamptz,
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webauthn_credentials_account_idx ON webauthn_credentials (tenant_id, account_id, created_at);

CREATE TABLE recovery_codes (
    tenant_id  text        NOT NULL,
    account_id text        NOT NULL,
    code_hash  text        NOT NULL,
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (tenant_id, account_id, code_hash),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE webauthn_challenges (
    id         text        NOT NULL PRIMARY KEY,
    tenant_id  text        NOT NULL,
    account_id text        NOT NULL,
    purpose    text        NOT NULL,
    data       bytea       NOT NULL,
    expires_at timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webauthn_challenges_account_idx ON webauthn_challenges (tenant_id, account_id);

-- The audit chain: seq is the chain position (1, 2, 3 … without gaps, checked by the store).
-- Append-only: the trigger refuses every UPDATE, DELETE and TRUNCATE, whoever sends it.
CREATE TABLE audit_records (
    seq        bigint      NOT NULL PRIMARY KEY CHECK (seq > 0),
    at         timestamptz NOT NULL,
    tenant_id  text        NOT NULL,
    actor_id   text        NOT NULL,
    actor_kind text        NOT NULL,
    action     text        NOT NULL,
    target     text        NOT NULL,
    ip         text        NOT NULL,
    user_agent text        NOT NULL,
    outcome    text        NOT NULL,
    detail     jsonb       NOT NULL,
    prev_hash  text        NOT NULL,
    hash       text        NOT NULL
);
CREATE INDEX audit_records_tenant_idx ON audit_records (tenant_id, seq);
CREATE INDEX audit_records_actor_idx ON audit_records (actor_id, seq);
CREATE INDEX audit_records_action_idx ON audit_records (action, seq);
CREATE INDEX audit_records_at_idx ON audit_records (at);

-- +goose StatementBegin
CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_records_no_update_delete BEFORE UPDATE OR DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_records_append_only();
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only();

-- +goose Down
DROP TABLE audit_records;
DROP FUNCTION audit_records_append_only();
DROP TABLE webauthn_challenges;
DROP TABLE recovery_codes;
DROP TABLE webauthn_credentials;
DROP TABLE totp_authenticators;
DROP TABLE sessions;
DROP TABLE login_throttles;
DROP TABLE accounts;
DROP TABLE tenants;

-- Integration API tokens. Conventions as in 00001. The token itself is never stored: secret_hash is the hex
-- SHA-256 of the whole token string. id is the short identifier the token carries in clear, so
-- authentication finds the row by primary key. created_by references the admin by (tenant_id, account_id),
-- so a token can never claim an account of another tenant. Revoked tokens stay, for the record.

-- +goose Up
CREATE TABLE api_tokens (
    id           text        COLLATE "C" NOT NULL PRIMARY KEY,
    tenant_id    text        NOT NULL,
    name         text        NOT NULL,
    scopes       jsonb       NOT NULL,
    secret_hash  text        NOT NULL,
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    last_used_ip text        NOT NULL,
    revoked_at   timestamptz,
    revoked_by   text        NOT NULL,
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
);
-- ListAPITokens, newest first.
CREATE INDEX api_tokens_tenant_created_idx ON api_tokens (tenant_id, created_at DESC, id);

-- +goose Down
DROP TABLE api_tokens;

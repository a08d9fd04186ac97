-- Rate limits shared by every instance: one counter per key (a token, a session's account, a client
-- address, each with its kind as a prefix) and fixed window. HitRateWindow counts with one upsert, so
-- concurrent requests on several instances are never lost; the periodic cleanup deletes expired windows
-- by expires_at.

-- +goose Up
CREATE TABLE rate_windows (
    key          text COLLATE "C" NOT NULL,
    window_start timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    hits         integer NOT NULL CHECK (hits > 0),
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_windows_expires_idx ON rate_windows (expires_at);

-- +goose Down
DROP TABLE rate_windows;

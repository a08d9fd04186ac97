-- The procedures list's other orders, by creation and by last update (keyset on (column, id)), and its
-- updated_since filter for delta syncs, which the updated_at index serves.

-- +goose Up
CREATE INDEX procedures_created_idx ON procedures (tenant_id, created_at, id);
CREATE INDEX procedures_updated_idx ON procedures (tenant_id, updated_at, id);

-- +goose Down
DROP INDEX procedures_updated_idx;
DROP INDEX procedures_created_idx;

-- Procedures (手続き) and per-consumer consumption of the outbox.
--
-- Conventions as in 00001 and 00002. A procedure refers to its employee without a foreign key: the record
-- of a filing outlives the employee's deletion from the register. dedup_key is NULL for procedures made by
-- hand, so the unique constraint holds only for the automatic ones (NULLs are distinct): that constraint is
-- what makes "one procedure per triggering change" hold even when two instances handle the same event.
-- history is the JSON list of status changes, written with the row it belongs to, so a transition and its
-- record are one atomic update.

-- +goose Up
CREATE TABLE procedures (
    id             TEXT    NOT NULL PRIMARY KEY,
    tenant_id      TEXT    NOT NULL CONSTRAINT procedures_tenant_fkey REFERENCES tenants (id),
    type           TEXT    NOT NULL,
    employee_id    TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('draft', 'pending_approval', 'approved', 'filed',
                                                      'completed', 'returned', 'cancelled')),
    fact_date      TEXT    NOT NULL,
    due_date       TEXT    NOT NULL,
    office         TEXT    NOT NULL,
    prepared_by    TEXT    NOT NULL,
    approved_by    TEXT    NOT NULL,
    dedup_key      TEXT,
    arrival_number TEXT,
    data           BLOB    NOT NULL,
    history        TEXT    NOT NULL CHECK (json_valid(history)),
    version        INTEGER NOT NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    CONSTRAINT procedures_dedup_key UNIQUE (tenant_id, dedup_key)
) STRICT;
-- Lists by deadline (keyset on (due_date, id)), with or without a status filter (the dashboard's).
CREATE INDEX procedures_due_idx ON procedures (tenant_id, due_date, id);
CREATE INDEX procedures_status_due_idx ON procedures (tenant_id, status, due_date, id);
CREATE INDEX procedures_employee_idx ON procedures (tenant_id, employee_id, due_date, id);
-- FiledProcedures, across tenants: only the filings awaiting an office's answer.
CREATE INDEX procedures_filed_idx ON procedures (id) WHERE status = 'filed' AND arrival_number IS NOT NULL;

-- Which consumer has handled which event. The primary key is the exactly-once guard: the consumer inserts
-- its row in the transaction that does the handling, and a second handler of the same event fails on it
-- and rolls back.
CREATE TABLE outbox_consumptions (
    consumer    TEXT NOT NULL,
    event_id    TEXT NOT NULL CONSTRAINT outbox_consumptions_event_fkey
                              REFERENCES outbox_events (id) ON DELETE CASCADE,
    consumed_at TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
) STRICT, WITHOUT ROWID;
-- PendingEventsFor walks the events of some types oldest first, skipping the consumed ones.
CREATE INDEX outbox_events_type_idx ON outbox_events (type, occurred_at, id);
CREATE INDEX outbox_events_order_idx ON outbox_events (occurred_at, id);

-- +goose Down
DROP INDEX outbox_events_order_idx;
DROP INDEX outbox_events_type_idx;
DROP TABLE outbox_consumptions;
DROP TABLE procedures;

-- Procedures (手続き) and per-consumer consumption of the outbox.
--
-- Conventions as in 00001 and 00002. A procedure refers to its employee without a foreign key: the record
-- of a filing outlives the employee's deletion from the register. dedup_key is NULL for procedures made by
-- hand, so the unique constraint holds only for the automatic ones (NULLs are distinct): that constraint is
-- what makes "one procedure per triggering change" hold even when two instances handle the same event.
-- history is the JSON list of status changes, written with the row it belongs to, so a transition and its
-- record are one atomic update. Dates are text in the "C" collation: they sort as dates.

-- +goose Up
CREATE TABLE procedures (
    id             text        COLLATE "C" NOT NULL PRIMARY KEY,
    tenant_id      text        NOT NULL CONSTRAINT procedures_tenant_fkey REFERENCES tenants (id),
    type           text        NOT NULL,
    employee_id    text        COLLATE "C" NOT NULL,
    status         text        NOT NULL CHECK (status IN ('draft', 'pending_approval', 'approved', 'filed',
                                                          'completed', 'returned', 'cancelled')),
    fact_date      text        COLLATE "C" NOT NULL,
    due_date       text        COLLATE "C" NOT NULL,
    office         text        NOT NULL,
    prepared_by    text        NOT NULL,
    approved_by    text        NOT NULL,
    dedup_key      text        COLLATE "C",
    arrival_number text,
    data           bytea       NOT NULL,
    history        jsonb       NOT NULL,
    version        bigint      NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT procedures_dedup_key UNIQUE (tenant_id, dedup_key)
);
-- Lists by deadline (keyset on (due_date, id)), with or without a status filter (the dashboard's).
CREATE INDEX procedures_due_idx ON procedures (tenant_id, due_date, id);
CREATE INDEX procedures_status_due_idx ON procedures (tenant_id, status, due_date, id);
CREATE INDEX procedures_employee_idx ON procedures (tenant_id, employee_id, due_date, id);
-- FiledProcedures, across tenants: only the filings awaiting an office's answer.
CREATE INDEX procedures_filed_idx ON procedures (id) WHERE status = 'filed' AND arrival_number IS NOT NULL;

-- Which consumer has handled which event. The primary key is the exactly-once guard: the consumer inserts
-- its row in the transaction that does the handling, and a second handler of the same event waits for the
-- first to commit, fails on the key and rolls back.
CREATE TABLE outbox_consumptions (
    consumer    text        NOT NULL,
    event_id    text        COLLATE "C" NOT NULL CONSTRAINT outbox_consumptions_event_fkey
                                        REFERENCES outbox_events (id) ON DELETE CASCADE,
    consumed_at timestamptz NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
-- PendingEventsFor walks the events of some types oldest first, skipping the consumed ones.
CREATE INDEX outbox_events_type_idx ON outbox_events (type, occurred_at, id);
CREATE INDEX outbox_events_order_idx ON outbox_events (occurred_at, id);

-- +goose Down
DROP INDEX outbox_events_order_idx;
DROP INDEX outbox_events_type_idx;
DROP TABLE outbox_consumptions;
DROP TABLE procedures;

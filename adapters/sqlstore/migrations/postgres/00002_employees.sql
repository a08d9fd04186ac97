-- The employee register: departments, employees with their effective-dated changes, the outbox of domain
-- events and long-running jobs.
--
-- Conventions as in 00001. In addition: a reference that may be absent (a root department's parent, an
-- employee without a department, an employee without a scheduled change) is NULL rather than '', so that
-- its foreign key is not checked and its partial index skips it. The documents the employees module owns
-- (an employee's data, a change's patch and trail, an event's payload, a job's result) are bytea stored
-- byte for byte, not jsonb: the store never reads inside them, and jsonb would reorder what the module
-- wrote. Dates (YYYY-MM-DD) are text in the "C" collation, as the ports carry them: they sort as dates.
--
-- Referential integrity is tenant-scoped: every reference carries tenant_id, so a row can never point at a
-- department or an employee of another tenant. A department cannot be deleted while a department or an
-- employee refers to it (RESTRICT); an employee's changes go with it (CASCADE).
--
-- Keyset pagination: each sort order has an index (tenant_id, sort column, id) that serves
-- WHERE tenant_id = $1 AND (sort column, id) > ($2, $3) ORDER BY sort column, id LIMIT n without a sort.
-- The employee number is unique per tenant, so its unique index serves that order alone.

-- +goose Up
CREATE TABLE departments (
    id         text        COLLATE "C" NOT NULL PRIMARY KEY,
    tenant_id  text        NOT NULL CONSTRAINT departments_tenant_fkey REFERENCES tenants (id),
    code       text        COLLATE "C" NOT NULL,
    name       text        NOT NULL,
    parent_id  text        COLLATE "C",
    version    bigint      NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT departments_code_key UNIQUE (tenant_id, code),
    CONSTRAINT departments_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT departments_parent_fkey FOREIGN KEY (tenant_id, parent_id)
        REFERENCES departments (tenant_id, id) ON DELETE RESTRICT
);
-- Finds a department's children (and serves the RESTRICT check of a parent's deletion).
CREATE INDEX departments_parent_idx ON departments (tenant_id, parent_id);

CREATE TABLE employees (
    id              text        COLLATE "C" NOT NULL PRIMARY KEY,
    tenant_id       text        NOT NULL CONSTRAINT employees_tenant_fkey REFERENCES tenants (id),
    employee_number text        COLLATE "C" NOT NULL,
    status          text        NOT NULL,
    employment_type text        NOT NULL,
    department_id   text        COLLATE "C",
    hire_date       text        COLLATE "C" NOT NULL,
    sort_kana       text        COLLATE "C" NOT NULL,
    search_text     text        NOT NULL,
    data            bytea       NOT NULL,
    effective_on    text        COLLATE "C" NOT NULL,
    next_change_on  text        COLLATE "C",
    version         bigint      NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT employees_number_key UNIQUE (tenant_id, employee_number),
    CONSTRAINT employees_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT employees_department_fkey FOREIGN KEY (tenant_id, department_id)
        REFERENCES departments (tenant_id, id) ON DELETE RESTRICT
);
-- The sort orders (the number's is employees_number_key).
CREATE INDEX employees_kana_idx ON employees (tenant_id, sort_kana, id);
CREATE INDEX employees_hire_date_idx ON employees (tenant_id, hire_date, id);
CREATE INDEX employees_updated_idx ON employees (tenant_id, updated_at, id);
-- The filters (hire date and update time use the sort indexes). The department's also serves the
-- RESTRICT check when a department is deleted.
CREATE INDEX employees_status_idx ON employees (tenant_id, status);
CREATE INDEX employees_type_idx ON employees (tenant_id, employment_type);
CREATE INDEX employees_department_idx ON employees (tenant_id, department_id);
-- EmployeesDue, across tenants: only the few employees with a scheduled change are indexed.
CREATE INDEX employees_next_change_idx ON employees (next_change_on, tenant_id, id)
    WHERE next_change_on IS NOT NULL;

-- Substring search (search_text LIKE '%…%') through a trigram index, when the pg_trgm extension can be
-- had: it ships with Postgres (contrib) and is trusted, so a database owner may create it. Without it the
-- search still works, by filtering the rows the other conditions select. An extension belongs to the
-- database, not to a schema, so it may already exist in another schema: the operator class is named with
-- the extension's schema. Two migrators of two schemas may race to create it; the loser finds it made.
-- +goose StatementBegin
DO $$
DECLARE
    trgm_schema name;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')
       AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'pg_trgm not created (%): employee search runs without a trigram index', SQLERRM;
        END;
    END IF;
    SELECT n.nspname INTO trgm_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX employees_search_trgm_idx ON employees USING gin (search_text %I.gin_trgm_ops)',
                       trgm_schema);
    END IF;
END
$$;
-- +goose StatementEnd

-- seq numbers an employee's changes in recording order (1, 2, …); the store assigns it as max + 1 while
-- it holds the employee's row lock.
CREATE TABLE employee_changes (
    id           text        COLLATE "C" NOT NULL PRIMARY KEY,
    tenant_id    text        NOT NULL,
    employee_id  text        NOT NULL,
    seq          bigint      NOT NULL CHECK (seq > 0),
    effective_on text        COLLATE "C" NOT NULL,
    kind         text        NOT NULL,
    patch        bytea       NOT NULL,
    trail        bytea       NOT NULL,
    recorded_at  timestamptz NOT NULL,
    recorded_by  text        NOT NULL,
    CONSTRAINT employee_changes_seq_key UNIQUE (tenant_id, employee_id, seq),
    CONSTRAINT employee_changes_employee_fkey FOREIGN KEY (tenant_id, employee_id)
        REFERENCES employees (tenant_id, id) ON DELETE CASCADE
);
-- An employee's changes in the order they apply.
CREATE INDEX employee_changes_order_idx ON employee_changes (tenant_id, employee_id, effective_on, seq);

-- Events may belong to no tenant (''), and outlive what they report, so they reference nothing.
CREATE TABLE outbox_events (
    id            text        COLLATE "C" NOT NULL PRIMARY KEY,
    tenant_id     text        NOT NULL,
    type          text        NOT NULL,
    subject_id    text        NOT NULL,
    payload       bytea       NOT NULL,
    occurred_at   timestamptz NOT NULL,
    dispatched_at timestamptz
);
-- PendingEvents: only the undispatched events are indexed, oldest first.
CREATE INDEX outbox_events_pending_idx ON outbox_events (occurred_at, id) WHERE dispatched_at IS NULL;

CREATE TABLE jobs (
    id         text        NOT NULL PRIMARY KEY,
    tenant_id  text        NOT NULL CONSTRAINT jobs_tenant_fkey REFERENCES tenants (id),
    kind       text        NOT NULL,
    status     text        NOT NULL,
    done       bigint      NOT NULL,
    total      bigint      NOT NULL,
    result     bytea       NOT NULL,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE jobs;
DROP TABLE outbox_events;
DROP TABLE employee_changes;
DROP TABLE employees;
DROP TABLE departments;

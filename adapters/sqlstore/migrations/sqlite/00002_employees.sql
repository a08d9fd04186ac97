-- The employee register: departments, employees with their effective-dated changes, the outbox of domain
-- events and long-running jobs.
--
-- Conventions as in 00001. In addition: a reference that may be absent (a root department's parent, an
-- employee without a department, an employee without a scheduled change) is NULL rather than '', so that
-- its foreign key is not checked and its partial index skips it. The documents the employees module owns
-- (an employee's data, a change's patch and trail, an event's payload, a job's result) are BLOBs stored
-- byte for byte: the store never reads inside them, and sealed values must come back exactly as given.
--
-- Referential integrity is tenant-scoped: every reference carries tenant_id, so a row can never point at a
-- department or an employee of another tenant. A department cannot be deleted while a department or an
-- employee refers to it (NO ACTION: SQLite reports it as a foreign-key failure, where RESTRICT would be
-- reported as a trigger's, the code of the audit table's refusals, which is no conflict); an employee's
-- changes go with it (CASCADE).
--
-- Keyset pagination: each sort order has an index (tenant_id, sort column, id) that serves
-- WHERE tenant_id = ? AND (sort column, id) > (?, ?) ORDER BY sort column, id LIMIT n without a sort.
-- The employee number is unique per tenant, so its unique index serves that order alone.

-- +goose Up
CREATE TABLE departments (
    id         TEXT    NOT NULL PRIMARY KEY,
    tenant_id  TEXT    NOT NULL CONSTRAINT departments_tenant_fkey REFERENCES tenants (id),
    code       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    parent_id  TEXT,
    version    INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    CONSTRAINT departments_code_key UNIQUE (tenant_id, code),
    CONSTRAINT departments_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT departments_parent_fkey FOREIGN KEY (tenant_id, parent_id)
        REFERENCES departments (tenant_id, id) ON DELETE NO ACTION
) STRICT;
-- Finds a department's children (and serves the check of a parent's deletion).
CREATE INDEX departments_parent_idx ON departments (tenant_id, parent_id);

CREATE TABLE employees (
    id              TEXT    NOT NULL PRIMARY KEY,
    tenant_id       TEXT    NOT NULL CONSTRAINT employees_tenant_fkey REFERENCES tenants (id),
    employee_number TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    employment_type TEXT    NOT NULL,
    department_id   TEXT,
    hire_date       TEXT    NOT NULL,
    sort_kana       TEXT    NOT NULL,
    search_text     TEXT    NOT NULL,
    data            BLOB    NOT NULL,
    effective_on    TEXT    NOT NULL,
    next_change_on  TEXT,
    version         INTEGER NOT NULL,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    CONSTRAINT employees_number_key UNIQUE (tenant_id, employee_number),
    CONSTRAINT employees_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT employees_department_fkey FOREIGN KEY (tenant_id, department_id)
        REFERENCES departments (tenant_id, id) ON DELETE NO ACTION
) STRICT;
-- The sort orders (the number's is employees_number_key).
CREATE INDEX employees_kana_idx ON employees (tenant_id, sort_kana, id);
CREATE INDEX employees_hire_date_idx ON employees (tenant_id, hire_date, id);
CREATE INDEX employees_updated_idx ON employees (tenant_id, updated_at, id);
-- The filters (hire date and update time use the sort indexes). The department's also serves the
-- foreign key's check when a department is deleted.
CREATE INDEX employees_status_idx ON employees (tenant_id, status);
CREATE INDEX employees_type_idx ON employees (tenant_id, employment_type);
CREATE INDEX employees_department_idx ON employees (tenant_id, department_id);
-- EmployeesDue, across tenants: only the few employees with a scheduled change are indexed.
CREATE INDEX employees_next_change_idx ON employees (next_change_on, tenant_id, id)
    WHERE next_change_on IS NOT NULL;

-- seq numbers an employee's changes in recording order (1, 2, …); the store assigns it as max + 1 while
-- it holds the employee's row.
CREATE TABLE employee_changes (
    id           TEXT    NOT NULL PRIMARY KEY,
    tenant_id    TEXT    NOT NULL,
    employee_id  TEXT    NOT NULL,
    seq          INTEGER NOT NULL CHECK (seq > 0),
    effective_on TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    patch        BLOB    NOT NULL,
    trail        BLOB    NOT NULL,
    recorded_at  TEXT    NOT NULL,
    recorded_by  TEXT    NOT NULL,
    CONSTRAINT employee_changes_seq_key UNIQUE (tenant_id, employee_id, seq),
    CONSTRAINT employee_changes_employee_fkey FOREIGN KEY (tenant_id, employee_id)
        REFERENCES employees (tenant_id, id) ON DELETE CASCADE
) STRICT;
-- An employee's changes in the order they apply.
CREATE INDEX employee_changes_order_idx ON employee_changes (tenant_id, employee_id, effective_on, seq);

-- Events may belong to no tenant (''), and outlive what they report, so they reference nothing.
CREATE TABLE outbox_events (
    id            TEXT NOT NULL PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    type          TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    payload       BLOB NOT NULL,
    occurred_at   TEXT NOT NULL,
    dispatched_at TEXT
) STRICT;
-- PendingEvents: only the undispatched events are indexed, oldest first.
CREATE INDEX outbox_events_pending_idx ON outbox_events (occurred_at, id) WHERE dispatched_at IS NULL;

CREATE TABLE jobs (
    id         TEXT    NOT NULL PRIMARY KEY,
    tenant_id  TEXT    NOT NULL CONSTRAINT jobs_tenant_fkey REFERENCES tenants (id),
    kind       TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    done       INTEGER NOT NULL,
    total      INTEGER NOT NULL,
    result     BLOB    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
) STRICT;

-- +goose Down
DROP TABLE jobs;
DROP TABLE outbox_events;
DROP TABLE employee_changes;
DROP TABLE employees;
DROP TABLE departments;

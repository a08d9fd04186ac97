-- Procedures' attachments: the scans a filing needs, their bytes in the row (at most 10 MiB each, 20 per
-- procedure, so the database holds them well). An attachment goes with its procedure (ON DELETE CASCADE).
-- Conventions as in 00001.

-- +goose Up
CREATE TABLE procedure_attachments (
    id           TEXT    NOT NULL PRIMARY KEY,
    tenant_id    TEXT    NOT NULL CONSTRAINT procedure_attachments_tenant_fkey REFERENCES tenants (id),
    procedure_id TEXT    NOT NULL CONSTRAINT procedure_attachments_procedure_fkey
                                  REFERENCES procedures (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL CHECK (size >= 0),
    sha256       TEXT    NOT NULL,
    uploaded_by  TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    body         BLOB    NOT NULL
) STRICT;
-- ListAttachments, oldest first.
CREATE INDEX procedure_attachments_procedure_idx ON procedure_attachments (tenant_id, procedure_id, created_at, id);

-- +goose Down
DROP TABLE procedure_attachments;

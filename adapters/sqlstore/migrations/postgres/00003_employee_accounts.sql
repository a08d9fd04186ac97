-- An employee's link to the login of the person the record describes (ports.EmployeeRecord.AccountID), as
-- a plain column so that "my own record" (EmployeeQuery.AccountID) is one index lookup. NULL when none, so
-- the partial index holds only linked employees. No foreign key: an account may be removed while the record
-- stays (the employees module checks the link when it is set).
--
-- Existing rows take the value from their data, where the employees module keeps it under "account_id".
-- Postgres 15 has no "IS JSON" test, so each row that mentions the key is converted on its own, and a row
-- whose data is not UTF-8 JSON (which the module never writes) is left unlinked instead of failing the
-- migration.

-- +goose Up
ALTER TABLE employees ADD COLUMN account_id text COLLATE "C";
-- +goose StatementBegin
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT id, data FROM employees WHERE position('"account_id"'::bytea IN data) > 0 LOOP
        BEGIN
            UPDATE employees
               SET account_id = nullif(convert_from(r.data, 'UTF8')::jsonb ->> 'account_id', '')
             WHERE id = r.id;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'employee %: data is not JSON, account_id left NULL', r.id;
        END;
    END LOOP;
END
$$;
-- +goose StatementEnd
CREATE INDEX employees_account_idx ON employees (tenant_id, account_id) WHERE account_id IS NOT NULL;

-- +goose Down
DROP INDEX employees_account_idx;
ALTER TABLE employees DROP COLUMN account_id;

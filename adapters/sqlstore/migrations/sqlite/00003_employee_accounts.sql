-- An employee's link to the login of the person the record describes (ports.EmployeeRecord.AccountID), as
-- a plain column so that "my own record" (EmployeeQuery.AccountID) is one index lookup. NULL when none, so
-- the partial index holds only linked employees. No foreign key: an account may be removed while the record
-- stays (the employees module checks the link when it is set).
--
-- Existing rows take the value from their data, where the employees module keeps it under "account_id"
-- (rows whose data is not JSON, which the module never writes, are left unlinked).

-- +goose Up
ALTER TABLE employees ADD COLUMN account_id TEXT;
UPDATE employees SET account_id = nullif(json_extract(CAST(data AS TEXT), '$.account_id'), '')
 WHERE json_valid(CAST(data AS TEXT));
CREATE INDEX employees_account_idx ON employees (tenant_id, account_id) WHERE account_id IS NOT NULL;

-- +goose Down
DROP INDEX employees_account_idx;
ALTER TABLE employees DROP COLUMN account_id;

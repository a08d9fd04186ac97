package test

import (
	"bytes"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite", to read the rows as they are

	"github.com/roumu/roumu/adapters/keyring"
	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/domain/idempotency"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/fixtures"
)

// sensitive are the values the test writes that must never be stored in clear.
var sensitive = []string{"123456789018", "871924658348", "1234-567890", "7654321"}

// registerWithSecrets stores an employee with My Number, a basic pension number and a bank account, a
// scheduled change of the account, a dependent with My Number, and an API answer kept for Idempotency-Key
// replays that holds them all.
func registerWithSecrets(t *testing.T, driver string) string {
	svc, admin, dsn := sqlRegister(t, driver)
	ctx := t.Context()
	emp, err := svc.CreateEmployee(ctx, admin, ports.EmployeeInput{Fields: map[string]string{
		"employee_number": "E1", "family_name": "山田", "given_name": "太郎", "family_name_kana": "ヤマダ",
		"given_name_kana": "タロウ", "birth_date": "1990-05-15", "gender": "male", "hire_date": "2025-04-01",
		"my_number": sensitive[0], "basic_pension_number": sensitive[2], "bank_account.account_number": "1234567"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateEmployee(ctx, admin, emp.ID, ports.EmployeeInput{EffectiveOn: "2099-01-01",
		Fields: map[string]string{"bank_account.account_number": sensitive[3]}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddDependent(ctx, admin, emp.ID, ports.DependentInput{Fields: map[string]string{
		"relationship": "配偶者", "family_name": "山田", "given_name": "花子", "birth_date": "1992-03-03",
		"my_number": sensitive[1]}}); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.RevealMyNumber(ctx, admin, emp.ID, "", "tax"); err != nil || got != sensitive[0] {
		t.Fatalf("the register does not give the number back: %q %v", got, err)
	}
	keepIdempotentAnswer(t, driver, dsn, admin)
	return dsn
}

// keepIdempotentAnswer keeps the answer to a POST sent with an Idempotency-Key whose request and answer hold
// the sensitive values, as the API does.
func keepIdempotentAnswer(t *testing.T, driver, dsn string, p ports.Principal) {
	store, err := sqlstore.Open(t.Context(), driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	keys, err := keyring.Open(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	replays, err := idempotency.New(store, keys, kernel.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	secrets := `{"my_number":"` + sensitive[0] + `","basic_pension_number":"` + sensitive[2] +
		`","bank_account":{"account_number":"` + sensitive[3] + `"},"dependents":[{"my_number":"` + sensitive[1] + `"}]}`
	_, claim, err := replays.Begin(t.Context(), p, "hire-E2", ports.IdempotentRequest{Method: "POST",
		Path: "/api/v1/employees", Body: []byte(secrets)})
	if err != nil {
		t.Fatal(err)
	}
	if err := replays.Complete(t.Context(), claim, ports.IdempotentResponse{Status: 201, Body: []byte(secrets)}); err != nil {
		t.Fatal(err)
	}
}

// TestNoPlainSensitiveValueInTheDatabase reads the database as it is stored: on SQLite every byte of the file
// and its write-ahead log, on Postgres every row of every table as text (binary columns in hex). No My
// Number, insurance number or account number may appear in clear.
func TestNoPlainSensitiveValueInTheDatabase(t *testing.T) {
	t.Parallel()
	if fixtures.MyNumber("12345678901") != sensitive[0] || fixtures.MyNumber("87192465834") != sensitive[1] {
		t.Fatal("the test's My Numbers are not valid")
	}
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dsn := registerWithSecrets(t, sqlstore.DriverSQLite)
		var all []byte
		for _, f := range []string{dsn, dsn + "-wal"} {
			b, err := os.ReadFile(f)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			for _, s := range sensitive {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s holds %q in clear", filepath.Base(f), s)
				}
			}
			all = append(all, b...)
		}
		if !bytes.Contains(all, []byte("ヤマダ")) {
			t.Fatal("the files do not hold the employee: the test reads the wrong place")
		}
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := registerWithSecrets(t, sqlstore.DriverPostgres)
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.QueryContext(t.Context(), `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			tables = append(tables, name)
		}
		rows.Close()
		if len(tables) < 10 {
			t.Fatalf("only %d tables in the schema", len(tables))
		}
		for _, table := range tables {
			var text string
			if err := db.QueryRowContext(t.Context(), `SELECT coalesce(string_agg(t::text, E'\n'), '') FROM "`+table+`" t`).Scan(&text); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			if table == "employees" && !strings.Contains(text, "ヤマダ") {
				t.Fatalf("the employees table does not hold the employee: the test reads the wrong place")
			}
			for _, s := range sensitive {
				// bytea columns read as text show their bytes in hex.
				if strings.Contains(text, s) || strings.Contains(text, hex.EncodeToString([]byte(s))) {
					t.Errorf("table %s holds %q in clear", table, s)
				}
			}
		}
	})
}

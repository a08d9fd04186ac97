// Package pgtest gives tests and benchmarks outside the SQL store a Postgres schema of their own, from
// ROUMU_TEST_POSTGRES_URL: without it they skip, except under CI=true, where a missing Postgres fails.
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

var admin struct {
	once sync.Once
	db   *sql.DB
	err  error
}

// Admin returns a connection to ROUMU_TEST_POSTGRES_URL and the URL.
func Admin(t testing.TB) (*sql.DB, string) {
	t.Helper()
	raw := os.Getenv("ROUMU_TEST_POSTGRES_URL")
	if raw == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but ROUMU_TEST_POSTGRES_URL is unset")
		}
		t.Skip("set ROUMU_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run against Postgres")
	}
	admin.once.Do(func() {
		admin.db, admin.err = sql.Open("pgx", raw)
		if admin.err == nil {
			admin.err = admin.db.Ping()
		}
		if admin.err == nil {
			// In the default schema, so that it outlives every test's schema, as in production.
			_, _ = admin.db.Exec("CREATE EXTENSION IF NOT EXISTS pg_trgm")
		}
	})
	if admin.err != nil {
		t.Fatalf("ROUMU_TEST_POSTGRES_URL is set but Postgres is unreachable: %v", admin.err)
	}
	return admin.db, raw
}

// SchemaDSN creates a schema for t, dropped when t ends, and returns a URL whose connections use it.
func SchemaDSN(t testing.TB) string {
	t.Helper()
	db, raw := Admin(t)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "rt_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw + " search_path=" + schema + ",public" // key=value form
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

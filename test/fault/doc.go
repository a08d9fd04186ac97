// Package fault injects the faults a production service meets and checks what is left afterwards: the
// process killed with SIGKILL mid-import and mid-webhook, PostgreSQL cut off and back mid-load, a SQLite disk
// that fills up, a database too slow to answer. Each test runs the real roumu binary (built once per test
// binary) as a separate process, on SQLite or a PostgreSQL schema of its own, and talks to it over HTTP.
//
// The package has only tests; process_test.go holds the harness.
package fault

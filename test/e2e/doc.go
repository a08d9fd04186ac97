// Package e2e tests the whole service from the outside: the accounts module wired on the memory stores with a
// fake clock (test/testenv) behind the real HTTP adapter, driven over HTTP and in headless Chromium.
//
// The package has only tests; newServer in wiring_test.go is the one place that wires the adapter.
package e2e

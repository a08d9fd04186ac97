// Package web is the HTTP adapter of Roumu: an Echo server that offers the browser pages, the JSON API under
// /api/v1 and the operations endpoints (/healthz, /readyz, /metrics).
//
// It drives the domain only through the driving ports (ports.Accounts, ports.MFA and ports.Employees) and
// imports neither the domain nor any other adapter, so it cannot tell which rules or which store sit behind
// the ports. Every error leaves through one handler (see problem.go) that turns the closed set of port error
// kinds into status codes: RFC 7807 problem documents for the API and a bilingual error page for the browser.
//
// The directory is adapters/http; the package is called web so that it does not shadow net/http.
package web

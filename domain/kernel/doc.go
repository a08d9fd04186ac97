// Package kernel is the shared kernel of the domain modules: clocks, identifiers, random tokens and the
// Asia/Tokyo location that business rules reason in, and the outbox consumption every module shares. It
// imports only the standard library and ports.
package kernel

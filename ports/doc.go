// Package ports is the boundary of the hexagon: every way into the domain (driving ports, implemented by
// the domain modules and called by adapters) and every way out of it (driven ports, implemented by adapters
// and called by the domain). It imports only the standard library, so a reader finds the whole vocabulary
// of the system here and nothing else.
package ports

// Package kernel is the shared kernel of the domain modules: clocks, identifiers, random tokens and the
// Asia/Tokyo location that business rules reason in. Standard library only.
package kernel

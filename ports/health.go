package ports

import "context"

// Pinger reports whether a backing service (the database) answers; /readyz uses it.
type Pinger interface {
	Ping(ctx context.Context) error
}

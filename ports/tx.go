package ports

import "context"

// Transactor runs fn in one database transaction: every store call made with the context that fn
// receives joins it, and nothing fn wrote survives if fn returns an error.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

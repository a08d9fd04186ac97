package ports

import "time"

// Clock gives the current instant. Policies take time only from here so that tests can use a fake clock.
type Clock interface {
	Now() time.Time
}

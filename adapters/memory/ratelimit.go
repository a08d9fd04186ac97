package memory

import (
	"context"
	"time"
)

// rateWindow is one fixed window's counter (see ports.RateLimitStore).
type rateWindow struct {
	count   int
	expires time.Time
}

type rateWindowKey struct {
	key   string
	start int64 // the window's start in Unix microseconds: an instant, whatever its zone
}

// HitRateWindow counts one request for key in the window starting at start.
func (s *Store) HitRateWindow(ctx context.Context, key string, start, expires time.Time) (int, error) {
	defer s.lock(ctx)()
	if s.rates == nil {
		s.rates = map[rateWindowKey]rateWindow{}
	}
	k := rateWindowKey{key: key, start: start.UnixMicro()}
	w := s.rates[k]
	w.count++
	if expires.After(w.expires) {
		w.expires = expires
	}
	s.rates[k] = w
	return w.count, nil
}

// DeleteRateWindows forgets the windows that expire at or before now.
func (s *Store) DeleteRateWindows(ctx context.Context, now time.Time) (int, error) {
	defer s.lock(ctx)()
	n := 0
	for k, w := range s.rates {
		if !w.expires.After(now) {
			delete(s.rates, k)
			n++
		}
	}
	return n, nil
}

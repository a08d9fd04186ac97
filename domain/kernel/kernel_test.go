package kernel

import (
	"regexp"
	"testing"
	"time"
)

func TestNewIDIsUUIDv7AndUnique(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !re.MatchString(id) {
			t.Fatalf("NewID() = %q, not a UUIDv7", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestRandomTokenLength(t *testing.T) {
	t.Parallel()
	if got := len(RandomToken(32)); got != 43 {
		t.Fatalf("RandomToken(32) has %d characters, want 43", got)
	}
}

func TestFakeClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 4, 1, 9, 0, 0, 0, Tokyo)
	c := NewFakeClock(start)
	c.Advance(30 * time.Minute)
	if got, want := c.Now(), start.Add(30*time.Minute); !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("Now() = %v, want %v in UTC", got, want)
	}
}

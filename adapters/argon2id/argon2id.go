// Package argon2id implements ports.PasswordHasher with argon2id (RFC 9106) in the PHC string format
//
//	$argon2id$v=19$m=47104,t=1,p=1$<salt>$<hash>
//
// with a 16-byte random salt and a 32-byte key, both unpadded standard base64. The parameters travel with
// each hash, so raising them needs no migration: Verify reports needsRehash for a matching password whose
// hash is cheaper than the configured parameters, and the caller stores a fresh hash.
//
// Argon2 is memory-hard on purpose, which also makes it a denial-of-service lever: every hash allocates
// MemoryKiB. A semaphore therefore bounds how many run at once (a flood of logins queues instead of
// exhausting memory), and stored hashes with absurd parameters are refused before any work is done.
package argon2id

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/roumu/roumu/ports"
)

// Params are the argon2id cost parameters.
type Params struct {
	MemoryKiB uint32 // memory per hash, in KiB
	Time      uint32 // passes over the memory
	Threads   uint8  // lanes (parallelism)
}

// DefaultParams is OWASP's "m=46 MiB, t=1, p=1" argon2id option. On the 2-core reference machine a
// verification takes about 28 ms (BenchmarkVerify), within the 20–50 ms a login can afford. OWASP rates it
// equal to "m=19 MiB, t=2" (about 21 ms here); more memory per pass is chosen because memory is what makes
// GPU and ASIC guessing expensive. The price is 46 MiB per hash in flight, bounded by the semaphore.
var DefaultParams = Params{MemoryKiB: 47104, Time: 1, Threads: 1}

// Bounds. MinMemoryKiB is OWASP's smallest recommended memory; the maximums bound what a stored hash may
// demand, so a corrupted or planted hash cannot make one login allocate gigabytes or spin for minutes.
const (
	MinMemoryKiB = 19456
	MaxMemoryKiB = 4 << 20 // 4 GiB
	MaxTime      = 100

	saltLen = 16
	keyLen  = 32

	minStoredSaltLen = 8 // RFC 9106's minimum
	maxStoredSaltLen = 64
	minStoredKeyLen  = 16
	maxStoredKeyLen  = 128
)

// ErrMalformedHash is returned by Verify for an encoding it cannot use; the message never contains it.
var ErrMalformedHash = errors.New("argon2id: malformed or unsupported password hash")

// Hasher hashes with its configured parameters and verifies hashes of any sane parameters.
type Hasher struct {
	params Params
	sem    chan struct{}
	idKey  func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte // a seam for tests
}

var _ ports.PasswordHasher = (*Hasher)(nil)

// New returns a Hasher that hashes with p and runs at most maxConcurrent hashes at once.
func New(p Params, maxConcurrent int) (*Hasher, error) {
	switch {
	case p.MemoryKiB < MinMemoryKiB || p.MemoryKiB > MaxMemoryKiB:
		return nil, fmt.Errorf("argon2id: memory %d KiB out of range [%d, %d]", p.MemoryKiB, MinMemoryKiB, MaxMemoryKiB)
	case p.Time < 1 || p.Time > MaxTime:
		return nil, fmt.Errorf("argon2id: time %d out of range [1, %d]", p.Time, MaxTime)
	case p.Threads < 1:
		return nil, errors.New("argon2id: threads must be at least 1")
	case maxConcurrent < 1:
		return nil, errors.New("argon2id: maxConcurrent must be at least 1")
	}
	return &Hasher{params: p, sem: make(chan struct{}, maxConcurrent), idKey: argon2.IDKey}, nil
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC encoding of password under a fresh random salt. It waits for a free slot, or
// returns ctx's error if ctx ends first.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("argon2id: reading random salt: %w", err)
	}
	key, err := h.derive(ctx, []byte(password), salt, h.params, keyLen)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches encoded, and, when it does, whether encoded was made with
// weaker parameters than the configured ones (needsRehash). A hash with other parameters, stronger or
// weaker, verifies normally: what counts is what is stored with it. A malformed or absurd encoding is an
// error (ErrMalformedHash), never a panic and never a match.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (match, needsRehash bool, err error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	got, err := h.derive(ctx, []byte(password), salt, p, uint32(len(want)))
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	weaker := p.MemoryKiB < h.params.MemoryKiB || p.Time < h.params.Time || p.Threads < h.params.Threads ||
		len(salt) < saltLen || len(want) < keyLen
	return true, weaker, nil
}

// derive computes the key while holding a semaphore slot.
func (h *Hasher) derive(ctx context.Context, password, salt []byte, p Params, n uint32) ([]byte, error) {
	// Checked first: select picks at random among ready cases, and a cancelled request must not start a
	// hash merely because a slot happens to be free.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.sem }()
	return h.idKey(password, salt, p.Time, p.MemoryKiB, p.Threads, n), nil
}

var b64 = base64.RawStdEncoding.Strict()

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses and bounds-checks a PHC argon2id string. Errors do not quote the input: it is a secret's
// derivative and has no business in a log.
func decode(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: not an argon2id PHC string", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported version", ErrMalformedHash)
	}
	m, t, threads, ok := parseParams(parts[3])
	if !ok {
		return p, nil, nil, fmt.Errorf("%w: bad parameters", ErrMalformedHash)
	}
	// Lower bounds are the algorithm's (memory ≥ 8 KiB per lane), not OWASP's: an old weak hash must still
	// verify so that it can be rehashed. Upper bounds stop a hostile hash from exhausting the server.
	if threads < 1 || threads > 255 || t < 1 || t > MaxTime || m < 8*threads || m > MaxMemoryKiB {
		return p, nil, nil, fmt.Errorf("%w: parameters out of range", ErrMalformedHash)
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < minStoredSaltLen || len(salt) > maxStoredSaltLen {
		return p, nil, nil, fmt.Errorf("%w: bad salt", ErrMalformedHash)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < minStoredKeyLen || len(key) > maxStoredKeyLen {
		return p, nil, nil, fmt.Errorf("%w: bad hash", ErrMalformedHash)
	}
	return Params{MemoryKiB: uint32(m), Time: uint32(t), Threads: uint8(threads)}, salt, key, nil
}

// parseParams reads exactly "m=<n>,t=<n>,p=<n>".
func parseParams(s string) (m, t, p uint64, ok bool) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return 0, 0, 0, false
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		digits, found := strings.CutPrefix(fields[i], name)
		if !found || digits == "" || len(digits) > 10 || (len(digits) > 1 && digits[0] == '0') {
			return 0, 0, 0, false
		}
		v, err := strconv.ParseUint(digits, 10, 32)
		if err != nil {
			return 0, 0, 0, false
		}
		vals[i] = v
	}
	return vals[0], vals[1], vals[2], true
}

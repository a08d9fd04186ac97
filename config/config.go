// Package config loads Roumu's typed configuration: built-in defaults, then a YAML file, then environment
// variables (ROUMU_<SECTION>_<KEY>), then command-line flags, each layer overriding the one before. Every
// key is validated at load time and an invalid one stops start-up with a one-line message naming the key,
// because a misconfigured security setting must never fall back silently to something else.
package config

import (
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Config is the whole, validated configuration of one Roumu process.
type Config struct {
	Server   Server
	Database Database
	Security Security
	Session  Session
	Log      Log
	Webhooks Webhooks
	Backup   Backup
	// RateLimit holds the request limits, per minute (README, "Rate limits").
	RateLimit RateLimit

	// File is the configuration file that was read, "" when none was.
	File string
}

// Server configures the HTTP listener.
type Server struct {
	Addr      string // host:port to listen on
	PublicURL string // external base URL, without a trailing slash; the WebAuthn relying-party origin
	TLS       TLS
	// TrustedProxies lists the CIDRs (or single IPs) of reverse proxies whose X-Forwarded-For is believed.
	// Empty means none: the client address is the TCP peer, so a client cannot spoof its IP to slip past a
	// tenant's IP restriction or the rate limits.
	TrustedProxies []string
	BodyLimit      int64 // maximum request body in bytes
}

// TLS names the certificate and key files; both empty means plain HTTP (behind a terminating proxy).
type TLS struct {
	CertFile string
	KeyFile  string
}

// Enabled reports whether the server should serve HTTPS itself.
func (t TLS) Enabled() bool { return t.CertFile != "" }

// Database selects the store.
type Database struct {
	Driver string // DriverSQLite, DriverPostgres or DriverMemory
	DSN    string // SQLite file or Postgres URL; may hold a password, so never log it unredacted
	// StatementTimeout is the longest a Postgres statement of the service may run, waiting for locks
	// included, before Postgres cancels it and the request is answered 503 timeout: a slow or locked
	// database must not hold requests (and their connections) until the HTTP write timeout (60 s) cuts them.
	// Migrations, backups and restores run without it. SQLite ignores it.
	StatementTimeout time.Duration
}

// Database drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
	DriverMemory   = "memory"
)

// Security holds the cryptographic settings.
type Security struct {
	KeyringFile string
	// The audit chain's signed checkpoints and their Ed25519 key, kept outside the database (see
	// adapters/auditfile); not used with the memory driver, whose chain ends with the process.
	AuditCheckpointFile string
	AuditSigningKeyFile string
	// BackupKeyFile holds the key that encrypts `roumu backup` files (see adapters/backupfile). It is not
	// the data keyring: sealed values stay sealed under the keyring inside a backup, so restoring one needs
	// both files, each kept apart from the backups.
	BackupKeyFile string
	// ClamdAddress is where clamd scans uploaded attachments, "unix:/run/clamav/clamd.ctl" or
	// "tcp:127.0.0.1:3310"; "" scans with the built-in EICAR-only scanner (tests and the demo).
	ClamdAddress string
	Argon2       Argon2
	// MaxConcurrentHashes bounds the password hashes computed at once, so that a flood of logins queues
	// instead of allocating Argon2's memory without limit.
	MaxConcurrentHashes int
}

// Argon2 holds the argon2id cost parameters for new password hashes.
type Argon2 struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// Session holds the login session lifetimes.
type Session struct {
	IdleTimeout     time.Duration // a session unused this long ends
	AbsoluteTimeout time.Duration // a session ends this long after login, however busy
}

// RateLimit is how many requests a minute each kind of caller may make; beyond it, 429 with Retry-After.
type RateLimit struct {
	ClientPerMinute  int // each API token and each login session
	AddressPerMinute int // unauthenticated API calls, per client address
	LoginPerMinute   int // login attempts, per client address
}

// Backup configures the scheduled backups `roumu serve` writes, the same files as `roumu backup`.
type Backup struct {
	Dir      string        // where they are written; "" schedules none
	Interval time.Duration // how often: a backup is due when the newest in Dir is this old
	Keep     int           // how many of the newest are kept; older ones are deleted
}

// Webhooks is the operator's policy on where webhooks may go. By default only https to public addresses:
// anything else (a partner on the company network, tests) must be allowed here explicitly.
type Webhooks struct {
	AllowHTTP    bool     // also plain http:// destinations
	AllowedCIDRs []string // CIDRs (or single IPs) allowed although not public, e.g. 10.20.0.0/16
}

// Log configures the process log.
type Log struct {
	Level  string // debug, info, warn or error
	Format string // text or json
}

// SlogLevel returns the level as a log/slog level. The level has been validated by Load.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// RedactedDSN returns the DSN with any password replaced, for logging. The DSN itself may carry a secret.
func (d Database) RedactedDSN() string {
	u, err := url.Parse(d.DSN)
	if err == nil && u.Scheme != "" && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		return u.String()
	}
	if err != nil && strings.Contains(d.DSN, "://") {
		// Unparseable URL: say nothing of it rather than risk echoing a password.
		return "(unparseable DSN)"
	}
	// libpq key=value form: mask password=…
	fields := strings.Fields(d.DSN)
	for i, f := range fields {
		if strings.HasPrefix(strings.ToLower(f), "password=") {
			fields[i] = "password=xxxxx"
		}
	}
	return strings.Join(fields, " ")
}

// isAddrRange tells whether s is an IPv4 or IPv6 CIDR range or a single address, as the adapters parse it
// (ports.ParseAddrRange, which config may not import): a zone ("fe80::1%eth0") names a link, not a range.
func isAddrRange(s string) bool {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return err == nil && p.Addr().Zone() == ""
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

// Clamd splits Security.ClamdAddress into a network ("unix" or "tcp") and an address; both "" when unset.
func (s Security) Clamd() (network, address string) {
	network, address, _ = strings.Cut(s.ClamdAddress, ":")
	return network, address
}

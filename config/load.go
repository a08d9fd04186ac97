package config

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// DefaultFile is the configuration file looked for in the working directory when none is named.
const DefaultFile = "roumu.yaml"

// EnvPrefix prefixes every environment variable: ROUMU_<SECTION>_<KEY>.
const EnvPrefix = "ROUMU"

// Argon2 bounds. The minimum is OWASP's smallest recommended argon2id memory (19 MiB); the maximum keeps a
// typo from making every login allocate more than a server has.
const (
	MinArgon2MemoryKiB = 19456
	MaxArgon2MemoryKiB = 4 << 20 // 4 GiB
	maxArgon2Time      = 100
)

// Defaults for the argon2id cost: OWASP's "m=47104 KiB (46 MiB), t=1, p=1" option, measured on the 2-core
// reference machine at about 28 ms per verification, inside the 20–50 ms a login can afford (see
// adapters/argon2id's benchmarks, which also explain why this option rather than m=19 MiB, t=2).
const (
	DefaultArgon2MemoryKiB = 47104
	DefaultArgon2Time      = 1
	DefaultArgon2Threads   = 1
)

// Options says where Load looks for configuration beyond the defaults and the environment.
type Options struct {
	// File is an explicit configuration file (--config); it must exist. When empty, Load uses the
	// "config" flag of Flags if it was set, else DefaultFile in Dir if present, else no file.
	File string
	// Dir is the working directory searched for DefaultFile; "" means the process's working directory.
	Dir string
	// Flags, when not nil, overrides everything else for each flag that exists in it and was set.
	// A key is bound to the flag named like the key with '.' and '_' as '-' (database.driver →
	// --database-driver) and to the short aliases in flagAliases (--addr → server.addr).
	Flags *pflag.FlagSet
}

// spec is one configuration key with its default.
type spec struct {
	key string
	def any
}

// specs lists every key Load knows. A key missing here is unknown: in a file it is an error.
var specs = []spec{
	{"server.addr", "127.0.0.1:8080"},
	{"server.public_url", "http://localhost:8080"},
	{"server.tls.cert_file", ""},
	{"server.tls.key_file", ""},
	{"server.trusted_proxies", []string{}},
	{"server.body_limit", "1MiB"},
	{"database.driver", DriverSQLite},
	{"database.dsn", "./var/roumu.db"},
	{"database.statement_timeout", "30s"},
	{"security.keyring_file", "./var/keyring.json"},
	{"security.audit_checkpoint_file", "./var/audit-checkpoints.jsonl"},
	{"security.audit_signing_key_file", "./var/audit-signing.key"},
	{"security.backup_key_file", "./var/backup.key"},
	{"security.clamd_address", ""},
	{"security.argon2.memory_kib", DefaultArgon2MemoryKiB},
	{"security.argon2.time", DefaultArgon2Time},
	{"security.argon2.threads", DefaultArgon2Threads},
	{"security.max_concurrent_hashes", defaultMaxConcurrentHashes()},
	{"session.idle_timeout", "30m"},
	{"session.absolute_timeout", "12h"},
	{"log.level", "info"},
	{"log.format", "text"},
	{"webhooks.allow_http", false},
	{"webhooks.allowed_cidrs", []string{}},
	{"backup.dir", ""},
	{"backup.interval", "24h"},
	{"backup.keep", 14},
	{"ratelimit.client_per_minute", 600},
	{"ratelimit.address_per_minute", 300},
	{"ratelimit.login_per_minute", 10},
}

// flagAliases are short flag names of the command line (CONTRACT.md) for some keys.
var flagAliases = map[string]string{
	"addr":       "server.addr",
	"public-url": "server.public_url",
}

// defaultMaxConcurrentHashes allows two hashes per core, so a core never idles while another hash waits
// for memory, capped so that a large machine does not allocate dozens of Argon2 blocks at once.
func defaultMaxConcurrentHashes() int {
	return min(2*runtime.NumCPU(), 16)
}

// Default returns the built-in defaults alone (no file, environment or flags): SQLite at ./var/roumu.db
// and the keyring at ./var/keyring.json.
func Default() Config {
	c, err := load(Options{}, false)
	if err != nil {
		panic("config: defaults invalid: " + err.Error()) // a programming error, caught by the tests
	}
	return c
}

// Load builds the configuration from defaults, the YAML file, the environment and flags, and validates
// it. Errors are one line and name the offending key (values of secrets are never included).
func Load(opts Options) (Config, error) {
	return load(opts, true)
}

func load(opts Options, layers bool) (Config, error) {
	v := viper.New()
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	for _, s := range specs {
		v.SetDefault(s.key, s.def)
		if !layers {
			continue
		}
		// Bound explicitly: viper's AutomaticEnv only sees keys it already knows from a file, so without
		// this an environment variable would be ignored when there is no file.
		if err := v.BindEnv(s.key); err != nil {
			return Config{}, fmt.Errorf("config: %s: %w", s.key, err)
		}
	}

	var file string
	if layers {
		var err error
		if file, err = resolveFile(opts); err != nil {
			return Config{}, err
		}
		if file != "" {
			if err := readFile(v, file); err != nil {
				return Config{}, err
			}
		}
		if opts.Flags != nil {
			if err := bindFlags(v, opts.Flags); err != nil {
				return Config{}, err
			}
		}
	}

	c, problems := decode(v)
	c.File = file
	problems = append(problems, validate(c)...)
	if len(problems) > 0 {
		return Config{}, &Error{Problems: problems}
	}
	return c, nil
}

// Problem is one invalid key.
type Problem struct {
	Key string
	Msg string
}

// Error is an invalid configuration. Its message is one line naming every invalid key.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Key + ": " + p.Msg
	}
	return "invalid configuration: " + strings.Join(parts, "; ")
}

// Keys returns the invalid keys, in order.
func (e *Error) Keys() []string {
	keys := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		keys[i] = p.Key
	}
	return keys
}

func resolveFile(opts Options) (string, error) {
	file := opts.File
	if file == "" && opts.Flags != nil {
		if f := opts.Flags.Lookup("config"); f != nil && f.Changed {
			file = f.Value.String()
		}
	}
	if file != "" {
		// Named explicitly: it must exist, or the operator would run on defaults without noticing.
		if _, err := os.Stat(file); err != nil {
			return "", fmt.Errorf("config: file %s: %w", file, errors.Unwrap(err))
		}
		return file, nil
	}
	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	candidate := filepath.Join(dir, DefaultFile)
	if _, err := os.Stat(candidate); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", nil // optional: no file means defaults and environment only
		}
		return "", fmt.Errorf("config: file %s: %w", candidate, errors.Unwrap(err))
	}
	return candidate, nil
}

func readFile(v *viper.Viper, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("config: file %s: %w", file, errors.Unwrap(err))
	}
	// A separate instance sees only the file's keys (no defaults), so unknown ones can be named.
	fv := viper.New()
	fv.SetConfigType("yaml")
	if err := fv.ReadConfig(bytes.NewReader(b)); err != nil {
		return fmt.Errorf("config: file %s: %s", file, oneLine(err.Error()))
	}
	if unknown := unknownKeys(fv); len(unknown) > 0 {
		return fmt.Errorf("config: file %s: unknown key(s) %s", file, strings.Join(unknown, ", "))
	}
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(b)); err != nil {
		return fmt.Errorf("config: file %s: %s", file, oneLine(err.Error()))
	}
	return nil
}

// unknownKeys returns the file's keys that are not configuration keys: a typo must be an error, never a
// silent fall-back to the default. An empty section ("log:" with nothing under it) is tolerated.
func unknownKeys(fv *viper.Viper) []string {
	var unknown []string
	for _, k := range fv.AllKeys() {
		if isKey(k) {
			continue
		}
		if fv.Get(k) == nil && isSection(k) {
			continue
		}
		unknown = append(unknown, k)
	}
	slices.Sort(unknown)
	return unknown
}

func isKey(k string) bool {
	return slices.ContainsFunc(specs, func(s spec) bool { return s.key == k })
}

func isSection(k string) bool {
	return slices.ContainsFunc(specs, func(s spec) bool { return strings.HasPrefix(s.key, k+".") })
}

func bindFlags(v *viper.Viper, fs *pflag.FlagSet) error {
	names := map[string]string{}
	for _, s := range specs {
		names[strings.NewReplacer(".", "-", "_", "-").Replace(s.key)] = s.key
	}
	for alias, key := range flagAliases {
		names[alias] = key
	}
	// Sorted so that, when both an alias and the long name are set, the result does not depend on map
	// order: the later binding wins, and each long name (server-…) sorts after its alias.
	for _, name := range slices.Sorted(maps.Keys(names)) {
		f := fs.Lookup(name)
		if f == nil || !f.Changed {
			continue // an unset flag must not override the file or the environment with its default
		}
		if err := v.BindPFlag(names[name], f); err != nil {
			return fmt.Errorf("config: flag --%s: %w", name, err)
		}
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// decoder reads typed values from viper, recording a Problem for each that has the wrong type.
type decoder struct {
	v        *viper.Viper
	problems []Problem
}

func (d *decoder) fail(key, format string, args ...any) {
	d.problems = append(d.problems, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) str(key string) string {
	switch x := d.v.Get(key).(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case int, int64, uint64, float64, bool:
		return fmt.Sprint(x)
	default:
		d.fail(key, "must be a string")
		return ""
	}
}

func (d *decoder) int(key string, lo, hi int64) int64 {
	var n int64
	switch x := d.v.Get(key).(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case uint64:
		if x > math.MaxInt64 {
			d.fail(key, "must be at most %d", hi)
			return 0
		}
		n = int64(x)
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			d.fail(key, "must be an integer")
			return 0
		}
		n = int64(x)
	case string:
		var err error
		if n, err = strconv.ParseInt(strings.TrimSpace(x), 10, 64); err != nil {
			d.fail(key, "must be an integer (got %q)", x)
			return 0
		}
	default:
		d.fail(key, "must be an integer")
		return 0
	}
	if n < lo {
		d.fail(key, "must be at least %d (got %d)", lo, n)
		return 0
	}
	if n > hi {
		d.fail(key, "must be at most %d (got %d)", hi, n)
		return 0
	}
	return n
}

func (d *decoder) bool(key string) bool {
	switch x := d.v.Get(key).(type) {
	case bool:
		return x
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			d.fail(key, "must be true or false (got %q)", x)
		}
		return b
	default:
		d.fail(key, "must be true or false")
		return false
	}
}

func (d *decoder) duration(key string) time.Duration {
	var dur time.Duration
	switch x := d.v.Get(key).(type) {
	case time.Duration:
		dur = x
	case string:
		var err error
		if dur, err = time.ParseDuration(strings.TrimSpace(x)); err != nil {
			d.fail(key, "must be a duration such as 30m or 12h (got %q)", x)
			return 0
		}
	default:
		// A bare number is ambiguous (seconds? nanoseconds?), so it is refused rather than guessed.
		d.fail(key, "must be a duration with a unit, such as 30m or 12h")
		return 0
	}
	if dur <= 0 {
		d.fail(key, "must be positive (got %s)", dur)
		return 0
	}
	return dur
}

func (d *decoder) strings(key string) []string {
	var raw []string
	switch x := d.v.Get(key).(type) {
	case nil:
	case string:
		raw = strings.Split(x, ",")
	case []string:
		raw = x
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				d.fail(key, "must be a list of strings")
				return nil
			}
			raw = append(raw, s)
		}
	default:
		d.fail(key, "must be a list of strings")
		return nil
	}
	out := []string{}
	for _, s := range raw {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// byteUnits are the suffixes accepted in sizes, longest first so that "MiB" is not read as "B".
var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30},
	{"B", 1},
}

func (d *decoder) size(key string) int64 {
	var n int64
	switch x := d.v.Get(key).(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case string:
		var ok bool
		if n, ok = parseSize(x); !ok {
			d.fail(key, "must be a size such as 1MiB, 512KiB or a number of bytes (got %q)", x)
			return 0
		}
	default:
		d.fail(key, "must be a size such as 1MiB or a number of bytes")
		return 0
	}
	if n <= 0 {
		d.fail(key, "must be positive")
		return 0
	}
	return n
}

func parseSize(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, false
	}
	return n * mult, true
}

func decode(v *viper.Viper) (Config, []Problem) {
	d := &decoder{v: v}
	var c Config
	c.Server.Addr = d.str("server.addr")
	c.Server.PublicURL = strings.TrimRight(d.str("server.public_url"), "/")
	c.Server.TLS.CertFile = d.str("server.tls.cert_file")
	c.Server.TLS.KeyFile = d.str("server.tls.key_file")
	c.Server.TrustedProxies = d.strings("server.trusted_proxies")
	c.Server.BodyLimit = d.size("server.body_limit")
	c.Database.Driver = strings.ToLower(d.str("database.driver"))
	c.Database.DSN = d.str("database.dsn")
	c.Database.StatementTimeout = d.duration("database.statement_timeout")
	c.Security.KeyringFile = d.str("security.keyring_file")
	c.Security.AuditCheckpointFile = d.str("security.audit_checkpoint_file")
	c.Security.AuditSigningKeyFile = d.str("security.audit_signing_key_file")
	c.Security.BackupKeyFile = d.str("security.backup_key_file")
	c.Security.ClamdAddress = d.str("security.clamd_address")
	c.Security.Argon2.MemoryKiB = uint32(d.int("security.argon2.memory_kib", MinArgon2MemoryKiB, MaxArgon2MemoryKiB))
	c.Security.Argon2.Time = uint32(d.int("security.argon2.time", 1, maxArgon2Time))
	c.Security.Argon2.Threads = uint8(d.int("security.argon2.threads", 1, 255))
	c.Security.MaxConcurrentHashes = int(d.int("security.max_concurrent_hashes", 1, 1024))
	c.Session.IdleTimeout = d.duration("session.idle_timeout")
	c.Session.AbsoluteTimeout = d.duration("session.absolute_timeout")
	c.Log.Level = strings.ToLower(d.str("log.level"))
	c.Log.Format = strings.ToLower(d.str("log.format"))
	c.Webhooks.AllowHTTP = d.bool("webhooks.allow_http")
	c.Webhooks.AllowedCIDRs = d.strings("webhooks.allowed_cidrs")
	c.Backup.Dir = d.str("backup.dir")
	c.Backup.Interval = d.duration("backup.interval")
	c.Backup.Keep = int(d.int("backup.keep", 1, 10_000))
	c.RateLimit.ClientPerMinute = int(d.int("ratelimit.client_per_minute", 1, 1_000_000_000))
	c.RateLimit.AddressPerMinute = int(d.int("ratelimit.address_per_minute", 1, 1_000_000_000))
	c.RateLimit.LoginPerMinute = int(d.int("ratelimit.login_per_minute", 1, 1_000_000_000))
	return c, d.problems
}

// validate checks the rules between and within decoded values. Type and range errors were found by decode.
func validate(c Config) []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}

	if err := checkAddr(c.Server.Addr); err != "" {
		add("server.addr", "%s (got %q)", err, c.Server.Addr)
	}
	if err := checkPublicURL(c.Server.PublicURL); err != "" {
		add("server.public_url", "%s", err)
	}
	cert, key := c.Server.TLS.CertFile, c.Server.TLS.KeyFile
	switch {
	case cert != "" && key == "":
		add("server.tls.key_file", "must be set when server.tls.cert_file is")
	case cert == "" && key != "":
		add("server.tls.cert_file", "must be set when server.tls.key_file is")
	case cert != "":
		if err := readable(cert); err != "" {
			add("server.tls.cert_file", "%s: %s", cert, err)
		}
		if err := readable(key); err != "" {
			add("server.tls.key_file", "%s: %s", key, err)
		}
	}
	for _, p := range c.Server.TrustedProxies {
		if !isAddrRange(p) {
			add("server.trusted_proxies", "%q is neither a CIDR nor an IP address", p)
		}
	}

	switch c.Database.Driver {
	case DriverSQLite:
		if c.Database.DSN == "" {
			add("database.dsn", "must name the SQLite file when database.driver is sqlite")
		}
	case DriverPostgres:
		// The value is never echoed: a Postgres DSN usually holds a password.
		if !isPostgresDSN(c.Database.DSN) {
			add("database.dsn", "must be a postgres:// URL when database.driver is postgres")
		}
	case DriverMemory:
	default:
		add("database.driver", "must be sqlite, postgres or memory (got %q)", c.Database.Driver)
	}
	if t := c.Database.StatementTimeout; t > 0 && t < time.Millisecond {
		add("database.statement_timeout", "must be at least 1ms, Postgres's unit (got %s)", t)
	}

	for _, f := range [][2]string{{"security.keyring_file", c.Security.KeyringFile},
		{"security.audit_checkpoint_file", c.Security.AuditCheckpointFile},
		{"security.audit_signing_key_file", c.Security.AuditSigningKeyFile},
		{"security.backup_key_file", c.Security.BackupKeyFile}} {
		if f[1] == "" {
			add(f[0], "must be set")
		}
	}
	if c.Security.ClamdAddress != "" {
		switch network, address := c.Security.Clamd(); {
		case network == "unix" && strings.HasPrefix(address, "/"):
		case network == "tcp" && checkAddr(address) == "" && !strings.HasPrefix(address, ":"):
		default:
			add("security.clamd_address", `must be "unix:/path/to/clamd.ctl" or "tcp:host:port" (got %q)`, c.Security.ClamdAddress)
		}
	}
	// The backup key is a file of its own: sharing one with another key would overwrite it, or tie the
	// backups' fate to a key that is kept (and lost, or stolen) elsewhere.
	for _, f := range [][2]string{{"security.keyring_file", c.Security.KeyringFile},
		{"security.audit_signing_key_file", c.Security.AuditSigningKeyFile}} {
		if b := c.Security.BackupKeyFile; b != "" && filepath.Clean(b) == filepath.Clean(f[1]) {
			add("security.backup_key_file", "must not be the same file as %s", f[0])
		}
	}

	if c.Session.IdleTimeout > 0 && c.Session.AbsoluteTimeout > 0 && c.Session.IdleTimeout > c.Session.AbsoluteTimeout {
		add("session.idle_timeout", "must not exceed session.absolute_timeout (%s > %s)",
			c.Session.IdleTimeout, c.Session.AbsoluteTimeout)
	}

	if c.Backup.Dir != "" {
		if c.Database.Driver == DriverMemory {
			add("backup.dir", "the memory driver keeps nothing to back up; leave backup.dir empty")
		}
		if c.Backup.Interval < time.Hour {
			add("backup.interval", "must be at least 1h (got %s)", c.Backup.Interval)
		}
	}

	for _, p := range c.Webhooks.AllowedCIDRs {
		if !isAddrRange(p) {
			add("webhooks.allowed_cidrs", "%q is neither a CIDR nor an IP address", p)
		}
	}

	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		add("log.level", "must be debug, info, warn or error (got %q)", c.Log.Level)
	}
	if !slices.Contains([]string{"text", "json"}, c.Log.Format) {
		add("log.format", "must be text or json (got %q)", c.Log.Format)
	}
	return ps
}

func checkAddr(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "must be host:port"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "must have a numeric port 0-65535"
	}
	return ""
}

func checkPublicURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return fmt.Sprintf("must be an absolute http:// or https:// URL (got %q)", s)
	}
	if u.User != nil {
		return "must not contain user information"
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf("must not have a query or fragment (got %q)", s)
	}
	return ""
}

func isPostgresDSN(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") && u.Host != ""
}

func readable(path string) string {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "no such file"
		}
		if errors.Is(err, os.ErrPermission) {
			return "permission denied"
		}
		return "cannot be read"
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return "not a regular file"
	}
	return ""
}

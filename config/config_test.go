package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// clearEnv blanks every ROUMU_* variable the loader reads, so a developer's shell cannot change the
// outcome (viper ignores empty variables).
func clearEnv(t *testing.T) {
	t.Helper()
	for _, s := range specs {
		t.Setenv(envName(s.key), "")
	}
}

func envName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(key))
}

// loadWith runs Load in an empty directory (so no roumu.yaml is found) with the given YAML and environment.
func loadWith(t *testing.T, yaml string, env map[string]string) (Config, error) {
	t.Helper()
	clearEnv(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	if yaml != "" {
		if err := os.WriteFile(filepath.Join(dir, DefaultFile), []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return Load(Options{Dir: dir})
}

func TestNoConfigurationRunsOnSQLiteInVar(t *testing.T) {
	c, err := loadWith(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Server: Server{
			Addr:           "127.0.0.1:8080",
			PublicURL:      "http://localhost:8080",
			TrustedProxies: []string{},
			BodyLimit:      1 << 20,
		},
		Database: Database{Driver: "sqlite", DSN: "./var/roumu.db", StatementTimeout: 30 * time.Second},
		Security: Security{
			KeyringFile:         "./var/keyring.json",
			AuditCheckpointFile: "./var/audit-checkpoints.jsonl",
			AuditSigningKeyFile: "./var/audit-signing.key",
			BackupKeyFile:       "./var/backup.key",
			Argon2:              Argon2{MemoryKiB: DefaultArgon2MemoryKiB, Time: DefaultArgon2Time, Threads: DefaultArgon2Threads},
			MaxConcurrentHashes: min(2*runtime.NumCPU(), 16),
		},
		Session:   Session{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour},
		Log:       Log{Level: "info", Format: "text"},
		Webhooks:  Webhooks{AllowedCIDRs: []string{}},
		Backup:    Backup{Interval: 24 * time.Hour, Keep: 14},
		RateLimit: RateLimit{ClientPerMinute: 600, AddressPerMinute: 300, LoginPerMinute: 10},
	}
	if !equal(c, want) {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
	if d := Default(); !equal(d, want) {
		t.Fatalf("Default() = %+v", d)
	}
	if c.Server.TLS.Enabled() {
		t.Fatal("TLS enabled by default")
	}
}

func equal(a, b Config) bool {
	return slices.Equal(a.Server.TrustedProxies, b.Server.TrustedProxies) &&
		a.Server.Addr == b.Server.Addr && a.Server.PublicURL == b.Server.PublicURL &&
		a.Server.TLS == b.Server.TLS && a.Server.BodyLimit == b.Server.BodyLimit &&
		a.Database == b.Database && a.Security == b.Security && a.Session == b.Session &&
		a.Log == b.Log && a.File == b.File && a.Webhooks.AllowHTTP == b.Webhooks.AllowHTTP &&
		slices.Equal(a.Webhooks.AllowedCIDRs, b.Webhooks.AllowedCIDRs) && a.Backup == b.Backup && a.RateLimit == b.RateLimit
}

func TestFileOverridesDefaults(t *testing.T) {
	c, err := loadWith(t, `
server:
  addr: 0.0.0.0:9090
  public_url: https://hr.example.jp/
  trusted_proxies: [10.0.0.0/8, 192.168.1.1, "fd00::/8"]
  body_limit: 512KiB
database:
  driver: postgres
  dsn: postgres://roumu:s3cret@db:5432/roumu?sslmode=disable
security:
  keyring_file: /etc/roumu/keyring.json
  argon2:
    memory_kib: 47104
    time: 1
    threads: 2
  max_concurrent_hashes: 3
session:
  idle_timeout: 15m
  absolute_timeout: 8h
log:
  level: debug
  format: json
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Addr != "0.0.0.0:9090" || c.Server.PublicURL != "https://hr.example.jp" ||
		!slices.Equal(c.Server.TrustedProxies, []string{"10.0.0.0/8", "192.168.1.1", "fd00::/8"}) ||
		c.Server.BodyLimit != 512<<10 {
		t.Errorf("server = %+v", c.Server)
	}
	if c.Database.Driver != "postgres" || !strings.HasPrefix(c.Database.DSN, "postgres://roumu:s3cret@db") {
		t.Errorf("database = %+v", c.Database)
	}
	if c.Security != (Security{KeyringFile: "/etc/roumu/keyring.json", AuditCheckpointFile: "./var/audit-checkpoints.jsonl",
		AuditSigningKeyFile: "./var/audit-signing.key", BackupKeyFile: "./var/backup.key", Argon2: Argon2{47104, 1, 2}, MaxConcurrentHashes: 3}) {
		t.Errorf("security = %+v", c.Security)
	}
	if c.Session != (Session{15 * time.Minute, 8 * time.Hour}) {
		t.Errorf("session = %+v", c.Session)
	}
	if c.Log != (Log{"debug", "json"}) || c.Log.SlogLevel().String() != "DEBUG" {
		t.Errorf("log = %+v", c.Log)
	}
	if filepath.Base(c.File) != DefaultFile {
		t.Errorf("File = %q", c.File)
	}
}

func TestEnvironmentWorksWithoutFileAndOverridesFile(t *testing.T) {
	env := map[string]string{
		"ROUMU_DATABASE_DRIVER":            "postgres",
		"ROUMU_DATABASE_DSN":               "postgres://u@h/db",
		"ROUMU_SERVER_ADDR":                ":7000",
		"ROUMU_SERVER_TRUSTED_PROXIES":     "10.0.0.0/8, 127.0.0.1",
		"ROUMU_SERVER_BODY_LIMIT":          "2097152",
		"ROUMU_SECURITY_ARGON2_MEMORY_KIB": "65536",
		"ROUMU_SECURITY_ARGON2_TIME":       "3",
		"ROUMU_SESSION_IDLE_TIMEOUT":       "5m",
		"ROUMU_DATABASE_STATEMENT_TIMEOUT": "2500ms",
		"ROUMU_LOG_FORMAT":                 "json",
	}
	for _, yaml := range []string{"", "database:\n  driver: memory\nserver:\n  addr: 1.2.3.4:1\nlog:\n  format: text\n"} {
		c, err := loadWith(t, yaml, env)
		if err != nil {
			t.Fatal(err)
		}
		if c.Database.Driver != "postgres" || c.Database.DSN != "postgres://u@h/db" || c.Server.Addr != ":7000" ||
			!slices.Equal(c.Server.TrustedProxies, []string{"10.0.0.0/8", "127.0.0.1"}) ||
			c.Server.BodyLimit != 2<<20 || c.Security.Argon2.MemoryKiB != 65536 || c.Security.Argon2.Time != 3 ||
			c.Session.IdleTimeout != 5*time.Minute || c.Database.StatementTimeout != 2500*time.Millisecond || c.Log.Format != "json" {
			t.Errorf("yaml %q: got %+v", yaml, c)
		}
	}
}

func TestTLSFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	for _, f := range []string{cert, key} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := loadWith(t, "", map[string]string{"ROUMU_SERVER_TLS_CERT_FILE": cert, "ROUMU_SERVER_TLS_KEY_FILE": key})
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.TLS != (TLS{cert, key}) || !c.Server.TLS.Enabled() {
		t.Fatalf("TLS = %+v", c.Server.TLS)
	}
}

func TestFlagsOverrideEnvironmentAndFile(t *testing.T) {
	newFlags := func() *pflag.FlagSet {
		fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		fs.String("config", "", "")
		fs.String("addr", "127.0.0.1:8080", "")
		fs.String("log-level", "info", "")
		fs.Bool("demo", false, "") // not a configuration flag: ignored
		return fs
	}
	clearEnv(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "custom.yaml")
	if err := os.WriteFile(file, []byte("server:\n  addr: 10.0.0.1:1\nlog:\n  level: warn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ROUMU_SERVER_ADDR", "10.0.0.2:2")

	// Set flags win over env and file.
	fs := newFlags()
	if err := fs.Parse([]string{"--config", file, "--addr", "0.0.0.0:8080", "--log-level=error", "--demo"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Options{Dir: dir, Flags: fs})
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Addr != "0.0.0.0:8080" || c.Log.Level != "error" || c.File != file {
		t.Fatalf("flags did not win: %+v", c)
	}

	// Unset flags do not override with their defaults: env beats file, file beats defaults.
	fs = newFlags()
	if err := fs.Parse([]string{"--config", file}); err != nil {
		t.Fatal(err)
	}
	if c, err = Load(Options{Dir: dir, Flags: fs}); err != nil {
		t.Fatal(err)
	}
	if c.Server.Addr != "10.0.0.2:2" || c.Log.Level != "warn" {
		t.Fatalf("precedence wrong: addr %q level %q", c.Server.Addr, c.Log.Level)
	}

	// Long-form flag names work too.
	fs = pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.String("database-driver", "", "")
	fs.String("server-addr", "", "")
	if err := fs.Parse([]string{"--database-driver", "memory", "--server-addr", "[::1]:1"}); err != nil {
		t.Fatal(err)
	}
	if c, err = Load(Options{Dir: dir, Flags: fs}); err != nil {
		t.Fatal(err)
	}
	if c.Database.Driver != "memory" || c.Server.Addr != "[::1]:1" {
		t.Fatalf("long flags: %+v", c)
	}
}

func TestExplicitConfigFileMustExist(t *testing.T) {
	clearEnv(t)
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(Options{File: missing})
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("err = %v", err)
	}
}

func TestFileErrors(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown top key":    {"servr:\n  addr: x\n", "servr.addr"},
		"unknown nested key": {"server:\n  adr: 0.0.0.0:1\n", "server.adr"},
		"unknown deep key":   {"security:\n  argon2:\n    memory: 65536\n", "security.argon2.memory"},
		"several sorted":     {"log:\n  lvl: x\ndatabase:\n  drv: y\n", "database.drv, log.lvl"},
		"leaf as section":    {"server:\n  tls: true\n", "server.tls"},
		"malformed":          {"server: [\n", "roumu.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadWith(t, tc.yaml, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line containing %q", err, tc.want)
			}
		})
	}
	// An empty file or an empty section is fine.
	for _, yaml := range []string{"# nothing\n", "log:\n"} {
		if _, err := loadWith(t, yaml, nil); err != nil {
			t.Errorf("%q: %v", yaml, err)
		}
	}
}

func TestValidation(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for _, f := range []string{cert, key} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantKey string // "" = valid
	}{
		{"driver sqlite", map[string]string{"ROUMU_DATABASE_DRIVER": "sqlite"}, ""},
		{"driver memory", map[string]string{"ROUMU_DATABASE_DRIVER": "memory"}, ""},
		{"driver case-insensitive", map[string]string{"ROUMU_DATABASE_DRIVER": "Postgres", "ROUMU_DATABASE_DSN": "postgresql://h/db"}, ""},
		{"driver unknown", map[string]string{"ROUMU_DATABASE_DRIVER": "mysql"}, "database.driver"},
		{"postgres needs url", map[string]string{"ROUMU_DATABASE_DRIVER": "postgres"}, "database.dsn"},
		{"statement timeout", map[string]string{"ROUMU_DATABASE_STATEMENT_TIMEOUT": "1ms"}, ""},
		{"statement timeout zero", map[string]string{"ROUMU_DATABASE_STATEMENT_TIMEOUT": "0s"}, "database.statement_timeout"},
		{"statement timeout no unit", map[string]string{"ROUMU_DATABASE_STATEMENT_TIMEOUT": "30"}, "database.statement_timeout"},
		{"statement timeout under 1ms", map[string]string{"ROUMU_DATABASE_STATEMENT_TIMEOUT": "500us"}, "database.statement_timeout"},
		{"addr ok ipv6", map[string]string{"ROUMU_SERVER_ADDR": "[::]:8080"}, ""},
		{"addr no port", map[string]string{"ROUMU_SERVER_ADDR": "localhost"}, "server.addr"},
		{"addr bad port", map[string]string{"ROUMU_SERVER_ADDR": "localhost:http"}, "server.addr"},
		{"addr port range", map[string]string{"ROUMU_SERVER_ADDR": "localhost:70000"}, "server.addr"},
		{"public url relative", map[string]string{"ROUMU_SERVER_PUBLIC_URL": "/roumu"}, "server.public_url"},
		{"public url scheme", map[string]string{"ROUMU_SERVER_PUBLIC_URL": "ftp://x"}, "server.public_url"},
		{"public url no host", map[string]string{"ROUMU_SERVER_PUBLIC_URL": "https://"}, "server.public_url"},
		{"public url userinfo", map[string]string{"ROUMU_SERVER_PUBLIC_URL": "https://a:b@x"}, "server.public_url"},
		{"public url https", map[string]string{"ROUMU_SERVER_PUBLIC_URL": "https://hr.example.jp:8443"}, ""},
		{"tls both", map[string]string{"ROUMU_SERVER_TLS_CERT_FILE": cert, "ROUMU_SERVER_TLS_KEY_FILE": key}, ""},
		{"tls cert only", map[string]string{"ROUMU_SERVER_TLS_CERT_FILE": cert}, "server.tls.key_file"},
		{"tls key only", map[string]string{"ROUMU_SERVER_TLS_KEY_FILE": key}, "server.tls.cert_file"},
		{"tls cert missing", map[string]string{"ROUMU_SERVER_TLS_CERT_FILE": cert + ".x", "ROUMU_SERVER_TLS_KEY_FILE": key}, "server.tls.cert_file"},
		{"tls key is dir", map[string]string{"ROUMU_SERVER_TLS_CERT_FILE": cert, "ROUMU_SERVER_TLS_KEY_FILE": dir}, "server.tls.key_file"},
		{"proxies ok", map[string]string{"ROUMU_SERVER_TRUSTED_PROXIES": "10.0.0.0/8,::1,2001:db8::/32"}, ""},
		{"proxy bad", map[string]string{"ROUMU_SERVER_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"}, "server.trusted_proxies"},
		{"proxy bad cidr", map[string]string{"ROUMU_SERVER_TRUSTED_PROXIES": "10.0.0.0/33"}, "server.trusted_proxies"},
		{"proxy zone", map[string]string{"ROUMU_SERVER_TRUSTED_PROXIES": "fe80::1%eth0"}, "server.trusted_proxies"},
		{"body limit MiB", map[string]string{"ROUMU_SERVER_BODY_LIMIT": "10MiB"}, ""},
		{"body limit junk", map[string]string{"ROUMU_SERVER_BODY_LIMIT": "lots"}, "server.body_limit"},
		{"body limit zero", map[string]string{"ROUMU_SERVER_BODY_LIMIT": "0"}, "server.body_limit"},
		{"idle not duration", map[string]string{"ROUMU_SESSION_IDLE_TIMEOUT": "30"}, "session.idle_timeout"},
		{"idle negative", map[string]string{"ROUMU_SESSION_IDLE_TIMEOUT": "-1m"}, "session.idle_timeout"},
		{"absolute zero", map[string]string{"ROUMU_SESSION_ABSOLUTE_TIMEOUT": "0s"}, "session.absolute_timeout"},
		{"idle over absolute", map[string]string{"ROUMU_SESSION_IDLE_TIMEOUT": "13h"}, "session.idle_timeout"},
		{"idle equals absolute", map[string]string{"ROUMU_SESSION_IDLE_TIMEOUT": "12h"}, ""},
		{"log level", map[string]string{"ROUMU_LOG_LEVEL": "verbose"}, "log.level"},
		{"log format", map[string]string{"ROUMU_LOG_FORMAT": "xml"}, "log.format"},
		{"log level upper ok", map[string]string{"ROUMU_LOG_LEVEL": "WARN"}, ""},
		{"argon2 memory min", map[string]string{"ROUMU_SECURITY_ARGON2_MEMORY_KIB": "19455"}, "security.argon2.memory_kib"},
		{"argon2 memory max", map[string]string{"ROUMU_SECURITY_ARGON2_MEMORY_KIB": "99999999"}, "security.argon2.memory_kib"},
		{"argon2 memory junk", map[string]string{"ROUMU_SECURITY_ARGON2_MEMORY_KIB": "64MiB"}, "security.argon2.memory_kib"},
		{"argon2 time", map[string]string{"ROUMU_SECURITY_ARGON2_TIME": "0"}, "security.argon2.time"},
		{"argon2 threads", map[string]string{"ROUMU_SECURITY_ARGON2_THREADS": "0"}, "security.argon2.threads"},
		{"argon2 threads max", map[string]string{"ROUMU_SECURITY_ARGON2_THREADS": "256"}, "security.argon2.threads"},
		{"max hashes", map[string]string{"ROUMU_SECURITY_MAX_CONCURRENT_HASHES": "0"}, "security.max_concurrent_hashes"},
		{"keyring empty", map[string]string{"ROUMU_SECURITY_KEYRING_FILE": " "}, "security.keyring_file"},
		{"webhooks http", map[string]string{"ROUMU_WEBHOOKS_ALLOW_HTTP": "true", "ROUMU_WEBHOOKS_ALLOWED_CIDRS": "127.0.0.1/32,10.0.0.0/8,::1"}, ""},
		{"webhooks http junk", map[string]string{"ROUMU_WEBHOOKS_ALLOW_HTTP": "sometimes"}, "webhooks.allow_http"},
		{"webhooks cidr bad", map[string]string{"ROUMU_WEBHOOKS_ALLOWED_CIDRS": "10.0.0.0/8,partner.local"}, "webhooks.allowed_cidrs"},
		{"webhooks cidr bad prefix", map[string]string{"ROUMU_WEBHOOKS_ALLOWED_CIDRS": "10.0.0.0/33"}, "webhooks.allowed_cidrs"},
		{"webhooks cidr zone", map[string]string{"ROUMU_WEBHOOKS_ALLOWED_CIDRS": "fe80::/64%eth0"}, "webhooks.allowed_cidrs"},
		{"backup scheduled", map[string]string{"ROUMU_BACKUP_DIR": "/srv/backups", "ROUMU_BACKUP_INTERVAL": "6h", "ROUMU_BACKUP_KEEP": "28"}, ""},
		{"backup too often", map[string]string{"ROUMU_BACKUP_DIR": "/srv/backups", "ROUMU_BACKUP_INTERVAL": "10m"}, "backup.interval"},
		{"backup keep none", map[string]string{"ROUMU_BACKUP_KEEP": "0"}, "backup.keep"},
		{"rate limit raised", map[string]string{"ROUMU_RATELIMIT_CLIENT_PER_MINUTE": "6000", "ROUMU_RATELIMIT_LOGIN_PER_MINUTE": "30"}, ""},
		{"rate limit zero", map[string]string{"ROUMU_RATELIMIT_LOGIN_PER_MINUTE": "0"}, "ratelimit.login_per_minute"},
		{"backup of memory", map[string]string{"ROUMU_BACKUP_DIR": "/srv/backups", "ROUMU_DATABASE_DRIVER": "memory"}, "backup.dir"},
		{"checkpoint file empty", map[string]string{"ROUMU_SECURITY_AUDIT_CHECKPOINT_FILE": " "}, "security.audit_checkpoint_file"},
		{"backup key empty", map[string]string{"ROUMU_SECURITY_BACKUP_KEY_FILE": " "}, "security.backup_key_file"},
		{"backup key is the keyring", map[string]string{"ROUMU_SECURITY_BACKUP_KEY_FILE": "var/keyring.json"}, "security.backup_key_file"},
		{"backup key is the signing key", map[string]string{"ROUMU_SECURITY_BACKUP_KEY_FILE": "./var/audit-signing.key"}, "security.backup_key_file"},
		{"clamd address without network", map[string]string{"ROUMU_SECURITY_CLAMD_ADDRESS": "127.0.0.1:3310"}, "security.clamd_address"},
		{"clamd relative socket", map[string]string{"ROUMU_SECURITY_CLAMD_ADDRESS": "unix:clamd.ctl"}, "security.clamd_address"},
		{"clamd tcp without host", map[string]string{"ROUMU_SECURITY_CLAMD_ADDRESS": "tcp::3310"}, "security.clamd_address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadWith(t, "", tc.env)
			if tc.wantKey == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if !slices.Contains(ce.Keys(), tc.wantKey) || !strings.Contains(err.Error(), tc.wantKey) {
				t.Fatalf("err = %v, want key %s", err, tc.wantKey)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestYAMLTypeErrorsNameTheKey(t *testing.T) {
	for yaml, key := range map[string]string{
		"session:\n  idle_timeout: 30\n":           "session.idle_timeout",
		"security:\n  argon2:\n    time: 1.5\n":    "security.argon2.time",
		"server:\n  trusted_proxies: {a: b}\n":     "server.trusted_proxies",
		"server:\n  addr: [a, b]\n":                "server.addr",
		"security:\n  argon2:\n    threads: [1]\n": "security.argon2.threads",
	} {
		_, err := loadWith(t, yaml, nil)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: err = %v, want %s", yaml, err, key)
		}
	}
}

func TestSeveralProblemsInOneLine(t *testing.T) {
	_, err := loadWith(t, "", map[string]string{"ROUMU_LOG_LEVEL": "x", "ROUMU_DATABASE_DRIVER": "y"})
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Problems) != 2 || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
}

func TestDSNNeverInErrors(t *testing.T) {
	_, err := loadWith(t, "", map[string]string{"ROUMU_DATABASE_DRIVER": "postgres", "ROUMU_DATABASE_DSN": "host=db password=hunter2"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}

func TestRedactedDSN(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://roumu:s3cret@db:5432/roumu": "postgres://roumu:xxxxx@db:5432/roumu",
		"postgres://roumu@db/roumu":             "postgres://roumu@db/roumu",
		"./var/roumu.db":                        "./var/roumu.db",
		"host=db password=s3cret user=x":        "host=db password=xxxxx user=x",
	} {
		if got := (Database{DSN: in}).RedactedDSN(); got != want {
			t.Errorf("RedactedDSN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1MiB": 1 << 20, "1 KiB": 1024, "1KB": 1000, "2M": 2 << 20, "1GiB": 1 << 30, "100B": 100, "42": 42} {
		if got, ok := parseSize(in); !ok || got != want {
			t.Errorf("parseSize(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "1TiB", "99999999999999GiB"} {
		if _, ok := parseSize(in); ok {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

func TestClamdAddress(t *testing.T) {
	for in, want := range map[string][2]string{
		"unix:/run/clamav/clamd.ctl": {"unix", "/run/clamav/clamd.ctl"},
		"tcp:127.0.0.1:3310":         {"tcp", "127.0.0.1:3310"},
		"":                           {"", ""},
	} {
		c, err := loadWith(t, "", map[string]string{"ROUMU_SECURITY_CLAMD_ADDRESS": in})
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if n, a := c.Security.Clamd(); n != want[0] || a != want[1] {
			t.Errorf("%q: Clamd() = %q, %q, want %q", in, n, a, want)
		}
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"

	"github.com/roumu/roumu/adapters/argon2id"
	"github.com/roumu/roumu/adapters/auditfile"
	"github.com/roumu/roumu/adapters/clamav"
	"github.com/roumu/roumu/adapters/egov"
	"github.com/roumu/roumu/adapters/keyring"
	"github.com/roumu/roumu/adapters/memory"
	"github.com/roumu/roumu/adapters/pdf"
	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/adapters/totp"
	"github.com/roumu/roumu/adapters/webauthn"
	"github.com/roumu/roumu/adapters/webhooksender"
	"github.com/roumu/roumu/config"
	"github.com/roumu/roumu/domain/accounts"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/domain/employees"
	"github.com/roumu/roumu/domain/idempotency"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/notices"
	"github.com/roumu/roumu/domain/operations"
	"github.com/roumu/roumu/domain/procedures"
	"github.com/roumu/roumu/domain/ratelimit"
	"github.com/roumu/roumu/domain/webhooks"
	"github.com/roumu/roumu/ports"
)

// stores is every driven store port; the memory and SQL adapters both provide all of them.
type stores interface {
	ports.TenantStore
	ports.AccountStore
	ports.ThrottleStore
	ports.SessionStore
	ports.MFAStore
	ports.APITokenStore
	ports.AuditStore
	ports.EmployeeStore
	ports.DepartmentStore
	ports.Outbox
	ports.JobStore
	ports.ProcedureStore
	ports.AttachmentStore
	ports.StatsReader
	ports.WebhookStore
	ports.NoticeStore
	ports.OperationRequestStore
	ports.ResealJobStore
	ports.SealedValueStore
	ports.RateLimitStore
	ports.IdempotencyStore
	ports.Transactor
	ports.Pinger
}

// app is the wired service: the one place that sees every adapter and every module.
type app struct {
	cfg       config.Config
	log       *slog.Logger
	store     stores
	closer    func() error
	accounts  *accounts.Service
	employees *employees.Service
	keys      *keyring.Keyring
	// The provider's side: notices and the maintenance switch, the two-person rule, the audit search.
	notices     *notices.Service
	operations  *operations.Service
	auditSearch *audit.Search
	// keyRotation executes OpKeyRotation and runs its re-sealing jobs.
	keyRotation *operations.KeyRotation
	// procedures is the procedures module (手続き), also the procedures' documents (ports.ProcedureDocuments).
	// It files electronically with the fake e-Gov (adapters/egov), whose filings end with the process: the
	// real gateway needs a software key Roumu does not have (DOMAIN.md).
	procedures *procedures.Service
	// webhooks is the webhooks module, posting through a sender confined to the configured destinations.
	webhooks *webhooks.Service
	// rateLimits counts API requests and login attempts in the store, shared by every instance.
	rateLimits *ratelimit.Limiter
	// idempotency keeps the API's answers to requests with an Idempotency-Key, shared by every instance.
	idempotency *idempotency.Service
	// checkpoints keeps signed audit checkpoints outside the database; nil on the memory driver, whose chain
	// ends with the process.
	checkpoints ports.AuditCheckpoints
}

func newLogger(cfg config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// openApp opens the store, applies pending migrations and wires the modules.
func openApp(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *app, err error) {
	if log == nil {
		log = newLogger(cfg)
	}
	a := &app{cfg: cfg, log: log, closer: func() error { return nil }}
	// Whatever fails once the store is open closes it.
	defer func() {
		if err != nil {
			err = errors.Join(err, a.Close())
		}
	}()
	switch cfg.Database.Driver {
	case config.DriverMemory:
		a.store = memory.New()
	default:
		var s *sqlstore.Store
		// The service's statements are bounded; migrations, backups and restores lift the bound.
		if s, err = openSQLStore(ctx, cfg.Database, true, sqlstore.WithStatementTimeout(cfg.Database.StatementTimeout)); err != nil {
			return nil, err
		}
		a.store, a.closer = s, s.Close
		if a.checkpoints, err = auditfile.Open(cfg.Security.AuditCheckpointFile, cfg.Security.AuditSigningKeyFile); err != nil {
			return nil, err
		}
	}
	hasher, err := argon2id.New(argon2id.Params{MemoryKiB: cfg.Security.Argon2.MemoryKiB, Time: cfg.Security.Argon2.Time,
		Threads: cfg.Security.Argon2.Threads}, cfg.Security.MaxConcurrentHashes)
	if err != nil {
		return nil, err
	}
	if a.keys, err = keyring.Open(cfg.Security.KeyringFile); err != nil {
		return nil, err
	}
	rp, err := webauthn.New(webauthn.Config{RPDisplayName: "Roumu", PublicURL: cfg.Server.PublicURL})
	if err != nil {
		return nil, fmt.Errorf("server.public_url: %w", err)
	}
	clock := kernel.SystemClock{}
	auditLog := audit.New(a.store, clock)
	a.accounts, err = accounts.New(ctx, accounts.Deps{
		Tenants: a.store, Accounts: a.store, Throttle: a.store, Sessions: a.store, MFA: a.store, APITokens: a.store,
		Tx: a.store, Hasher: hasher, Audit: auditLog, Clock: clock, OperationRecords: a.store, Cipher: a.keys,
		TOTP: totp.Generator{}, WebAuthn: rp,
	}, accounts.SessionPolicy{IdleTimeout: cfg.Session.IdleTimeout, AbsoluteTimeout: cfg.Session.AbsoluteTimeout,
		StepTimeout: accounts.DefaultSessionPolicy.StepTimeout})
	if err != nil {
		return nil, err
	}
	a.employees, err = employees.New(employees.Deps{Employees: a.store, Departments: a.store, Accounts: a.store, Outbox: a.store,
		Jobs: a.store, Tx: a.store, Cipher: a.keys, Audit: auditLog, Clock: clock})
	if err != nil {
		return nil, err
	}
	a.procedures, err = procedures.New(procedures.Deps{Procedures: a.store, Outbox: a.store, Employees: a.employees,
		Tx: a.store, Audit: auditLog, Clock: clock, Renderer: pdf.Renderer{Producer: "Roumu"}, Gateway: egov.New(clock),
		Scanner: scanner(cfg.Security), Attachments: a.store})
	if err != nil {
		return nil, err
	}
	// The module checks a destination when it is saved, the sender every address it connects to: both
	// under the same policy.
	dest, err := ports.ParseWebhookDestinations(cfg.Webhooks.AllowHTTP, cfg.Webhooks.AllowedCIDRs)
	if err != nil {
		return nil, fmt.Errorf("webhooks.allowed_cidrs: %w", err)
	}
	a.webhooks, err = webhooks.New(webhooks.Deps{Store: a.store, Outbox: a.store, Tx: a.store, Cipher: a.keys,
		Audit: auditLog, Clock: clock, Destinations: dest,
		Sender: webhooksender.New(webhooksender.Config{Destinations: dest})})
	if err != nil {
		return nil, err
	}
	if a.notices, err = notices.New(notices.Deps{Notices: a.store, Tx: a.store, Audit: auditLog, Clock: clock}); err != nil {
		return nil, err
	}
	if a.idempotency, err = idempotency.New(a.store, a.keys, clock); err != nil {
		return nil, err
	}
	// Every module's sealed data, for the key rotation job to bring under a new key.
	sealed := append([]ports.SealedData{a.employees.SealedData(), a.accounts.SealedData(a.store),
		a.idempotency.SealedData(a.store)}, a.webhooks.SealedData(a.store)...)
	a.keyRotation, err = operations.NewKeyRotation(operations.KeyDeps{Keyring: a.keys, Jobs: a.store, Tx: a.store,
		Audit: auditLog, Clock: clock, Data: sealed})
	if err != nil {
		return nil, err
	}
	handlers := a.accounts.OperationHandlers()
	maps.Copy(handlers, a.keyRotation.Handlers())
	a.operations, err = operations.New(operations.Deps{Requests: a.store, Tx: a.store, Audit: auditLog, Clock: clock,
		Handlers: handlers, OnServer: operations.ServerSide()})
	if err != nil {
		return nil, err
	}
	a.auditSearch = audit.NewSearch(a.store, auditLog)
	if a.rateLimits, err = ratelimit.New(a.store, clock, ratePolicy(cfg.RateLimit)); err != nil {
		return nil, err
	}
	return a, nil
}

// openSQLStore opens the configured SQL database with opts and, when migrate is set, applies pending
// migrations. Its errors name the database by its redacted DSN.
func openSQLStore(ctx context.Context, db config.Database, migrate bool, opts ...sqlstore.Option) (*sqlstore.Store, error) {
	s, err := sqlstore.Open(ctx, db.Driver, db.DSN, opts...)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", db.RedactedDSN(), err)
	}
	if migrate {
		if err := s.Migrate(ctx); err != nil {
			return nil, errors.Join(fmt.Errorf("migrating %s: %w", db.RedactedDSN(), err), s.Close())
		}
	}
	return s, nil
}

// Close releases the store.
func (a *app) Close() error { return a.closer() }

// scanner is clamd when security.clamd_address names it, else the scanner that finds only the EICAR test
// file (tests and the demo).
func scanner(sec config.Security) ports.MalwareScanner {
	if network, address := sec.Clamd(); network != "" {
		return clamav.New(network, address, clamav.WithMaxSize(ports.AttachmentMaxBytes))
	}
	return clamav.EICARScanner{MaxSize: ports.AttachmentMaxBytes}
}

// ratePolicy is the rate-limit policy the configuration sets.
func ratePolicy(r config.RateLimit) ratelimit.Policy {
	return ratelimit.PerMinute(r.ClientPerMinute, r.AddressPerMinute, r.LoginPerMinute)
}

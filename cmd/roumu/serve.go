package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	web "github.com/roumu/roumu/adapters/http"
	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/domain/kernel"
)

// How often the periodic jobs run. Expired sessions are refused on every request anyway; the sweep only keeps
// the table small. Scheduled employee changes also apply when their record is read; the job rolls the stored
// records forward so that lists and filters see them.
const (
	sessionSweepInterval   = 10 * time.Minute
	scheduledChangesPeriod = 5 * time.Minute
	// auditCheckpointPeriod bounds how much of the audit chain could be rewritten undetected.
	auditCheckpointPeriod = 5 * time.Minute
	// operationExpiryPeriod: a pending request shows as expired at once anyway; the job stores it so.
	operationExpiryPeriod = 5 * time.Minute
	// procedureEventsPeriod is how soon a hire, separation or dependent change shows as a procedure.
	procedureEventsPeriod = 5 * time.Second
	// filingPollPeriod is how often the offices are asked about electronic filings awaiting an answer.
	filingPollPeriod = time.Minute
	// webhookEventsPeriod is how soon an event is queued for its subscriptions, webhookSendPeriod how soon a
	// queued or retried delivery goes out.
	webhookEventsPeriod = 5 * time.Second
	webhookSendPeriod   = 5 * time.Second
	// rateLimitSweepInterval: expired rate-limit windows are never read again; the sweep keeps the table small.
	rateLimitSweepInterval = time.Minute
	// idempotencySweepInterval: expired Idempotency-Key records are ignored anyway; the sweep keeps the table
	// small.
	idempotencySweepInterval = 10 * time.Minute
	// abandonedJobsPeriod is how often jobs left unfinished by a process that died are looked for; they
	// count as abandoned after employees.JobAbandonAfter without progress.
	abandonedJobsPeriod = time.Minute
	// keyRotationPeriod is how soon an approved key rotation's job starts, or a job whose instance stopped
	// is taken over once its lease lapses (operations.ResealLease).
	keyRotationPeriod = 10 * time.Second
)

func serveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve [--config FILE] [--addr HOST:PORT] [--demo]",
		Short: "run the service (migrates the database first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			a, err := openApp(ctx, cfg, nil)
			if err != nil {
				return err
			}
			defer a.Close()
			if demo, _ := cmd.Flags().GetBool("demo"); demo {
				if err := a.seedDemo(ctx, cmd.OutOrStdout()); err != nil {
					return fmt.Errorf("demo data: %w", err)
				}
			}
			srv, err := web.New(web.Config{PublicURL: cfg.Server.PublicURL, TrustedProxies: cfg.Server.TrustedProxies,
				BodyLimit: cfg.Server.BodyLimit, TLSCertFile: cfg.Server.TLS.CertFile, TLSKeyFile: cfg.Server.TLS.KeyFile,
				Version: versionString()}, web.Deps{Accounts: a.accounts, MFA: a.accounts, APITokens: a.accounts,
				Employees: a.employees, Procedures: a.procedures, Documents: a.procedures, Attachments: a.procedures,
				Webhooks: a.webhooks, Notices: a.notices, Operations: a.operations, AuditSearch: a.auditSearch, Keys: a.keyRotation,
				Stats: a.store, RateLimiter: a.rateLimits, Idempotency: a.idempotency, Ready: a.store, Logger: a.log})
			if err != nil {
				return err
			}
			go a.every(ctx, "session sweep", sessionSweepInterval, a.accounts.SweepSessions)
			go a.every(ctx, "scheduled employee changes", scheduledChangesPeriod, a.employees.ApplyDueChanges)
			go a.every(ctx, "procedures from employee events", procedureEventsPeriod, a.procedures.ConsumeEvents)
			go a.every(ctx, "filing status", filingPollPeriod, a.procedures.PollFilings)
			go a.every(ctx, "webhook events", webhookEventsPeriod, a.webhooks.ConsumeEvents)
			go a.every(ctx, "webhook deliveries", webhookSendPeriod, a.webhooks.ProcessDue)
			go a.every(ctx, "operation request expiry", operationExpiryPeriod, a.operations.ExpireDue)
			go a.every(ctx, "rate-limit sweep", rateLimitSweepInterval, a.rateLimits.Sweep)
			go a.every(ctx, "idempotency sweep", idempotencySweepInterval, a.idempotency.Sweep)
			go a.every(ctx, "abandoned jobs", abandonedJobsPeriod, a.employees.FailAbandonedJobs)
			if cfg.Backup.Dir != "" {
				store, ok := a.store.(*sqlstore.Store)
				if !ok {
					return errors.New("backup.dir: the memory driver keeps nothing to back up")
				}
				backups, err := newScheduledBackups(cfg, store, kernel.SystemClock{}, a.log)
				if err != nil {
					return err
				}
				go a.every(ctx, "scheduled backup", backupCheckPeriod, backups.run)
			}
			go a.every(ctx, "key rotation jobs", keyRotationPeriod, a.keyRotation.RunJobs)
			if a.checkpoints != nil {
				cp := audit.NewCheckpointer(a.store, a.checkpoints, kernel.SystemClock{})
				go a.every(ctx, "audit checkpoint", auditCheckpointPeriod, cp.Checkpoint)
			}
			a.log.Info("roumu listening", "addr", cfg.Server.Addr, "public_url", cfg.Server.PublicURL,
				"database", cfg.Database.Driver, "version", versionString())
			return srv.Serve(ctx, cfg.Server.Addr)
		},
	}
	cmd.Flags().String("addr", "", "listen address HOST:PORT (server.addr)")
	cmd.Flags().Bool("demo", false, "also create a demo tenant and print its logins")
	return cmd
}

// every runs job at once and then every period until ctx ends; job reports how many items it handled.
// A failure is logged and retried at the next tick: every job here is idempotent.
func (a *app) every(ctx context.Context, name string, period time.Duration, job func(context.Context) (int, error)) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if n, err := job(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("periodic job failed", "job", name, "error", err)
		} else if n > 0 {
			a.log.Debug("periodic job done", "job", name, "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

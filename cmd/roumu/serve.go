package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	web "github.com/roumu/roumu/adapters/http"
)

// sessionSweepInterval is how often expired sessions are deleted; expiry itself is checked on every request.
const sessionSweepInterval = 10 * time.Minute

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
				Version: versionString()}, web.Deps{Accounts: a.accounts, MFA: a.accounts, Ready: a.store, Logger: a.log})
			if err != nil {
				return err
			}
			go a.sweepSessions(ctx)
			a.log.Info("roumu listening", "addr", cfg.Server.Addr, "public_url", cfg.Server.PublicURL,
				"database", cfg.Database.Driver, "version", versionString())
			return srv.Serve(ctx, cfg.Server.Addr)
		},
	}
	cmd.Flags().String("addr", "", "listen address HOST:PORT (server.addr)")
	cmd.Flags().Bool("demo", false, "also create a demo tenant and print its logins")
	return cmd
}

// sweepSessions deletes expired sessions until ctx ends, so the table does not grow without bound.
func (a *app) sweepSessions(ctx context.Context) {
	t := time.NewTicker(sessionSweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := a.accounts.SweepSessions(ctx); err != nil {
				a.log.Warn("session sweep failed", "error", err)
			} else if n > 0 {
				a.log.Debug("expired sessions deleted", "count", n)
			}
		}
	}
}

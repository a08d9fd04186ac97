package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/roumu/roumu/config"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise the module version is used.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newRootCommand(stdin io.Reader, stdout io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "roumu",
		Short:         "Roumu: HR and labor cloud for Japanese companies",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("config", "", "configuration file (YAML); default ./roumu.yaml when present")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.AddCommand(serveCommand(), migrateCommand(), operatorCommand(), tenantCommand(), auditCommand(), keysCommand(), backupCommand(), restoreCommand(), versionCommand())
	return root
}

// loadConfig loads the configuration with the command's flags as the top layer.
func loadConfig(cmd *cobra.Command) (config.Config, error) {
	return config.Load(config.Options{Flags: cmd.Flags()})
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "roumu", versionString())
			return err
		},
	}
}

func migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "apply pending schema migrations and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, false, func(*app) error {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), "migrations applied")
				return err
			})
		},
	}
}

// readPassword reads one line from stdin: passwords never come from argv, where other users and shell
// history would see them.
func readPassword(cmd *cobra.Command) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(cmd.InOrStdin(), 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on stdin (pipe it in with --password-stdin)")
	}
	return line, nil
}

// withApp loads the configuration, opens and migrates the store, runs fn and closes the store. Commands that
// create data (persistent) refuse the memory driver, and when they take --password-stdin they insist on it so
// that nobody expects a prompt or an argv password.
func withApp(cmd *cobra.Command, persistent bool, fn func(a *app) error) error {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	if persistent && cfg.Database.Driver == config.DriverMemory {
		return errors.New("database.driver is memory: nothing would be kept after this command")
	}
	if f := cmd.Flags().Lookup("password-stdin"); f != nil && f.Value.String() != "true" {
		return errors.New("--password-stdin is required: pass the password on standard input, never as an argument")
	}
	a, err := openApp(cmd.Context(), cfg, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := fn(a); err != nil {
		return err
	}
	// A command that writes (creating tenants and operators, both audited) anchors the chain at once rather
	// than waiting for a running service's next checkpoint.
	if persistent && a.checkpoints != nil {
		if _, err := audit.NewCheckpointer(a.store, a.checkpoints, kernel.SystemClock{}).Checkpoint(cmd.Context()); err != nil {
			return err
		}
	}
	return nil
}

func operatorCommand() *cobra.Command {
	op := &cobra.Command{Use: "operator", Short: "manage provider operator accounts"}
	create := &cobra.Command{
		Use:   "create --login LOGIN --name NAME --password-stdin",
		Short: "create a provider operator account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, true, func(a *app) error {
				password, err := readPassword(cmd)
				if err != nil {
					return err
				}
				login, _ := cmd.Flags().GetString("login")
				name, _ := cmd.Flags().GetString("name")
				v, err := a.accounts.CreateOperator(cmd.Context(), ports.CreateOperatorCommand{Login: login, Name: name,
					Password: password, Source: cliSource()})
				if err != nil {
					return describe(err)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "operator %s created (id %s)\n", v.Login, v.ID)
				return err
			})
		},
	}
	create.Flags().String("login", "", "login ID")
	create.Flags().String("name", "", "display name")
	create.Flags().Bool("password-stdin", false, "read the password from standard input")
	must(create.MarkFlagRequired("login"), create.MarkFlagRequired("name"))
	op.AddCommand(create)
	return op
}

func tenantCommand() *cobra.Command {
	tenant := &cobra.Command{Use: "tenant", Short: "manage tenants (customer companies)"}
	create := &cobra.Command{
		Use:   "create --code CODE --name NAME --admin-login LOGIN --admin-name NAME --password-stdin",
		Short: "create a tenant with its first admin",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, true, func(a *app) error {
				password, err := readPassword(cmd)
				if err != nil {
					return err
				}
				f := cmd.Flags()
				code, _ := f.GetString("code")
				name, _ := f.GetString("name")
				adminLogin, _ := f.GetString("admin-login")
				adminName, _ := f.GetString("admin-name")
				tv, av, err := a.accounts.CreateTenant(cmd.Context(), ports.CreateTenantCommand{Code: code, Name: name,
					AdminLogin: adminLogin, AdminName: adminName, AdminPassword: password, Source: cliSource()})
				if err != nil {
					return describe(err)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "tenant %s created (id %s); admin %s must choose a new password at first login\n",
					tv.Code, tv.ID, av.Login)
				return err
			})
		},
	}
	f := create.Flags()
	f.String("code", "", "company code used at login (a-z, 0-9, -)")
	f.String("name", "", "company name")
	f.String("admin-login", "", "login ID of the first admin")
	f.String("admin-name", "", "display name of the first admin")
	f.Bool("password-stdin", false, "read the admin's initial password from standard input")
	must(create.MarkFlagRequired("code"), create.MarkFlagRequired("name"),
		create.MarkFlagRequired("admin-login"), create.MarkFlagRequired("admin-name"))
	tenant.AddCommand(create)
	return tenant
}

func must(errs ...error) {
	if err := errors.Join(errs...); err != nil {
		panic(err)
	}
}

func cliSource() ports.Source { return ports.Source{IP: "cli", UserAgent: "roumu " + versionString()} }

// describe turns a boundary error into one line that lists each invalid field.
func describe(err error) error {
	e, ok := ports.AsError(err)
	if !ok {
		return err
	}
	parts := []string{e.MessageEN}
	for _, f := range e.Fields {
		parts = append(parts, f.Field+" "+f.MessageEN)
	}
	return fmt.Errorf("%s (%s)", strings.Join(parts, "; "), e.Code)
}

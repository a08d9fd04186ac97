package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/roumu/roumu/adapters/backupfile"
	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/config"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/operations"
	"github.com/roumu/roumu/ports"
)

// The backup and restore commands are the operators' path on the server itself, with the configuration
// and the key files at hand. A backup, and a restore into an empty database (the bootstrap of a new
// installation, moving a customer from SQLite to Postgres, or a database that was lost), need nothing
// more: there is no data to lose. Replacing the data of a database that holds some is a privileged
// operation under the two-person rule (OpRestore): requested and approved in the operator console, naming
// the file by its SHA-256, and executed here with --request, which checks the file against the request and
// keeps the work record in the restored database. A restore cannot run from a web request: it replaces the
// database the service runs on (see domain/operations/restore.go).

func backupCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "write a consistent, encrypted and authenticated backup of all data to FILE",
		Long: `Writes every table of the database, read in one consistent snapshot, compressed and encrypted to the
backup key (security.backup_key_file, created 0600 on first use). The service may keep running.

Sealed values (My Number, bank accounts …) stay sealed under the data keyring: a restore needs the keyring
file (security.keyring_file) as well as the backup key. Keep both keys apart from the backups.`,
		Args: cobra.NoArgs,
		RunE: runBackup,
	}
	cmd.Flags().String("out", "", "the backup file to create (it must not exist)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func restoreCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "restore (--in FILE | --request ID [--in FILE])",
		Short: "restore a backup (SQLite or Postgres, whichever took it); replacing data needs an approved request",
		Long: `Migrates the configured database, checks that the whole backup file is authentic and matches the
schema before writing anything, then writes all of it in one transaction; on any error nothing is written.
Stop the service first.

Without --request the database must be empty. To replace the data of a database that is not empty, an
operator requests a restore in the operator console (/ops/requests), naming the file and its SHA-256
(printed by roumu backup, or sha256sum FILE), and another operator approves it; --request ID then executes
that request, once and before it expires, if FILE is the file it names; without --in, the file is looked for
by its name in backup.dir, where scheduled backups are written. Its work record (request, approval,
execution) is kept in the restored database.

The backup key (security.backup_key_file) must be the one that wrote the file, and the data keyring
(security.keyring_file) the one the backed-up service used, or sealed values cannot be read.`,
		Args: cobra.NoArgs,
		RunE: runRestore,
	}
	cmd.Flags().String("in", "", "the backup file to restore (with --request, by default the one it names in backup.dir)")
	cmd.Flags().String("request", "", "the ID of the approved restore request, to replace the data of a database that is not empty")
	cmd.MarkFlagsOneRequired("in", "request")
	return cmd
}

func runBackup(cmd *cobra.Command, _ []string) error {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	out, _ := cmd.Flags().GetString("out")
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s exists: a backup never overwrites a file", out)
	}
	sealer, err := backupfile.LoadOrCreate(cfg.Security.BackupKeyFile)
	if err != nil {
		return err
	}
	store, err := openBackupStore(cmd, cfg, false)
	if err != nil {
		return err
	}
	defer store.Close()

	start := time.Now()
	m, err := writeBackupFile(cmd.Context(), store, sealer, out)
	if err != nil {
		return err
	}
	sum, err := fileSHA256(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "backup written to %s in %s: %d tables, %d rows, schema version %d (%s); sealed to %s\nsha256 %s\n",
		out, time.Since(start).Round(time.Millisecond), len(m.Tables), m.Rows(), m.SchemaVersion, m.Dialect, sealer.Recipient(), sum)
	return err
}

// writeBackupFile writes a backup to path. The file is written beside its final name and renamed when
// complete, so that a backup cut short (a full disk, a killed process) never lies under the name of a good one.
func writeBackupFile(ctx context.Context, store *sqlstore.Store, sealer ports.BackupSealer, path string) (ports.BackupManifest, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return ports.BackupManifest{}, err
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing left to remove
	m, err := writeBackup(ctx, store, sealer, tmp)
	if err := errors.Join(err, tmp.Sync(), tmp.Close()); err != nil {
		return m, fmt.Errorf("backup failed: %w", err)
	}
	return m, os.Rename(tmp.Name(), path)
}

func writeBackup(ctx context.Context, store *sqlstore.Store, sealer ports.BackupSealer, w io.Writer) (ports.BackupManifest, error) {
	sealed, err := sealer.Seal(w)
	if err != nil {
		return ports.BackupManifest{}, err
	}
	m, err := store.Snapshot(ctx, sealed)
	if err != nil {
		return m, err
	}
	return m, sealed.Close()
}

func runRestore(cmd *cobra.Command, _ []string) error {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	in, _ := cmd.Flags().GetString("in")
	requestID, _ := cmd.Flags().GetString("request")
	sealer, err := backupfile.Load(cfg.Security.BackupKeyFile)
	if err != nil {
		return err
	}
	store, err := openBackupStore(cmd, cfg, true)
	if err != nil {
		return err
	}
	defer store.Close()
	if requestID == "" {
		_, err := restore(cmd, cfg, store, sealer, in, ports.RestoreOptions{}, "")
		return err
	}
	return restoreUnderRequest(cmd, cfg, store, sealer, in, requestID)
}

// restoreUnderRequest replaces the database's data with the backup as the approved restore request
// requestID allows: the file must be the one the request names, by name and SHA-256, which is checked
// before the request is claimed, so that a wrong file leaves the approval unused.
func restoreUnderRequest(cmd *cobra.Command, cfg config.Config, store *sqlstore.Store, sealer ports.BackupSealer, in, requestID string) error {
	ctx := cmd.Context()
	req, err := store.OperationRequest(ctx, requestID)
	if err != nil {
		return fmt.Errorf("restore request %s: %w", requestID, err)
	}
	if req.Kind != ports.OpRestore {
		return fmt.Errorf("request %s is not a restore request but %s", requestID, req.Kind)
	}
	order, err := operations.ParseRestore(req.Params)
	if err != nil {
		return fmt.Errorf("restore request %s: %w", requestID, err)
	}
	if in == "" {
		if cfg.Backup.Dir == "" {
			return errors.New("--in FILE is required: backup.dir, where the request's file would be, is not set")
		}
		in = filepath.Join(cfg.Backup.Dir, order.File)
	}
	sum, err := fileSHA256(in)
	if err != nil {
		return err
	}
	if filepath.Base(in) != order.File || sum != order.SHA256 {
		return fmt.Errorf("restore refused, nothing written: %s (sha256 %s) is not the file request %s approves (%s, sha256 %s)",
			in, sum, requestID, order.File, order.SHA256)
	}
	clock := kernel.SystemClock{}
	ops, err := operations.New(operations.Deps{Requests: store, Tx: store, Audit: audit.New(store, clock), Clock: clock,
		OnServer: operations.ServerSide()})
	if err != nil {
		return err
	}
	var restoreErr error
	rec, err := ops.RunOnServer(ctx, requestID, ports.OpRestore, operations.ServerExecutor("roumu restore", systemUser()),
		func(context.Context, ports.OperationRequest) (string, error) {
			var m ports.BackupManifest
			m, restoreErr = restore(cmd, cfg, store, sealer, in, ports.RestoreOptions{Force: true}, requestID)
			if restoreErr != nil {
				return "", restoreErr
			}
			return fmt.Sprintf("restored %s: %d tables, %d rows (taken %s on %s)", order.File, len(m.Tables), m.Rows(),
				m.CreatedAt.Format(time.RFC3339), m.Dialect), nil
		})
	if err != nil {
		return errors.Join(restoreErr, err)
	}
	if rec.Status != ports.OperationExecuted {
		return restoreErr
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "request %s executed; its work record is kept in the restored database\n", requestID)
	return err
}

// restore verifies the whole file, then restores it and records the restore in the (restored) audit chain,
// naming the request it was made under, if any. It returns the backup's manifest.
func restore(cmd *cobra.Command, cfg config.Config, store *sqlstore.Store, sealer ports.BackupSealer, in string, opts ports.RestoreOptions, requestID string) (ports.BackupManifest, error) {
	start := time.Now()
	out := cmd.OutOrStdout()
	// Two passes over the file: the first reads all of it, which authenticates every chunk, and checks every
	// row against this database without writing; only then does the second write. A file changed between
	// the passes fails its authentication in the second, whose transaction then rolls back.
	opts.VerifyOnly = true
	if _, err := readBackup(cmd.Context(), store, sealer, in, opts); err != nil {
		return ports.BackupManifest{}, fmt.Errorf("restore refused, nothing written: %w", err)
	}
	fmt.Fprintf(out, "backup verified in %s; restoring\n", time.Since(start).Round(time.Millisecond))
	opts.VerifyOnly = false
	m, err := readBackup(cmd.Context(), store, sealer, in, opts)
	if err != nil {
		return m, fmt.Errorf("restore failed, nothing written: %w", err)
	}
	// The chain goes on from the restored head: the restore itself is its next entry.
	detail := map[string]string{"backup_created_at": m.CreatedAt.Format(time.RFC3339), "backup_dialect": m.Dialect,
		"schema_version": fmt.Sprint(m.SchemaVersion), "rows": fmt.Sprint(m.Rows()), "replaced": fmt.Sprint(opts.Force)}
	target := ""
	if requestID != "" {
		target = "operation:" + requestID
	}
	if err := audit.New(store, kernel.SystemClock{}).Record(cmd.Context(), ports.AuditEvent{
		ActorKind: "system", Action: "backup.restore", Target: target, Outcome: ports.OutcomeSuccess, Detail: detail,
	}); err != nil {
		return m, fmt.Errorf("restored, but recording the restore in the audit log failed: %w", err)
	}
	fmt.Fprintf(out, "restored %d tables, %d rows (taken %s on %s, schema version %d) in %s\n",
		len(m.Tables), m.Rows(), m.CreatedAt.Format(time.RFC3339), m.Dialect, m.SchemaVersion, time.Since(start).Round(time.Millisecond))
	if _, statErr := os.Stat(cfg.Security.KeyringFile); statErr != nil {
		fmt.Fprintf(out, "warning: the data keyring %s is missing: sealed values cannot be read until the keyring of the backed-up service is put there\n",
			cfg.Security.KeyringFile)
	}
	return m, nil
}

// fileSHA256 is the hex SHA-256 of a whole file, as sha256sum prints it.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// systemUser names who runs a command on the server, for the work record.
func systemUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown user"
}

func readBackup(ctx context.Context, store *sqlstore.Store, sealer ports.BackupSealer, path string, opts ports.RestoreOptions) (ports.BackupManifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return ports.BackupManifest{}, err
	}
	defer f.Close()
	plain, err := sealer.Open(f)
	if err != nil {
		return ports.BackupManifest{}, err
	}
	return store.Restore(ctx, plain, opts)
}

// openBackupStore opens the configured SQL database; a restore also migrates it, so that an empty database
// gets the schema the backup is checked against. A backup leaves the schema as it is.
func openBackupStore(cmd *cobra.Command, cfg config.Config, migrate bool) (*sqlstore.Store, error) {
	if cfg.Database.Driver == config.DriverMemory {
		return nil, errors.New("database.driver is memory: there is no database to back up or restore")
	}
	return openSQLStore(cmd.Context(), cfg.Database, migrate)
}

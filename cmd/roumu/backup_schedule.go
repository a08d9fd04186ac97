package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/roumu/roumu/adapters/backupfile"
	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/config"
	"github.com/roumu/roumu/ports"
)

// backupCheckPeriod is how often serve asks whether a scheduled backup is due. Due-ness is read from the
// newest file in the directory rather than from the process's own start, so that restarts neither skip nor
// repeat a backup.
const backupCheckPeriod = 15 * time.Minute

// Scheduled backups are named by the instant they were taken, so that the names sort as the backups do.
const (
	backupPrefix     = "roumu-"
	backupSuffix     = ".backup"
	backupTimeLayout = "20060102T150405Z"
)

// scheduledBackups writes a backup into dir, the same file `roumu backup` writes, when the newest there is
// interval old, and then deletes all but the newest keep. It touches no other file in dir.
type scheduledBackups struct {
	dir      string
	interval time.Duration
	keep     int
	store    *sqlstore.Store
	sealer   ports.BackupSealer
	clock    ports.Clock
	log      *slog.Logger
}

// newScheduledBackups prepares the scheduled backups of cfg.Backup over store (the dir is created 0700).
func newScheduledBackups(cfg config.Config, store *sqlstore.Store, clock ports.Clock, log *slog.Logger) (*scheduledBackups, error) {
	sealer, err := backupfile.LoadOrCreate(cfg.Security.BackupKeyFile)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Backup.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup.dir: %w", err)
	}
	return &scheduledBackups{dir: cfg.Backup.Dir, interval: cfg.Backup.Interval, keep: cfg.Backup.Keep,
		store: store, sealer: sealer, clock: clock, log: log}, nil
}

// scheduledBackup is one backup file of the schedule.
type scheduledBackup struct {
	path  string
	taken time.Time
}

// run is the periodic job: it writes a backup when one is due (reporting 1) and applies the retention.
func (b *scheduledBackups) run(ctx context.Context) (int, error) {
	existing, err := b.list()
	if err != nil {
		return 0, err
	}
	now := b.clock.Now().UTC().Truncate(time.Second)
	if n := len(existing); n > 0 && now.Sub(existing[n-1].taken) < b.interval {
		return 0, b.prune(existing)
	}
	path := filepath.Join(b.dir, backupPrefix+now.Format(backupTimeLayout)+backupSuffix)
	start := time.Now()
	m, err := writeBackupFile(ctx, b.store, b.sealer, path)
	if err != nil {
		return 0, err
	}
	b.log.Info("scheduled backup written", "file", path, "tables", len(m.Tables), "rows", m.Rows(),
		"schema_version", m.SchemaVersion, "duration", time.Since(start).Round(time.Millisecond))
	return 1, b.prune(append(existing, scheduledBackup{path, now}))
}

// list returns the schedule's backups in dir, oldest first; files of other names are not the schedule's.
func (b *scheduledBackups) list() ([]scheduledBackup, error) {
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return nil, err
	}
	var out []scheduledBackup
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, backupPrefix) || !strings.HasSuffix(name, backupSuffix) {
			continue
		}
		stamp := strings.TrimSuffix(strings.TrimPrefix(name, backupPrefix), backupSuffix)
		if taken, err := time.Parse(backupTimeLayout, stamp); err == nil {
			out = append(out, scheduledBackup{filepath.Join(b.dir, name), taken})
		}
	}
	slices.SortFunc(out, func(x, y scheduledBackup) int { return x.taken.Compare(y.taken) })
	return out, nil
}

// prune deletes all but the newest keep of backups (oldest first).
func (b *scheduledBackups) prune(backups []scheduledBackup) error {
	var errs []error
	for _, old := range backups[:max(0, len(backups)-b.keep)] {
		if err := os.Remove(old.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		b.log.Info("old scheduled backup deleted", "file", old.path, "keep", b.keep)
	}
	return errors.Join(errs...)
}

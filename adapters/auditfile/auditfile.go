// Package auditfile keeps signed checkpoints of the audit chain in an append-only file outside the database
// (ports.AuditCheckpoints). Each line is one JSON checkpoint signed with Ed25519; the signing key lives in its
// own file (0600), created on first use. Someone who can rewrite the database but not these files cannot make
// a rewritten chain match the checkpoints. For stronger separation, ship the file to write-once storage (e.g.
// object storage with retention) and keep the key in a KMS: the format does not change.
package auditfile

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/roumu/roumu/ports"
)

// Checkpoints implements ports.AuditCheckpoints over a file.
type Checkpoints struct {
	path  string
	key   ed25519.PrivateKey
	keyID string
	mu    sync.Mutex // serialises this process's appends; O_APPEND keeps other processes' lines whole
}

var _ ports.AuditCheckpoints = (*Checkpoints)(nil)

// line is a checkpoint as written.
type line struct {
	Seq       int64  `json:"seq"`
	Hash      string `json:"hash"`
	At        string `json:"at"`
	KeyID     string `json:"key_id"`
	Signature []byte `json:"sig"`
}

// Open returns the checkpoint file at path, signed with the key at keyPath; both are created (0600, their
// directories 0700) when missing.
func Open(path, keyPath string) (*Checkpoints, error) {
	key, err := loadOrCreateKey(keyPath)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("auditfile: %w", err)
	}
	sum := sha256.Sum256(key.Public().(ed25519.PublicKey))
	return &Checkpoints{path: path, key: key, keyID: hex.EncodeToString(sum[:8])}, nil
}

func loadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("auditfile: %w", err)
		}
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, fmt.Errorf("auditfile: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return loadOrCreateKey(path) // another process created it first
		}
		if err != nil {
			return nil, fmt.Errorf("auditfile: creating the signing key: %w", err)
		}
		_, werr := f.WriteString(hex.EncodeToString(seed) + "\n")
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return nil, fmt.Errorf("auditfile: writing the signing key %s: %w", path, err)
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	if err != nil {
		return nil, fmt.Errorf("auditfile: reading the signing key: %w", err)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("auditfile: the signing key %s is not a hex Ed25519 seed", path)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// message is what a signature covers.
func message(seq int64, hash, at string) []byte {
	return []byte("roumu audit checkpoint\x00" + strconv.FormatInt(seq, 10) + "\x00" + hash + "\x00" + at)
}

// AppendCheckpoint implements ports.AuditCheckpoints: it signs c and appends it, synced to disk.
func (f *Checkpoints) AppendCheckpoint(_ context.Context, c ports.AuditCheckpoint) error {
	at := c.At.UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(line{Seq: c.Seq, Hash: c.Hash, At: at, KeyID: f.keyID,
		Signature: ed25519.Sign(f.key, message(c.Seq, c.Hash, at))})
	if err != nil {
		return fmt.Errorf("auditfile: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := dropTornLine(f.path); err != nil {
		return err
	}
	file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("auditfile: %w", err)
	}
	_, werr := file.Write(append(b, '\n'))
	if err := errors.Join(werr, file.Sync(), file.Close()); err != nil {
		return fmt.Errorf("auditfile: appending a checkpoint: %w", err)
	}
	return nil
}

// dropTornLine cuts a last line without its newline: an append torn by a crash, never signed whole. Left in
// place it would become a bad line in the middle once the next checkpoint follows it. Only the last byte is
// read on every append; the whole file only after such a crash.
func dropTornLine(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("auditfile: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("auditfile: %w", err)
	}
	if fi.Size() == 0 {
		return nil
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, fi.Size()-1); err != nil {
		return fmt.Errorf("auditfile: %w", err)
	}
	if last[0] == '\n' {
		return nil
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("auditfile: %w", err)
	}
	if err := os.Truncate(path, int64(bytes.LastIndexByte(b, '\n')+1)); err != nil {
		return fmt.Errorf("auditfile: dropping a torn checkpoint: %w", err)
	}
	return nil
}

// Checkpoints implements ports.AuditCheckpoints. A line that does not parse or whose signature does not verify
// is an error naming its line number, except a last line without its newline: a write torn by a crash.
func (f *Checkpoints) Checkpoints(_ context.Context) ([]ports.AuditCheckpoint, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auditfile: %w", err)
	}
	public := f.key.Public().(ed25519.PublicKey)
	var out []ports.AuditCheckpoint
	whole := bytes.Count(b, []byte{'\n'}) // lines ended by a newline; one more is torn
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		text := sc.Bytes()
		torn := n == whole+1
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		var l line
		if err := json.Unmarshal(text, &l); err != nil {
			if torn {
				break
			}
			return nil, fmt.Errorf("auditfile: %s line %d does not parse", f.path, n)
		}
		at, perr := time.Parse(time.RFC3339Nano, l.At)
		if perr != nil || l.KeyID != f.keyID || !ed25519.Verify(public, message(l.Seq, l.Hash, l.At), l.Signature) {
			return nil, fmt.Errorf("auditfile: %s line %d: the signature does not verify", f.path, n)
		}
		out = append(out, ports.AuditCheckpoint{Seq: l.Seq, Hash: l.Hash, At: at, KeyID: l.KeyID})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("auditfile: %w", err)
	}
	return out, nil
}

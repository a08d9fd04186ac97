// Package backupfile seals backup streams into files that only the holder of the backup key can read, and
// that cannot be changed, cut short or reordered without the reader noticing.
//
// A file is the stream compressed with gzip, then encrypted with age (age-encryption.org/v1, the
// filippo.io/age library) to the recipient of the backup key. age's payload is the STREAM construction:
// ChaCha20-Poly1305 over 64 KiB chunks, each nonce a chunk counter with a last-chunk flag, under a key
// derived from a random file key and nonce; the header that wraps the file key is authenticated with an
// HMAC. A flipped byte anywhere, a missing or repeated chunk, chunks swapped or a file cut short at any
// point make a read fail. A well-known library rather than a construction of our own: the file must stay
// readable and safe for years, and age's format is specified and reviewed.
//
// The key file (security.backup_key_file) holds one age identity, created 0600 on the first backup:
// post-quantum hybrid (ML-KEM-768 + X25519, "AGE-SECRET-KEY-PQ-1…") by default, because HR data in
// backups kept for years should withstand a later quantum computer; a plain X25519 identity made with
// age-keygen works too. Backups can be opened with the age command-line tool and this file
// (`age -d -i backup.key FILE | gunzip`), which is also the way out of Roumu for a customer.
//
// The backup key is not the data keyring: sealed values (My Number, bank accounts …) stay sealed under the
// keyring inside a backup, so a restore needs both files. Keep each of them apart from the backups, so
// that a stolen backup medium reveals nothing.
package backupfile

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/roumu/roumu/ports"
)

// Sealer implements ports.BackupSealer with one age identity.
type Sealer struct {
	identity  age.Identity
	recipient age.Recipient
}

var _ ports.BackupSealer = (*Sealer)(nil)

// Load reads the key file at path; it must exist (a restore cannot make up the key of a backup).
func Load(path string) (*Sealer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("backupfile: reading the backup key: %w", err)
	}
	ids, err := age.ParseIdentities(strings.NewReader(string(b)))
	if err != nil || len(ids) != 1 {
		return nil, fmt.Errorf("backupfile: %s does not hold one age identity", path)
	}
	switch id := ids[0].(type) {
	case *age.HybridIdentity:
		return &Sealer{identity: id, recipient: id.Recipient()}, nil
	case *age.X25519Identity:
		return &Sealer{identity: id, recipient: id.Recipient()}, nil
	default:
		return nil, fmt.Errorf("backupfile: %s holds an identity of an unsupported kind", path)
	}
}

// LoadOrCreate reads the key file at path, creating it (0600, in a 0700 directory) with a new hybrid
// identity when it does not exist.
func LoadOrCreate(path string) (*Sealer, error) {
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return Load(path)
	}
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return nil, fmt.Errorf("backupfile: generating the backup key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("backupfile: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return Load(path) // another process created it first
	}
	if err != nil {
		return nil, fmt.Errorf("backupfile: creating the backup key: %w", err)
	}
	_, werr := fmt.Fprintf(f, "# Roumu backup key, created %s. Keep a copy apart from the backups and from the keyring.\n# public key: %s\n%s\n",
		time.Now().UTC().Format(time.RFC3339), id.Recipient(), id)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("backupfile: writing the backup key %s: %w", path, err)
	}
	return Load(path)
}

// Recipient returns the public half of the key ("age1pq1…" or "age1…"), which names the key in logs and
// lets a reader check which key a file needs without revealing it.
func (s *Sealer) Recipient() string { return fmt.Sprint(s.recipient) }

// Seal returns a writer that compresses and encrypts into w. Close must be called: it writes the last
// chunk, without which the file is refused as truncated.
func (s *Sealer) Seal(w io.Writer) (io.WriteCloser, error) {
	enc, err := age.Encrypt(w, s.recipient)
	if err != nil {
		return nil, fmt.Errorf("backupfile: %w", err)
	}
	// BestSpeed: a backup of 100,000 employees is bound by compression at higher levels, and the RTO by
	// the time of backup and restore more than by the size of the file.
	zw, err := gzip.NewWriterLevel(enc, gzip.BestSpeed)
	if err != nil {
		return nil, fmt.Errorf("backupfile: %w", err)
	}
	return &sealWriter{zw: zw, enc: enc}, nil
}

type sealWriter struct {
	zw  *gzip.Writer
	enc io.WriteCloser
}

func (w *sealWriter) Write(p []byte) (int, error) { return w.zw.Write(p) }

func (w *sealWriter) Close() error {
	if err := errors.Join(w.zw.Close(), w.enc.Close()); err != nil {
		return fmt.Errorf("backupfile: finishing the file: %w", err)
	}
	return nil
}

// Open returns the plaintext of a file sealed under this key. Every error it or a read returns wraps
// ports.ErrInvalid: the file is damaged, truncated or not sealed under this key. Only a read that ended in
// io.EOF has proved the whole file authentic.
func (s *Sealer) Open(r io.Reader) (io.Reader, error) {
	dec, err := age.Decrypt(r, s.identity)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, ports.NewError(ports.ErrInvalid, "backup_wrong_key", "the backup file was sealed under another backup key",
				"バックアップファイルは別のバックアップ鍵で暗号化されています")
		}
		return nil, damaged()
	}
	zr, err := gzip.NewReader(&openReader{r: dec})
	if err != nil {
		return nil, damagedOr(err)
	}
	return &openReader{r: zr}, nil
}

// openReader turns every failed read into the boundary's "damaged" error, so that no reader mistakes a
// damaged file for the end of one.
type openReader struct{ r io.Reader }

func (o *openReader) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	if err != nil && err != io.EOF {
		return n, damagedOr(err)
	}
	return n, err
}

// damagedOr keeps an error that already says the file is damaged, and replaces any other read error
// (age's and gzip's own, which say nothing useful to an operator) with it.
func damagedOr(err error) error {
	var pe *ports.Error
	if errors.As(err, &pe) {
		return err
	}
	return damaged()
}

func damaged() error {
	return ports.NewError(ports.ErrInvalid, "backup_damaged", "the backup file is damaged or truncated (authentication failed)",
		"バックアップファイルが破損しているか途中で切れています(認証に失敗しました)")
}

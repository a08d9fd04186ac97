// Package keyring implements ports.DataKeys (and so ports.Cipher) with AES-256-GCM under a keyring file of
// data-encryption keys. docs/keys.md describes the file for operators.
//
// The file is JSON, readable by its owner only:
//
//	{"version": 1, "keys": [{"id": 1, "created_at": "2026-04-01T09:00:00Z", "retired_at": "2026-05-01T09:00:00Z"},
//	                        {"id": 2, "created_at": "2026-04-20T09:00:00Z", "key": "<32 bytes, base64>"}, …]}
//
// The key with the highest id is the newest and seals everything new; every key of the file that is not
// retired still opens what it sealed, so a rotation never re-encrypts old data at once (the key rotation job
// does that in the background, then retires the old keys). A retired key keeps its entry, so that its id is
// never given again and the file says when it was retired, but not its material. A sealed value is
//
//	version (1 byte, 0x01) | key id (4 bytes, big-endian) | nonce (12 bytes, random) | ciphertext and GCM tag
//
// and the first five bytes are authenticated along with the caller's additional data, so neither the
// header nor the value's place (the additional data) can be changed without Open failing. Nonces are
// random: a key should seal well under 2^32 values, which rotation keeps far away.
package keyring

import (
	"bytes"
	"cmp"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/roumu/roumu/ports"
)

const (
	formatVersion = 1    // of the file
	sealVersion   = 0x01 // of a sealed value
	keyLen        = 32   // AES-256
	headerLen     = 1 + 4
	nonceLen      = 12
	tagLen        = 16
)

// Errors of Open. They say what failed, never what was sealed.
var (
	ErrMalformed      = errors.New("keyring: malformed sealed value")
	ErrUnknownKey     = errors.New("keyring: sealed with a key not in the keyring")
	ErrAuthentication = errors.New("keyring: sealed value failed authentication (tampered, or wrong additional data)")
)

// Keyring seals with its newest key and opens with any of its keys not retired. It is safe for concurrent
// use, and by several processes sharing the file: each notices a rotation or retirement by another when the
// file changes.
type Keyring struct {
	path string

	mu    sync.RWMutex
	keys  []key                  // ascending id, retired ones included; the last one seals
	byID  map[uint32]cipher.AEAD // the keys not retired
	stamp stamp                  // of the file as last read, to notice a rotation by another process
}

type key struct {
	info ports.DataKey
	aead cipher.AEAD // nil for a retired key
}

// stamp identifies a version of the file cheaply.
type stamp struct {
	mod  time.Time
	size int64
}

var _ ports.DataKeys = (*Keyring)(nil)

// fileFormat is the JSON layout of the keyring file.
type fileFormat struct {
	Version int       `json:"version"`
	Keys    []fileKey `json:"keys"`
}

type fileKey struct {
	ID        uint32     `json:"id"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
	Key       string     `json:"key,omitempty"` // standard base64; none once retired
}

func (e fileKey) info() ports.DataKey {
	d := ports.DataKey{ID: e.ID, CreatedAt: e.CreatedAt}
	if e.RetiredAt != nil {
		d.RetiredAt = *e.RetiredAt
	}
	return d
}

// Open loads the keyring at path. When the file does not exist it is created, with one fresh random key,
// mode 0600, and its directory (0700) if that is missing too. A file that group or others could read is
// refused: these keys protect every employee's My Number.
func Open(path string) (*Keyring, error) {
	k := &Keyring{path: path}
	fk, st, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := create(path); err != nil {
			return nil, err
		}
		fk, st, err = readKeyFile(path)
	}
	if err != nil {
		return nil, err
	}
	if err := k.install(fk, st); err != nil {
		return nil, err
	}
	return k, nil
}

// Path returns the keyring file's path.
func (k *Keyring) Path() string { return k.path }

// Keys implements ports.DataKeys: the keys as the file has them now, oldest first.
func (k *Keyring) Keys(context.Context) ([]ports.DataKey, error) {
	if err := k.reloadIfChanged(); err != nil {
		return nil, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	out := make([]ports.DataKey, len(k.keys))
	for i, key := range k.keys {
		out[i] = key.info
	}
	return out, nil
}

// Rotate implements ports.DataKeys: it adds a fresh random key, which seals from now on, and rewrites the
// file atomically (a temporary file renamed over it), so a crash leaves either the old keyring or the new
// one, never half of one. The file is re-read first so that keys another process added are kept. Two
// processes rotating at the very same instant may still lose one of the two new keys; a rotation is an
// approved operation, run once.
func (k *Keyring) Rotate(context.Context) (ports.DataKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fk, _, err := readKeyFile(k.path)
	if err != nil {
		return ports.DataKey{}, err
	}
	// The next id follows every id in the file and in memory, so it can never name an existing key.
	var highest uint32
	for _, e := range fk {
		highest = max(highest, e.ID)
	}
	for _, e := range k.keys {
		highest = max(highest, e.info.ID)
	}
	if highest == math.MaxUint32 {
		return ports.DataKey{}, fmt.Errorf("keyring: %s: no key id left", k.path)
	}
	nk, err := newFileKey(highest + 1)
	if err != nil {
		return ports.DataKey{}, err
	}
	if err := k.writeLocked(append(fk, nk)); err != nil {
		return ports.DataKey{}, err
	}
	return nk.info(), nil
}

// Retire implements ports.DataKeys: it rewrites the file with the key's entry stripped of its material and
// marked retired, atomically as Rotate does. Other processes drop the key when they notice the change.
func (k *Keyring) Retire(_ context.Context, id uint32) (ports.DataKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fk, _, err := readKeyFile(k.path)
	if err != nil {
		return ports.DataKey{}, err
	}
	i := slices.IndexFunc(fk, func(e fileKey) bool { return e.ID == id })
	switch {
	case i < 0:
		return ports.DataKey{}, fmt.Errorf("keyring: %s: key id %d: %w", k.path, id, ports.ErrNotFound)
	case fk[i].RetiredAt != nil:
		return fk[i].info(), nil
	case !slices.ContainsFunc(fk, func(e fileKey) bool { return e.ID > id }):
		return ports.DataKey{}, fmt.Errorf("keyring: %s: key id %d is the newest key, which seals: it cannot be retired", k.path, id)
	}
	now := time.Now().UTC().Truncate(time.Second)
	fk[i].RetiredAt, fk[i].Key = &now, ""
	if err := k.writeLocked(fk); err != nil {
		return ports.DataKey{}, err
	}
	return fk[i].info(), nil
}

// writeLocked replaces the file with fk and installs it.
func (k *Keyring) writeLocked(fk []fileKey) error {
	if err := writeAtomic(k.path, fk); err != nil {
		return err
	}
	st, err := statFile(k.path)
	if err != nil {
		return err
	}
	return k.mergeLocked(fk, st)
}

// SealedBy implements ports.DataKeys: the key id in a sealed value's header.
func (k *Keyring) SealedBy(sealed []byte) (uint32, error) {
	if len(sealed) < headerLen+nonceLen+tagLen {
		return 0, fmt.Errorf("%w: too short", ErrMalformed)
	}
	if sealed[0] != sealVersion {
		return 0, fmt.Errorf("%w: unknown version %d", ErrMalformed, sealed[0])
	}
	return binary.BigEndian.Uint32(sealed[1:headerLen]), nil
}

// Seal encrypts plaintext with the newest key, bound to additionalData. The file is checked for a change
// first (one stat), so that a rotation by another instance is sealed with at once: the key rotation job
// retires the old key once nothing is under it, and nothing may be sealed under it afterwards.
func (k *Keyring) Seal(_ context.Context, plaintext, additionalData []byte) ([]byte, error) {
	k.follow()
	k.mu.RLock()
	cur := k.keys[len(k.keys)-1]
	k.mu.RUnlock()

	out := make([]byte, headerLen+nonceLen, headerLen+nonceLen+len(plaintext)+tagLen)
	out[0] = sealVersion
	binary.BigEndian.PutUint32(out[1:headerLen], cur.info.ID)
	nonce := out[headerLen : headerLen+nonceLen]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keyring: reading random nonce: %w", err)
	}
	return cur.aead.Seal(out, nonce, plaintext, boundData(out[:headerLen], additionalData)), nil
}

// Open decrypts a value sealed by any key of the keyring not retired, with the same additionalData. Like
// Seal it checks the file for a change first, so that a rotation or retirement by another instance is
// followed at once.
func (k *Keyring) Open(_ context.Context, sealed, additionalData []byte) ([]byte, error) {
	id, err := k.SealedBy(sealed)
	if err != nil {
		return nil, err
	}
	k.follow()
	aead := k.lookup(id)
	if aead == nil {
		return nil, fmt.Errorf("%w: key id %d", ErrUnknownKey, id)
	}
	nonce := sealed[headerLen : headerLen+nonceLen]
	plaintext, err := aead.Open(nil, nonce, sealed[headerLen+nonceLen:], boundData(sealed[:headerLen], additionalData))
	if err != nil {
		return nil, ErrAuthentication
	}
	return plaintext, nil
}

// boundData is what GCM authenticates besides the ciphertext: the fixed-length header, then the caller's
// additional data (unambiguous because the header's length is fixed).
func boundData(header, additionalData []byte) []byte {
	b := make([]byte, 0, len(header)+len(additionalData))
	return append(append(b, header...), additionalData...)
}

func (k *Keyring) lookup(id uint32) cipher.AEAD {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.byID[id]
}

// follow picks up a change of the file for Seal and Open. A file that cannot be read now (an operator's
// edit half done) leaves the keys in memory serving; Keys reports the error.
func (k *Keyring) follow() { _ = k.reloadIfChanged() }

// reloadIfChanged reads the file again when it changed since it was last read: new keys are added, keys it
// marks retired are dropped. Known keys the file lost are kept as they are, so that nothing already sealed
// becomes unreadable at run time because of a damaged file.
func (k *Keyring) reloadIfChanged() error {
	st, err := statFile(k.path)
	if err != nil {
		return nil // unreadable now: keep serving with the keys in memory
	}
	k.mu.RLock()
	same := st == k.stamp
	k.mu.RUnlock()
	if same {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if st == k.stamp {
		return nil // another caller that noticed the same change has read it meanwhile
	}
	fk, st, err := readKeyFile(k.path)
	if err != nil {
		return err
	}
	return k.mergeLocked(fk, st)
}

// mergeLocked installs the file's keys fk plus any key known in memory that the file no longer has.
func (k *Keyring) mergeLocked(fk []fileKey, st stamp) error {
	merged := slices.Clone(fk)
	for _, have := range k.keys {
		if have.aead != nil && !slices.ContainsFunc(fk, func(e fileKey) bool { return e.ID == have.info.ID }) {
			// Without material: installLocked keeps the AEAD it already has for a known id.
			merged = append(merged, fileKey{ID: have.info.ID, CreatedAt: have.info.CreatedAt})
		}
	}
	return k.installLocked(merged, st)
}

func (k *Keyring) install(fk []fileKey, st stamp) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.installLocked(fk, st)
}

// installLocked replaces the in-memory keys with fk, keeping the AEAD of ids already known (their
// material never changes once sealed data depends on it). A retired entry installs no AEAD.
func (k *Keyring) installLocked(fk []fileKey, st stamp) error {
	keys := make([]key, 0, len(fk))
	byID := make(map[uint32]cipher.AEAD, len(fk))
	seen := make(map[uint32]bool, len(fk))
	for _, e := range fk {
		if e.ID == 0 {
			return fmt.Errorf("keyring: %s: key id 0 is not allowed", k.path)
		}
		if seen[e.ID] {
			return fmt.Errorf("keyring: %s: key id %d appears twice", k.path, e.ID)
		}
		seen[e.ID] = true
		info := e.info()
		if e.RetiredAt != nil {
			if e.Key != "" {
				return fmt.Errorf("keyring: %s: key id %d is retired but still has its material", k.path, e.ID)
			}
			keys = append(keys, key{info: info})
			continue
		}
		if aead, ok := k.byID[e.ID]; ok {
			if i := slices.IndexFunc(k.keys, func(x key) bool { return x.info.ID == e.ID }); i >= 0 {
				info = k.keys[i].info
			}
			keys, byID[e.ID] = append(keys, key{info: info, aead: aead}), aead
			continue
		}
		aead, err := newAEAD(k.path, e)
		if err != nil {
			return err
		}
		keys, byID[e.ID] = append(keys, key{info: info, aead: aead}), aead
	}
	if len(keys) == 0 {
		return fmt.Errorf("keyring: %s: no keys", k.path)
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Compare(a.info.ID, b.info.ID) })
	if newest := keys[len(keys)-1]; newest.aead == nil {
		return fmt.Errorf("keyring: %s: the newest key, id %d, is retired: nothing could be sealed", k.path, newest.info.ID)
	}
	k.keys, k.byID, k.stamp = keys, byID, st
	return nil
}

// newAEAD builds the cipher of one file entry. Errors name the entry's id, never its material.
func newAEAD(path string, e fileKey) (cipher.AEAD, error) {
	raw, err := base64.StdEncoding.DecodeString(e.Key)
	if err != nil || len(raw) != keyLen {
		return nil, fmt.Errorf("keyring: %s: key id %d is not %d bytes of base64", path, e.ID, keyLen)
	}
	block, err := aes.NewCipher(raw)
	clear(raw)
	if err != nil {
		return nil, fmt.Errorf("keyring: %s: key id %d: %w", path, e.ID, err)
	}
	return cipher.NewGCM(block)
}

func newFileKey(id uint32) (fileKey, error) {
	raw := make([]byte, keyLen)
	if _, err := rand.Read(raw); err != nil {
		return fileKey{}, fmt.Errorf("keyring: reading random key: %w", err)
	}
	defer clear(raw)
	return fileKey{ID: id, CreatedAt: time.Now().UTC().Truncate(time.Second), Key: base64.StdEncoding.EncodeToString(raw)}, nil
}

// readKeyFile reads and parses the file, refusing one that group or others may read. The mode is taken
// from the open descriptor, so the file checked is the file read.
func readKeyFile(path string) ([]fileKey, stamp, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, stamp{}, fmt.Errorf("keyring: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, stamp{}, fmt.Errorf("keyring: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, stamp{}, fmt.Errorf("keyring: %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, stamp{}, fmt.Errorf("keyring: %s has mode %04o; it must not be accessible by group or others (chmod 600 %s)",
			path, perm, path)
	}
	const maxSize = 16 << 20 // half a million keys; anything larger is not a keyring
	b, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, stamp{}, fmt.Errorf("keyring: reading %s: %w", path, err)
	}
	defer clear(b)
	if len(b) > maxSize {
		return nil, stamp{}, fmt.Errorf("keyring: %s: too large", path)
	}
	var ff fileFormat
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	// json's errors describe positions and types, never the values, so they are safe to pass on.
	if err := dec.Decode(&ff); err != nil {
		return nil, stamp{}, fmt.Errorf("keyring: %s: not a keyring file: %w", path, err)
	}
	if ff.Version != formatVersion {
		return nil, stamp{}, fmt.Errorf("keyring: %s: unsupported format version %d", path, ff.Version)
	}
	if len(ff.Keys) == 0 {
		return nil, stamp{}, fmt.Errorf("keyring: %s: no keys", path)
	}
	return ff.Keys, stamp{mod: info.ModTime(), size: info.Size()}, nil
}

func statFile(path string) (stamp, error) {
	info, err := os.Stat(path)
	if err != nil {
		return stamp{}, fmt.Errorf("keyring: %w", err)
	}
	return stamp{mod: info.ModTime(), size: info.Size()}, nil
}

func encodeFile(fk []fileKey) ([]byte, error) {
	b, err := json.MarshalIndent(fileFormat{Version: formatVersion, Keys: fk}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("keyring: encoding: %w", err)
	}
	return append(b, '\n'), nil
}

// create writes a new keyring with one key at path. It is published with a hard link, which fails if
// the path exists, so two processes starting at once cannot overwrite each other's first key: the loser
// uses the winner's file.
func create(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("keyring: %w", err)
		}
	}
	nk, err := newFileKey(1)
	if err != nil {
		return err
	}
	tmp, err := writeTemp(path, []fileKey{nk})
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return fmt.Errorf("keyring: creating %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// writeAtomic replaces path with a keyring of fk: temporary file in the same directory, fsync, rename.
func writeAtomic(path string, fk []fileKey) error {
	tmp, err := writeTemp(path, fk)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("keyring: replacing %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// writeTemp writes a complete, synced keyring file (mode 0600) next to path and returns its name.
func writeTemp(path string, fk []fileKey) (string, error) {
	b, err := encodeFile(fk)
	if err != nil {
		return "", err
	}
	defer clear(b)
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp") // created 0600
	if err != nil {
		return "", fmt.Errorf("keyring: %w", err)
	}
	name := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(name)
		return "", fmt.Errorf("keyring: writing %s: %w", name, err)
	}
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := f.Write(b); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("keyring: writing %s: %w", name, err)
	}
	return name, nil
}

// syncDir makes a rename or link durable. It is best effort: not every platform can sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

package ports

import "context"

// Cipher seals data at rest (AES-256-GCM under a rotating keyring in production). A sealed value names the
// key that sealed it, so old keys still open what they sealed while new writes use the newest key. The
// additional data binds a ciphertext to its place (e.g. "totp:ACCOUNT_ID"), so it cannot be moved elsewhere.
type Cipher interface {
	Seal(ctx context.Context, plaintext, additionalData []byte) ([]byte, error)
	Open(ctx context.Context, sealed, additionalData []byte) ([]byte, error)
}

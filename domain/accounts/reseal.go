package accounts

import (
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// SealedData returns the TOTP secrets of every account, operators' included, as a key rotation job walks
// them, read and replaced through store (each replaced only if it did not change meanwhile, so a
// re-enrolment during the job wins).
func (s *Service) SealedData(store ports.SealedValueStore) ports.SealedData {
	return kernel.SealedSecrets{Name: "totp", Kind: ports.SealedTOTPSecret, Store: store, Cipher: s.Cipher,
		AD: func(v ports.SealedValue) []byte { return totpAD(v.ID) }}
}

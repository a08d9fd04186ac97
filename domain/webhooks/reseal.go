package webhooks

import (
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// SealedData returns the subscriptions' signing secrets, and the previous secrets still kept after a
// secret rotation, as a key rotation job walks them, read and replaced through store (each replaced only if
// it did not change meanwhile, so a secret rotated during the job wins).
func (s *Service) SealedData(store ports.SealedValueStore) []ports.SealedData {
	ad := func(v ports.SealedValue) []byte { return secretAD(v.TenantID, v.ID) }
	return []ports.SealedData{
		kernel.SealedSecrets{Name: "webhook_secrets", Kind: ports.SealedWebhookSecret, Store: store, Cipher: s.Cipher, AD: ad},
		kernel.SealedSecrets{Name: "webhook_previous_secrets", Kind: ports.SealedWebhookPreviousSecret, Store: store, Cipher: s.Cipher, AD: ad},
	}
}

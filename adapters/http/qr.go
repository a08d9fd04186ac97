package web

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"

	"github.com/roumu/roumu/ports"
)

// qrSize is the side of the QR image in pixels: large enough for a phone camera at arm's length. Scale keeps
// whole pixels per module and centres the code, so the spare pixels become part of the white quiet zone.
const qrSize = 240

// totpSetup is a TOTP secret being enrolled, as the page shows it, once: a QR code of the otpauth:// URL for
// the app's camera, and the secret in groups of four for typing in by hand.
type totpSetup struct {
	QR     template.URL // a data:image/png URL, rendered here so the secret never leaves for a QR service
	Secret string
}

func newTOTPSetup(key ports.TOTPKey) (*totpSetup, error) {
	code, err := qr.Encode(key.URL, qr.M, qr.Auto)
	if err != nil {
		return nil, err
	}
	if code, err = barcode.Scale(code, qrSize, qrSize); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, code); err != nil {
		return nil, err
	}
	return &totpSetup{
		// html/template would refuse a data: URL in src as a plain string; this one is built here from our own
		// PNG bytes, so it is safe to mark as a URL.
		QR:     template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())),
		Secret: groupsOf4(key.Secret),
	}, nil
}

// groupsOf4 spaces a base32 secret as "ABCD EFGH …", which is how people copy it without losing their place.
func groupsOf4(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

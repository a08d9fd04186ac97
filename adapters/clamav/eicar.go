package clamav

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/roumu/roumu/ports"
)

// EICAR is the EICAR anti-virus test file: harmless, and reported as malware by every scanner.
const EICAR = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// EICARSignature is the name EICARScanner reports, as clamd does.
const EICARSignature = "Eicar-Test-Signature"

// EICARScanner is a malware scanner for tests and the demo: it finds the EICAR test string anywhere in a file
// and nothing else, with the same size limit as Scanner. It needs no daemon. Its zero value is ready to use
// with DefaultMaxSize.
type EICARScanner struct {
	MaxSize int64
}

var _ ports.MalwareScanner = EICARScanner{}

// Scan reads r in chunks, keeping the tail of each so that the string is found across chunk boundaries.
func (e EICARScanner) Scan(ctx context.Context, r io.Reader) (ports.ScanResult, error) {
	limit := e.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	pattern := []byte(EICAR)
	buf := make([]byte, 0, DefaultChunkSize+len(pattern))
	chunk := make([]byte, DefaultChunkSize)
	found := false
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return ports.ScanResult{}, err
		}
		n, err := r.Read(chunk)
		total += int64(n)
		if total > limit {
			return ports.ScanResult{}, errTooLarge(limit)
		}
		buf = append(buf, chunk[:n]...)
		found = found || bytes.Contains(buf, pattern)
		if keep := len(pattern) - 1; len(buf) > keep {
			buf = append(buf[:0], buf[len(buf)-keep:]...)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ports.ScanResult{}, fmt.Errorf("clamav: reading the file: %w", err)
		}
	}
	if found {
		return ports.ScanResult{Signature: EICARSignature}, nil
	}
	return ports.ScanResult{Clean: true}, nil
}

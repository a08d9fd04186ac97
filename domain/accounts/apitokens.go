package accounts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// Integration API tokens. A token reads "roumu_<id>_<secret>": the fixed prefix makes a leaked token
// recognisable (secret scanners, log filters); id is 16 hex characters, not secret, under which the record is
// found with one primary-key read; secret is 256 random bits (43 base64url characters). The record keeps the
// SHA-256 of the whole token, compared in constant time.
//
// Why SHA-256 and not argon2id as for passwords: a slow hash protects guessable secrets by making each guess
// expensive. A 256-bit random secret cannot be guessed whatever the hash, so a slow hash would add no
// protection for a leaked database, while costing tens of milliseconds of CPU and memory on every API call,
// and handing anyone who sends made-up tokens a cheap way to exhaust the servers.
const (
	// MaxAPITokenLifetime is how far ahead a token may expire: a year, so every token is reviewed at least
	// yearly, long enough that a partner's integration does not need rotating more often than its contract.
	MaxAPITokenLifetime = 365 * 24 * time.Hour

	apiTokenIDBytes     = 8  // 64 bits: unique enough for a primary key (a collision is retried), short to read
	apiTokenSecretBytes = 32 // 256 bits
	apiTokenIDLen       = 2 * apiTokenIDBytes
	apiTokenSecretLen   = 43 // base64url of 32 bytes, unpadded
	apiTokenLen         = len(ports.APITokenPrefix) + apiTokenIDLen + 1 + apiTokenSecretLen
)

// newAPIToken returns a fresh token and its ID.
func newAPIToken() (id, token string) {
	b := make([]byte, apiTokenIDBytes)
	if _, err := rand.Read(b); err != nil {
		panic("accounts: crypto/rand failed: " + err.Error())
	}
	id = hex.EncodeToString(b)
	return id, ports.APITokenPrefix + id + "_" + kernel.RandomToken(apiTokenSecretBytes)
}

// apiTokenID returns the ID a well-formed API token carries; anything else is refused before any lookup.
func apiTokenID(token string) (string, bool) {
	if len(token) != apiTokenLen || !strings.HasPrefix(token, ports.APITokenPrefix) {
		return "", false
	}
	rest := token[len(ports.APITokenPrefix):]
	id, secret := rest[:apiTokenIDLen], rest[apiTokenIDLen+1:]
	if rest[apiTokenIDLen] != '_' || strings.Trim(id, "0123456789abcdef") != "" ||
		strings.Trim(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return "", false
	}
	return id, true
}

// apiTokenHint is the part of a token that may be shown again: prefix and ID.
func apiTokenHint(id string) string { return ports.APITokenPrefix + id + "_…" }

func apiTokenNotFound() error {
	return ports.NewError(ports.ErrNotFound, "not_found", "The API token was not found.", "APIトークンが見つかりません。")
}

// requireTokenAdmin lets through only a tenant admin logged in with a session: a token cannot make or revoke
// tokens, or one leaked token could mint others that outlive its revocation.
func requireTokenAdmin(p ports.Principal) error {
	if p.IsAPIToken() {
		return forbidden()
	}
	return requireAdmin(p)
}

// normalizeScopes validates the scopes a token is given: at least one, each known; duplicates are dropped and
// the order is that of ports.Scopes.
func normalizeScopes(scopes []string) ([]string, []ports.FieldError) {
	for _, sc := range scopes {
		if !slices.Contains(ports.Scopes, sc) {
			return nil, []ports.FieldError{{Field: "scopes", Code: "unknown_scope",
				MessageEN: "scopes must be among " + strings.Join(ports.Scopes, ", "),
				MessageJA: "スコープは " + strings.Join(ports.Scopes, "・") + " から選んでください"}}
		}
	}
	var out []string
	for _, sc := range ports.Scopes {
		if slices.Contains(scopes, sc) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, []ports.FieldError{{Field: "scopes", Code: "required",
			MessageEN: "choose at least one scope", MessageJA: "スコープを1つ以上選んでください"}}
	}
	return out, nil
}

// checkExpiry is the expiry policy: required, in the future, at most MaxAPITokenLifetime ahead.
func checkExpiry(expires, now time.Time) []ports.FieldError {
	switch {
	case expires.IsZero():
		return []ports.FieldError{{Field: "expires_at", Code: "required",
			MessageEN: "is required", MessageJA: "有効期限を入力してください"}}
	case !expires.After(now):
		return []ports.FieldError{{Field: "expires_at", Code: "in_past",
			MessageEN: "must be in the future", MessageJA: "未来の日時を指定してください"}}
	case expires.Sub(now) > MaxAPITokenLifetime:
		return []ports.FieldError{{Field: "expires_at", Code: "too_far",
			MessageEN: "must be at most one year ahead", MessageJA: "有効期限は1年以内にしてください"}}
	}
	return nil
}

func apiTokenView(r ports.APITokenRecord, now time.Time) ports.APITokenView {
	return ports.APITokenView{ID: r.ID, Name: r.Name, Scopes: slices.Clone(r.Scopes), Hint: apiTokenHint(r.ID),
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, Expired: !now.Before(r.ExpiresAt),
		LastUsedAt: r.LastUsedAt, LastUsedIP: r.LastUsedIP}
}

// ListAPITokens implements ports.APITokens.
func (s *Service) ListAPITokens(ctx context.Context, p ports.Principal) ([]ports.APITokenView, error) {
	if err := requireTokenAdmin(p); err != nil {
		return nil, err
	}
	recs, err := s.APITokens.ListAPITokens(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	views := []ports.APITokenView{}
	for _, r := range recs {
		if r.RevokedAt.IsZero() {
			views = append(views, apiTokenView(r, now))
		}
	}
	return views, nil
}

// CreateAPIToken implements ports.APITokens. The token string is returned once and never stored.
func (s *Service) CreateAPIToken(ctx context.Context, p ports.Principal, cmd ports.CreateAPITokenCommand) (ports.APITokenView, string, error) {
	if err := requireTokenAdmin(p); err != nil {
		return ports.APITokenView{}, "", err
	}
	now := s.Clock.Now()
	if cmd.ExpiresAt.IsZero() && cmd.ExpiresIn != 0 {
		cmd.ExpiresAt = now.Add(cmd.ExpiresIn)
	}
	name, fields := normalizeName("name", cmd.Name)
	scopes, errs := normalizeScopes(cmd.Scopes)
	fields = append(fields, errs...)
	fields = append(fields, checkExpiry(cmd.ExpiresAt, now)...)
	if len(fields) > 0 {
		return ports.APITokenView{}, "", invalid(fields)
	}
	var rec ports.APITokenRecord
	var token string
	for range 3 { // a 64-bit ID collides about never; retrying keeps even that from failing the request
		id, t := newAPIToken()
		token = t
		rec = ports.APITokenRecord{ID: id, TenantID: p.TenantID, Name: name, Scopes: scopes,
			SecretHash: hashToken(token), CreatedBy: p.AccountID, CreatedAt: now, ExpiresAt: cmd.ExpiresAt.UTC()}
		err := s.Tx.InTx(ctx, func(ctx context.Context) error {
			if err := s.APITokens.CreateAPIToken(ctx, rec); err != nil {
				return err
			}
			e := event(p, "api_token.create", "api_token:"+rec.ID)
			e.Detail = map[string]string{"name": name, "scopes": strings.Join(scopes, " "),
				"expires_at": rec.ExpiresAt.Format(time.RFC3339)}
			return s.record(ctx, e)
		})
		if errors.Is(err, ports.ErrConflict) {
			continue
		}
		if err != nil {
			return ports.APITokenView{}, "", err
		}
		return apiTokenView(rec, now), token, nil
	}
	return ports.APITokenView{}, "", errors.New("accounts: no free API token ID after 3 tries")
}

// RevokeAPIToken implements ports.APITokens. The token stops working with the next request.
func (s *Service) RevokeAPIToken(ctx context.Context, p ports.Principal, id string) error {
	if err := requireTokenAdmin(p); err != nil {
		return err
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		_, revoked, err := s.APITokens.RevokeAPIToken(ctx, p.TenantID, id, p.AccountID, s.Clock.Now())
		if errors.Is(err, ports.ErrNotFound) || (err == nil && !revoked) {
			return apiTokenNotFound()
		}
		if err != nil {
			return err
		}
		return s.record(ctx, event(p, "api_token.revoke", "api_token:"+id))
	})
}

// authenticateAPIToken is Authenticate for a token that carries the API token prefix. Refusals of a token
// that exists (wrong secret, revoked, expired, refused address) are audited against it; a made-up ID names no
// tenant to record it for.
func (s *Service) authenticateAPIToken(ctx context.Context, token string, src ports.Source) (ports.Principal, error) {
	id, ok := apiTokenID(token)
	if !ok {
		return ports.Principal{}, unauthenticated("unauthenticated")
	}
	rec, err := s.APITokens.APITokenByID(ctx, id)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.Principal{}, unauthenticated("unauthenticated")
	}
	if err != nil {
		return ports.Principal{}, err
	}
	audit := ports.AuditEvent{TenantID: rec.TenantID, ActorID: rec.CreatedBy, ActorKind: "token",
		Action: "auth.api_token", Target: "api_token:" + rec.ID, IP: src.IP, UserAgent: src.UserAgent}
	now := s.Clock.Now()
	var reason, code string
	switch {
	case subtle.ConstantTimeCompare([]byte(hashToken(token)), []byte(rec.SecretHash)) != 1:
		reason, code = "wrong_secret", "unauthenticated"
	case !rec.RevokedAt.IsZero():
		reason, code = "revoked", "token_revoked"
	case !now.Before(rec.ExpiresAt):
		reason, code = "expired", "token_expired"
	}
	if reason != "" {
		return ports.Principal{}, s.refuse(ctx, withReason(audit, reason), unauthenticated(code))
	}
	acct, err := s.Accounts.AccountByID(ctx, rec.TenantID, rec.CreatedBy)
	if err != nil {
		return ports.Principal{}, err
	}
	tenant, err := s.Tenants.TenantByID(ctx, rec.TenantID)
	if err != nil {
		return ports.Principal{}, err
	}
	if acct.Status != ports.AccountActive || tenant.Status != ports.TenantActive {
		return ports.Principal{}, s.refuse(ctx, withReason(audit, "disabled"), unauthenticated("account_disabled"))
	}
	if err := CheckSourceIP(tenant, src.IP); err != nil {
		return ports.Principal{}, s.refuse(ctx, withReason(audit, "ip_not_allowed"), err)
	}
	if now.Sub(rec.LastUsedAt) >= touchInterval {
		if err := s.APITokens.TouchAPIToken(ctx, rec.TenantID, rec.ID, now, src.IP); err != nil {
			return ports.Principal{}, err
		}
	}
	return ports.Principal{AccountID: acct.ID, TenantID: acct.TenantID, TenantCode: tenant.Code, Kind: acct.Kind,
		Login: acct.Login, Name: acct.Name, Roles: acct.Roles, Stage: ports.StageFull, TokenID: rec.ID,
		Scopes: slices.Clone(rec.Scopes), Source: src}, nil
}

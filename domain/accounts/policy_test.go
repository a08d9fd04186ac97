package accounts

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

func codes(errs []ports.FieldError) []string {
	var out []string
	for _, e := range errs {
		if e.MessageEN == "" || e.MessageJA == "" {
			panic("field error without both messages: " + e.Code)
		}
		out = append(out, e.Code)
	}
	return out
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	ctx := PasswordContext{Login: "yamada.taro@example.jp", Name: "山田 太郎", TenantCode: "acme-kk", TenantName: "Acme Holdings"}
	cases := []struct {
		name     string
		password string
		want     []string
	}{
		{"10 characters, 3 classes", "Kx7#mq2!zp", nil},
		{"4 classes", "Zebra-Kite-42-Moon", nil},
		{"upper lower digit", "Vx9kQm4Lr2Wz", nil},
		{"lower digit symbol", "vx9k#m4l!2wz", nil},
		{"kanji count as the fourth class", "桜Vx9kqm4lrw", nil},
		{"64 characters accepted", strings.Repeat("Ab3$", 16), nil},
		{"256 characters accepted", strings.Repeat("Ab3$", 64), nil},
		{"9 characters", "Kx7#mq2!z", []string{"too_short"}},
		{"only two classes", "abcdefgh12345", []string{"character_classes"}},
		{"short and one class", "zqv", []string{"too_short", "character_classes"}},
		{"257 characters", strings.Repeat("Ab3$", 64) + "x", []string{"too_long"}},
		{"control character", "Kx7#mq2!zp\x00", []string{"control_character"}},
		{"common password decorated", "Password123!", []string{"common"}},
		{"common Japanese word", "Sakura2024!!", []string{"common"}},
		{"keyboard walk", "Qwerty12345!", []string{"common"}},
		{"contains login part", "Yamada#2024xx", []string{"contains_identity"}},
		{"contains tenant code", "Acme-kk#2024x", []string{"contains_identity"}},
		{"contains tenant name word", "HOLDINGS#2024x", []string{"contains_identity"}},
		{"everything wrong", "pass", []string{"too_short", "character_classes", "common"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := codes(CheckPassword("password", normalizePassword(tc.password), ctx))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("CheckPassword(%q) = %v, want %v", tc.password, got, tc.want)
			}
		})
	}
}

func TestPasswordNormalisationMakesWidthIrrelevant(t *testing.T) {
	t.Parallel()
	if normalizePassword("Ｋｘ７＃ｍｑ２！ｚｐ") != "Kx7#mq2!zp" {
		t.Fatal("full-width password does not normalise to its half-width form")
	}
}

func TestOneTimePasswordSatisfiesPolicy(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 200 {
		p := newOneTimePassword()
		if errs := CheckPassword("password", p, PasswordContext{}); len(errs) > 0 || len(p) != 19 {
			t.Fatalf("one-time password %q: %v", p, codes(errs))
		}
		if seen[p] {
			t.Fatalf("one-time password repeated")
		}
		seen[p] = true
	}
}

func TestLockoutPolicy(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	l := DefaultLockout
	cases := []struct {
		name      string
		state     ports.ThrottleState
		wantLock  bool
		wantRetry time.Duration
	}{
		{"no failures", ports.ThrottleState{}, false, 0},
		{"4 failures", ports.ThrottleState{Failures: 4}, false, 0},
		{"5th failure locks", ports.ThrottleState{Failures: 5}, true, 0},
		{"more failures after an expired lock", ports.ThrottleState{Failures: 7, LockedUntil: now.Add(-time.Second)}, true, 0},
		{"already locked: not again", ports.ThrottleState{Failures: 6, LockedUntil: now.Add(10 * time.Minute)}, false, 10 * time.Minute},
		{"lock ending now is over", ports.ThrottleState{Failures: 5, LockedUntil: now}, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := l.ShouldLock(tc.state, now); got != tc.wantLock {
				t.Errorf("ShouldLock = %v, want %v", got, tc.wantLock)
			}
			if got := l.RetryAfter(tc.state, now); got != tc.wantRetry {
				t.Errorf("RetryAfter = %v, want %v", got, tc.wantRetry)
			}
		})
	}
	if l.Threshold != 5 || l.Duration != 30*time.Minute {
		t.Fatalf("the specification fixes 5 failures and 30 minutes, got %d and %v", l.Threshold, l.Duration)
	}
}

func TestSessionPolicy(t *testing.T) {
	t.Parallel()
	p := DefaultSessionPolicy
	login := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	s := ports.SessionRecord{CreatedAt: login, LastSeenAt: login, ExpiresAt: login.Add(p.lifetime(ports.StageFull))}
	cases := []struct {
		name     string
		lastSeen time.Duration
		now      time.Duration
		want     bool
	}{
		{"fresh", 0, time.Minute, false},
		{"idle 29m59s", 0, 30*time.Minute - time.Second, false},
		{"idle 30m", 0, 30 * time.Minute, true},
		{"active for 11h59m", 11*time.Hour + 50*time.Minute, 11*time.Hour + 59*time.Minute, false},
		{"absolute 12h reached while active", 11*time.Hour + 59*time.Minute, 12 * time.Hour, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := s
			s.LastSeenAt = login.Add(tc.lastSeen)
			if got := p.Expired(s, login.Add(tc.now)); got != tc.want {
				t.Fatalf("Expired = %v, want %v", got, tc.want)
			}
		})
	}
	if p.lifetime(ports.StageMFA) != 10*time.Minute {
		t.Fatal("a login-step session must live 10 minutes at most")
	}
}

func TestSessionTokensAre256BitAndStoredHashed(t *testing.T) {
	t.Parallel()
	token, hash := newSessionToken()
	if len(token) != 43 || hash == token || hash != hashToken(token) || len(hash) != 64 {
		t.Fatalf("token %d chars, hash %q", len(token), hash)
	}
}

func TestLoginNormalisation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, display, key string
		valid            bool
	}{
		{"Yamada.Taro", "Yamada.Taro", "yamada.taro", true},
		{"ｙａｍａｄａ", "yamada", "yamada", true},
		{"  hr@example.jp ", "hr@example.jp", "hr@example.jp", true},
		{"ADMIN", "ADMIN", "admin", true},
		{"аdmin", "аdmin", "аdmin", false}, // Cyrillic а
		{"山田", "山田", "山田", false},
		{"' OR 1=1 --", "' OR 1=1 --", "' or 1=1 --", false},
		{"ab", "ab", "ab", false},
		{strings.Repeat("a", 65), strings.Repeat("a", 65), strings.Repeat("a", 65), false},
	}
	for _, tc := range cases {
		display, key := NormalizeLogin(tc.in)
		if display != tc.display || key != tc.key {
			t.Errorf("NormalizeLogin(%q) = %q, %q; want %q, %q", tc.in, display, key, tc.display, tc.key)
		}
		if valid := validateLogin("login", display) == nil; valid != tc.valid {
			t.Errorf("validateLogin(%q) valid = %v, want %v", display, valid, tc.valid)
		}
	}
}

func TestTenantCodeAndRoles(t *testing.T) {
	t.Parallel()
	for code, valid := range map[string]bool{"acme": true, "acme-kk": true, "a1": true, "-acme": false, "a": false,
		"acme_kk": false, "アクメ": false, strings.Repeat("a", 33): false} {
		if got := validateTenantCode(code) == nil; got != valid {
			t.Errorf("validateTenantCode(%q) valid = %v, want %v", code, got, valid)
		}
	}
	if NormalizeTenantCode(" ＡＣＭＥ ") != "acme" {
		t.Error("tenant codes must normalise width and case")
	}
	roles, errs := normalizeRoles([]string{"employee", "admin", "employee"})
	if errs != nil || !slices.Equal(roles, []string{"admin", "employee"}) {
		t.Errorf("normalizeRoles = %v, %v", roles, errs)
	}
	for _, bad := range [][]string{nil, {}, {"root"}, {"Admin"}} {
		if _, errs := normalizeRoles(bad); errs == nil {
			t.Errorf("normalizeRoles(%q) accepted", bad)
		}
	}
}

func TestStageOrder(t *testing.T) {
	t.Parallel()
	must := ports.AccountRecord{MustChangePassword: true}
	plain := ports.AccountRecord{}
	cases := []struct {
		acct          ports.AccountRecord
		required, has bool
		want          string
	}{
		{plain, false, false, ports.StageFull},
		{must, false, false, ports.StagePasswordChange},
		{must, true, false, ports.StagePasswordChange},
		{plain, true, false, ports.StageMFAEnrol},
		{plain, true, true, ports.StageFull},
	}
	for _, tc := range cases {
		if got := stageAfterFactors(tc.acct, tc.required, tc.has); got != tc.want {
			t.Errorf("stageAfterFactors(%+v, %v, %v) = %q, want %q", tc.acct.MustChangePassword, tc.required, tc.has, got, tc.want)
		}
	}
}

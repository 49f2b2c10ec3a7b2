package mfa

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strconv"
	"strings"

	"github.com/propusk/propusk/store"
)

// Recovery codes: ten, each 12 characters of Crockford's base32 (60 bits,
// above the 50 the policy asks), shown as XXXX-XXXX-XXXX. Crockford's
// alphabet has no I, L, O or U, and reading a code back treats O as 0 and
// I or L as 1, so a code copied off paper is typed right.
const (
	RecoveryCodeCount = 10
	recoveryLength    = 12
	recoveryAlphabet  = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	// LowRecoveryCodes is when the person is urged to make a new set.
	LowRecoveryCodes = 2
)

// ErrWrongRecoveryCode: no unused recovery code of the account matches.
var ErrWrongRecoveryCode = errors.New("the recovery code is not right or was already used")

// recoveryHash is the keyed hash stored for a code. The codes are random
// (60 bits), so a slow hash would add nothing; the key keeps a stolen table
// from being checked offline.
func (s *Service) recoveryHash(code string) []byte {
	m := hmac.New(sha256.New, s.RecoveryKey)
	m.Write([]byte("propusk recovery code\x00"))
	m.Write([]byte(code))
	return m.Sum(nil)
}

// canonicalRecovery uppercases, drops separators and maps the look-alikes,
// so "abcd efgh-jkmn" and "ABCD-EFGH-JKMN" are the same code.
func canonicalRecovery(code string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			r = r - 'a' + 'A'
		}
		switch r {
		case '-', ' ', '\t':
			return -1
		case 'O':
			return '0'
		case 'I', 'L':
			return '1'
		}
		return r
	}, code)
}

// NewRecoveryCodes makes a fresh set for the account, replacing (and so
// invalidating) the old one, and returns the codes to show once.
func (s *Service) NewRecoveryCodes(ctx context.Context, accountID string, meta Meta) ([]string, error) {
	alphabet := recoveryAlphabet
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	buf := make([]byte, recoveryLength)
	for i := range codes {
		if _, err := rand.Read(buf); err != nil {
			return nil, err
		}
		var b strings.Builder
		for j, c := range buf {
			if j > 0 && j%4 == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(alphabet[c&31]) // 32 letters: every byte value maps evenly
		}
		codes[i] = b.String()
		hashes[i] = s.recoveryHash(canonicalRecovery(codes[i]))
	}
	if err := s.Store.ReplaceRecoveryCodes(ctx, accountID, hashes, s.Clock.Now()); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, "mfa.recovery_codes_created", accountID, meta, nil); err != nil {
		return nil, err
	}
	return codes, nil
}

// UseRecoveryCode accepts one of the account's unused recovery codes as
// the second factor, once, and says how many remain. Wrong codes count
// towards the lock-out like wrong TOTP codes.
func (s *Service) UseRecoveryCode(ctx context.Context, accountID, code string, meta Meta) (remaining int, err error) {
	// Codes count only beside an authenticator (Remove and Reset delete
	// them with the last one; this also covers codes left by any other
	// path).
	if enrolled, err := s.Enrolled(ctx, accountID); err != nil {
		return 0, err
	} else if !enrolled {
		return 0, ErrNoAuthenticator
	}
	st, err := s.reserve(ctx, accountID)
	if err != nil {
		return 0, err
	}
	c := canonicalRecovery(code)
	if len(c) != recoveryLength {
		return 0, s.failed(ctx, accountID, st, ErrWrongRecoveryCode, meta)
	}
	err = s.Store.UseRecoveryCode(ctx, accountID, s.recoveryHash(c), s.Clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return 0, s.failed(ctx, accountID, st, ErrWrongRecoveryCode, meta)
	}
	if err != nil {
		return 0, err
	}
	if err := s.release(ctx, accountID, false); err != nil {
		return 0, err
	}
	remaining, err = s.Store.CountRecoveryCodes(ctx, accountID)
	if err != nil {
		return 0, err
	}
	return remaining, s.audit(ctx, "mfa.recovery_used", accountID, meta, map[string]string{"remaining": strconv.Itoa(remaining)})
}

// RecoveryCodesLeft says how many unused recovery codes the account has.
func (s *Service) RecoveryCodesLeft(ctx context.Context, accountID string) (int, error) {
	return s.Store.CountRecoveryCodes(ctx, accountID)
}

package store

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// KeyPrefix starts every HAPA API key.
const KeyPrefix = "hapa_"

// DemoKey is the original backend's fixed development key, provisioned only
// when DEMO_API_KEY_ENABLED=true.
const DemoKey = "hapa_demo_20241228_secure_key_for_testing"

// displayPrefixLen is how much of a key is kept in clear for display.
const displayPrefixLen = 12

// Scopes a key can carry.
const (
	ScopeCodeGeneration = "code_generation"
	ScopeCodeCompletion = "code_completion"
	ScopeHistory        = "history"
	ScopeAdmin          = "admin"
)

// KnownScopes returns every scope HAPA checks, in a stable order.
func KnownScopes() Scopes {
	return Scopes{ScopeCodeGeneration, ScopeCodeCompletion, ScopeHistory, ScopeAdmin}
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// GenerateKey returns a new plaintext key: "hapa_" and 40 base62 characters
// from crypto/rand (about 238 bits), drawn without modulo bias.
func GenerateKey() string {
	var b strings.Builder
	b.Grow(len(KeyPrefix) + 40)
	b.WriteString(KeyPrefix)
	buf := make([]byte, 64)
	for b.Len() < len(KeyPrefix)+40 {
		rand.Read(buf) // never fails (crypto/rand panics internally instead)
		for _, c := range buf {
			// 62*4 = 248: reject 248..255 so every character is equally likely.
			if c < 248 && b.Len() < len(KeyPrefix)+40 {
				b.WriteByte(base62[c%62])
			}
		}
	}
	return b.String()
}

// HashKey returns the hex SHA-256 of a plaintext key, the only form stored.
func HashKey(plaintext string) string {
	sum := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(sum[:])
}

// displayPrefix is the part of a key shown in listings.
func displayPrefix(plaintext string) string {
	if len(plaintext) <= displayPrefixLen {
		return plaintext
	}
	return plaintext[:displayPrefixLen]
}

// Scopes is a set of scope names, stored as comma-separated text.
type Scopes []string

// ParseScopes splits a comma-separated list, trimming blanks and duplicates.
func ParseScopes(s string) Scopes {
	var out Scopes
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// String joins the scopes with commas.
func (s Scopes) String() string { return strings.Join(s, ",") }

// Value implements driver.Valuer.
func (s Scopes) Value() (driver.Value, error) { return s.String(), nil }

// Scan implements sql.Scanner.
func (s *Scopes) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*s = ParseScopes(v)
	case []byte:
		*s = ParseScopes(string(v))
	case nil:
		*s = nil
	default:
		return fmt.Errorf("scopes: cannot scan %T", src)
	}
	return nil
}

package realtime

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// CompletionIDs mints and checks completion ids (docs/api.md, "Completion feedback").
// An id carries what the feedback of its completion is recorded with — who received
// it, when, the language and the adapter — under an HMAC of the gateway's secret, so
// any replica can check a report without a lookup, and nobody can report on a
// completion they did not receive or make one up.
//
// Layout, base64url after "cmpl-": version 1 | unix ms (6 bytes) | key id (uvarint) |
// user id (uvarint) | language (1-byte length, text) | adapter (1-byte length, text) |
// 6 random bytes | the first 10 bytes of HMAC-SHA256 over all of that.
type CompletionIDs struct {
	key []byte
}

// CompletionRef is what a completion id says about its completion.
type CompletionRef struct {
	KeyID, UserID int64
	Language      string
	Adapter       string
	CreatedAt     time.Time
}

// completionIDPrefix starts every completion id (OpenAI's completions use it too).
const completionIDPrefix = "cmpl-"

const (
	completionIDVersion = 1
	completionIDMAC     = 10
	completionIDRandom  = 6
	maxRefText          = 64 // longest language or adapter name an id carries
)

// ErrCompletionID is a completion id that is malformed, forged or minted with another
// secret.
var ErrCompletionID = errors.New("realtime: invalid completion id")

// NewCompletionIDs returns ids signed with a key derived from secret (SECRET_KEY):
// replicas that share the secret accept each other's ids.
func NewCompletionIDs(secret []byte) *CompletionIDs {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("hapa completion id v1"))
	return &CompletionIDs{key: m.Sum(nil)}
}

// New mints the id of a completion made now for c.
func (c *CompletionIDs) New(caller Caller, language, adapter string, now time.Time) string {
	b := make([]byte, 0, 48)
	b = append(b, completionIDVersion)
	ms := uint64(now.UnixMilli())
	b = append(b, byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms))
	b = binary.AppendUvarint(b, uint64(max(caller.KeyID, 0)))
	b = binary.AppendUvarint(b, uint64(max(caller.UserID, 0)))
	for _, s := range []string{language, adapter} {
		s = s[:min(len(s), maxRefText)]
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	var r [completionIDRandom]byte
	_, _ = rand.Read(r[:])
	b = append(b, r[:]...)
	b = append(b, c.mac(b)...)
	return completionIDPrefix + base64.RawURLEncoding.EncodeToString(b)
}

func (c *CompletionIDs) mac(b []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(b)
	return m.Sum(nil)[:completionIDMAC]
}

// Parse checks id's signature and returns what it says (ErrCompletionID otherwise).
func (c *CompletionIDs) Parse(id string) (CompletionRef, error) {
	enc, ok := strings.CutPrefix(id, completionIDPrefix)
	if !ok || len(enc) > 256 {
		return CompletionRef{}, ErrCompletionID
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(b) < 1+6+1+1+1+1+completionIDRandom+completionIDMAC || b[0] != completionIDVersion {
		return CompletionRef{}, ErrCompletionID
	}
	body, sum := b[:len(b)-completionIDMAC], b[len(b)-completionIDMAC:]
	if !hmac.Equal(sum, c.mac(body)) {
		return CompletionRef{}, ErrCompletionID
	}
	var ref CompletionRef
	var ms uint64
	for _, x := range body[1:7] {
		ms = ms<<8 | uint64(x)
	}
	ref.CreatedAt = time.UnixMilli(int64(ms)).UTC()
	rest := body[7:]
	for _, dst := range []*int64{&ref.KeyID, &ref.UserID} {
		v, n := binary.Uvarint(rest)
		if n <= 0 || v > 1<<62 {
			return CompletionRef{}, ErrCompletionID
		}
		*dst, rest = int64(v), rest[n:]
	}
	for _, dst := range []*string{&ref.Language, &ref.Adapter} {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return CompletionRef{}, ErrCompletionID
		}
		*dst, rest = string(rest[1:1+int(rest[0])]), rest[1+int(rest[0]):]
	}
	if len(rest) != completionIDRandom {
		return CompletionRef{}, ErrCompletionID
	}
	return ref, nil
}

// ReceivedBy reports whether caller is the one the completion was made for: the same
// API key, or, for a completion made with a user's token (no key), the same user.
func (r CompletionRef) ReceivedBy(caller Caller) bool {
	if r.KeyID != 0 {
		return caller.KeyID == r.KeyID
	}
	return r.UserID != 0 && caller.KeyID == 0 && caller.UserID == r.UserID
}

package auth

import (
	"errors"

	"github.com/hapa-project/hapa/realtime"
)

// API-key failures of Keys.Lookup; Authenticate maps them to E4003, E4006 and E4007.
var (
	ErrKeyUnknown = errors.New("auth: unknown API key")
	ErrKeyExpired = errors.New("auth: API key expired")
	ErrKeyRevoked = errors.New("auth: API key revoked")
)

// ErrBadToken covers every JWT that must not be accepted (bad signature, expired,
// wrong type, logged out); callers answer E4003.
var ErrBadToken = errors.New("auth: invalid token")

// keyError maps the key sentinels to the catalogue; anything else is a database
// failure (E5003).
func keyError(err error) *realtime.Error {
	switch {
	case errors.Is(err, ErrKeyUnknown):
		return realtime.NewError(realtime.CodeInvalidKey, "Invalid API key")
	case errors.Is(err, ErrKeyExpired):
		return realtime.NewError(realtime.CodeKeyExpired, "")
	case errors.Is(err, ErrKeyRevoked):
		return realtime.NewError(realtime.CodeKeyRevoked, "")
	default:
		return realtime.Wrap(realtime.CodeDatabaseError, err)
	}
}

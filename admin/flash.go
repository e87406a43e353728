package admin

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
)

// A new key's plaintext reaches the page that shows it through a one-time cookie, so
// that the POST that made the key can answer with a redirect (POST-redirect-GET: a
// reload never mints a second key) while the key never appears in a URL, a log or the
// database. The cookie is sealed with AES-GCM under a key derived from the session
// cookie's token, which the server never stores (admin_sessions keeps its SHA-256), so
// the flash cookie is useless without the session cookie and to anyone who can read
// the database. Every replica can open it. The page that shows the key deletes the
// cookie in the same response: a reload shows the key without its plaintext.

// flashTTL bounds how long a sealed key waits for its page.
const flashTTL = 120

// keyFlash is what the cookie carries.
type keyFlash struct {
	KeyID     int64  `json:"k"`
	Plaintext string `json:"p"`
	Rotated   bool   `json:"r,omitempty"`
}

func (h *Handler) flashCookieName(r *http.Request) string {
	if h.secureRequest(r) {
		return "__Host-hapa_flash"
	}
	return "hapa_flash"
}

// sealer derives the AEAD of a session token.
func sealer(sessionToken string) cipher.AEAD {
	mac := hmac.New(sha256.New, []byte(sessionToken))
	mac.Write([]byte("hapa admin flash v1"))
	block, _ := aes.NewCipher(mac.Sum(nil)) // a 32-byte key never fails
	aead, _ := cipher.NewGCM(block)
	return aead
}

// setKeyFlash seals f for the request's session and sets it as the flash cookie.
func (h *Handler) setKeyFlash(w http.ResponseWriter, r *http.Request, f keyFlash) {
	s := sessionFrom(r.Context())
	if s == nil || s.token == "" {
		return
	}
	plain, _ := json.Marshal(f)
	aead := sealer(s.token)
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, plain, []byte(s.ID))
	http.SetCookie(w, &http.Cookie{Name: h.flashCookieName(r), Value: base64.RawURLEncoding.EncodeToString(sealed),
		Path: "/", MaxAge: flashTTL, HttpOnly: true, Secure: h.secureRequest(r), SameSite: http.SameSiteStrictMode})
}

// takeKeyFlash opens the flash cookie for key id and deletes it; ok is false when
// there is none, it is for another key or session, or it was tampered with.
func (h *Handler) takeKeyFlash(w http.ResponseWriter, r *http.Request, id int64) (keyFlash, bool) {
	c, err := r.Cookie(h.flashCookieName(r))
	s := sessionFrom(r.Context())
	if err != nil || s == nil || s.token == "" {
		return keyFlash{}, false
	}
	http.SetCookie(w, &http.Cookie{Name: c.Name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: h.secureRequest(r), SameSite: http.SameSiteStrictMode})
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	aead := sealer(s.token)
	if err != nil || len(raw) < aead.NonceSize() {
		return keyFlash{}, false
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(s.ID))
	var f keyFlash
	if err != nil || json.Unmarshal(plain, &f) != nil || f.KeyID != id {
		return keyFlash{}, false
	}
	return f, true
}

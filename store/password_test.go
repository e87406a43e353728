package store

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("encoding = %q", h)
	}
	h2, _ := HashPassword("correct horse battery staple")
	if h == h2 {
		t.Error("two hashes of one password are equal: salt not random")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery stapl", false},
		{"Correct horse battery staple", false},
		{"", false},
	} {
		ok, err := VerifyPassword(h, tc.pw)
		if err != nil || ok != tc.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
}

func TestHashPasswordRejects(t *testing.T) {
	if _, err := HashPassword(""); err == nil {
		t.Error("empty password hashed")
	}
	if _, err := HashPassword(strings.Repeat("x", maxPasswordLen+1)); err == nil {
		t.Error("oversized password hashed")
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	good, _ := HashPassword("pw")
	parts := strings.Split(good, "$")
	for name, enc := range map[string]string{
		"empty":           "",
		"bcrypt":          "$2a$10$abcdefghijklmnopqrstuv",
		"argon2i":         strings.Replace(good, "argon2id", "argon2i", 1),
		"version":         strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":     strings.Replace(good, "m=19456", "m=99999999", 1),
		"zero time":       strings.Replace(good, "t=2", "t=0", 1),
		"extra params":    strings.Replace(good, "p=1", "p=1,x=1", 1),
		"bad salt":        "$" + strings.Join([]string{parts[1], parts[2], parts[3], "!!!", parts[5]}, "$"),
		"short hash":      "$" + strings.Join([]string{parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
		"missing section": "$" + strings.Join(parts[1:5], "$"),
	} {
		t.Run(name, func(t *testing.T) {
			ok, err := VerifyPassword(enc, "pw")
			if ok || !errors.Is(err, ErrBadPasswordHash) {
				t.Errorf("= %v, %v; want ErrBadPasswordHash", ok, err)
			}
		})
	}
}

func TestVerifyPasswordOtherParameters(t *testing.T) {
	// A hash made with other parameters (as a later parameter change leaves behind)
	// still verifies: the parameters come from the encoded string.
	salt := []byte("somesaltsomesalt")
	key := argon2.IDKey([]byte("pw"), salt, 2, 16, 1, 32)
	enc := "$argon2id$v=19$m=16,t=2,p=1$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(key)
	if ok, err := VerifyPassword(enc, "pw"); !ok || err != nil {
		t.Errorf("VerifyPassword = %v, %v", ok, err)
	}
	if ok, _ := VerifyPassword(enc, "px"); ok {
		t.Error("wrong password verified")
	}
}

package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
)

// TestRevokeUser refuses every token a user held — access and refresh, of every login
// — on this replica, on another one told by the event, and on one that starts later
// and reads the table; tokens issued afterwards, and other users', are accepted.
func TestRevokeUser(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB, clk *clock) {
		ctx := context.Background()
		secret := []byte("0123456789abcdef-secret")
		newAuth := func() *Authenticator {
			a, err := New(Config{JWTSecret: secret}, Deps{DB: db, Now: clk.Now})
			mustNoErr(t, err)
			return a
		}
		a, other := newAuth(), newAuth()
		var events []string
		a.Tokens().OnRevoke = func(id string, exp time.Time) {
			events = append(events, id)
			other.Tokens().Deny(id, exp) // the events bus
		}
		login1, err := a.Tokens().Pair(7, "ada@example.com")
		mustNoErr(t, err)
		login2, err := a.Tokens().Pair(7, "ada@example.com")
		mustNoErr(t, err)
		bob, err := a.Tokens().Pair(8, "bob@example.com")
		mustNoErr(t, err)

		clk.Add(1500 * time.Millisecond)
		mustNoErr(t, a.Tokens().RevokeUser(ctx, 7))
		if len(events) != 1 {
			t.Fatalf("events %v", events)
		}
		later := newAuth() // a replica started after: Load reads the table
		mustNoErr(t, later.Load(ctx))
		for name, au := range map[string]*Authenticator{"this": a, "other": other, "later": later} {
			for _, tok := range []struct{ tok, typ string }{
				{login1.AccessToken, TokenAccess}, {login1.RefreshToken, TokenRefresh},
				{login2.AccessToken, TokenAccess}, {login2.RefreshToken, TokenRefresh},
			} {
				if _, err := au.Tokens().Parse(tok.tok, tok.typ); !errors.Is(err, ErrBadToken) {
					t.Fatalf("%s replica accepts a %s token of the disabled user: %v", name, tok.typ, err)
				}
			}
			if _, err := au.Tokens().Parse(bob.AccessToken, TokenAccess); err != nil {
				t.Fatalf("%s replica refuses another user: %v", name, err)
			}
		}
		// A login after the account is enabled again works everywhere.
		clk.Add(time.Second)
		fresh, err := a.Tokens().Pair(7, "ada@example.com")
		mustNoErr(t, err)
		for _, au := range []*Authenticator{a, other, later} {
			if _, err := au.Tokens().Parse(fresh.AccessToken, TokenAccess); err != nil {
				t.Fatalf("a token issued after the denial is refused: %v", err)
			}
		}
		// The denial ends when the longest token it refuses would have.
		clk.Add(DefaultRefreshTTL + time.Minute)
		if a.tokens.denied.userDenied(7, nil) {
			t.Fatal("the denial outlived the refresh lifetime")
		}
	})
}

func TestUserDenialIDs(t *testing.T) {
	at := time.UnixMilli(1_765_000_000_123)
	id := userDenialID(42, at)
	if uid, got, ok := parseUserDenial(id); !ok || uid != 42 || !got.Equal(at) {
		t.Fatalf("%q → %d %v %v", id, uid, got, ok)
	}
	for _, bad := range []string{"", "3f2a9c", "user:", "user:x:1", "user:5", "user:-1:5", "user:5:x"} {
		if _, _, ok := parseUserDenial(bad); ok {
			t.Errorf("%q parsed as a user denial", bad)
		}
	}
}

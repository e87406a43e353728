package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestGenerateKey(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		k := GenerateKey()
		if len(k) != 45 || !strings.HasPrefix(k, "hapa_") || strings.Trim(k[5:], base62) != "" {
			t.Fatalf("bad key %q", k)
		}
		if seen[k] {
			t.Fatal("duplicate key")
		}
		seen[k] = true
	}
	if h := HashKey("x"); len(h) != 64 || h != HashKey("x") {
		t.Fatalf("HashKey = %q", h)
	}
}

func TestAPIKeys(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clk := newClock()
		db.now = clk.Now
		ks := db.APIKeys()
		u, err := db.Users().Create(ctx, User{Email: "owner@example.com"})
		mustNoErr(t, err)
		exp := clk.Now().Add(30 * 24 * time.Hour)
		plain, k, err := ks.Create(ctx, NewKey{UserID: &u.ID, Name: "laptop",
			Scopes: Scopes{ScopeCodeGeneration, ScopeHistory}, ExpiresAt: &exp, TokensPerDay: 1000})
		mustNoErr(t, err)
		if k.KeyHash != HashKey(plain) || k.Prefix != plain[:12] || k.OwnerEmail != "owner@example.com" ||
			!k.HasScope(ScopeHistory) || k.HasScope(ScopeAdmin) || k.TokensPerDay != 1000 {
			t.Fatalf("created %+v", k)
		}
		if strings.Contains(k.KeyHash, plain) {
			t.Fatal("plaintext stored")
		}
		demo, err := ks.EnsureKey(ctx, DemoKey, NewKey{Name: "demo", Scopes: ParseScopes("code_generation, code_completion,history")})
		mustNoErr(t, err)
		again, err := ks.EnsureKey(ctx, DemoKey, NewKey{Name: "other"})
		mustNoErr(t, err)
		if again.ID != demo.ID || again.Name != "demo" || len(demo.Scopes) != 3 {
			t.Fatalf("EnsureKey not idempotent: %+v vs %+v", again, demo)
		}
		if _, err := ks.CreateWithPlaintext(ctx, DemoKey, NewKey{}); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate hash = %v, want ErrConflict", err)
		}

		newPlain, rotated, err := ks.Rotate(ctx, k.ID)
		mustNoErr(t, err)
		if newPlain == plain || rotated.UserID == nil || *rotated.UserID != u.ID || rotated.Name != "laptop" ||
			rotated.ExpiresAt == nil || !rotated.ExpiresAt.Equal(exp) || rotated.Scopes.String() != "code_generation,history" {
			t.Fatalf("rotated %+v", rotated)
		}
		old, err := ks.ByID(ctx, k.ID)
		mustNoErr(t, err)
		if old.Status(clk.Now()) != KeyRevoked {
			t.Fatalf("old key status %s", old.Status(clk.Now()))
		}
		if _, _, err := ks.Rotate(ctx, k.ID); !errors.Is(err, ErrConflict) {
			t.Fatalf("rotate revoked = %v", err)
		}
		if err := ks.Revoke(ctx, 9999); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Revoke(missing) = %v", err)
		}

		short := clk.Now().Add(time.Hour)
		_, expiring, err := ks.Create(ctx, NewKey{UserID: &u.ID, Name: "ci", ExpiresAt: &short})
		mustNoErr(t, err)
		clk.Add(2 * time.Hour) // expiring is now expired
		n, err := ks.CountActive(ctx, u.ID)
		mustNoErr(t, err)
		if n != 1 {
			t.Fatalf("CountActive = %d, want 1 (the rotated key)", n)
		}
		tests := []struct {
			name string
			f    KeyFilter
			want []int64
			all  int
		}{
			{"all", KeyFilter{}, []int64{expiring.ID, rotated.ID, demo.ID, k.ID}, 4},
			{"active", KeyFilter{Status: KeyActive}, []int64{rotated.ID, demo.ID}, 2},
			{"revoked", KeyFilter{Status: KeyRevoked}, []int64{k.ID}, 1},
			{"expired", KeyFilter{Status: KeyExpired}, []int64{expiring.ID}, 1},
			{"owner", KeyFilter{UserID: &u.ID, Limit: 2}, []int64{expiring.ID, rotated.ID}, 3},
			{"query email", KeyFilter{Query: "OWNER@"}, []int64{expiring.ID, rotated.ID, k.ID}, 3},
			{"query name", KeyFilter{Query: "dem"}, []int64{demo.ID}, 1},
			{"query prefix", KeyFilter{Query: DemoKey[:10]}, []int64{demo.ID}, 1},
			{"query wildcard is literal", KeyFilter{Query: "%"}, nil, 0},
			{"offset", KeyFilter{Offset: 3}, []int64{k.ID}, 4},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, total, err := ks.List(ctx, tt.f)
				mustNoErr(t, err)
				var ids []int64
				for _, k := range got {
					ids = append(ids, k.ID)
				}
				if total != tt.all || len(ids) != len(tt.want) || (len(ids) > 0 && ids[0] != tt.want[0]) {
					t.Fatalf("List = %v (total %d), want %v (total %d)", ids, total, tt.want, tt.all)
				}
			})
		}
		if _, _, err := ks.List(ctx, KeyFilter{Status: "bogus"}); err == nil {
			t.Fatal("bogus status accepted")
		}
	})
}

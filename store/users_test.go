package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestUsers(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		us := db.Users()
		a, err := us.Create(ctx, User{Email: " Ada@Example.com ", Name: "Ada"})
		mustNoErr(t, err)
		if a.ID == 0 || a.Email != "ada@example.com" || a.Role != RoleUser {
			t.Fatalf("created %+v", a)
		}
		tests := []struct {
			name  string
			email string
			want  error
		}{
			{"duplicate e-mail", "ada@example.com", ErrConflict},
			{"duplicate e-mail other case", "ADA@example.com", ErrConflict},
			{"new e-mail", "bob@example.com", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := us.Create(ctx, User{Email: tt.email})
				if !errors.Is(err, tt.want) {
					t.Fatalf("Create(%s) = %v, want %v", tt.email, err, tt.want)
				}
			})
		}
		got, err := us.ByEmail(ctx, "ADA@example.COM")
		mustNoErr(t, err)
		if got.ID != a.ID || !got.CreatedAt.Equal(a.CreatedAt) {
			t.Fatalf("ByEmail = %+v, want %+v", got, a)
		}
		if _, err := us.ByID(ctx, 9999); !errors.Is(err, ErrNotFound) {
			t.Fatalf("ByID(missing) = %v", err)
		}
		hash := "argon2id$x"
		mustNoErr(t, us.SetPassword(ctx, a.ID, &hash))
		mustNoErr(t, us.SetRole(ctx, a.ID, RoleAdmin))
		if err := us.SetRole(ctx, 9999, RoleAdmin); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SetRole(missing) = %v", err)
		}
		got, err = us.ByID(ctx, a.ID)
		mustNoErr(t, err)
		if got.PasswordHash == nil || *got.PasswordHash != hash || got.Role != RoleAdmin {
			t.Fatalf("after updates %+v", got)
		}
		n, err := us.CountAdmins(ctx)
		mustNoErr(t, err)
		if n != 1 {
			t.Fatalf("CountAdmins = %d", n)
		}
		page, total, err := us.List(ctx, 1, 1)
		mustNoErr(t, err)
		if total != 2 || len(page) != 1 || page[0].Email != "bob@example.com" {
			t.Fatalf("List = %+v total %d", page, total)
		}
	})
}

func TestTimestampRoundTrip(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		when := time.Date(2026, 7, 8, 9, 10, 11, 987_654_321, time.FixedZone("KST", 9*3600))
		db.now = func() time.Time { return when }
		u, err := db.Users().Create(ctx, User{Email: "t@example.com"})
		mustNoErr(t, err)
		got, err := db.Users().ByID(ctx, u.ID)
		mustNoErr(t, err)
		want := when.UTC().Truncate(time.Millisecond)
		if !got.CreatedAt.Equal(want) || !u.CreatedAt.Equal(want) {
			t.Fatalf("created_at %v (returned %v), want %v", got.CreatedAt, u.CreatedAt, want)
		}
		if _, off := got.CreatedAt.Zone(); off != 0 {
			t.Fatalf("created_at not UTC: %v", got.CreatedAt)
		}
	})
}

func TestSettings(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		u, err := db.Users().Create(ctx, User{Email: "s@example.com"})
		mustNoErr(t, err)
		st := db.Settings()
		zero, err := st.Get(ctx, u.ID)
		mustNoErr(t, err)
		if string(zero.Profile) != "{}" || len(zero.OptionIDs) != 0 || !zero.UpdatedAt.IsZero() {
			t.Fatalf("zero settings %+v", zero)
		}
		for _, in := range []UserSettings{
			{UserID: u.ID, Profile: json.RawMessage(`{"skill":"beginner"}`), OptionIDs: []int64{1, 4}},
			{UserID: u.ID, Profile: json.RawMessage(`{"skill":"expert"}`), OptionIDs: []int64{7}},
		} {
			_, err := st.Put(ctx, in)
			mustNoErr(t, err)
			got, err := st.Get(ctx, u.ID)
			mustNoErr(t, err)
			if string(got.Profile) != string(in.Profile) || !slices.Equal(got.OptionIDs, in.OptionIDs) {
				t.Fatalf("Get = %+v, want %+v", got, in)
			}
		}
		if _, err := st.Put(ctx, UserSettings{UserID: u.ID, Profile: json.RawMessage(`{`)}); err == nil {
			t.Fatal("invalid JSON accepted")
		}
	})
}

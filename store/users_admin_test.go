package store

import (
	"context"
	"testing"
)

func TestCreateFirstAdmin(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		us := db.Users()
		// An existing account with the e-mail is promoted and gets the password.
		plain, err := us.Create(ctx, User{Email: "ops@example.com"})
		mustNoErr(t, err)
		h1, h2 := "hash-1", "hash-2"
		u, created, err := us.CreateFirstAdmin(ctx, User{Email: " OPS@example.com", PasswordHash: &h1})
		mustNoErr(t, err)
		if !created || u.ID != plain.ID || u.Role != RoleAdmin || u.PasswordHash == nil || *u.PasswordHash != h1 {
			t.Fatalf("first admin %+v, created %v", u, created)
		}
		// With an admin present nothing changes, whatever the e-mail.
		for _, email := range []string{"ops@example.com", "other@example.com"} {
			u, created, err = us.CreateFirstAdmin(ctx, User{Email: email, PasswordHash: &h2})
			mustNoErr(t, err)
			if created || u.ID != 0 {
				t.Fatalf("second call for %s: %+v, created %v", email, u, created)
			}
		}
		got, err := us.ByID(ctx, plain.ID)
		mustNoErr(t, err)
		if *got.PasswordHash != h1 {
			t.Fatal("the password of the first admin changed")
		}
		if n, _ := us.CountAdmins(ctx); n != 1 {
			t.Fatalf("%d admins", n)
		}
	})
}

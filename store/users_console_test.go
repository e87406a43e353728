package store

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestUsersDisableDeleteSearch(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		ada, err := db.Users().Create(ctx, User{Email: "ada@example.com", Name: "Ada Lovelace"})
		mustNoErr(t, err)
		bob, err := db.Users().Create(ctx, User{Email: "bob@example.com", Role: RoleAdmin})
		mustNoErr(t, err)
		var keys []int64
		for range 3 {
			_, k, err := db.APIKeys().Create(ctx, NewKey{UserID: &ada.ID, Scopes: Scopes{ScopeHistory}})
			mustNoErr(t, err)
			keys = append(keys, k.ID)
		}
		mustNoErr(t, db.APIKeys().Revoke(ctx, keys[0]))

		revoked, err := db.Users().Disable(ctx, ada.ID)
		mustNoErr(t, err)
		if !slices.Equal(revoked, keys[1:]) {
			t.Fatalf("revoked %v, want %v", revoked, keys[1:])
		}
		u, err := db.Users().ByID(ctx, ada.ID)
		mustNoErr(t, err)
		if !u.Disabled() {
			t.Fatal("not disabled")
		}
		if again, err := db.Users().Disable(ctx, ada.ID); err != nil || len(again) != 0 {
			t.Fatalf("disabling twice: %v %v", again, err)
		}
		for f, want := range map[UserFilter]int{
			{}: 2, {Query: "LOVELACE"}: 1, {Query: "%"}: 0, {Role: RoleAdmin}: 1, {Status: "disabled"}: 1,
			{Status: "active", Role: RoleUser}: 0, {Limit: 1}: 1,
		} {
			got, total, err := db.Users().Search(ctx, f)
			mustNoErr(t, err)
			if len(got) != want || (f.Limit == 0 && total != want) {
				t.Errorf("%+v: %d rows of %d, want %d", f, len(got), total, want)
			}
		}
		mustNoErr(t, db.Users().Enable(ctx, ada.ID))
		mustNoErr(t, db.Users().SetName(ctx, ada.ID, "Ada L."))
		u, _ = db.Users().ByID(ctx, ada.ID)
		if u.Disabled() || u.Name != "Ada L." {
			t.Fatalf("after enable %+v", u)
		}
		_, k, err := db.APIKeys().Create(ctx, NewKey{UserID: &ada.ID, Scopes: Scopes{ScopeHistory}})
		mustNoErr(t, err)
		active, err := db.Users().Delete(ctx, ada.ID)
		mustNoErr(t, err)
		if !slices.Equal(active, []int64{k.ID}) {
			t.Fatalf("active keys at delete %v", active)
		}
		if _, err := db.APIKeys().ByID(ctx, keys[1]); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a key outlived its user: %v", err)
		}
		if _, err := db.Users().Delete(ctx, ada.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
		mustNoErr(t, db.AdminSessions().DeleteSessionsOf(ctx, bob.ID))
	})
}

package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAdminSessions(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clk := newClock()
		db.now = clk.Now
		u, err := db.Users().Create(ctx, User{Email: "root@example.com", Role: RoleAdmin})
		mustNoErr(t, err)
		as := db.AdminSessions()
		id := HashKey("cookie-token")
		s, err := as.Create(ctx, AdminSession{ID: id, UserID: u.ID, ExpiresAt: clk.Now().Add(time.Hour),
			UserAgent: "Firefox", IP: "192.0.2.1"})
		mustNoErr(t, err)
		if _, err := as.Create(ctx, AdminSession{ID: id, UserID: u.ID, ExpiresAt: clk.Now()}); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate session id = %v", err)
		}
		got, err := as.Get(ctx, id)
		mustNoErr(t, err)
		if got.UserAgent != "Firefox" || !got.ExpiresAt.Equal(s.ExpiresAt) {
			t.Fatalf("Get = %+v", got)
		}
		clk.Add(50 * time.Minute)
		mustNoErr(t, as.Touch(ctx, id, clk.Now().Add(time.Hour)))
		clk.Add(50 * time.Minute)
		got, err = as.Get(ctx, id)
		mustNoErr(t, err)
		if !got.LastSeenAt.Equal(clk.Now().Add(-50 * time.Minute)) {
			t.Fatalf("last_seen_at = %v", got.LastSeenAt)
		}
		if err := as.Touch(ctx, "missing", clk.Now()); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Touch(missing) = %v", err)
		}
		_, err = as.Create(ctx, AdminSession{ID: "short", UserID: u.ID, ExpiresAt: clk.Now().Add(time.Minute)})
		mustNoErr(t, err)
		clk.Add(2 * time.Minute)
		if _, err := as.Get(ctx, "short"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("expired session Get = %v", err)
		}
		n, err := as.DeleteExpired(ctx)
		mustNoErr(t, err)
		if n != 1 {
			t.Fatalf("DeleteExpired = %d", n)
		}
		mustNoErr(t, as.Delete(ctx, id))
		mustNoErr(t, as.Delete(ctx, id))
		if _, err := as.Get(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted session Get = %v", err)
		}
	})
}

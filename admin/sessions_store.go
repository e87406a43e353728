package admin

import (
	"context"
	"time"

	"github.com/hapa-project/hapa/store"
)

// sessionStore keeps console sessions in admin_sessions. expires_at is the sliding
// deadline min(created + absolute, last activity + idle), so the store's own
// "expires_at > now" check enforces both limits.
type sessionStore struct {
	rows     *store.AdminSessions
	idle     time.Duration
	absolute time.Duration
}

func (h *Handler) sessions() sessionStore {
	return sessionStore{rows: h.db.AdminSessions(), idle: h.cfg.SessionIdle, absolute: h.cfg.SessionAbsolute}
}

func (s sessionStore) create(ctx context.Context, id string, userID int64, now time.Time, userAgent, ip string) error {
	if len(userAgent) > 255 {
		userAgent = userAgent[:255]
	}
	_, err := s.rows.Create(ctx, store.AdminSession{
		ID: id, UserID: userID, ExpiresAt: now.Add(min(s.idle, s.absolute)), UserAgent: userAgent, IP: ip,
	})
	return err
}

func (s sessionStore) get(ctx context.Context, id string) (store.AdminSession, error) {
	return s.rows.Get(ctx, id)
}

// touch records activity at now and slides the deadline.
func (s sessionStore) touch(ctx context.Context, sess store.AdminSession, now time.Time) error {
	return s.rows.Touch(ctx, sess.ID, s.deadline(sess, now))
}

// deadline is when sess ends if it stays idle from now on.
func (s sessionStore) deadline(sess store.AdminSession, now time.Time) time.Time {
	abs := sess.CreatedAt.Add(s.absolute)
	if idle := now.Add(s.idle); idle.Before(abs) {
		return idle
	}
	return abs
}

func (s sessionStore) delete(ctx context.Context, id string) error { return s.rows.Delete(ctx, id) }

// sweep deletes expired sessions; failures are harmless (Get ignores them).
func (s sessionStore) sweep(ctx context.Context) { _, _ = s.rows.DeleteExpired(ctx) }

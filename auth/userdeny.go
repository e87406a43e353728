package auth

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// A disabled or deleted user's tokens are refused everywhere without a database read
// per request: Tokens.RevokeUser records one revoked_tokens row named
// "user:<id>:<unix ms>", which reaches every replica like a logout (the event, the
// table re-read by Watch, Load at start). A replica then refuses every JWT of that
// user issued before that instant — access and refresh tokens of every login — until
// the longest of them could have expired (the refresh lifetime). Tokens issued later,
// after the account is enabled again and its owner logs in, are accepted.

const userDenialPrefix = "user:"

// userDenialID names the denial of userID's tokens issued before at.
func userDenialID(userID int64, at time.Time) string {
	return userDenialPrefix + strconv.FormatInt(userID, 10) + ":" + strconv.FormatInt(at.UnixMilli(), 10)
}

// parseUserDenial reads a userDenialID; ok is false for any other id (a jti, a sid).
func parseUserDenial(id string) (userID int64, at time.Time, ok bool) {
	rest, found := strings.CutPrefix(id, userDenialPrefix)
	if !found {
		return 0, time.Time{}, false
	}
	u, ms, found := strings.Cut(rest, ":")
	uid, err1 := strconv.ParseInt(u, 10, 64)
	msec, err2 := strconv.ParseInt(ms, 10, 64)
	if !found || err1 != nil || err2 != nil || uid <= 0 {
		return 0, time.Time{}, false
	}
	return uid, time.UnixMilli(msec), true
}

// RevokeUser refuses, on every replica and after restarts, every token of the user
// issued until now (docs/admin.md, "Users"). It fails only when the database cannot
// record it.
func (t *Tokens) RevokeUser(ctx context.Context, userID int64) error {
	now := t.now()
	id, exp := userDenialID(userID, now), now.Add(t.refreshTTL)
	if t.revoked != nil {
		if err := t.revoked.Add(ctx, id, userID, exp); err != nil {
			return err
		}
	}
	t.Deny(id, exp)
	if t.OnRevoke != nil {
		t.OnRevoke(id, exp)
	}
	return nil
}

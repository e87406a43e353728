package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// UserSettings is one row of user_settings: free-form profile fields (a JSON
// object) and the selected setting option ids of the original DB-Module.
type UserSettings struct {
	UserID    int64
	Profile   json.RawMessage
	OptionIDs []int64
	UpdatedAt time.Time
}

// Settings is the accessor of the user_settings table.
type Settings struct{ db *DB }

// Settings returns the user_settings accessor.
func (db *DB) Settings() *Settings { return &Settings{db: db} }

// Get returns the user's settings; a user without a row gets the zero value
// with UserID set, Profile "{}" and no option ids.
func (s *Settings) Get(ctx context.Context, userID int64) (UserSettings, error) {
	var row struct {
		Profile   string    `db:"profile"`
		OptionIDs string    `db:"option_ids"`
		UpdatedAt time.Time `db:"updated_at"`
	}
	out := UserSettings{UserID: userID, Profile: json.RawMessage("{}"), OptionIDs: []int64{}}
	q := s.db.x.Rebind(`SELECT profile, option_ids, updated_at FROM user_settings WHERE user_id = ?`)
	err := wrap("get settings", s.db.x.GetContext(ctx, &row, q, userID))
	if errors.Is(err, ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	out.Profile, out.UpdatedAt = json.RawMessage(row.Profile), row.UpdatedAt
	if err := json.Unmarshal([]byte(row.OptionIDs), &out.OptionIDs); err != nil {
		return out, fmt.Errorf("store: get settings: option_ids: %w", err)
	}
	return out, nil
}

// Put replaces the user's settings (insert or update) and returns them as
// stored. Profile must be a JSON object or empty.
func (s *Settings) Put(ctx context.Context, in UserSettings) (UserSettings, error) {
	if len(in.Profile) == 0 {
		in.Profile = json.RawMessage("{}")
	}
	if !json.Valid(in.Profile) {
		return in, fmt.Errorf("store: put settings: profile is not valid JSON")
	}
	if in.OptionIDs == nil {
		in.OptionIDs = []int64{}
	}
	ids, err := json.Marshal(in.OptionIDs)
	if err != nil {
		return in, fmt.Errorf("store: put settings: %w", err)
	}
	in.UpdatedAt = s.db.nowUTC()
	q := s.db.x.Rebind(`INSERT INTO user_settings (user_id, profile, option_ids, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET profile = excluded.profile, option_ids = excluded.option_ids,
		updated_at = excluded.updated_at`)
	_, err = s.db.x.ExecContext(ctx, q, in.UserID, string(in.Profile), string(ids), in.UpdatedAt)
	return in, wrap("put settings", err)
}

package store

import (
	"fmt"
	"time"
)

// sqlTime scans a timestamp that lost its column type on the way — SQLite
// returns MIN/MAX of a DATETIME column as plain text.
type sqlTime struct{ T time.Time }

// Scan implements sql.Scanner.
func (t *sqlTime) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		t.T = v.UTC()
		return nil
	case nil:
		t.T = time.Time{}
		return nil
	case []byte:
		return t.Scan(string(v))
	case string:
		// The layouts the SQLite driver writes, and SQLite's own CURRENT_TIMESTAMP.
		for _, f := range []string{
			"2006-01-02 15:04:05.999999999-07:00",
			"2006-01-02T15:04:05.999999999-07:00",
			"2006-01-02 15:04:05.999999999",
			time.RFC3339Nano,
		} {
			if p, err := time.Parse(f, v); err == nil {
				t.T = p.UTC()
				return nil
			}
		}
		return fmt.Errorf("store: cannot parse time %q", v)
	}
	return fmt.Errorf("store: cannot scan %T into time", src)
}

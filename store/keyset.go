package store

import (
	"strconv"
	"strings"
	"time"
)

// Cursor is a position in a list ordered newest first by (created_at, id): the next
// page holds the rows strictly before it. Keyset pagination keeps a page as cheap
// deep in a large table as on its first page, and rows written meanwhile do not shift
// the pages a reader is walking.
type Cursor struct {
	At time.Time
	ID int64
}

// IsZero reports whether c is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == 0 && c.At.IsZero() }

// String encodes c for a URL: "<unix milliseconds>-<id>".
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return strconv.FormatInt(c.At.UnixMilli(), 10) + "-" + strconv.FormatInt(c.ID, 10)
}

// ParseCursor decodes Cursor.String; anything else is the start of the list (false).
func ParseCursor(s string) (Cursor, bool) {
	ms, id, ok := strings.Cut(s, "-")
	if !ok {
		return Cursor{}, false
	}
	m, err1 := strconv.ParseInt(ms, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || m < 0 || n <= 0 {
		return Cursor{}, false
	}
	return Cursor{At: time.UnixMilli(m).UTC(), ID: n}, true
}

// before is the SQL condition "(created_at, id) < cursor" (both dialects) and its
// arguments; the empty condition for the zero cursor.
func (c Cursor) before(timeCol, idCol string) (string, []any) {
	if c.IsZero() {
		return "", nil
	}
	at := ts(c.At)
	return "(" + timeCol + " < ? OR (" + timeCol + " = ? AND " + idCol + " < ?))", []any{at, at, c.ID}
}

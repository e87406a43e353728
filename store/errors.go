package store

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors. Every error the package returns is wrapped as
// "store: <op>: …" and matches these with errors.Is.
var (
	// ErrNotFound means the row does not exist (or is not the caller's), or
	// that a row being written refers to one that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique constraint was violated.
	ErrConflict = errors.New("conflict")
)

// wrap turns a driver error into a package error for operation op, mapping
// sql.ErrNoRows to ErrNotFound and unique violations (both dialects) to
// ErrConflict while keeping the driver's message.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict):
		return fmt.Errorf("store: %s: %w", op, err)
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store: %s: %w", op, ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("store: %s: %w: %w", op, ErrConflict, err)
	case isForeignKeyViolation(err):
		// The referenced row (a user, a session) does not exist.
		return fmt.Errorf("store: %s: %w: %w", op, ErrNotFound, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

func isUniqueViolation(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// affected returns ErrNotFound when an UPDATE or DELETE touched no row.
func affected(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

func isForeignKeyViolation(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

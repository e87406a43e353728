package web

import (
	"errors"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// dbError maps a store error to the catalogue: not found (or not the caller's) →
// E4011, a unique conflict → E4012, anything else → E5003 with the cause kept for the
// log and the incident.
func dbError(err error, notFound string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return realtime.NewError(realtime.CodeNotFound, notFound)
	case errors.Is(err, store.ErrConflict):
		e := realtime.NewError(realtime.CodeConflict, "")
		e.Detail, e.Err = err.Error(), err
		return e
	}
	var re *realtime.Error
	if errors.As(err, &re) {
		return re
	}
	return realtime.Wrap(realtime.CodeDatabaseError, err)
}

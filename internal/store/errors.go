package store

import (
	"errors"
	"fmt"
)

// Sentinel errors of every Store implementation; test them with errors.Is.
var (
	// ErrNotFound: the row does not exist or lies outside the caller's scope.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a uniqueness rule of the database refused the write.
	ErrConflict = errors.New("conflict")
	// ErrStale: the row changed since the version the caller read (If-Match).
	ErrStale = errors.New("stale version")
)

// ConflictError is an ErrConflict that names the field whose value is taken
// (for example "username" or "email"), so the API can point at it.
type ConflictError struct {
	Field string
}

func (e *ConflictError) Error() string {
	if e.Field == "" {
		return "conflict: value already taken"
	}
	return fmt.Sprintf("conflict: %s already taken", e.Field)
}

// Is makes errors.Is(err, ErrConflict) true for every ConflictError.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

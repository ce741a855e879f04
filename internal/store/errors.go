package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"
)

// Sentinel errors of every Store implementation; test them with errors.Is.
var (
	// ErrNotFound: the row does not exist or lies outside the caller's scope.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a uniqueness rule of the database refused the write.
	ErrConflict = errors.New("conflict")
	// ErrStale: the row changed since the version the caller read (If-Match).
	ErrStale = errors.New("stale version")
	// ErrUnavailable: the database cannot be reached, refuses writes (disk
	// full, read-only, shutting down) or did not answer in time. The API
	// answers 503 with Retry-After (issue 14); the request may be repeated.
	ErrUnavailable = errors.New("database unavailable")
)

// Unavailable reports whether err means the database is unavailable
// rather than that the request was wrong: ErrUnavailable (which the stores
// add to their drivers' codes for it), a network error on the way to the
// database, a broken connection, or a deadline that ran out.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	return errors.Is(err, ErrUnavailable) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded)
}

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

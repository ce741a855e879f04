package sqlstore

import (
	"errors"
	"strings"

	"opsiam/internal/store"
)

// Dialect names a supported database.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DialectOf tells which dialect a DSN selects: a postgres:// or
// postgresql:// URL selects PostgreSQL, anything else is a SQLite file path.
func DialectOf(dsn string) Dialect {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return Postgres
	}
	return SQLite
}

// violation classifies a driver error as a constraint violation.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
)

// translate maps driver errors to the store's sentinel errors; others pass.
func (d Dialect) translate(err error) error {
	if err == nil {
		return nil
	}
	var kind violation
	var column string
	switch d {
	case SQLite:
		kind, column = sqliteViolation(err)
	case Postgres:
		kind, column = postgresViolation(err)
	}
	if badText(err) {
		return errors.Join(store.ErrNotFound, err)
	}
	if u := unavailable(err); u != err {
		return u
	}
	switch kind {
	case uniqueViolation:
		return &store.ConflictError{Field: fieldOfColumn(column)}
	case foreignKeyViolation:
		return errors.Join(store.ErrNotFound, err)
	}
	return err
}

// fieldOfColumn names the API field behind a unique column: username_key → username.
func fieldOfColumn(col string) string {
	return strings.TrimSuffix(col, "_key")
}

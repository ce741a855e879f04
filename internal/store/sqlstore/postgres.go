package sqlstore

import (
	"database/sql"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres opens one pool for reads and writes; PostgreSQL handles
// concurrent writers itself.
func openPostgres(dsn string) (*sql.DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	return db, nil
}

// Make sure the pgx driver is linked in; stdlib registers it as "pgx".
var _ = stdlib.GetDefaultDriver

// postgresViolation reads SQLSTATE 23505 (unique) and 23503 (foreign key).
// Unique constraints are named table_column_key by PostgreSQL.
func postgresViolation(err error) (violation, string) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return noViolation, ""
	}
	switch pe.Code {
	case "23505":
		col := strings.TrimPrefix(pe.ConstraintName, pe.TableName+"_")
		col = strings.TrimSuffix(col, "_key")
		return uniqueViolation, col
	case "23503":
		return foreignKeyViolation, ""
	}
	return noViolation, ""
}

// badText reports a value PostgreSQL cannot store as text: a NUL byte or
// invalid UTF-8 (SQLSTATE 22021, 22P05). The edge refuses such values;
// what still arrives is an id or a search term, which names nothing, so it
// reads as "not found" (issue 14), never as a server error.
func badText(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "22021" || pe.Code == "22P05")
}

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

// pgUnavailable reports the SQLSTATEs of a database that cannot serve now:
// connection exceptions (class 08), shutdown and start-up (57P01–57P03),
// too many connections (53300), disk full (53100), a read-only server
// (25006) and a statement cancelled by its timeout (57014).
func pgUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P01", "57P02", "57P03", "53300", "53100", "25006", "57014":
			return true
		}
		return strings.HasPrefix(pe.Code, "08")
	}
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || pgconn.SafeToRetry(err)
}

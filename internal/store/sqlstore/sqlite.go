package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// openSQLite opens the two pools of an SQLite file: one writer connection
// whose transactions take the write lock at BEGIN (so they never fail to
// upgrade), and a pool of read-only connections. WAL lets readers go on while
// the writer writes.
func openSQLite(path, sync string) (write, read *sql.DB, err error) {
	mode := "NORMAL"
	if sync == SyncFull {
		mode = "FULL"
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(" + mode + ")"
	write, err = sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	read, err = sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, nil, err
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	return write, read, nil
}

// sqliteViolation reads the extended result code and, for a unique
// violation, the column from "UNIQUE constraint failed: users.username_key".
func sqliteViolation(err error) (violation, string) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return noViolation, ""
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		msg := se.Error()
		col := ""
		if i := strings.LastIndex(msg, "."); i >= 0 {
			col = strings.TrimSpace(msg[i+1:])
			if j := strings.IndexAny(col, " ,)"); j >= 0 {
				col = col[:j]
			}
		}
		return uniqueViolation, col
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return foreignKeyViolation, ""
	}
	return noViolation, ""
}

// sqliteUnavailable reports the result codes of a database file that
// cannot serve now: disk full, read-only, I/O error, cannot open, busy past
// the busy timeout.
func sqliteUnavailable(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

// sqliteOpenError says which file could not be opened and why, so that
// an operator can act (issue 14): SQLite itself says only "unable to open
// database file (14)".
func sqliteOpenError(path string, err error) error {
	dir := filepath.Dir(path)
	cause := "check that it exists and that this user may write it"
	switch st, serr := os.Stat(dir); {
	case errors.Is(serr, fs.ErrNotExist):
		cause = "the directory " + dir + " does not exist"
	case serr != nil:
		cause = serr.Error()
	case !st.IsDir():
		cause = dir + " is not a directory"
	default:
		if f, werr := os.CreateTemp(dir, ".opsiam-write-test-*"); werr != nil {
			cause = "the directory " + dir + " is not writable: " + werr.Error()
		} else {
			f.Close()
			os.Remove(f.Name())
		}
	}
	return fmt.Errorf("open SQLite database %s: %s (%w)", path, cause, err)
}

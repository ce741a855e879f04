package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrBackupPostgres is the refusal of Backup on PostgreSQL, whose own tools
// (pg_dump, or the server's base backups) make consistent copies.
var ErrBackupPostgres = errors.New("the database is PostgreSQL: back it up with pg_dump (for example `pg_dump --format=custom --file=opsiam.dump DSN`) or your PostgreSQL backups")

// ErrBackupExists is the refusal to overwrite an existing backup file.
var ErrBackupExists = errors.New("file exists; refusing to overwrite it")

// Backup writes a consistent copy of the SQLite database to the file to,
// which must not exist (SPEC O3). It runs `VACUUM INTO`, which reads the
// database in one read transaction: with WAL, writers (this process or a
// running server) go on meanwhile, and the copy holds exactly the
// transactions committed when it started — no half of one. The copy is
// written to a temporary file (mode 0600: it holds password hashes and
// secrets) in the target's directory, flushed to disk, then linked to its
// name, which fails if a file of that name appeared meanwhile; so a failed
// or interrupted backup never leaves a partial file under the name given.
func (db *DB) Backup(ctx context.Context, to string) (err error) {
	if db.dialect == Postgres {
		return ErrBackupPostgres
	}
	if to == "" {
		return errors.New("backup: no target file given")
	}
	if _, err := os.Lstat(to); err == nil {
		return fmt.Errorf("backup: %s: %w", to, ErrBackupExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(to), "."+filepath.Base(to)+".partial-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmpName := tmp.Name()
	defer func() {
		if rmErr := os.Remove(tmpName); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("backup: remove temporary file: %w", rmErr)
		}
	}()
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// VACUUM INTO accepts an empty existing file, so the temporary file
	// keeps the mode CreateTemp gave it. The writer connection is used
	// because the read pool is query_only, which forbids writing the copy.
	if _, err := db.write.ExecContext(ctx, `VACUUM INTO $1`, tmpName); err != nil {
		return fmt.Errorf("backup: VACUUM INTO: %w", err)
	}
	if err := syncFile(tmpName); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Link(tmpName, to); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("backup: %s: %w", to, ErrBackupExists)
		}
		return fmt.Errorf("backup: %w", err)
	}
	// Flushing the directory entry is best effort: the copy is complete
	// either way, and some file systems do not sync directories.
	_ = syncFile(filepath.Dir(to))
	return nil
}

// syncFile flushes a file (or a directory's entries) to disk.
func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"opsiam/internal/config"
	"opsiam/internal/store/sqlstore"
)

// backup is `opsiam backup --to FILE` (SPEC O3): a consistent copy of the
// SQLite database, taken while the server may be running (sqlstore
// DB.Backup, VACUUM INTO). It takes the common flags (--data-dir,
// --database and their OPSIAM_* twins), refuses PostgreSQL (pg_dump is its
// tool) and an existing FILE, and neither creates nor migrates the
// database it copies.
func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("backup", flag.ContinueOnError)
	flags.SetOutput(stderr)
	to := flags.String("to", "", "the backup file to write; must not exist (required)")
	if wantsHelp(args) {
		fmt.Fprintln(stdout, "usage: opsiam backup --to FILE [--data-dir DIR]\n\ncopies the SQLite database to FILE while the server may run (PostgreSQL: use pg_dump)")
		flags.SetOutput(stdout)
		flags.PrintDefaults()
		return nil
	}
	common, rest := splitArgs(args)
	extra, err := parseInterspersed(flags, rest)
	if err != nil {
		return err
	}
	cfg, _, err := config.Load("backup", common, getenv, stderr)
	if err != nil {
		return err
	}
	if len(extra) > 0 {
		return fmt.Errorf("backup: unexpected argument %q (usage: opsiam backup --to FILE)", extra[0])
	}
	if !cfg.UsesSQLite() {
		return fmt.Errorf("backup: %w", sqlstore.ErrBackupPostgres)
	}
	if *to == "" {
		return errors.New("backup: --to FILE is required")
	}
	src := cfg.DSN()
	if st, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: %w", errNoDatabase(cfg))
	} else if err != nil {
		return fmt.Errorf("backup: %w", err)
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("backup: %s is not a database file", src)
	}
	db, err := sqlstore.Open(ctx, src)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, *to); err != nil {
		return err
	}
	info, err := os.Stat(*to)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes)\n", src, *to, info.Size())
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"opsiam/internal/config"
	"opsiam/internal/manage"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
)

// env is what every command builds first: configuration, logger and a
// migrated, bootstrapped database.
type env struct {
	cfg  config.Config
	log  *slog.Logger
	db   *sqlstore.DB
	args []string // positional arguments left after the flags
}

// load reads the configuration of command name and sets up its logger.
func load(name string, args []string, getenv func(string) string, errOut io.Writer) (*env, error) {
	cfg, rest, err := config.Load(name, args, getenv, errOut)
	if err != nil {
		return nil, err
	}
	level, _ := cfg.SlogLevel()
	log := slog.New(slog.NewJSONHandler(errOut, &slog.HandlerOptions{Level: level}))
	return &env{cfg: cfg, log: log, args: rest}, nil
}

// errNoDatabase names the directory a command looked in for a database.
func errNoDatabase(cfg config.Config) error {
	where := "in " + cfg.DataDir
	if !cfg.UsesSQLite() {
		where = "in the database given by --database"
	}
	return fmt.Errorf("no opsiam database %s (start `opsiam serve` first, or pass --data-dir / --database)", where)
}

// openDB opens and migrates the database and installs the catalogue, the
// global group and the admin user. Only serve and migrate create a
// database (create); every other command refuses one that is not there,
// so that running it in the wrong directory creates nothing (issue 17).
// The result tells whether admin was created and its generated password.
func (e *env) openDB(ctx context.Context, create bool) (manage.BootstrapResult, error) {
	cfg := e.cfg
	if cfg.UsesSQLite() {
		if _, err := os.Stat(cfg.DSN()); errors.Is(err, fs.ErrNotExist) && !create {
			return manage.BootstrapResult{}, errNoDatabase(cfg)
		}
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return manage.BootstrapResult{}, fmt.Errorf("data directory: %w", err)
		}
	}
	db, err := sqlstore.Open(ctx, cfg.DSN(), sqlstore.WithSQLiteSynchronous(cfg.SQLiteSynchronous))
	if err != nil {
		return manage.BootstrapResult{}, err
	}
	if !create && !cfg.UsesSQLite() {
		all, err := sqlstore.Migrations(db.Dialect())
		pending, perr := db.Pending(ctx) // fails when schema_migrations is not there
		if perr != nil && store.Unavailable(perr) {
			db.Close()
			return manage.BootstrapResult{}, perr
		}
		if err == nil && (perr != nil || pending == len(all)) {
			db.Close()
			return manage.BootstrapResult{}, errNoDatabase(cfg)
		}
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return manage.BootstrapResult{}, err
	}
	if n > 0 {
		e.log.Info("database migrated", "dialect", db.Dialect(), "applied", n)
	}
	res, err := manage.Bootstrap(ctx, db, hasher(cfg.Auth), string(cfg.AdminPassword))
	if err != nil {
		db.Close()
		return res, fmt.Errorf("bootstrap: %w", err)
	}
	e.db = db
	return res, nil
}

// announceAdmin prints a newly generated admin password once, or logs that
// the configured one was used.
func (e *env) announceAdmin(res manage.BootstrapResult, out io.Writer) {
	switch {
	case res.AdminPassword != "":
		fmt.Fprintf(out, "Created the reserved user admin. Its password, shown only this once:\n\n    %s\n\n", res.AdminPassword)
	case res.AdminCreated:
		e.log.Info("created the reserved user admin with the password from OPSIAM_ADMIN_PASSWORD")
	}
}

// open is load and openDB for the commands that use an existing database.
func open(ctx context.Context, name string, args []string, getenv func(string) string, out, errOut io.Writer) (*env, error) {
	e, err := load(name, args, getenv, errOut)
	if err != nil {
		return nil, err
	}
	res, err := e.openDB(ctx, false)
	if err != nil {
		return nil, err
	}
	e.announceAdmin(res, out)
	return e, nil
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e, err := load("migrate", args, getenv, stderr)
	if err != nil {
		return err
	}
	res, err := e.openDB(ctx, true)
	if err != nil {
		return err
	}
	defer e.db.Close()
	e.announceAdmin(res, stdout)
	fmt.Fprintf(stdout, "database %s is up to date\n", e.db.Dialect())
	return nil
}

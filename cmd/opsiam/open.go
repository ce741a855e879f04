package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"opsiam/internal/config"
	"opsiam/internal/manage"
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

// open loads the configuration for command name, opens and migrates the
// database and installs the catalogue, the global group and the admin user.
// A newly generated admin password is printed once to out.
func open(ctx context.Context, name string, args []string, getenv func(string) string, out, errOut io.Writer) (*env, error) {
	cfg, rest, err := config.Load(name, args, getenv, errOut)
	if err != nil {
		return nil, err
	}
	level, _ := cfg.SlogLevel()
	log := slog.New(slog.NewJSONHandler(errOut, &slog.HandlerOptions{Level: level}))
	if cfg.UsesSQLite() {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	db, err := sqlstore.Open(ctx, cfg.DSN(), sqlstore.WithSQLiteSynchronous(cfg.SQLiteSynchronous))
	if err != nil {
		return nil, err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if n > 0 {
		log.Info("database migrated", "dialect", db.Dialect(), "applied", n)
	}
	res, err := manage.Bootstrap(ctx, db, hasher(cfg.Auth), string(cfg.AdminPassword))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	switch {
	case res.AdminPassword != "":
		fmt.Fprintf(out, "Created the reserved user admin. Its password, shown only this once:\n\n    %s\n\n", res.AdminPassword)
	case res.AdminCreated:
		log.Info("created the reserved user admin with the password from OPSIAM_ADMIN_PASSWORD")
	}
	return &env{cfg: cfg, log: log, db: db, args: rest}, nil
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e, err := open(ctx, "migrate", args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer e.db.Close()
	fmt.Fprintf(stdout, "database %s is up to date\n", e.db.Dialect())
	return nil
}

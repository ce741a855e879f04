// Command opsiam is the identity and access management server of the
// platform and its command-line tool. See `opsiam help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // IANA zones (U1) checked the same on every host
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "opsiam:", err)
		os.Exit(1)
	}
}

const usage = `usage: opsiam COMMAND [flags]

commands:
  serve     run the server (admin console, REST API, sign-in, OpenID Connect)
  migrate   create or upgrade the database schema and the role catalogue, then exit
  backup --to FILE   copy the SQLite database to FILE (a new file) while the server may
            run; for PostgreSQL use pg_dump
  client    add, list, re-secret or delete OpenID Connect clients (opsiam client -h)
  user add USERNAME --email E --first-name F --last-name L [--customer CODE] [--timezone TZ] [--disabled]
  user list [--q PREFIX] [--billing billed|non_billed]
  user enable|disable|delete USERNAME
  user set-password USERNAME     (reads the new password from stdin)
  user unlock USERNAME           (lifts a password lockout at once)
  user export [--out FILE] [--excel]   every user as CSV (the API's field names, groups, roles)
  user import FILE [--dry-run]   create or update users by username from CSV; checks every
            row first and writes nothing if one is wrong
  group add NAME [--description D] | group list | group delete NAME
  group add-member GROUP USERNAME...
  token issue USERNAME [--expires 720h]   (prints only the token; replaces the user's previous one)
  token revoke USERNAME

Every command takes --data-dir DIR and --database DSN (or OPSIAM_DATA_DIR,
OPSIAM_DATABASE); "opsiam COMMAND -h" lists a command's flags.
`

// run dispatches a subcommand; it is main without the process around it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdin, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h: the command printed its usage (issue 17)
	}
	return err
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args[1:], getenv, stdout, stderr)
	case "backup":
		return backup(ctx, args[1:], getenv, stdout, stderr)
	case "client":
		return clientCmd(ctx, args[1:], getenv, stdout, stderr)
	case "user", "group", "token":
		return cli(ctx, args[0], args[1:], getenv, stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q; the commands are serve, migrate, backup, client, user, group, token and help (opsiam help)", args[0])
}

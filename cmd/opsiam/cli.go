package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"opsiam/internal/config"
	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// splitArgs separates the common flags (and their values) from the rest.
// A common flag that takes no value (--insecure-issuer) does not take the
// next argument with it.
func splitArgs(args []string) (common, rest []string) {
	commonFlags, boolFlags := config.FlagNames(), config.BoolFlags()
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return common, append(rest, args[i:]...)
		}
		name := strings.TrimLeft(a, "-")
		name, _, hasValue := strings.Cut(name, "=")
		if strings.HasPrefix(a, "-") && commonFlags[name] {
			common = append(common, a)
			if !hasValue && !boolFlags[name] && i+1 < len(args) {
				common = append(common, args[i+1])
				i++
			}
			continue
		}
		rest = append(rest, a)
	}
	return common, rest
}

// parseInterspersed parses fs's flags wherever they appear among the
// positional arguments, which it returns in order: the one way every
// command reads its own flags (issue 17), after splitArgs took the common
// ones out.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// wantsHelp reports whether args ask for help (-h, -help, --help).
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "-help" || a == "--help" {
			return true
		}
	}
	return false
}

// cliActor is the caller of CLI commands: the system (whoever runs the
// binary on the database may do everything), audited as "cli" (O1).
var cliActor = manage.SystemCaller("cli", "cli")

// cli runs a CLI command (user, group, token) against the database. The
// first-start admin password, if any, goes to stderr so that stdout holds
// only the command's output (scripts read it).
func cli(ctx context.Context, cmd string, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	common, rest := splitArgs(args)
	actions := map[string]func(*cliCmd, context.Context, []string) error{
		"user add": (*cliCmd).userAdd, "user list": (*cliCmd).userList, "user enable": (*cliCmd).userEnable,
		"user disable": (*cliCmd).userDisable, "user delete": (*cliCmd).userDelete, "user set-password": (*cliCmd).userSetPassword,
		"user unlock": (*cliCmd).userUnlock, "user export": (*cliCmd).userExport, "user import": (*cliCmd).userImport,
		"group add": (*cliCmd).groupAdd, "group list": (*cliCmd).groupList, "group delete": (*cliCmd).groupDelete,
		"group add-member": (*cliCmd).groupAddMember, "token issue": (*cliCmd).tokenIssue, "token revoke": (*cliCmd).tokenRevoke,
	}
	var names []string
	for k := range actions {
		if a, ok := strings.CutPrefix(k, cmd+" "); ok {
			names = append(names, a)
		}
	}
	slices.Sort(names)
	list := fmt.Sprintf("%s commands: %s (opsiam %s COMMAND -h for one)", cmd, strings.Join(names, ", "), cmd)
	if len(rest) == 0 || rest[0] == "-h" || rest[0] == "-help" || rest[0] == "--help" {
		if len(rest) == 0 && !wantsHelp(common) {
			return fmt.Errorf("%s: no command given; %s", cmd, list)
		}
		fmt.Fprintln(stdout, list)
		return nil
	}
	action, rest := rest[0], rest[1:]
	fn, ok := actions[cmd+" "+action]
	if !ok {
		return fmt.Errorf("unknown command %q; %s", cmd+" "+action, list)
	}
	if wantsHelp(rest) || wantsHelp(common) {
		// The action prints its own usage while parsing -h, before it
		// would touch the database: help needs none (issue 17).
		c := &cliCmd{stdin: stdin, out: stdout, errOut: stdout}
		if err := fn(c, ctx, []string{"-h"}); err != nil && !errors.Is(err, flag.ErrHelp) {
			return err
		}
		return nil
	}
	e, err := open(ctx, cmd+" "+action, common, getenv, stderr, stderr)
	if err != nil {
		return err
	}
	defer e.db.Close()
	c := &cliCmd{e: e, svc: e.service(), stdin: stdin, out: stdout, errOut: stderr}
	return fn(c, ctx, rest)
}

type cliCmd struct {
	e           *env
	svc         *manage.Service
	stdin       io.Reader
	out, errOut io.Writer
}

// flags parses the action's own flags and returns the positional arguments,
// requiring exactly want of them (names them in the error).
func (c *cliCmd) flags(fs *flag.FlagSet, args []string, want ...string) ([]string, error) {
	fs.SetOutput(c.errOut)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: opsiam %s [flags] %s\n", fs.Name(), strings.Join(want, " "))
		fs.PrintDefaults()
		fmt.Fprintln(fs.Output(), "\nThe database flags --data-dir and --database (and every flag of opsiam serve -h) apply.")
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, err
	}
	if want != nil && len(pos) != len(want) {
		return nil, fmt.Errorf("%s: want %s", fs.Name(), strings.Join(want, " "))
	}
	return pos, nil
}

func (c *cliCmd) user(ctx context.Context, name string) (directory.User, error) {
	u, err := c.e.db.GetUserByUsername(ctx, directory.Scope{}, name)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("no user %q", name)
	}
	return u, err
}

func (c *cliCmd) group(ctx context.Context, name string) (directory.Group, error) {
	g, err := c.e.db.GetGroupByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return g, fmt.Errorf("no group %q", name)
	}
	return g, err
}

func (c *cliCmd) userAdd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	var u directory.User
	var customer string
	var disabled bool
	fs.StringVar(&u.Email, "email", "", "mail address (required)")
	fs.StringVar(&u.FirstName, "first-name", "", "first name (required)")
	fs.StringVar(&u.LastName, "last-name", "", "last name (required)")
	fs.StringVar(&u.Timezone, "timezone", "", "IANA time zone (default: the server default)")
	fs.StringVar(&customer, "customer", "", "customer code")
	fs.BoolVar(&disabled, "disabled", false, "create the user disabled (no password-setup mail)")
	pos, err := c.flags(fs, args, "USERNAME")
	if err != nil {
		return err
	}
	u.Username, u.Enabled = pos[0], !disabled
	if customer != "" {
		cu, err := c.e.db.GetCustomerByCode(ctx, customer)
		if err != nil {
			return fmt.Errorf("customer %q: %w", customer, err)
		}
		u.CustomerID = cu.ID
	}
	created, err := c.svc.CreateUser(ctx, cliActor, u)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out, created.ID)
	return nil
}

func (c *cliCmd) userList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("user list", flag.ContinueOnError)
	q := fs.String("q", "", "prefix of user name, mail, name or customer code")
	billing := fs.String("billing", "", "billed or non_billed")
	if _, err := c.flags(fs, args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tEMAIL\tNAME\tENABLED\tID")
	cursor := ""
	for {
		page, err := c.svc.ListUsers(ctx, cliActor, store.UserQuery{UserFilter: store.UserFilter{Q: *q, Billing: *billing},
			Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, u := range page.Items {
			fmt.Fprintf(tw, "%s\t%s\t%s %s\t%v\t%s\n", u.Username, u.Email, u.FirstName, u.LastName, u.Enabled, u.ID)
		}
		if cursor = page.Next; cursor == "" {
			return tw.Flush()
		}
	}
}

func (c *cliCmd) setEnabled(ctx context.Context, args []string, name string, enabled bool) error {
	pos, err := c.flags(flag.NewFlagSet(name, flag.ContinueOnError), args, "USERNAME")
	if err != nil {
		return err
	}
	u, err := c.user(ctx, pos[0])
	if err != nil {
		return err
	}
	_, err = c.svc.SetEnabled(ctx, cliActor, directory.Scope{}, u.ID, enabled)
	return err
}

func (c *cliCmd) userEnable(ctx context.Context, args []string) error {
	return c.setEnabled(ctx, args, "user enable", true)
}

func (c *cliCmd) userDisable(ctx context.Context, args []string) error {
	return c.setEnabled(ctx, args, "user disable", false)
}

func (c *cliCmd) userDelete(ctx context.Context, args []string) error {
	pos, err := c.flags(flag.NewFlagSet("user delete", flag.ContinueOnError), args, "USERNAME")
	if err != nil {
		return err
	}
	u, err := c.user(ctx, pos[0])
	if err != nil {
		return err
	}
	return c.svc.DeleteUser(ctx, cliActor, directory.Scope{}, u.ID, 0)
}

// userUnlock lifts a password lockout at once (A3): with set-password the
// way back into any account, admin's included.
func (c *cliCmd) userUnlock(ctx context.Context, args []string) error {
	pos, err := c.flags(flag.NewFlagSet("user unlock", flag.ContinueOnError), args, "USERNAME")
	if err != nil {
		return err
	}
	u, err := c.user(ctx, pos[0])
	if err != nil {
		return err
	}
	_, err = c.svc.Unlock(ctx, cliActor, directory.Scope{}, u.ID)
	return err
}

// userSetPassword reads the new password from the first line of stdin
// (SPEC §7) and checks it against the password policy (§8).
func (c *cliCmd) userSetPassword(ctx context.Context, args []string) error {
	pos, err := c.flags(flag.NewFlagSet("user set-password", flag.ContinueOnError), args, "USERNAME")
	if err != nil {
		return err
	}
	line, err := bufio.NewReader(io.LimitReader(c.stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return errors.New("user set-password: no password on stdin")
	}
	if _, err := c.user(ctx, pos[0]); err != nil {
		return err
	}
	return c.svc.SetPassword(ctx, cliActor, pos[0], pw)
}

func (c *cliCmd) groupAdd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("group add", flag.ContinueOnError)
	var g directory.Group
	fs.StringVar(&g.Description, "description", "", "description")
	fs.StringVar(&g.Email, "email", "", "mail address")
	pos, err := c.flags(fs, args, "NAME")
	if err != nil {
		return err
	}
	g.Name = pos[0]
	created, err := c.svc.CreateGroup(ctx, cliActor, g)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out, created.ID)
	return nil
}

func (c *cliCmd) groupList(ctx context.Context, args []string) error {
	if _, err := c.flags(flag.NewFlagSet("group list", flag.ContinueOnError), args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDESCRIPTION\tID")
	cursor := ""
	for {
		page, err := c.e.db.ListGroups(ctx, store.ListQuery{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, g := range page.Items {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", g.Name, g.Description, g.ID)
		}
		if cursor = page.Next; cursor == "" {
			return tw.Flush()
		}
	}
}

func (c *cliCmd) groupDelete(ctx context.Context, args []string) error {
	pos, err := c.flags(flag.NewFlagSet("group delete", flag.ContinueOnError), args, "NAME")
	if err != nil {
		return err
	}
	g, err := c.group(ctx, pos[0])
	if err != nil {
		return err
	}
	return c.svc.DeleteGroup(ctx, cliActor, g.ID, 0)
}

func (c *cliCmd) groupAddMember(ctx context.Context, args []string) error {
	pos, err := c.flags(flag.NewFlagSet("group add-member", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return errors.New("group add-member: want GROUP USERNAME...")
	}
	g, err := c.group(ctx, pos[0])
	if err != nil {
		return err
	}
	var ids []directory.UserID
	for _, name := range pos[1:] {
		u, err := c.user(ctx, name)
		if err != nil {
			return err
		}
		ids = append(ids, u.ID)
	}
	return c.svc.AddMembers(ctx, cliActor, g.ID, ids)
}

// tokenIssue prints a new platform token for a user, and nothing else, on
// stdout (SPEC §7, A6).
func (c *cliCmd) tokenIssue(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("token issue", flag.ContinueOnError)
	expires := fs.Duration("expires", 0, "lifetime, e.g. 720h; default: no expiry")
	pos, err := c.flags(fs, args, "USERNAME")
	if err != nil {
		return err
	}
	u, err := c.user(ctx, pos[0])
	if err != nil {
		return err
	}
	var exp time.Time
	if *expires > 0 {
		exp = time.Now().Add(*expires)
	}
	text, _, err := c.svc.IssueToken(ctx, cliActor, u.ID, exp)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out, text)
	fmt.Fprintf(c.errOut, "issued a new platform token for %s; it replaces the previous one, which no longer works\n", u.Username)
	return nil
}

func (c *cliCmd) tokenRevoke(ctx context.Context, args []string) error {
	pos, err := c.flags(flag.NewFlagSet("token revoke", flag.ContinueOnError), args, "USERNAME")
	if err != nil {
		return err
	}
	u, err := c.user(ctx, pos[0])
	if err != nil {
		return err
	}
	return c.svc.RevokeToken(ctx, cliActor, u.ID)
}

package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
	"opsiam/internal/webguard"
)

// The CSV columns of opsiam user export and import (SPEC §9): the REST
// API's user field names, then groups and roles by name, ";"-separated.
var (
	csvColumns = []string{"id", "username", "email", "first_name", "last_name", "enabled", "email_verified",
		"otp_required", "company", "department", "address", "phone1", "phone2", "note", "customer_id", "timezone",
		"external_id", "locked", "billed", "created_at", "updated_at", "groups", "roles"}
	// csvReadOnly are exported but not imported: the server keeps them.
	csvReadOnly = map[string]bool{"id": true, "locked": true, "billed": true, "created_at": true, "updated_at": true,
		"last_login_at": true, "itsm_signed_in": true}
)

const bom = "\ufeff"

func (c *cliCmd) userExport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("user export", flag.ContinueOnError)
	out := fs.String("out", "", "file to write (default: standard output); it must not exist")
	excel := fs.Bool("excel", false, "start with a UTF-8 byte order mark and end lines with CRLF, for spreadsheets")
	if _, err := c.flags(fs, args); err != nil {
		return err
	}
	w := c.out
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		defer f.Close()
		w = f
	}
	if *excel {
		if _, err := io.WriteString(w, bom); err != nil {
			return err
		}
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = *excel
	if err := cw.Write(csvColumns); err != nil {
		return err
	}
	g, err := c.svc.RoleGraph(ctx)
	if err != nil {
		return err
	}
	n := 0
	q := store.UserQuery{Limit: store.MaxLimit}
	for {
		page, err := c.svc.ListUsers(ctx, cliActor, q)
		if err != nil {
			return err
		}
		ids := make([]directory.UserID, len(page.Items))
		for i, u := range page.Items {
			ids[i] = u.ID
		}
		// One query for the page's groups and roles, and the graph for
		// their names and the billed flag.
		grants, err := c.e.db.UsersGrants(ctx, ids)
		if err != nil {
			return err
		}
		for _, u := range page.Items {
			if err := cw.Write(csvRecord(u, grants[u.ID], g)); err != nil {
				return err
			}
			n++
		}
		if q.Cursor = page.Next; q.Cursor == "" {
			break
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(c.errOut, "exported %d users to %s\n", n, *out)
	}
	return nil
}

// csvRecord is one user's row: its fields, then its groups (besides
// global) and direct roles by name, sorted.
func csvRecord(u directory.User, gr directory.Grants, g *directory.RoleGraph) []string {
	var gnames, rnames []string
	for _, grp := range gr.Groups {
		if directory.Key(grp.GroupName) != directory.GlobalGroupName && !slices.Contains(gnames, grp.GroupName) {
			gnames = append(gnames, grp.GroupName)
		}
	}
	for _, id := range gr.Direct {
		if r, ok := g.Role(id); ok {
			rnames = append(rnames, r.Name)
		}
	}
	slices.Sort(gnames)
	slices.Sort(rnames)
	b := strconv.FormatBool
	return []string{string(u.ID), u.Username, u.Email, u.FirstName, u.LastName, b(u.Enabled), b(u.EmailVerified),
		b(u.OTPRequired), u.Company, u.Department, u.Address, u.Phone1, u.Phone2, u.Note, string(u.CustomerID), u.Timezone,
		u.ExternalID, b(u.Locked), b(directory.Billed(u, g.Effective(gr))), u.CreatedAt.UTC().Format(time.RFC3339),
		u.UpdatedAt.UTC().Format(time.RFC3339), strings.Join(gnames, ";"), strings.Join(rnames, ";")}
}

func (c *cliCmd) userImport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("user import", flag.ContinueOnError)
	dry := fs.Bool("dry-run", false, "check every row and print what would change; write nothing")
	pos, err := c.flags(fs, args, "FILE")
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	rows, errs := readUserCSV(f)
	if len(errs) > 0 && rows == nil {
		return c.refuseImport(errs) // the header is wrong
	}
	var progress func(done, total int)
	if len(rows) >= 1000 {
		progress = func(done, total int) { fmt.Fprintf(c.errOut, "imported %d of %d changed users\n", done, total) }
	}
	// Rows with unreadable fields are still checked, so that one run lists
	// every mistake; then nothing is written.
	res, err := c.svc.ImportUsers(ctx, cliActor, rows, *dry || len(errs) > 0, progress)
	if err != nil {
		return err
	}
	if errs = append(errs, res.Errors...); len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b manage.ImportError) int { return a.Line - b.Line })
		return c.refuseImport(errs)
	}
	note := ""
	if *dry {
		note = " (dry run: nothing was written)"
	}
	fmt.Fprintf(c.out, "created %d, updated %d, unchanged %d%s\n", res.Created, res.Updated, res.Unchanged, note)
	return nil
}

func (c *cliCmd) refuseImport(errs []manage.ImportError) error {
	for _, e := range errs {
		fmt.Fprintln(c.errOut, e.Error())
	}
	return fmt.Errorf("import refused: %d errors; nothing was written", len(errs))
}

// readUserCSV reads an import file: a header of column names (csvColumns;
// username required), then one user per row. Errors name line and column.
func readUserCSV(r io.Reader) ([]manage.ImportRow, []manage.ImportError) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 0
	header, err := cr.Read()
	if err != nil {
		return nil, []manage.ImportError{{Line: 1, Message: "no header row: " + csvErr(err)}}
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], bom)
	}
	var errs []manage.ImportError
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, dup := col[h]; dup {
			errs = append(errs, manage.ImportError{Line: 1, Field: h, Message: "the column appears twice"})
		} else if !slices.Contains(csvColumns, h) && !csvReadOnly[h] {
			errs = append(errs, manage.ImportError{Line: 1, Field: h, Message: "unknown column; the columns are " + strings.Join(csvColumns, ", ")})
		}
		col[h] = i + 1 // 0 means absent
	}
	if col["username"] == 0 {
		errs = append(errs, manage.ImportError{Line: 1, Field: "username", Message: "the username column is required"})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	rows := []manage.ImportRow{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			errs = append(errs, manage.ImportError{Line: line, Message: csvErr(err)})
			if len(errs) > 100 {
				break
			}
			continue
		}
		row := manage.ImportRow{Line: line, Set: map[string]bool{}}
		u := &row.User
		for name, i := range col {
			if csvReadOnly[name] {
				continue
			}
			v := rec[i-1]
			if webguard.Bad(v) {
				errs = append(errs, manage.ImportError{Line: line, Field: name, Message: "contains a NUL byte or invalid UTF-8"})
				continue
			}
			row.Set[name] = true
			boolean := func(dst *bool) {
				switch strings.ToLower(strings.TrimSpace(v)) {
				case "true", "yes", "1":
					*dst = true
				case "false", "no", "0":
					*dst = false
				case "":
					delete(row.Set, name) // empty: keep the stored value
				default:
					errs = append(errs, manage.ImportError{Line: line, Field: name, Message: fmt.Sprintf("must be true or false; %q is not", v)})
				}
			}
			switch name {
			case "username":
				u.Username = v
			case "email":
				u.Email = v
			case "first_name":
				u.FirstName = v
			case "last_name":
				u.LastName = v
			case "enabled":
				boolean(&u.Enabled)
			case "email_verified":
				boolean(&u.EmailVerified)
			case "otp_required":
				boolean(&u.OTPRequired)
			case "company":
				u.Company = v
			case "department":
				u.Department = v
			case "address":
				u.Address = v
			case "phone1":
				u.Phone1 = v
			case "phone2":
				u.Phone2 = v
			case "note":
				u.Note = v
			case "customer_id":
				u.CustomerID = directory.CustomerID(strings.TrimSpace(v))
			case "timezone":
				u.Timezone = v
			case "external_id":
				u.ExternalID = v
			case "groups":
				row.Groups, row.HasGroups = splitNames(v), true
			case "roles":
				row.Roles, row.HasRoles = splitNames(v), true
			}
		}
		rows = append(rows, row)
	}
	return rows, errs
}

func splitNames(v string) []string {
	var out []string
	for _, n := range strings.Split(v, ";") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func csvErr(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"opsiam/internal/testenv"
)

// cliRun runs one command with extra args (the database) and returns its
// stdout, stderr and error.
func cliRun(t *testing.T, db []string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append(args, db...), func(string) string { return "" }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func cliOK(t *testing.T, db []string, args ...string) string {
	t.Helper()
	out, errOut, err := cliRun(t, db, "", args...)
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, errOut)
	}
	return out
}

// csvDatabases are the databases the CSV tests run on.
func csvDatabases(t *testing.T, fn func(t *testing.T, db []string)) {
	t.Run("SQLite", func(t *testing.T) {
		db := []string{"--data-dir", t.TempDir()}
		cliOK(t, db, "migrate")
		fn(t, db)
	})
	t.Run("Postgres", func(t *testing.T) {
		db := []string{"--data-dir", t.TempDir(), "--database", testenv.PostgresSchema(t)}
		cliOK(t, db, "migrate")
		fn(t, db)
	})
}

// records parses CSV text, dropping the columns the server keeps (ids,
// times, locked, billed), so that files compare by what an administrator
// edits.
func records(t *testing.T, text string) []string {
	t.Helper()
	rs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, text)
	}
	var out []string
	for _, r := range rs {
		keep := []string{}
		for i, v := range r {
			if !csvReadOnly[rs[0][i]] {
				keep = append(keep, v)
			}
		}
		out = append(out, strings.Join(keep, "|"))
	}
	return out
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCSVRoundTrip: export, edit, import, export again gives the edited
// file (SPEC §9, issue 16).
func TestCSVRoundTrip(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	csvDatabases(t, func(t *testing.T, db []string) {
		cliOK(t, db, "user", "add", "alice", "--email", "alice@example.com", "--first-name", "Alice", "--last-name", "Liddell")
		cliOK(t, db, "user", "add", "bob", "--email", "bob@example.com", "--first-name", "Bob", "--last-name", "Builder", "--disabled")
		cliOK(t, db, "group", "add", "Operators")
		cliOK(t, db, "group", "add", "Night shift")
		cliOK(t, db, "group", "add-member", "Operators", "alice")
		exported := cliOK(t, db, "user", "export")
		rs, err := csv.NewReader(strings.NewReader(exported)).ReadAll()
		if err != nil || len(rs) != 4 || strings.Join(rs[0], ",") != strings.Join(csvColumns, ",") {
			t.Fatalf("export: %v\n%s", err, exported)
		}
		// Edit: alice gets a department, another group and a role; bob is
		// enabled and renamed; carol is new.
		var edited bytes.Buffer
		w := csv.NewWriter(&edited)
		col := func(name string) int {
			for i, c := range csvColumns {
				if c == name {
					return i
				}
			}
			t.Fatalf("no column %s", name)
			return 0
		}
		for _, r := range rs[1:] {
			switch r[col("username")] {
			case "alice":
				r[col("department")], r[col("groups")], r[col("roles")] = "Network", "Night shift;Operators", "user_viewer"
			case "bob":
				r[col("enabled")], r[col("first_name")] = "true", "Robert"
			}
		}
		carol := make([]string, len(csvColumns))
		for i, c := range csvColumns {
			carol[i] = map[string]string{"username": "carol", "email": "carol@example.com", "first_name": "キャロル",
				"last_name": "山田", "enabled": "true", "email_verified": "false", "otp_required": "true", "timezone": "Asia/Tokyo",
				"external_id": "HR-0003", "groups": "Operators", "locked": "false", "billed": "true"}[c]
		}
		rs = append(rs, carol)
		w.WriteAll(rs)
		file := writeFile(t, "edited.csv", edited.String())
		out := cliOK(t, db, "user", "import", file)
		if out != "created 1, updated 2, unchanged 1\n" {
			t.Fatalf("import: %q", out)
		}
		again := cliOK(t, db, "user", "export")
		if got, want := records(t, again), records(t, edited.String()); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("export after import:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// Importing the same file again changes nothing.
		if out := cliOK(t, db, "user", "import", file); out != "created 0, updated 0, unchanged 4\n" {
			t.Fatalf("second import: %q", out)
		}
		// The spreadsheet form: BOM and CRLF, and it imports as it is.
		dir := t.TempDir()
		xl := filepath.Join(dir, "users.csv")
		cliOK(t, db, "user", "export", "--excel", "--out", xl)
		raw, _ := os.ReadFile(xl)
		if !bytes.HasPrefix(raw, []byte("\ufeffid,username,")) || !bytes.Contains(raw, []byte("\r\n")) {
			t.Fatalf("--excel: %q", raw[:min(len(raw), 60)])
		}
		if out := cliOK(t, db, "user", "import", xl); out != "created 0, updated 0, unchanged 4\n" {
			t.Fatalf("import of the --excel export: %q", out)
		}
		if _, _, err := cliRun(t, db, "", "user", "export", "--out", xl); err == nil {
			t.Fatal("export overwrote an existing file")
		}
	})
}

// TestCSVImportRefusals: a bad row leaves the database unchanged, and
// every error names its line and field.
func TestCSVImportRefusals(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	csvDatabases(t, func(t *testing.T, db []string) {
		cliOK(t, db, "user", "add", "alice", "--email", "alice@example.com", "--first-name", "Alice", "--last-name", "L")
		cliOK(t, db, "group", "add", "Operators")
		before := cliOK(t, db, "user", "export")
		cases := []struct {
			name, file string
			want       []string
		}{
			{"bad rows", "username,email,first_name,last_name,enabled,groups,roles\n" +
				"dave,dave@example.com,Dave,D,true,Operators,\n" + // good
				"erin,not-a-mail,Erin,E,true,,\n" +
				"frank,frank@example.com,,F,maybe,Nope,No Such Role\n" +
				"alice,dave@example.com,Alice,L,true,,\n" +
				"Dave,d2@example.com,Dave,D,true,,\n",
				[]string{"line 3, email:", "line 4, first_name:", "line 4, enabled: must be true or false", "line 4, groups: There is no group \"Nope\"",
					"line 4, roles: There is no role \"No Such Role\"", "line 5, email: Mail address \"dave@example.com\" is also on line 2",
					"line 6, username: User name \"Dave\" is also on line 2"}},
			{"unknown column", "username,shoe_size\nx,42\n", []string{"line 1, shoe_size: unknown column"}},
			{"no username", "email\nx@example.com\n", []string{"line 1, username: the username column is required"}},
			{"ragged row", "username,email\nx\n", []string{"line 2: wrong number of fields"}},
			{"invalid UTF-8", "username,email,first_name,last_name\nzed,zed@example.com,Z\xff,Z\n", []string{"line 2, first_name: contains a NUL byte or invalid UTF-8"}},
			{"admin", "username,enabled\nadmin,false\n", []string{"line 2, username: User \"admin\" is reserved"}},
			{"taken mail", "username,email,first_name,last_name\ngina,alice@example.com,G,G\n", []string{"line 2, email: Mail address \"alice@example.com\" belongs to user \"alice\""}},
			{"customer role without customer", "username,email,first_name,last_name,roles\nhal,hal@example.com,H,H,customer\n", []string{"line 2, customer_id: A user with a customer role needs a customer"}},
		}
		for _, c := range cases {
			_, errOut, err := cliRun(t, db, "", "user", "import", writeFile(t, "bad.csv", c.file))
			if err == nil || !strings.Contains(err.Error(), "nothing was written") {
				t.Errorf("%s: err %v", c.name, err)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("%s: stderr lacks %q:\n%s", c.name, w, errOut)
				}
			}
		}
		// A dry run of a good file writes nothing either.
		good := writeFile(t, "good.csv", "username,email,first_name,last_name\nivy,ivy@example.com,Ivy,I\nalice,alice@example.com,Alicia,L\n")
		if out := cliOK(t, db, "user", "import", "--dry-run", good); out != "created 1, updated 1, unchanged 0 (dry run: nothing was written)\n" {
			t.Fatalf("dry run: %q", out)
		}
		if after := cliOK(t, db, "user", "export"); strings.Join(records(t, after), "\n") != strings.Join(records(t, before), "\n") {
			t.Fatalf("a refused import changed the database:\n%s\nbefore:\n%s", after, before)
		}
	})
}

// TestCSVTombstoneConflict: a row that meets a deleted user who lives on in
// the ITSM app is reported with its line, not resolved silently (D2).
func TestCSVTombstoneConflict(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := t.TempDir()
	tok := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin"))
	base, _ := startServer(t, nil, "--data-dir", dir)
	api := func(method, path, body string) map[string]any {
		req, _ := http.NewRequest(method, base+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, res.StatusCode, m)
		}
		return m
	}
	cust := api("POST", "/customers", `{"code":"acme","name":"Acme"}`)
	u := api("POST", "/users", fmt.Sprintf(`{"username":"olga","email":"olga@example.com","first_name":"O","last_name":"G","customer_id":%q}`, cust["id"]))
	roles := api("GET", "/roles?q=customer", "")
	var rid string
	for _, r := range roles["items"].([]any) {
		if m := r.(map[string]any); m["name"] == "customer" {
			rid = m["id"].(string)
		}
	}
	api("POST", "/users/"+u["id"].(string)+"/roles", fmt.Sprintf(`{"role_ids":[%q]}`, rid))
	api("DELETE", "/users/"+u["id"].(string), "")
	file := writeFile(t, "t.csv", "username,email,first_name,last_name\npeter,peter@example.com,P,P\nolga,olga2@example.com,O,G\n")
	_, errOut, err := cliRun(t, []string{"--data-dir", dir}, "", "user", "import", file)
	if err == nil || !strings.Contains(errOut, "line 3, username:") || !strings.Contains(errOut, "deleted user") {
		t.Fatalf("import over a tombstone: %v\n%s", err, errOut)
	}
	if code := getWithToken(t, base+"/api/v1/users?username=peter", tok); code != 404 {
		t.Fatalf("the good row of a refused file was written: %d", code)
	}
}

// getWithToken answers the status of an authenticated GET whose list has one item, else 404.
func getWithToken(t *testing.T, url, tok string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m struct{ Items []any }
	json.NewDecoder(res.Body).Decode(&m)
	if res.StatusCode == 200 && len(m.Items) != 1 {
		return 404
	}
	return res.StatusCode
}

// TestCSVImportWhileServing: the import runs beside a running server on
// the same SQLite file (WAL), and the server sees the users at once.
func TestCSVImportWhileServing(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := t.TempDir()
	tok := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin"))
	base, _ := startServer(t, nil, "--data-dir", dir)
	var b strings.Builder
	b.WriteString("username,email,first_name,last_name\n")
	for i := range 1200 {
		fmt.Fprintf(&b, "u%04d,u%04d@example.com,F%d,L%d\n", i, i, i, i)
	}
	out, errOut, err := cliRun(t, []string{"--data-dir", dir}, "", "user", "import", writeFile(t, "many.csv", b.String()))
	if err != nil || out != "created 1200, updated 0, unchanged 0\n" || !strings.Contains(errOut, "imported 1000 of 1200 changed users") {
		t.Fatalf("import: %v %q %q", err, out, errOut)
	}
	if code := getWithToken(t, base+"/api/v1/users?username=u1199", tok); code != 200 {
		t.Fatalf("the server does not see the imported users: %d", code)
	}
}

// cliRunB is cliRun for benchmarks.
func cliRunB(db []string, args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), append(args, db...), func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func writeFileB(b *testing.B, text string) string {
	p := filepath.Join(b.TempDir(), "users.csv")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		b.Fatal(err)
	}
	return p
}

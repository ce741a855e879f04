package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/testenv"
)

// runCLI runs one command and returns stdout; it fails the test on error
// unless wantErr names a part of the expected error.
//
// A command other than serve and migrate refuses a directory without a
// database (issue 17); for brevity, runCLI migrates a fresh dir first.
// TestCLIRefusesMissingDatabase checks the refusal itself.
func runCLI(t *testing.T, dir, stdin string, wantErr string, args ...string) string {
	t.Helper()
	ensureDatabase(t, dir)
	var out, errOut bytes.Buffer
	err := run(context.Background(), append(args, "--data-dir", dir), func(string) string { return "" },
		strings.NewReader(stdin), &out, &errOut)
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("%v: %v\n%s", args, err, errOut.String())
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		t.Fatalf("%v: got %v, want an error mentioning %q", args, err, wantErr)
	}
	return out.String()
}

var tokenRE = regexp.MustCompile(`^opsi_[A-Za-z0-9_-]{43}\n$`)

func TestCLI(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := t.TempDir()
	// First use creates the database; the admin password goes to stderr, so
	// stdout holds only the new user's id.
	id := runCLI(t, dir, "", "", "user", "add", "alice", "--email", "alice@example.com", "--first-name", "Alice", "--last-name", "Liddell", "--timezone", "Asia/Tokyo")
	if !regexp.MustCompile(`^[0-9a-f]{32}\n$`).MatchString(id) {
		t.Fatalf("user add printed %q", id)
	}
	runCLI(t, dir, "", "email", "user", "add", "bob", "--first-name", "B", "--last-name", "B")
	runCLI(t, dir, "", "taken", "user", "add", "ALICE", "--email", "a2@example.com", "--first-name", "A", "--last-name", "B")
	runCLI(t, dir, "", "", "group", "add", "Ops Team", "--description", "operators")
	runCLI(t, dir, "", "", "group", "add-member", "Ops Team", "alice")
	if out := runCLI(t, dir, "", "", "group", "list"); !strings.Contains(out, "Ops Team") || !strings.Contains(out, "global") {
		t.Fatalf("group list: %s", out)
	}
	if out := runCLI(t, dir, "", "", "user", "list", "--q", "ali"); !strings.Contains(out, "alice@example.com") || strings.Contains(out, "admin@") {
		t.Fatalf("user list: %s", out)
	}
	tok := runCLI(t, dir, "", "", "token", "issue", "alice")
	if !tokenRE.MatchString(tok) {
		t.Fatalf("token issue printed %q", tok)
	}
	runCLI(t, dir, "password\n", "password", "user", "set-password", "alice") // common password
	runCLI(t, dir, "short\n", "at least", "user", "set-password", "alice")
	runCLI(t, dir, "", "no password", "user", "set-password", "alice")
	runCLI(t, dir, "a fine long passphrase\n", "", "user", "set-password", "alice")
	runCLI(t, dir, "x\n", "no user", "user", "set-password", "nobody")
	runCLI(t, dir, "", "", "user", "disable", "alice")
	runCLI(t, dir, "", "reserved", "user", "delete", "admin")
	runCLI(t, dir, "", "reserved", "group", "delete", "global")

	// The database now holds what the commands said.
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "opsiam.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.GetUserByUsername(ctx, directory.Scope{}, "alice")
	if err != nil || u.Enabled || u.Timezone != "Asia/Tokyo" {
		t.Fatalf("alice: %+v %v", u, err)
	}
	hash, err := db.PasswordHash(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := (auth.Hasher{Params: auth.DefaultParams()}).Verify(hash, "a fine long passphrase"); !ok {
		t.Fatal("password not set")
	}
	// Disabling alice ended her platform token for good (issue 13, rule 3).
	if _, err := db.PlatformToken(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("alice's token after she was disabled: %v", err)
	}
	runCLI(t, dir, "", "", "user", "delete", "alice")
	if _, err := db.GetUserByUsername(ctx, directory.Scope{}, "alice"); err == nil {
		t.Fatal("alice not deleted")
	}
	runCLI(t, dir, "", "unknown command", "user", "fly")
}

// TestServeMountsAPI: a token issued by the CLI works against the server's
// REST API, and the server default time zone applies.
func TestServeMountsAPI(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := t.TempDir()
	tok := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin"))
	base, _ := startServer(t, nil, "--data-dir", dir, "--default-timezone", "Europe/Berlin")
	body := strings.NewReader(`{"username":"carol","email":"carol@example.com","first_name":"C","last_name":"D"}`)
	req, _ := http.NewRequest("POST", base+"/api/v1/users", body)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var u map[string]any
	json.NewDecoder(res.Body).Decode(&u)
	if res.StatusCode != 201 || u["timezone"] != "Europe/Berlin" {
		t.Fatalf("POST /api/v1/users: %d %v", res.StatusCode, u)
	}
	if code := get(t, base+"/api/v1/users"); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	// The server recorded today's billing snapshot at start (B1).
	req, _ = http.NewRequest("GET", base+"/api/v1/billing/report", nil)
	req.Header.Set("X-OpsI-Token", tok)
	rep, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Body.Close()
	var report struct {
		Items []struct {
			Day    string `json:"day"`
			Billed int    `json:"billed"`
		} `json:"items"`
	}
	json.NewDecoder(rep.Body).Decode(&report)
	if rep.StatusCode != 200 || len(report.Items) != 1 || report.Items[0].Day != time.Now().UTC().Format(time.DateOnly) {
		t.Fatalf("billing report: %d %+v", rep.StatusCode, report)
	}
	if code := get(t, base+"/api/v1/openapi.json"); code != 200 {
		t.Fatalf("openapi.json: %d", code)
	}
}

func nowUTC() time.Time { return time.Now().UTC() }

// ensureDatabase runs opsiam migrate in dir when it holds no database yet.
func ensureDatabase(t testing.TB, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "opsiam.db")); err == nil {
		return
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "--data-dir", dir}, func(string) string { return "" },
		strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errOut.String())
	}
}

// TestCLIRefusesMissingDatabase: only serve and migrate create a database;
// any other command in a directory without one says so and creates
// nothing (issue 17, point 1), on SQLite and PostgreSQL.
func TestCLIRefusesMissingDatabase(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	for _, cmd := range [][]string{{"user", "list"}, {"user", "-h"}, {"client", "list"}, {"token", "issue", "admin"},
		{"group", "list"}, {"user", "export"}, {"backup", "--to", filepath.Join(t.TempDir(), "b.db")}} {
		dir := filepath.Join(t.TempDir(), "data")
		var out, errOut bytes.Buffer
		err := run(context.Background(), append(cmd, "--data-dir", dir), func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
		if cmd[1] == "-h" {
			if err != nil {
				t.Errorf("%v: %v", cmd, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), "no opsiam database in "+dir+" (start `opsiam serve` first, or pass --data-dir / --database)") {
			t.Errorf("%v: %v", cmd, err)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%v created %s", cmd, dir)
		}
	}
	pg := testenv.PostgresSchema(t)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"token", "issue", "admin", "--database", pg}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "no opsiam database in the database given by --database") {
		t.Errorf("token issue on an empty PostgreSQL schema: %v", err)
	}
	// migrate creates it, and then the CLI works.
	dir := filepath.Join(t.TempDir(), "data")
	runCLI(t, dir, "", "", "migrate")
	if out := runCLI(t, dir, "", "", "user", "list"); !strings.Contains(out, "admin") {
		t.Fatalf("user list after migrate: %q", out)
	}
}

// TestCLIHelp: -h on every command exits 0 with that command's own usage,
// needs no database, and unknown commands and flags say what exists
// (issue 17, point 2).
func TestCLIHelp(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := filepath.Join(t.TempDir(), "nothing-here")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "commands:"},
		{[]string{"user", "-h"}, "user commands: add, delete, disable, enable, export, import, list"},
		{[]string{"user", "add", "-h"}, "usage: opsiam user add [flags] USERNAME"},
		{[]string{"user", "import", "--help"}, "-dry-run"},
		{[]string{"group", "add-member", "-h"}, "usage: opsiam group add-member"},
		{[]string{"token", "issue", "-h"}, "-expires"},
		{[]string{"client", "-h"}, "usage: opsiam client COMMAND"},
		{[]string{"backup", "-h"}, "usage: opsiam backup --to FILE"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append(c.args, "--data-dir", dir), func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
		if err != nil || !strings.Contains(out.String()+errOut.String(), c.want) {
			t.Errorf("%v: %v\n%s%s", c.args, err, out.String(), errOut.String())
		}
		if strings.Contains(out.String(), "-argon2-time") && c.args[0] != "serve" {
			t.Errorf("%v lists the server's flags:\n%s", c.args, out.String())
		}
	}
	for _, args := range [][]string{{"serve", "-h"}, {"migrate", "-h"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), append(args, "--data-dir", dir), func(string) string { return "" }, strings.NewReader(""), &out, &errOut); err != nil || !strings.Contains(errOut.String(), "-addr") {
			t.Errorf("%v: %v", args, err)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("help created the data directory")
	}
	// Unknown commands list what exists; a bool common flag does not eat the
	// next argument (user list --insecure-issuer --q x).
	db := t.TempDir()
	runCLI(t, db, "", `unknown command "user fly"; user commands: add,`, "user", "fly")
	runCLI(t, db, "", "the commands are serve, migrate", "fly")
	runCLI(t, db, "", "", "user", "add", "quinn", "--email", "q@example.com", "--first-name", "Q", "--last-name", "Q")
	if out := runCLI(t, db, "", "", "user", "list", "--insecure-issuer", "--q", "qu"); !strings.Contains(out, "quinn") || strings.Contains(out, "admin") {
		t.Fatalf("user list --insecure-issuer --q qu: %q", out)
	}
	runCLI(t, db, "", "flag provided but not defined: -nope", "user", "list", "--nope")
}

// TestConfigFileCLI: serve and the CLI read the same configuration file.
func TestConfigFileCLI(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "opsiam.yaml")
	if err := os.WriteFile(file, []byte("data-dir: "+dir+"\ndefault-timezone: Asia/Tokyo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	for _, args := range [][]string{{"migrate", "--config", file},
		{"user", "add", "rin", "--config", file, "--email", "r@example.com", "--first-name", "R", "--last-name", "S"}} {
		if err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"user", "export"}, func(k string) string { return map[string]string{"OPSIAM_CONFIG": file}[k] },
		strings.NewReader(""), &out, &errOut); err != nil || !strings.Contains(out.String(), "rin,r@example.com,R,S,true,false,false,,,,,,,,Asia/Tokyo") {
		t.Fatalf("export with OPSIAM_CONFIG: %v\n%s", err, out.String())
	}
}

// TestTokenIssueSaysItReplaces: token issue tells that the new token
// replaces the previous one, on stderr, keeping stdout the token alone.
func TestTokenIssueSaysItReplaces(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	db := []string{"--data-dir", t.TempDir()}
	cliOK(t, db, "migrate")
	out, errOut, err := cliRun(t, db, "", "token", "issue", "admin")
	if err != nil || !tokenRE.MatchString(out) || !strings.Contains(errOut, "replaces the previous one, which no longer works") {
		t.Fatalf("token issue: %v %q %q", err, out, errOut)
	}
}

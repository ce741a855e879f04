package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
)

// runCLI runs one command and returns stdout; it fails the test on error
// unless wantErr names a part of the expected error.
func runCLI(t *testing.T, dir, stdin string, wantErr string, args ...string) string {
	t.Helper()
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

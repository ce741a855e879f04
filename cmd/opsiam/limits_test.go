package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the locking connection's driver

	"opsiam/internal/testenv"
)

const testKEK = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// lockUsers holds an exclusive lock on the users table of dsn's schema
// until the returned function is called, as a stuck migration or a long
// manual transaction would.
func lockUsers(t *testing.T, dsn string) func() {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	done := false
	release := func() {
		if !done {
			done = true
			tx.Rollback()
			db.Close()
		}
	}
	t.Cleanup(release)
	return release
}

// TestHangingDatabaseAnswers503 is issue 14, item 3: with the users table
// locked, a request that needs it ends with 503 after --request-timeout,
// not when the lock ends.
func TestHangingDatabaseAnswers503(t *testing.T) {
	t.Parallel() // its own database (or cluster) and processes (issue 17, point 7)
	dsn := testenv.PostgresSchema(t)
	dir := t.TempDir()
	base, _ := startServer(t, map[string]string{"OPSIAM_KEY_ENCRYPTION_KEY": testKEK}, "--database", dsn, "--data-dir", dir,
		"--request-timeout", "2s")
	admin := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin", "--database", dsn))
	if code, _ := do(t, "GET", base+"/api/v1/users", admin, ""); code != http.StatusOK {
		t.Fatalf("before the lock: %d", code)
	}
	release := lockUsers(t, dsn)
	start := time.Now()
	code, p := do(t, "GET", base+"/api/v1/users", admin, "")
	took := time.Since(start)
	release()
	if code != http.StatusServiceUnavailable || took > 10*time.Second {
		t.Fatalf("with the table locked: %d after %s: %v", code, took, p)
	}
	if code, _ := do(t, "GET", base+"/api/v1/users", admin, ""); code != http.StatusOK {
		t.Fatalf("after the lock: %d", code)
	}
}

// TestSlowClientIsCut is issue 14, item 4: a client that sends its headers
// and then its body one byte every few hundred milliseconds is cut after
// --read-timeout.
func TestSlowClientIsCut(t *testing.T) {
	base, _ := startServer(t, nil, "--data-dir", t.TempDir(), "--read-timeout", "1s")
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
	start := time.Now()
	cut := false
	for time.Since(start) < 10*time.Second {
		if _, err := conn.Write([]byte("a")); err != nil {
			cut = true
			break
		}
		conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := bufio.NewReader(conn).ReadByte(); err == nil || !isTimeout(err) {
			cut = true // an answer (the server gave up on the body) or a closed connection
			break
		}
	}
	if !cut || time.Since(start) > 5*time.Second {
		t.Fatalf("a slow client held its connection for %s", time.Since(start))
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestShutdownCutsAndExitsZero is issue 14, item 6: a shutdown whose drain
// (--shutdown-timeout) runs out cuts the request in flight, logs it, and
// ends normally.
func TestShutdownCutsAndExitsZero(t *testing.T) {
	t.Parallel() // its own database (or cluster) and processes (issue 17, point 7)
	dsn := testenv.PostgresSchema(t)
	dir := t.TempDir()
	runWithEnv(t, nil, "migrate", "--database", dsn, "--data-dir", dir)
	admin := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin", "--database", dsn))
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	env := map[string]string{"OPSIAM_KEY_ENCRYPTION_KEY": testKEK}
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--database", dsn, "--data-dir", dir, "--request-timeout", "30s",
			"--shutdown-timeout", "500ms"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	}()
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := servingRE.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("server did not start:\n%s", errOut.String())
	}
	lockUsers(t, dsn)
	go func() {
		req, _ := http.NewRequest("GET", base+"/api/v1/users", nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(500 * time.Millisecond) // the request is waiting for the lock
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after a shutdown that had to cut: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(errOut.String()+out.String(), "shutdown cut a request in flight") ||
		!bytes.Contains([]byte(errOut.String()+out.String()), []byte("/api/v1/users")) {
		t.Fatalf("the cut request was not logged:\n%s", errOut.String())
	}
}

// TestOpenErrorsNameThePath is issue 14, item 7: a database file that
// cannot be opened is reported with its path and the cause.
func TestOpenErrorsNameThePath(t *testing.T) {
	missing := t.TempDir() + "/no/such/dir/opsiam.db"
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--database", missing}, func(string) string { return "" },
		strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("serve with a missing directory: %v", err)
	}
}

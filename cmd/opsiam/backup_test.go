package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
)

// TestBackupWhileWriting is SPEC O3 "backup of the SQLite store": `opsiam
// backup` copies the database while another connection (a running server)
// keeps creating users, each in one transaction with its global
// membership, audit record and outbox events. The copy opens with sqlstore,
// is fully migrated (Ready), holds every user committed before the backup
// began, and holds whole transactions only: as many global memberships and
// user.create audit records as users.
func TestBackupWhileWriting(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	ctx := context.Background()
	dir := t.TempDir()
	runCLI(t, dir, "", "", "migrate")
	live, err := sqlstore.Open(ctx, filepath.Join(dir, "opsiam.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	svc := &manage.Service{Store: live, Hasher: auth.Hasher{Params: auth.Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}}, Now: time.Now}
	actor := manage.SystemCaller("tester", "test")
	create := func(i int64) error {
		name := fmt.Sprintf("user%05d", i)
		_, err := svc.CreateUser(ctx, actor, directory.User{Username: name, Email: name + "@example.com",
			FirstName: "F", LastName: "L", Enabled: true})
		return err
	}
	const before = 200
	for i := range int64(before) {
		if err := create(i); err != nil {
			t.Fatal(err)
		}
	}
	var written atomic.Int64
	written.Store(before)
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i := int64(before); ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if err := create(i); err != nil {
				done <- err
				return
			}
			written.Add(1)
		}
	}()
	// Let the writer get going, then back up while it writes.
	for written.Load() < before+20 {
		time.Sleep(time.Millisecond)
	}
	file := filepath.Join(t.TempDir(), "opsiam-backup.db")
	out := runCLI(t, dir, "", "", "backup", "--to", file)
	during := written.Load()
	for written.Load() < during+20 { // and writes go on after the backup
		time.Sleep(time.Millisecond)
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("writer: %v", err)
	}
	if !strings.Contains(out, "backed up") || !strings.Contains(out, file) {
		t.Fatalf("output: %q", out)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v, want mode 0600", st, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*partial*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}

	cp, err := sqlstore.Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if err := cp.Ready(ctx); err != nil {
		t.Fatalf("the copy is not migrated: %v", err)
	}
	users, err := cp.CountUsers(ctx, directory.Scope{}, store.UserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	total, err := live.CountUsers(ctx, directory.Scope{}, store.UserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// admin + the users committed when the backup began; fewer than the
	// live database holds now, since writes went on.
	if users < before+1 || users >= total {
		t.Fatalf("the copy holds %d users; want at least %d and fewer than the %d of the live database", users, before+1, total)
	}
	raw, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var check string
	if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	var members, audits int
	if err := raw.QueryRow(`SELECT count(*) FROM group_members m JOIN groups g ON g.id = m.group_id WHERE g.name_key = 'global'`).Scan(&members); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'user.create'`).Scan(&audits); err != nil {
		t.Fatal(err)
	}
	if members != users || audits != users-1 { // admin is created by bootstrap, without user.create
		t.Fatalf("half transactions in the copy: %d users, %d global members, %d user.create records", users, members, audits)
	}
	for _, name := range []string{"admin", "user00000", fmt.Sprintf("user%05d", before-1)} {
		if _, err := cp.GetUserByUsername(ctx, directory.Scope{}, name); err != nil {
			t.Fatalf("%s in the copy: %v", name, err)
		}
	}
}

func TestBackupRefusals(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "backup.db")
	// No database yet: refused, and none is created.
	var out0, errOut0 bytes.Buffer
	if err := run(context.Background(), []string{"backup", "--to", file, "--data-dir", dir}, func(string) string { return "" },
		strings.NewReader(""), &out0, &errOut0); err == nil || !strings.Contains(err.Error(), "no opsiam database") {
		t.Fatalf("backup without a database: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "opsiam.db")); err == nil {
		t.Fatal("backup created a database")
	}
	runCLI(t, dir, "", "", "migrate")
	runCLI(t, dir, "", "--to FILE is required", "backup")
	// An existing file is never overwritten, even an empty one.
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	runCLI(t, dir, "", "refusing to overwrite", "backup", "--to", file)
	if st, _ := os.Stat(file); st.Size() != 0 {
		t.Fatal("the existing file was written")
	}
	// PostgreSQL: pointed to pg_dump before anything is opened.
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"backup", "--to", filepath.Join(dir, "x.db"), "--database", "postgres://nobody@127.0.0.1:1/none"},
		func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("PostgreSQL: %v, want a pointer to pg_dump", err)
	}
	err = run(context.Background(), []string{"backup", "--to", filepath.Join(dir, "x.db")},
		func(k string) string {
			if k == "OPSIAM_DATABASE" {
				return "postgresql://nobody@127.0.0.1:1/none"
			}
			return ""
		}, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("PostgreSQL from OPSIAM_DATABASE: %v, want a pointer to pg_dump", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err == nil {
		t.Fatal("a file was written for PostgreSQL")
	}
	// A target directory that does not exist is a clear error, not a panic.
	runCLI(t, dir, "", "no such file", "backup", "--to", filepath.Join(dir, "missing", "b.db"))
}

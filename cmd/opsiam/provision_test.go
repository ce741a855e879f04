package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"opsiam/internal/provision"
	"opsiam/internal/provision/gitlab/gitlabfake"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/testenv"
)

// TestHelperServe is not a test: it is the child process of the tests
// below, running `opsiam serve` with the same wiring as the binary (the
// arguments come as JSON in OPSIAM_TEST_HELPER_SERVE).
func TestHelperServe(t *testing.T) {
	raw := os.Getenv("OPSIAM_TEST_HELPER_SERVE")
	if raw == "" {
		t.Skip("helper process for the provisioning tests")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := run(ctx, append([]string{"serve"}, args...), os.Getenv, strings.NewReader(""), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// child is a running `opsiam serve` process.
type child struct {
	cmd  *exec.Cmd
	done chan error
}

var servingLine = regexp.MustCompile(`serving on http://\S+`)

// startChild starts `opsiam serve` with args in a new process and waits
// until it serves.
func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	raw, _ := json.Marshal(append([]string{"--addr", "127.0.0.1:0"}, args...))
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
	cmd.Env = append(os.Environ(), "OPSIAM_TEST_HELPER_SERVE="+string(raw), "OPSIAM_ADMIN_PASSWORD=a long admin secret")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(t.TempDir(), "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		found := false
		for sc.Scan() {
			if !found && servingLine.MatchString(sc.Text()) {
				found = true
				ready <- true
			}
		}
		if !found {
			ready <- false
		}
		c.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case ok := <-ready:
		if !ok {
			b, _ := os.ReadFile(logFile.Name())
			t.Fatalf("serve did not start:\n%s", b)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start in time")
	}
	return c
}

// kill ends the process with SIGKILL: no shutdown, no cleanup.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
}

// stop ends the process gracefully (SIGTERM) and checks it exits cleanly.
func (c *child) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("serve did not stop after SIGTERM")
	}
}

// membershipScript enqueues, for each of groups groups, its creation and
// then changes random members in and out, each change a real change, and
// returns the GitLab changes expected per group path, in order.
// Events are enqueued in transactions of chunk events, pause apart, as
// changes arrive on a running server.
func membershipScript(t *testing.T, db *sqlstore.DB, fake *gitlabfake.Fake, groups, changesPerGroup, users, chunk int, pause time.Duration) map[string][]string {
	t.Helper()
	ctx := context.Background()
	var names []string
	for i := range users {
		names = append(names, fmt.Sprintf("user%03d", i))
		fake.AddUser(names[i])
	}
	rng := rand.New(rand.NewPCG(8, 1000))
	want := map[string][]string{}
	type change struct{ group, topic, user string }
	var script []change
	members := map[string]map[string]bool{}
	for g := range groups {
		name := fmt.Sprintf("team-%02d", g)
		members[name] = map[string]bool{}
		script = append(script, change{name, provision.TopicGroupCreated, ""})
		want[name] = append(want[name], "group_created "+name+" ")
	}
	// Interleave the groups' changes, as concurrent administrators would.
	for range changesPerGroup {
		for g := range groups {
			name := fmt.Sprintf("team-%02d", g)
			u := names[rng.IntN(users)]
			if members[name][u] {
				delete(members[name], u)
				script = append(script, change{name, provision.TopicMemberRemoved, u})
				want[name] = append(want[name], "member_removed "+name+" "+u)
			} else {
				members[name][u] = true
				script = append(script, change{name, provision.TopicMemberAdded, u})
				want[name] = append(want[name], "member_added "+name+" "+u)
			}
		}
	}
	for len(script) > 0 {
		n := min(chunk, len(script))
		err := db.InTx(ctx, func(tx store.Tx) error {
			for _, c := range script[:n] {
				p := map[string]string{"group_id": "g-" + c.group, "name": c.group}
				if c.user != "" {
					p = map[string]string{"group_id": "g-" + c.group, "group_name": c.group, "user_id": "u-" + c.user, "username": c.user}
				}
				b, _ := json.Marshal(p)
				if _, err := tx.Enqueue(ctx, store.Event{Topic: c.topic, Aggregate: "group:g-" + c.group, Payload: b}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		script = script[n:]
		time.Sleep(pause)
	}
	return want
}

// checkChanges compares the fake's changes with the expected ones: each
// exactly once, in order per group.
func checkChanges(t *testing.T, fake *gitlabfake.Fake, want map[string][]string) {
	t.Helper()
	got := map[string][]string{}
	total := 0
	for _, c := range fake.Changes() {
		got[c.Group] = append(got[c.Group], c.String())
		total++
	}
	wantTotal := 0
	for g, w := range want {
		wantTotal += len(w)
		if strings.Join(got[g], "\n") != strings.Join(w, "\n") {
			for i := range min(len(w), len(got[g])) {
				if w[i] != got[g][i] {
					t.Errorf("group %s: change %d is %q, want %q (%d changes, want %d)", g, i, got[g][i], w[i], len(got[g]), len(w))
					break
				}
			}
			if len(got[g]) != len(w) {
				t.Errorf("group %s: %d changes, want %d", g, len(got[g]), len(w))
			}
		}
	}
	if total != wantTotal {
		t.Errorf("%d changes reached GitLab, want %d", total, wantTotal)
	}
}

func openStore(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// waitDone waits until n deliveries are done.
func waitDone(t *testing.T, db *sqlstore.DB, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := db.CountDeliveries(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c[store.DeliveryDone] >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries after %s: %v, want %d done", timeout, c, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCrashDuringDelivery is acceptance 2 of issue 8: `opsiam serve` is
// killed with SIGKILL while 1,000 membership changes are being delivered to
// GitLab, then started again; every change reaches GitLab exactly once in
// effect, in order per group.
func TestCrashDuringDelivery(t *testing.T) {
	t.Parallel() // its own database (or cluster) and processes (issue 17, point 7)
	if testing.Short() {
		t.Skip("starts server processes")
	}
	for _, tc := range []struct {
		name string
		db   func(t *testing.T) (dsn string, args []string)
	}{
		{"SQLite", func(t *testing.T) (string, []string) {
			dir := t.TempDir()
			return filepath.Join(dir, "opsiam.db"), []string{"--data-dir", dir}
		}},
		{"Postgres", func(t *testing.T) (string, []string) {
			dsn := testenv.PostgresSchema(t)
			return dsn, []string{"--database", dsn}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dsn, dbArgs := tc.db(t)
			db := openStore(t, dsn)
			fake := gitlabfake.New("glpat-crash")
			fake.SetLatency(2 * time.Millisecond)
			srv := httptest.NewServer(fake)
			defer srv.Close()
			want := membershipScript(t, db, fake, 10, 100, 40, 2000, 0)
			args := append(dbArgs, "--gitlab-url", srv.URL, "--gitlab-token", "glpat-crash",
				"--outbox-lease", "2s", "--outbox-poll", "50ms")

			first := startChild(t, args...)
			deadline := time.Now().Add(60 * time.Second)
			for len(fake.Changes()) < 150 {
				if time.Now().After(deadline) {
					t.Fatalf("no progress before the kill: %s", fake)
				}
				time.Sleep(time.Millisecond)
			}
			first.kill(t)
			atKill := len(fake.Changes())
			if atKill >= 1010 {
				t.Fatalf("everything was delivered before the kill (%d changes): the test proves nothing", atKill)
			}
			c, err := db.CountDeliveries(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("killed after %d of 1010 changes; deliveries then: %v", atKill, c)

			second := startChild(t, args...)
			waitDone(t, db, 1010, 120*time.Second)
			second.stop(t)
			checkChanges(t, fake, want)
			t.Logf("requests that found their change made (redeliveries after the kill): %d", fake.Duplicates())
			left, err := db.ListDeliveries(context.Background(), store.DeliveryQuery{State: store.DeliveryPending})
			if err != nil || len(left.Items) != 0 {
				t.Fatalf("pending after the restart: %d %v", len(left.Items), err)
			}
		})
	}
}

// TestTwoServersShareTheOutbox is acceptance 3 of issue 8: two `opsiam
// serve` processes on one PostgreSQL database deliver 1,000 changes
// between them, and GitLab never sees a change asked for twice.
func TestTwoServersShareTheOutbox(t *testing.T) {
	t.Parallel() // its own database (or cluster) and processes (issue 17, point 7)
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dsn := testenv.PostgresSchema(t)
	db := openStore(t, dsn)
	fake := gitlabfake.New("glpat-two")
	fake.SetLatency(time.Millisecond)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	// A worker that finishes a round claims again at once, so with 20
	// groups and the default batch one server could hold every queue head;
	// a batch of 8 leaves heads free whenever the other one polls.
	args := []string{"--database", dsn, "--gitlab-url", srv.URL, "--gitlab-token", "glpat-two", "--outbox-poll", "20ms", "--outbox-batch", "8"}
	a := startChild(t, args...)
	b := startChild(t, args...)
	want := membershipScript(t, db, fake, 20, 50, 30, 50, 15*time.Millisecond)
	waitDone(t, db, 1020, 120*time.Second)
	a.stop(t)
	b.stop(t)
	checkChanges(t, fake, want)
	if d := fake.Duplicates(); d != 0 {
		t.Errorf("%d changes were asked for twice", d)
	}
	workers := map[string]int{}
	cursor := ""
	for {
		p, err := db.ListDeliveries(context.Background(), store.DeliveryQuery{Limit: 1000, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range p.Items {
			workers[d.ClaimedBy]++
			if d.Attempts != 1 {
				t.Errorf("event %d was attempted %d times", d.Event.Seq, d.Attempts)
			}
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if len(workers) != 2 {
		t.Errorf("deliveries per worker: %v; want both servers to take part", workers)
	}
	t.Logf("deliveries per worker: %v", workers)
}

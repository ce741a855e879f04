package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// PGCluster is a throw-away PostgreSQL server of one test, in its own data
// directory on its own port, that the test may stop and start (the outage
// tests of issue 14). It runs the binaries of the installed PostgreSQL
// (initdb, pg_ctl); as root it runs them as the postgres user.
type PGCluster struct {
	t     testing.TB
	bin   string
	dir   string
	port  int
	asPG  bool
	owner *user.User
}

// NewPGCluster initialises a cluster and starts it; it is stopped and
// removed when the test ends. Missing binaries: Missing (a failure in CI).
func NewPGCluster(t testing.TB) *PGCluster {
	t.Helper()
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Strings(matches)
	if len(matches) == 0 {
		Missing(t, "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb; see .ci/run)")
	}
	c := &PGCluster{t: t, bin: filepath.Dir(matches[len(matches)-1])}
	dir, err := os.MkdirTemp("", "opsiam-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			Missing(t, "running as root without a postgres user to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.asPG, c.owner = true, u
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	c.run("initdb", "-D", c.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
	c.Start()
	t.Cleanup(func() { c.stop(false) })
	return c
}

func (c *PGCluster) data() string { return filepath.Join(c.dir, "data") }

// DSN is the cluster's connection string.
func (c *PGCluster) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// Start starts the server and waits until it accepts connections.
func (c *PGCluster) Start() {
	c.t.Helper()
	c.run("pg_ctl", "-D", c.data(), "-w", "-l", filepath.Join(c.dir, "log"), "-o",
		fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off", c.port, c.dir), "start")
}

// Stop stops the server at once (immediate shutdown: connections drop, as
// when the database host fails).
func (c *PGCluster) Stop() {
	c.t.Helper()
	c.stop(true)
}

func (c *PGCluster) stop(must bool) {
	cmd := c.cmd("pg_ctl", "-D", c.data(), "-w", "-m", "immediate", "stop")
	if out, err := cmd.CombinedOutput(); err != nil && must {
		c.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

func (c *PGCluster) cmd(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.asPG {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (c *PGCluster) run(name string, args ...string) {
	c.t.Helper()
	if out, err := c.cmd(name, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		c.t.Fatalf("%s: %v\n%s\n%s", name, err, out, log)
	}
}

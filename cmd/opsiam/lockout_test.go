package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/testenv"
)

// startProcess builds nothing: it runs the binary bin as `opsiam serve`
// in its own OS process until the test ends and returns its base URL.
func startProcess(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Error("server process did not stop")
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(60 * time.Second):
		t.Fatalf("server process did not start:\n%s", stderr.String())
	}
	return ""
}

// signInOnce posts the sign-in form once, as a browser would, and returns
// the status and page.
func signInOnce(t *testing.T, base, user, password string) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(base)
	var csrf string
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "opsiam_csrf" {
			csrf = ck.Value
		}
	}
	resp, err = c.PostForm(base+"/login", url.Values{"username": {user}, "password": {password}, "csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.ReplaceAll(string(body), csrf, "")
}

// TestLockoutAcrossTwoProcesses is acceptance 3 of issue 4 with two real
// `opsiam serve` processes on one PostgreSQL database: failures alternate
// between them, the fifth locks, the right password is then refused with
// the same answer as a wrong one on both, and an unlock lifts it.
func TestLockoutAcrossTwoProcesses(t *testing.T) {
	t.Parallel() // its own database (or cluster) and processes (issue 17, point 7)
	dsn := testenv.PostgresSchema(t)
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "opsiam")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const adminPW = "a long admin secret"
	env := []string{"OPSIAM_ADMIN_PASSWORD=" + adminPW, "OPSIAM_DATABASE=" + dsn, "OPSIAM_DATA_DIR=" + t.TempDir()}
	one := startProcess(t, bin, env)
	two := startProcess(t, bin, env)
	bases := []string{one, two}

	var wrong string
	for i := 0; i < 5; i++ {
		code, body := signInOnce(t, bases[i%2], "admin", "not the password")
		if code != http.StatusUnauthorized {
			t.Fatalf("failure %d on process %d = %d", i+1, i%2+1, code)
		}
		wrong = body
	}
	for i, b := range bases {
		code, body := signInOnce(t, b, "admin", adminPW)
		if code != http.StatusUnauthorized || body != wrong {
			t.Fatalf("right password while locked on process %d = %d, answer differs from a wrong password's", i+1, code)
		}
	}
	// The admin unlock (the REST endpoint /users/{id}/unlock calls the same).
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	admin, err := db.GetUserByUsername(ctx, directory.Scope{}, "admin")
	if err != nil || !admin.Locked {
		t.Fatalf("admin locked = %v, %v", admin.Locked, err)
	}
	svc, err := auth.New(db, auth.Hasher{Params: auth.DefaultParams()}, auth.DefaultPolicy(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Unlock(ctx, admin.ID, auth.Source{ActorName: "test"}); err != nil {
		t.Fatal(err)
	}
	if code, body := signInOnce(t, two, "admin", adminPW); code != 200 || !adminInConsole(body) {
		t.Fatalf("sign-in after unlock = %d", code)
	}
}

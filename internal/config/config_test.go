package config

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadPrecedence(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantAddr string
		wantDSN  string
		issuer   string
	}{
		{"defaults", nil, nil, "localhost:8080", "opsiam-data/opsiam.db", "http://localhost:8080"},
		{"environment", map[string]string{"OPSIAM_ADDR": "127.0.0.1:9000", "OPSIAM_DATA_DIR": "/d"}, nil, "127.0.0.1:9000", "/d/opsiam.db", "http://127.0.0.1:9000"},
		{"flags beat environment", map[string]string{"OPSIAM_ADDR": "127.0.0.1:9000"}, []string{"--addr", "0.0.0.0:1", "--database", "postgres://x/y"}, "0.0.0.0:1", "postgres://x/y", "http://localhost:1"},
		// A wildcard host listens everywhere; the default issuer names localhost (issue 17).
		{"port only", nil, []string{"--addr", ":8080"}, ":8080", "opsiam-data/opsiam.db", "http://localhost:8080"},
		{"IPv6 wildcard", nil, []string{"--addr", "[::]:8080"}, "[::]:8080", "opsiam-data/opsiam.db", "http://localhost:8080"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := Load("serve", tc.args, env(tc.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if c.Addr != tc.wantAddr || c.DSN() != tc.wantDSN {
				t.Fatalf("addr %q dsn %q, want %q %q", c.Addr, c.DSN(), tc.wantAddr, tc.wantDSN)
			}
			if c.Issuer != tc.issuer || !c.IssuerDefault {
				t.Fatalf("issuer %q", c.Issuer)
			}
		})
	}
}

func TestValidateNamesEveryField(t *testing.T) {
	_, _, err := Load("serve", []string{"--addr", "nope", "--issuer", "ftp://x", "--log-level", "loud"}, env(nil), io.Discard)
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, field := range []string{"addr", "issuer", "log-level"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
}

func TestSecretIsRedacted(t *testing.T) {
	c, _, _ := Load("serve", nil, env(map[string]string{"OPSIAM_ADMIN_PASSWORD": "hunter22"}), io.Discard)
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("config", "admin_password", c.AdminPassword)
	if s := sb.String() + fmt.Sprint(c.AdminPassword) + fmt.Sprintf("%+v", c); strings.Contains(s, "hunter22") {
		t.Fatalf("secret leaked: %s", s)
	}
	if string(c.AdminPassword) != "hunter22" {
		t.Fatal("secret not read")
	}
}

func TestDefaultTimezone(t *testing.T) {
	get := func(env map[string]string) func(string) string { return func(k string) string { return env[k] } }
	c, _, err := Load("serve", nil, get(nil), io.Discard)
	if err != nil || c.Timezone != "UTC" {
		t.Fatalf("default: %q %v", c.Timezone, err)
	}
	c, _, err = Load("serve", []string{"--default-timezone", "Asia/Tokyo"}, get(nil), io.Discard)
	if err != nil || c.Timezone != "Asia/Tokyo" {
		t.Fatalf("flag: %q %v", c.Timezone, err)
	}
	if _, _, err := Load("serve", nil, get(map[string]string{"OPSIAM_DEFAULT_TIMEZONE": "Mars/Base"}), io.Discard); err == nil || !strings.Contains(err.Error(), "default-timezone") {
		t.Fatalf("bad zone accepted: %v", err)
	}
}

// TestServerLimits: the limits of issue 14 and --sqlite-synchronous of
// issue 15 take flags and environment, and bad values are named.
func TestServerLimits(t *testing.T) {
	c, _, err := Load("serve", []string{"--request-timeout", "3s", "--sqlite-synchronous", "full"},
		env(map[string]string{"OPSIAM_SHUTDOWN_TIMEOUT": "2s"}), io.Discard)
	if err != nil || c.Server.RequestTimeout != 3*time.Second || c.Server.ShutdownTimeout != 2*time.Second ||
		c.Server.ReadTimeout != time.Minute || c.SQLiteSynchronous != "full" {
		t.Fatalf("%+v %q %v", c.Server, c.SQLiteSynchronous, err)
	}
	for _, args := range [][]string{{"--sqlite-synchronous", "off"}, {"--request-timeout", "0s"}, {"--read-timeout", "-1s"}} {
		if _, _, err := Load("serve", args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(args[0], "--")) {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// TestConfigFile: --config / OPSIAM_CONFIG, keys are flag names; flags beat
// environment beat file beat defaults; unknown keys are errors naming the
// key (issue 17, point 4).
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "opsiam.yaml")
	os.WriteFile(file, []byte("addr: 127.0.0.1:7000\ndatabase: postgres://file/db\nlog-level: debug\nsession-idle: 45m\n"+
		"lockout-failures: 7\ninsecure-issuer: true\nsmtp-addr: mail.example:25\nsmtp-from: ops <ops@example.com>\n"), 0o600)
	c, _, err := Load("serve", []string{"--config", file}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:7000" || c.Database != "postgres://file/db" || c.LogLevel != "debug" ||
		c.Auth.SessionIdle != 45*time.Minute || c.Auth.LockoutFailures != 7 || !c.InsecureIssuer || c.SMTP.Addr != "mail.example:25" {
		t.Fatalf("from the file: %+v", c)
	}
	// Environment beats the file, flags beat both; OPSIAM_CONFIG names it too.
	c, _, err = Load("serve", []string{"--log-level", "warn"}, env(map[string]string{"OPSIAM_CONFIG": file, "OPSIAM_ADDR": "127.0.0.1:7001", "OPSIAM_LOG_LEVEL": "error"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:7001" || c.LogLevel != "warn" || c.Database != "postgres://file/db" {
		t.Fatalf("precedence: addr %q log %q database %q", c.Addr, c.LogLevel, c.Database)
	}
	if c, _, err = Load("serve", []string{"--config=" + file, "--addr", "127.0.0.1:7002"}, env(nil), io.Discard); err != nil || c.Addr != "127.0.0.1:7002" {
		t.Fatalf("--config=FILE with a flag: %v %q", err, c.Addr)
	}
	for _, bad := range []struct{ text, want string }{
		{"adr: x\n", `unknown key "adr"`},
		{"admin-password: secret\n", `unknown key "admin-password"`},
		{"addr: [a, b]\n", `key "addr": want a single value`},
		{"- addr\n", "not a YAML mapping"},
		{"session-idle: soon\n", "session-idle"},
	} {
		f := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(f, []byte(bad.text), 0o600)
		if _, _, err := Load("serve", []string{"--config", f}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want %q", bad.text, err, bad.want)
		}
	}
	if _, _, err := Load("serve", []string{"--config", filepath.Join(dir, "missing.yaml")}, env(nil), io.Discard); err == nil {
		t.Error("a missing file was accepted")
	}
}

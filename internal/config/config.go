// Package config reads opsiam's configuration: defaults, then OPSIAM_*
// environment variables, then command-line flags, into one typed struct that
// is validated before anything starts (STYLE P12). It is the only package
// that reads the environment, and it reads it through the getenv function it
// is given, never os.Getenv.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Secret is a configuration value that never appears in logs or %v output.
type Secret string

// LogValue hides the secret from slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String hides the secret from fmt.
func (Secret) String() string { return "[redacted]" }

// Config is the configuration of `opsiam serve` and of the CLI commands
// that open the same database.
type Config struct {
	Addr          string    // listen address, HOST:PORT
	DataDir       string    // where the SQLite file and other local state live
	Database      string    // DSN; empty: SQLite in DataDir; postgres:// selects PostgreSQL
	Issuer        string    // public URL of the server; default http://Addr
	IssuerDefault bool      // Issuer was not given: DefaultIssuer of Addr
	AdminPassword Secret    // password of the reserved admin user on first start
	LogLevel      string    // debug, info, warn, error
	Provision     Provision // outbox worker and GitLab target (P1, P2)
	SMTP          SMTPConfig
	Auth          AuthConfig
	Server        ServerConfig
	// SQLiteSynchronous is normal or full (--sqlite-synchronous, issue 15).
	SQLiteSynchronous string
	// DefaultSigningAlg signs the ID tokens of clients that name no
	// algorithm (--default-signing-alg, SPEC §9).
	DefaultSigningAlg string

	// OpenID Connect provider (S1).
	KeyEncryptionKey   Secret        // AES-256 key of the signing keys; empty: a file in DataDir
	SigningKeyRotation time.Duration // age at which the signing key is replaced
	InsecureIssuer     bool          // allow an http:// issuer on a host other than localhost (development)
	// Timezone is the time zone of users created without one (U1).
	Timezone string
	// SkillsFile is the skills configuration (G7, YAML); empty: no skills.
	SkillsFile string
}

// Defaults (SPEC §7).
const (
	DefaultAddr    = "localhost:8080"
	DefaultDataDir = "./opsiam-data"
	// DefaultSigningKeyRotation replaces the OpenID Connect signing key monthly.
	DefaultSigningKeyRotation = 30 * 24 * time.Hour
)

// DSN returns the database to open: Database, or the SQLite file in DataDir.
func (c Config) DSN() string {
	if c.Database != "" {
		return c.Database
	}
	return filepath.Join(c.DataDir, "opsiam.db")
}

// DefaultIssuer is the issuer of a server listening on addr that was given
// none: http://HOST:PORT, with localhost for a wildcard host (":8080",
// "0.0.0.0:8080"), and port in place of addr's when it is given (the port
// the system chose for ":0").
func DefaultIssuer(addr, port string) string {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	if port != "" {
		p = port
	}
	return "http://" + net.JoinHostPort(host, p)
}

// UsesSQLite reports whether the embedded SQLite database is used.
func (c Config) UsesSQLite() bool {
	return !strings.HasPrefix(c.DSN(), "postgres://") && !strings.HasPrefix(c.DSN(), "postgresql://")
}

// Load builds a Config for the command name from defaults, the environment
// (through getenv) and args, and validates it. It returns the remaining
// positional arguments. Help output and flag errors go to errOut.
func Load(name string, args []string, getenv func(string) string, errOut io.Writer) (Config, []string, error) {
	if path := configPath(args, getenv); path != "" {
		file, err := readConfigFile(path, FlagNames())
		if err != nil {
			return Config{}, nil, err
		}
		getenv = withFile(getenv, file)
	}
	c := Config{
		Addr:       envOr(getenv, "OPSIAM_ADDR", DefaultAddr),
		DataDir:    envOr(getenv, "OPSIAM_DATA_DIR", DefaultDataDir),
		Database:   getenv("OPSIAM_DATABASE"),
		Issuer:     getenv("OPSIAM_ISSUER"),
		LogLevel:   envOr(getenv, "OPSIAM_LOG_LEVEL", "info"),
		Timezone:   envOr(getenv, "OPSIAM_DEFAULT_TIMEZONE", "UTC"),
		SkillsFile: getenv("OPSIAM_SKILLS_FILE"),
	}
	c.AdminPassword = Secret(getenv("OPSIAM_ADMIN_PASSWORD"))
	c.KeyEncryptionKey = Secret(getenv("OPSIAM_KEY_ENCRYPTION_KEY"))
	c.SigningKeyRotation = DefaultSigningKeyRotation
	var envErrs []error
	if v := getenv("OPSIAM_SIGNING_KEY_ROTATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			envErrs = append(envErrs, fmt.Errorf("OPSIAM_SIGNING_KEY_ROTATION %q: want a duration such as 720h", v))
		}
		c.SigningKeyRotation = d
	}
	if v := getenv("OPSIAM_INSECURE_ISSUER"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			envErrs = append(envErrs, fmt.Errorf("OPSIAM_INSECURE_ISSUER %q: want true or false", v))
		}
		c.InsecureIssuer = b
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(errOut)
	envErrs = append(envErrs, defineFlags(fs, &c, getenv)...)
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	if len(envErrs) > 0 {
		return c, fs.Args(), errors.Join(append(envErrs, c.Validate())...)
	}
	if c.Issuer == "" {
		c.Issuer, c.IssuerDefault = DefaultIssuer(c.Addr, ""), true
	}
	return c, fs.Args(), c.Validate()
}

// FlagNames lists the flags every command takes (the ones Load parses), so
// that a command with flags of its own can hand these to Load wherever they
// appear on its command line.
func FlagNames() map[string]bool {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	defineFlags(fs, &Config{}, func(string) string { return "" })
	names := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { names[f.Name] = true })
	return names
}

// BoolFlags lists the flags of FlagNames that take no value (a command
// line parser must not take the next argument as theirs).
func BoolFlags() map[string]bool {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	defineFlags(fs, &Config{}, func(string) string { return "" })
	names := map[string]bool{"h": true, "help": true}
	fs.VisitAll(func(f *flag.Flag) {
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			names[f.Name] = true
		}
	})
	return names
}

// defineFlags defines the flags of Load on fs, with c's values (from the
// environment) as defaults, and returns the errors of environment values.
func defineFlags(fs *flag.FlagSet, c *Config, getenv func(string) string) []error {
	fs.String("config", "", "configuration file, YAML whose keys are these flags' names; flags beat environment beat file (OPSIAM_CONFIG)")
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address HOST:PORT (OPSIAM_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory for the SQLite file (OPSIAM_DATA_DIR)")
	fs.StringVar(&c.Database, "database", c.Database, "database DSN; postgres://… selects PostgreSQL; default: SQLite in the data directory (OPSIAM_DATABASE)")
	fs.StringVar(&c.Issuer, "issuer", c.Issuer, "public URL of the server, the OpenID Connect issuer; default http://ADDR (OPSIAM_ISSUER)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (OPSIAM_LOG_LEVEL)")
	fs.StringVar(&c.Timezone, "default-timezone", c.Timezone, "IANA time zone of users created without one (OPSIAM_DEFAULT_TIMEZONE)")
	fs.StringVar(&c.SkillsFile, "skills-file", c.SkillsFile, "skills configuration, YAML (OPSIAM_SKILLS_FILE)")
	fs.Func("key-encryption-key", "32-byte key (base64 or hex) that encrypts the OpenID Connect signing keys; default: generated into DATA-DIR/key-encryption-key (OPSIAM_KEY_ENCRYPTION_KEY)",
		func(v string) error { c.KeyEncryptionKey = Secret(v); return nil })
	fs.DurationVar(&c.SigningKeyRotation, "signing-key-rotation", c.SigningKeyRotation, "replace the OpenID Connect signing key after this long (OPSIAM_SIGNING_KEY_ROTATION)")
	fs.BoolVar(&c.InsecureIssuer, "insecure-issuer", c.InsecureIssuer, "allow an http:// issuer on a host other than localhost; development only (OPSIAM_INSECURE_ISSUER)")
	envErrs := c.Provision.flags(getenv, fs)
	authFlags(fs, c, getenv, &envErrs)
	serverFlags(fs, c, getenv, &envErrs)
	return envErrs
}

// Validate names every bad field at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: want HOST:PORT: %v", c.Addr, err))
	}
	if c.Database == "" && c.DataDir == "" {
		errs = append(errs, errors.New("data-dir: required when no database is given"))
	}
	if !strings.HasPrefix(c.Issuer, "http://") && !strings.HasPrefix(c.Issuer, "https://") {
		errs = append(errs, fmt.Errorf("issuer %q: must be an http:// or https:// URL", c.Issuer))
	}
	if c.SigningKeyRotation < time.Hour {
		errs = append(errs, fmt.Errorf("signing-key-rotation %s: must be at least 1h", c.SigningKeyRotation))
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" || c.Timezone == "Local" {
		errs = append(errs, fmt.Errorf("default-timezone %q: want an IANA zone name such as Asia/Tokyo", c.Timezone))
	}
	if _, err := c.SlogLevel(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.Provision.validate()...)
	errs = append(errs, c.validateAuth()...)
	errs = append(errs, c.validateServer()...)
	return errors.Join(errs...)
}

// SlogLevel parses LogLevel.
func (c Config) SlogLevel() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

package config

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// ServerConfig bounds what one request and the server's shutdown may take
// (issue 14): a hanging database or a slow client never holds a request,
// a connection or the shutdown for ever.
type ServerConfig struct {
	// RequestTimeout is every request's deadline; a request that runs out
	// of it (a locked table, a database that does not answer) ends with 503.
	RequestTimeout time.Duration
	// ReadTimeout bounds reading a request, body included (slow clients).
	ReadTimeout time.Duration
	// ShutdownTimeout is how long a shutdown waits for requests in flight;
	// then they are cut, logged, and the process exits 0.
	ShutdownTimeout time.Duration
}

// serverFlags registers the flags of ServerConfig with their OPSIAM_*
// twins; a bad environment value is appended to errs.
func serverFlags(fs *flag.FlagSet, c *Config, getenv func(string) string, errs *[]error) {
	s := &c.Server
	dur := func(p *time.Duration, name, env string, def time.Duration, usage string) {
		*p = def
		if v := getenv(env); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s %q: want a duration such as 30s", env, v))
			}
			*p = d
		}
		fs.DurationVar(p, name, *p, usage+" ("+env+")")
	}
	dur(&s.RequestTimeout, "request-timeout", "OPSIAM_REQUEST_TIMEOUT", 30*time.Second,
		"deadline of every request; one that runs out (a hanging database) answers 503")
	dur(&s.ReadTimeout, "read-timeout", "OPSIAM_READ_TIMEOUT", time.Minute, "time to read a whole request, body included")
	c.DefaultSigningAlg = "RS256"
	if v := getenv("OPSIAM_DEFAULT_SIGNING_ALG"); v != "" {
		c.DefaultSigningAlg = v
	}
	fs.StringVar(&c.DefaultSigningAlg, "default-signing-alg", c.DefaultSigningAlg,
		"algorithm of the ID tokens of clients that name none: RS256, ES256 or EdDSA (OPSIAM_DEFAULT_SIGNING_ALG)")
	c.SQLiteSynchronous = "normal"
	if v := getenv("OPSIAM_SQLITE_SYNCHRONOUS"); v != "" {
		c.SQLiteSynchronous = v
	}
	fs.StringVar(&c.SQLiteSynchronous, "sqlite-synchronous", c.SQLiteSynchronous,
		"SQLite commit durability: normal (may lose the last commits on power failure) or full (a sync per commit) (OPSIAM_SQLITE_SYNCHRONOUS)")
	dur(&s.ShutdownTimeout, "shutdown-timeout", "OPSIAM_SHUTDOWN_TIMEOUT", 15*time.Second,
		"how long a shutdown waits for requests in flight before it cuts them")
}

// validateServer names every bad server setting.
func (c Config) validateServer() []error {
	var errs []error
	if c.DefaultSigningAlg != "RS256" && c.DefaultSigningAlg != "ES256" && c.DefaultSigningAlg != "EdDSA" {
		errs = append(errs, fmt.Errorf("default-signing-alg %q: want RS256, ES256 or EdDSA", c.DefaultSigningAlg))
	}
	if c.SQLiteSynchronous != "normal" && c.SQLiteSynchronous != "full" {
		errs = append(errs, fmt.Errorf("sqlite-synchronous %q: want normal or full", c.SQLiteSynchronous))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"request-timeout", c.Server.RequestTimeout}, {"read-timeout", c.Server.ReadTimeout}, {"shutdown-timeout", c.Server.ShutdownTimeout}} {
		if d.v <= 0 {
			errs = append(errs, errors.New(d.name+": must be positive"))
		}
	}
	return errs
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/reqlog"
	"github.com/propusk/propusk/internal/seal"
)

// Config is everything the command reads from flags and PROPUSK_* variables.
// A flag wins over its variable; the variable wins over the default.
type Config struct {
	Addr           string
	Issuer         string
	Database       string // sqlite:///path, postgres://…, or empty for the embedded default
	DataDir        string
	SecretsKey     string // base64 keys, comma-separated; first encrypts
	SecretsKeyFile string
	NoMigrate      bool
	LogLevel       string
	LogFormat      string

	ShutdownTimeout time.Duration
	// TrustedProxies lists the reverse proxies whose X-Forwarded-For is
	// believed (addresses and CIDR prefixes, comma-separated).
	TrustedProxies string
}

// backend names what Database resolves to.
type backend struct {
	kind        string // "sqlite" | "postgres"
	path        string // sqlite file
	dsn         string // postgres connection string
	busyTimeout time.Duration
}

const (
	defaultAddr    = "127.0.0.1:8080"
	defaultDataDir = "propusk-data"
)

// registerCommon adds the flags every database-using command takes.
func (c *Config) registerCommon(fs *flag.FlagSet, env func(string) string) {
	fs.StringVar(&c.Database, "database", env("PROPUSK_DATABASE"), "database: sqlite:///path/to/file.db or postgres://… (default: SQLite in the data directory) [PROPUSK_DATABASE]")
	fs.StringVar(&c.DataDir, "data-dir", envOr(env, "PROPUSK_DATA_DIR", defaultDataDir), "directory for the embedded database and the generated secrets key [PROPUSK_DATA_DIR]")
	fs.StringVar(&c.SecretsKeyFile, "secrets-key-file", env("PROPUSK_SECRETS_KEY_FILE"), "file with the secrets key(s), one per line, first encrypts; needed with PostgreSQL by the commands that open sealed values (serve, keys, clients create and rotate-secret, secrets-key reseal) unless PROPUSK_SECRETS_KEY is set [PROPUSK_SECRETS_KEY_FILE]")
	fs.StringVar(&c.LogLevel, "log-level", envOr(env, "PROPUSK_LOG_LEVEL", "info"), "debug, info, warn or error [PROPUSK_LOG_LEVEL]")
	fs.StringVar(&c.LogFormat, "log-format", envOr(env, "PROPUSK_LOG_FORMAT", "text"), "text or json [PROPUSK_LOG_FORMAT]")
	c.SecretsKey = env("PROPUSK_SECRETS_KEY") // never a flag: it would show in the process list
}

// registerServe adds serve's own flags.
func (c *Config) registerServe(fs *flag.FlagSet, env func(string) string) {
	fs.StringVar(&c.Addr, "addr", envOr(env, "PROPUSK_ADDR", defaultAddr), "address to listen on [PROPUSK_ADDR]")
	fs.StringVar(&c.Issuer, "issuer", env("PROPUSK_ISSUER"), "public base URL, byte-identical in every token (default http://<addr>) [PROPUSK_ISSUER]")
	noMigrate, _ := strconv.ParseBool(env("PROPUSK_NO_MIGRATE"))
	fs.BoolVar(&c.NoMigrate, "no-migrate", noMigrate, "do not apply database migrations on start [PROPUSK_NO_MIGRATE]")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long to let requests finish on SIGTERM")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("PROPUSK_TRUSTED_PROXIES"), "reverse proxies whose X-Forwarded-For names the client: addresses and CIDR prefixes, comma-separated (default: none; the connection's address is the client's) [PROPUSK_TRUSTED_PROXIES]")
}

func envOr(env func(string) string, name, def string) string {
	if v := env(name); v != "" {
		return v
	}
	return def
}

// Validate reports every problem at once, before any socket or database is
// opened. serving says whether serve's settings apply; sealed, whether the
// command opens or seals values under the secrets key (only those need it:
// migrating, unlocking a second factor or listing clients seals nothing).
func (c *Config) Validate(serving, sealed bool) error {
	var errs []error
	b, err := c.backend()
	if err != nil {
		errs = append(errs, err)
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir must not be empty"))
	}
	if sealed && err == nil && b.kind == "postgres" && c.SecretsKey == "" && c.SecretsKeyFile == "" {
		errs = append(errs, errors.New("PostgreSQL needs a secrets key shared by every node: set PROPUSK_SECRETS_KEY or --secrets-key-file (generate one with: propusk secrets-key)"))
	}
	switch {
	case c.SecretsKey != "" && c.SecretsKeyFile != "":
		errs = append(errs, errors.New("give the secrets key either in PROPUSK_SECRETS_KEY or with --secrets-key-file, not both"))
	case c.SecretsKey != "":
		if _, err := seal.ParseKeys(c.SecretsKey); err != nil {
			errs = append(errs, fmt.Errorf("PROPUSK_SECRETS_KEY: %w", err))
		}
	case c.SecretsKeyFile != "":
		if _, err := seal.ReadKeyFile(c.SecretsKeyFile); err != nil {
			errs = append(errs, fmt.Errorf("--secrets-key-file: %w", err))
		}
	}
	if _, err := c.level(); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if serving {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			errs = append(errs, fmt.Errorf("--addr %q: want host:port", c.Addr))
		}
		if c.Issuer != "" {
			if err := validIssuer(c.Issuer); err != nil {
				errs = append(errs, err)
			}
		}
		if c.ShutdownTimeout <= 0 {
			errs = append(errs, errors.New("--shutdown-timeout must be positive"))
		}
		if _, err := reqlog.ParseProxies(c.TrustedProxies); err != nil {
			errs = append(errs, fmt.Errorf("--trusted-proxies: %w", err))
		}
	}
	return errors.Join(errs...)
}

// IssuerURL is the configured issuer, or one derived from the listen address.
func (c *Config) IssuerURL() string {
	if c.Issuer != "" {
		return c.Issuer
	}
	return "http://" + c.Addr
}

// validIssuer applies OpenID Connect Discovery's rules: https (http only on
// loopback, for development), no query, no fragment.
func validIssuer(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--issuer %q: want an absolute URL such as https://id.example.org", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "/") {
		return fmt.Errorf("--issuer %q: no query, fragment or trailing slash", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !clients.IsLoopbackHost(u.Hostname()) {
			return fmt.Errorf("--issuer %q: http is only for loopback hosts; use https", s)
		}
	default:
		return fmt.Errorf("--issuer %q: scheme must be https", s)
	}
	return nil
}

func (c *Config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// backend resolves Database. Messages never repeat a connection string, which
// may hold a password.
func (c *Config) backend() (backend, error) {
	d := c.Database
	switch {
	case d == "":
		return backend{kind: "sqlite", path: filepath.Join(c.DataDir, "propusk.db")}, nil
	case strings.HasPrefix(d, "sqlite://"):
		u, err := url.Parse(d)
		if err != nil {
			return backend{}, fmt.Errorf("--database: malformed sqlite URL: %v", err)
		}
		path := u.Path
		if u.Host != "" { // sqlite://relative/file.db
			path = u.Host + u.Path
		}
		if path == "" || strings.HasSuffix(path, "/") {
			return backend{}, errors.New("--database: sqlite URL needs a file, as in sqlite:///var/lib/propusk/propusk.db")
		}
		b := backend{kind: "sqlite", path: path}
		for k, v := range u.Query() {
			switch k {
			case "busy_timeout":
				t, err := time.ParseDuration(v[0])
				if err != nil || t <= 0 {
					return backend{}, fmt.Errorf("--database: busy_timeout=%q: want a duration such as 5s", v[0])
				}
				b.busyTimeout = t
			default:
				return backend{}, fmt.Errorf("--database: unknown sqlite option %q (known: busy_timeout)", k)
			}
		}
		return b, nil
	case strings.HasPrefix(d, "postgres://"), strings.HasPrefix(d, "postgresql://"):
		u, err := url.Parse(d)
		if err != nil || u.Host == "" {
			return backend{}, errors.New("--database: malformed PostgreSQL URL (want postgres://user:password@host:5432/database?sslmode=…)")
		}
		return backend{kind: "postgres", dsn: d}, nil
	default:
		scheme, _, ok := strings.Cut(d, "://")
		if !ok {
			scheme = "(none)"
		}
		return backend{}, fmt.Errorf("--database: unsupported scheme %s: want sqlite:///path/to/file.db or postgres://…", scheme)
	}
}

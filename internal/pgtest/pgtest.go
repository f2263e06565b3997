// Package pgtest gives tests a throwaway PostgreSQL server: one cluster per test binary,
// started on first use from Debian's postgresql package (`make postgresql` installs it) into a
// temporary directory, listening on 127.0.0.1 and a socket in that directory, and stopped by
// Main when the tests end; each test gets a database of its own, copied from a template that
// holds Junction's schema (so a test does not wait for the migrations). JUNCTION_TEST_POSTGRES,
// a URL of a user who may create databases, uses that server instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver

	"github.com/junction-dev/junction/db"
)

// Cluster is a running PostgreSQL server.
type Cluster struct {
	base     *url.URL // a URL of the admin user, without the database
	admin    *sql.DB
	external bool // JUNCTION_TEST_POSTGRES: not ours to restart or stop

	bin, dir, runAs string
	port            int
	databases       atomic.Int64

	templateOnce sync.Once
	template     string // a database migrated to Junction's schema, with no key check yet
	templateErr  error
	empty        string        // a script that empties every table but schema_migrations
	reseed       []seededTable // then puts back the rows the migrations made

	mu   sync.Mutex
	free []string // databases used by tests that ended, emptied
}

var (
	once     sync.Once
	started  *Cluster
	startErr error
)

// Require returns the test binary's cluster, starting it on first use. Without PostgreSQL the
// test fails, unless JUNCTION_SKIP_POSTGRES=1 outside CI.
func Require(tb testing.TB) *Cluster {
	tb.Helper()
	once.Do(func() { started, startErr = start() })
	if startErr != nil {
		if os.Getenv("JUNCTION_SKIP_POSTGRES") == "1" && os.Getenv("CI") != "true" {
			tb.Skipf("no PostgreSQL (%v) and JUNCTION_SKIP_POSTGRES=1", startErr)
		}
		tb.Fatalf("PostgreSQL for the tests: %v (run `make postgresql`, set JUNCTION_TEST_POSTGRES, or JUNCTION_SKIP_POSTGRES=1 outside CI)", startErr)
	}
	return started
}

// NewDatabase creates an empty database for tb on the test binary's cluster, dropped when tb
// ends, and returns its URL (with the password).
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	return Require(tb).NewDatabase(tb)
}

// Main runs the tests, then each of before (to close what still uses the cluster), and then
// stops the cluster, if one was started. Call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M, before ...func()) int {
	code := m.Run()
	for _, fn := range before {
		fn()
	}
	if started == nil {
		return code
	}
	if started.external {
		for _, name := range append(started.free, started.template) {
			if name != "" {
				started.admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
			}
		}
		started.admin.Close()
	} else if err := started.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
	}
	return code
}

// NewDatabase returns the URL of a database with Junction's schema and no data, for tb alone
// until it ends, when the database is emptied for the next test. db.Open with any key opens
// it as a new installation. Emptying it takes milliseconds where copying the template takes
// hundreds.
func (c *Cluster) NewDatabase(tb testing.TB) string {
	tb.Helper()
	c.templateOnce.Do(func() { c.templateErr = c.makeTemplate() })
	if c.templateErr != nil {
		tb.Fatalf("template database: %v", c.templateErr)
	}
	c.mu.Lock()
	var name string
	if n := len(c.free); n > 0 {
		name, c.free = c.free[n-1], c.free[:n-1]
	}
	c.mu.Unlock()
	if name == "" {
		name = c.newDatabase(tb, " TEMPLATE "+c.template)
	}
	tb.Cleanup(func() {
		if err := c.reset(name); err != nil {
			c.drop(tb, name)
			return
		}
		c.mu.Lock()
		c.free = append(c.free, name)
		c.mu.Unlock()
	})
	return c.URL(name)
}

// LongLivedDatabase returns the URL of a new database with Junction's schema that lives until
// Main ends, for benchmarks whose data outlives one benchmark function.
func (c *Cluster) LongLivedDatabase() (string, error) {
	c.templateOnce.Do(func() { c.templateErr = c.makeTemplate() })
	if c.templateErr != nil {
		return "", c.templateErr
	}
	name := fmt.Sprintf("junction_bench_%d_%d", os.Getpid(), c.databases.Add(1))
	if _, err := c.admin.ExecContext(context.Background(), `CREATE DATABASE `+name+` TEMPLATE `+c.template); err != nil {
		return "", err
	}
	c.mu.Lock()
	c.free = append(c.free, name) // dropped by Main on a server of JUNCTION_TEST_POSTGRES
	c.mu.Unlock()
	return c.URL(name), nil
}

// NewEmptyDatabase creates a database without any schema, dropped when tb ends, and returns
// its URL: for tests of the migrations themselves.
func (c *Cluster) NewEmptyDatabase(tb testing.TB) string {
	tb.Helper()
	name := c.newDatabase(tb, "")
	tb.Cleanup(func() { c.drop(tb, name) })
	return c.URL(name)
}

// makeTemplate migrates a database once, without the key check (so that it opens with any
// key), and records how to bring a copy back to that state: the tables to empty, and the rows
// the migrations seeded.
func (c *Cluster) makeTemplate() error {
	name := fmt.Sprintf("junction_template_%d", os.Getpid())
	ctx := context.Background()
	if _, err := c.admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return err
	}
	c.template = name
	key := make([]byte, 32)
	rand.Read(key)
	store, err := db.Open(ctx, c.URL(name), key)
	if err != nil {
		return err
	}
	if err := store.Close(); err != nil {
		return err
	}
	conn, err := sql.Open("pgx", c.URL(name))
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `DELETE FROM settings`); err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'schema_migrations' ORDER BY 1`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	c.reseed = nil
	for _, t := range tables {
		var rowsJSON sql.NullString
		if err := conn.QueryRowContext(ctx, `SELECT json_agg(t)::text FROM `+t+` t`).Scan(&rowsJSON); err != nil {
			return err
		}
		if rowsJSON.Valid {
			c.reseed = append(c.reseed, seededTable{name: t, rows: rowsJSON.String})
		}
	}
	// DELETE with the foreign-key triggers off (a superuser's session_replication_role) is
	// far cheaper for a test's few rows than TRUNCATE, which makes new files for every table
	// and index. Identity columns simply go on counting.
	var script strings.Builder
	script.WriteString("SET LOCAL lock_timeout = '2s'; SET LOCAL session_replication_role = replica;\n")
	for _, t := range tables {
		script.WriteString("DELETE FROM " + t + ";\n")
	}
	c.empty = script.String()
	return nil
}

// seededTable is a table that the migrations put rows in, with those rows as JSON.
type seededTable struct{ name, rows string }

// reset brings a used database back to the template's state.
func (c *Cluster) reset(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := sql.Open("pgx", c.URL(name))
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// A test that left a transaction open holds locks: after lock_timeout the database is
	// dropped rather than waited for.
	if _, err := tx.ExecContext(ctx, c.empty); err != nil {
		return err
	}
	for _, t := range c.reseed {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+t.name+` SELECT * FROM json_populate_recordset(NULL::`+t.name+`, $1)`, t.rows); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (c *Cluster) newDatabase(tb testing.TB, from string) string {
	tb.Helper()
	name := fmt.Sprintf("junction_test_%d_%d", os.Getpid(), c.databases.Add(1))
	if _, err := c.admin.ExecContext(context.Background(), `CREATE DATABASE `+name+from); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	return name
}

func (c *Cluster) drop(tb testing.TB, name string) {
	if _, err := c.admin.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		tb.Errorf("drop database %s: %v", name, err)
	}
}

// URL returns the URL of database name on the cluster.
func (c *Cluster) URL(name string) string {
	u := *c.base
	u.Path = "/" + name
	return u.String()
}

// Password returns the password in the cluster's URLs, for tests that check it is never
// printed.
func (c *Cluster) Password() string {
	pw, _ := c.base.User.Password()
	return pw
}

// PasswordUser creates a user who signs in with SCRAM and returns a URL of database name for
// it with password, for tests of a wrong password.
func (c *Cluster) PasswordUser(tb testing.TB, user, password, name string) string {
	tb.Helper()
	if _, err := c.admin.ExecContext(context.Background(), fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s'`, user, password)); err != nil {
		tb.Fatalf("create role %s: %v", user, err)
	}
	tb.Cleanup(func() { c.admin.ExecContext(context.Background(), `DROP ROLE IF EXISTS `+user) })
	u := *c.base
	u.User = url.UserPassword(user, password)
	u.Path = "/" + name
	return u.String()
}

// Exec runs a statement as the admin user on database name.
func (c *Cluster) Exec(tb testing.TB, name, stmt string) {
	tb.Helper()
	conn, err := sql.Open("pgx", c.URL(name))
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), stmt); err != nil {
		tb.Fatalf("%s: %v", stmt, err)
	}
}

// Stop stops the server (fast: open connections are cut) without removing its data; Start
// starts it again on the same port. Fault tests use them to restart PostgreSQL under load.
func (c *Cluster) Stop(tb testing.TB) {
	tb.Helper()
	if c.external {
		tb.Fatal("pgtest: JUNCTION_TEST_POSTGRES names a server the tests may not stop")
	}
	if out, err := c.pgCtl("-m", "fast", "stop"); err != nil {
		tb.Fatalf("stop PostgreSQL: %v\n%s", err, out)
	}
}

// Start starts the server stopped by Stop.
func (c *Cluster) Start(tb testing.TB) {
	tb.Helper()
	if out, err := c.startServer(); err != nil {
		tb.Fatalf("start PostgreSQL: %v\n%s", err, out)
	}
}

func start() (*Cluster, error) {
	if dsn := os.Getenv("JUNCTION_TEST_POSTGRES"); dsn != "" {
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, errors.New("JUNCTION_TEST_POSTGRES is not a URL")
		}
		c := &Cluster{base: u, external: true}
		return c, c.connect()
	}
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "junction-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, dir: dir}
	if err := c.initdb(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if out, err := c.startServer(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start: %v: %s", err, strings.TrimSpace(out))
	}
	if err := c.connect(); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// findBin finds the newest of Debian's /usr/lib/postgresql/N/bin, or initdb on PATH.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("initdb not found: install Debian's postgresql package")
}

// initdb makes a cluster whose superuser "junction" signs in with a random password over TCP.
// initdb refuses to run as root, so root runs it as the postgres user, in a directory that
// user owns.
func (c *Cluster) initdb() error {
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			return errors.New("running as root, and there is no postgres user to run initdb as")
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(c.dir, uid, gid); err != nil {
			return err
		}
		c.runAs = "postgres"
	}
	password := make([]byte, 12)
	rand.Read(password)
	pw := hex.EncodeToString(password)
	pwFile := filepath.Join(c.dir, "pw")
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o644); err != nil {
		return err
	}
	if c.runAs != "" {
		if err := c.chownToPostgres(pwFile); err != nil {
			return err
		}
	}
	out, err := c.run(filepath.Join(c.bin, "initdb"), "-D", filepath.Join(c.dir, "data"), "-U", "junction",
		"--pwfile", pwFile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C",
		"--no-sync", "--no-instructions")
	os.Remove(pwFile)
	if err != nil {
		return fmt.Errorf("initdb: %v: %s", err, strings.TrimSpace(out))
	}
	// The tests' URLs carry the password, so that they show it is never printed, but the
	// server does not check it for the main user: SCRAM costs tens of milliseconds per
	// connection under the race detector. Other users (PasswordUser) sign in with SCRAM.
	hba := filepath.Join(c.dir, "data", "pg_hba.conf")
	conf, err := os.ReadFile(hba)
	if err != nil {
		return err
	}
	conf = append([]byte("host all junction 127.0.0.1/32 trust\n"), conf...)
	if err := os.WriteFile(hba, conf, 0o600); err != nil {
		return err
	}
	if c.runAs != "" {
		if err := c.chownToPostgres(hba); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.base = &url.URL{Scheme: "postgres", User: url.UserPassword("junction", pw),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)), RawQuery: "sslmode=disable"}
	return nil
}

func (c *Cluster) chownToPostgres(path string) error {
	pg, err := user.Lookup("postgres")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	return os.Chown(path, uid, gid)
}

// startServer starts the server for tests: no fsync, small buffers, enough connections for
// several stores at once.
func (c *Cluster) startServer() (string, error) {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "+
		"-c full_page_writes=off -c shared_buffers=128MB -c max_connections=300", c.port, c.dir)
	return c.pgCtl("-o", opts, "-w", "-t", "60", "start")
}

func (c *Cluster) pgCtl(args ...string) (string, error) {
	args = append([]string{"-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "log")}, args...)
	return c.run(filepath.Join(c.bin, "pg_ctl"), args...)
}

func (c *Cluster) run(name string, args ...string) (string, error) {
	if c.runAs != "" {
		args = append([]string{"-u", c.runAs, "--", name}, args...)
		name = "runuser"
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

func (c *Cluster) connect() error {
	var err error
	if c.admin, err = sql.Open("pgx", c.URL("postgres")); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.admin.PingContext(ctx); err != nil {
		return fmt.Errorf("connect to %s: %v", c.base.Redacted(), err)
	}
	return nil
}

func (c *Cluster) stop() error {
	if c.admin != nil {
		c.admin.Close()
	}
	out, err := c.pgCtl("-m", "immediate", "stop")
	if rmErr := os.RemoveAll(c.dir); err == nil {
		err = rmErr
	}
	if err != nil {
		return fmt.Errorf("stop PostgreSQL: %v: %s", err, strings.TrimSpace(out))
	}
	return nil
}

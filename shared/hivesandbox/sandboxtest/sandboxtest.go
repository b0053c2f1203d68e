// Package sandboxtest starts the Hive sandbox for other packages' tests and drives it as
// those tests do: through the gohive client of shared/hive, failing the test on any error.
// Everything started is stopped by the test's cleanup.
package sandboxtest

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/hivesandbox"
)

// Sandbox is a running sandbox over a warehouse of its own.
type Sandbox struct {
	*hivesandbox.Server
	// Dir is the warehouse directory. Symlinks in it are resolved (macOS /var is
	// /private/var), so that the locations Hive reports and the paths a test walks agree.
	Dir  string
	Host string
	Port int
}

// Start starts a sandbox on a free loopback port over a fresh temporary warehouse, logging
// warnings and errors to the test's output. opts change its configuration before it starts.
func Start(t testing.TB, opts ...func(*hivesandbox.Config)) *Sandbox {
	t.Helper()
	dir := t.TempDir()
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	cfg := hivesandbox.Config{Addr: "127.0.0.1:0", Warehouse: dir, Logger: Logger(t)}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := hivesandbox.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	host, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return &Sandbox{Server: srv, Dir: srv.Warehouse().Dir(), Host: host, Port: p}
}

// Logger logs warnings and errors to the test's output: what a test reader needs when it
// fails, without the noise of every statement.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// Client opens a client of the sandbox with cfg, whose address, transport (binary), auth
// (NOSASL) and logger (Logger) are filled in where cfg leaves them empty.
func (s *Sandbox) Client(t testing.TB, cfg hive.Config) *hive.Client {
	t.Helper()
	if cfg.Host == "" {
		cfg.Host, cfg.Port = s.Host, s.Port
	}
	if cfg.Transport == "" {
		cfg.Transport = hive.TransportBinary
	}
	if cfg.Auth == "" {
		cfg.Auth = hive.AuthNoSASL
	}
	if cfg.Logger == nil {
		cfg.Logger = Logger(t)
	}
	c, err := hive.New(cfg)
	if err != nil {
		t.Fatalf("hive.New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Exec runs the test's own HiveQL through c, one statement after the other, with $WAREHOUSE
// standing for the warehouse directory.
func (s *Sandbox) Exec(t testing.TB, c *hive.Client, stmts ...string) {
	t.Helper()
	for _, stmt := range stmts {
		stmt = strings.ReplaceAll(stmt, "$WAREHOUSE", s.Dir)
		if err := c.Exec(context.Background(), stmt, nil); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// AppendFiles writes n data files into db.table, or into its partition part (registered if
// new), as a writer outside Hive would; the i-th file (from 0) holds rows(i).
func (s *Sandbox) AppendFiles(t testing.TB, db, table string, part map[string]string, n int, rows func(i int) [][]string) {
	t.Helper()
	for i := range n {
		if _, err := s.Warehouse().AppendFile(context.Background(), db, table, part, rows(i)); err != nil {
			t.Fatalf("append to %s.%s %v: %v", db, table, part, err)
		}
	}
}

// Partition is what a merge must keep of a partition, its rows, and what it may change, its
// location, as a user reads them through Hive.
type Partition struct {
	Name     string        // as SHOW PARTITIONS names it; "" for a table without partitions
	Rows     hive.Checksum // count and checksum
	Location string
}

// Partitions reads db.table through c: every partition in Hive's order, or the table alone
// when it has no partition columns.
func Partitions(t testing.TB, c *hive.Client, db, table string) []Partition {
	t.Helper()
	ctx := context.Background()
	src := hql.Table{Database: db, Name: table}
	tb, err := c.DescribeTable(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if !tb.Partitioned() {
		rows, err := c.Checksum(ctx, src, tb.DataColumns(), hql.Spec{})
		if err != nil {
			t.Fatal(err)
		}
		return []Partition{{Rows: rows, Location: tb.Location}}
	}
	parts, err := c.Partitions(ctx, src, hql.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	var out []Partition
	for _, p := range parts {
		spec, err := tb.Spec(p.Spec())
		if err != nil {
			t.Fatal(err)
		}
		rows, err := c.Checksum(ctx, src, tb.DataColumns(), spec)
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.DescribePartition(ctx, src, spec)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Partition{Name: p.Name, Rows: rows, Location: d.Location})
	}
	return out
}

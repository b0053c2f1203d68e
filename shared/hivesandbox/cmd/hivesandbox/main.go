// Command hivesandbox serves the HiveServer2-protocol sandbox over a local warehouse directory,
// for the demo and for trying clients by hand. It is a sandbox, not a Hive.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hivemerge/hivemerge/shared/cloudlog"
	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/hiveql"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "hivesandbox:", err)
		os.Exit(1)
	}
}

const usage = `hivesandbox serves a HiveServer2-protocol SANDBOX (not a Hive) over a local warehouse.

  hivesandbox -addr 127.0.0.1:10000 -warehouse DIR [-generate] [flags]

Clients connect with auth NOSASL (or NONE/LDAP when -users is set) to -addr, or over HTTP at
http://HTTP-ADDR/cliservice. Faults are managed as JSON at /sandbox/faults on -http-addr and
-admin-addr (GET lists, POST adds, DELETE clears). Logs are JSON on stderr.

A table, partition or database LOCATION must lie strictly below the warehouse directory or a
directory given with -allow-dir, since DROP and INSERT OVERWRITE delete the files there.

Flags:
`

// run is the whole program; main only wires it to the process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hivesandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	var (
		addr       = fs.String("addr", "127.0.0.1:10000", "binary transport `address`: NOSASL, or SASL PLAIN when -users is set")
		httpAddr   = fs.String("http-addr", "", "HTTP transport `address` (Thrift at /cliservice, faults at /sandbox/faults); empty: off")
		adminAddr  = fs.String("admin-addr", "", "separate fault admin `address` (/sandbox/faults, /healthz); empty: off")
		warehouse  = fs.String("warehouse", "", "warehouse `directory` (created if missing; required)")
		users      = fs.String("users", "", "accepted credentials `user:password,...`; enables SASL PLAIN and HTTP Basic auth (default $HIVESANDBOX_USERS)")
		tlsCert    = fs.String("tls-cert", "", "TLS certificate `file` (PEM); serves every transport over TLS, with -tls-key")
		tlsKey     = fs.String("tls-key", "", "TLS private key `file` (PEM)")
		faultsFile = fs.String("faults", "", "JSON `file` of faults to inject at start (an array of {match, action, delay, message, times, at_commit, write})")
		logLevel   = fs.String("log-level", "info", "log `level`: debug, info, warn or error")
		allowDirs  dirList

		generate   = fs.Bool("generate", false, "fill the warehouse with generated tables of small files, once: not again after it has been generated ("+hiveql.GeneratedMarker+") or when it has tables")
		regenerate = fs.Bool("regenerate", false, "generate even when the warehouse was generated or has tables")
		seed       = fs.Int64("seed", 1, "generator seed; the same seed gives the same warehouse")
		databases  = fs.String("databases", "", "generated database `names`, comma-separated (default: the generator's)")
		scale      = fs.Int("scale", 100, "generated warehouse size in `percent` of the demo's (about 33,000 files at 100)")
		maxFiles   = fs.Int("max-files", 0, "upper bound on generated files (0: the generator's default)")
		maxStmt    = fs.Int("max-statement-bytes", 0, "longest statement accepted, in `bytes` (0: 1 MiB)")
	)
	fs.Var(&allowDirs, "allow-dir", "`directory` below which LOCATION may point besides the warehouse; repeatable or comma-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *warehouse == "" {
		fs.Usage()
		return errors.New("-warehouse is required")
	}
	level, err := cloudlog.ParseLevel(*logLevel)
	if err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := cloudlog.New(stderr, level)

	cfg := hivesandbox.Config{Addr: *addr, HTTPAddr: *httpAddr, AdminAddr: *adminAddr, Warehouse: *warehouse, ExtraRoots: allowDirs, MaxStatementBytes: *maxStmt, Logger: log}
	if *users == "" {
		*users = os.Getenv("HIVESANDBOX_USERS")
	}
	if *users != "" {
		var err error
		if cfg.Users, err = parseUsers(*users); err != nil {
			return fmt.Errorf("-users: %w", err)
		}
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("TLS: %w", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if *faultsFile != "" {
		faults, err := hivesandbox.LoadFaults(*faultsFile)
		if err != nil {
			return fmt.Errorf("-faults: %w", err)
		}
		cfg.Faults = faults
	}

	if *generate || *regenerate {
		if *scale <= 0 {
			return errors.New("-scale must be a positive percentage")
		}
		opts := hiveql.GenerateOptions{Seed: *seed, Scale: *scale, MaxFiles: *maxFiles}
		if *databases != "" {
			opts.Databases = strings.Split(*databases, ",")
		}
		if err := generateWarehouse(ctx, log, stdout, *warehouse, allowDirs, opts, *regenerate); err != nil {
			return err
		}
	}

	// The server outlives ctx by the few lines below, so that shutdown is logged in order.
	srv, err := hivesandbox.Start(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "hivesandbox (a HiveServer2 sandbox, not a Hive) listening: binary=%s http=%s admin=%s\n",
		srv.Addr(), orOff(srv.HTTPAddr()), orOff(srv.AdminAddr()))
	<-ctx.Done()
	log.Info("shutting down", "reason", context.Cause(ctx).Error())
	return srv.Close()
}

func orOff(addr string) string {
	if addr == "" {
		return "off"
	}
	return addr
}

// dirList is a repeatable flag of comma-separated directories.
type dirList []string

func (d *dirList) String() string { return strings.Join(*d, ",") }

func (d *dirList) Set(v string) error {
	for _, dir := range strings.Split(v, ",") {
		if dir = strings.TrimSpace(dir); dir != "" {
			*d = append(*d, dir)
		}
	}
	return nil
}

// parseUsers reads "user:password,user2:password2".
func parseUsers(s string) (map[string]string, error) {
	users := make(map[string]string)
	for _, pair := range strings.Split(s, ",") {
		user, password, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("%q is not user:password", pair)
		}
		users[user] = password
	}
	return users, nil
}

// generateWarehouse fills the warehouse before the server opens it, so that no client ever
// sees it half generated, and prints the generator's summary. It generates once: a warehouse
// with the marker file, or one that has tables (a user's), is left alone unless force. An
// interrupted run left no marker, so the next one starts over.
func generateWarehouse(ctx context.Context, log *slog.Logger, stdout io.Writer, dir string, allowDirs []string, opts hiveql.GenerateOptions, force bool) error {
	wh, err := hiveql.Open(dir)
	if err != nil {
		return fmt.Errorf("open warehouse: %w", err)
	}
	defer wh.Close()
	// The same roots as the server's, so that tables there are replaced rather than refused.
	if err := wh.AllowLocations(allowDirs...); err != nil {
		return fmt.Errorf("-allow-dir: %w", err)
	}
	marker := filepath.Join(wh.Dir(), hiveql.GeneratedMarker)
	if !force {
		if _, err := os.Stat(marker); err == nil {
			log.Info("warehouse already generated; not generating again (use -regenerate to force)", "marker", marker)
			return nil
		}
		n, err := countTables(ctx, wh)
		if err != nil {
			return fmt.Errorf("inspect warehouse: %w", err)
		}
		if n > 0 {
			log.Info("warehouse already has tables; not generating (use -regenerate to force)", "tables", n)
			return nil
		}
	}
	log.Info("generating warehouse", "dir", dir, "seed", opts.Seed, "scale", opts.Scale)
	start := time.Now()
	rep, err := hiveql.Generate(ctx, wh, opts)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	summary := fmt.Sprintf("generated in %s (seed %d, scale %d%%): %s\n", time.Since(start).Round(100*time.Millisecond), opts.Seed, opts.Scale, rep)
	if err := os.WriteFile(marker, []byte(summary), 0o644); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	log.Info("warehouse generated", "tables", rep.Tables, "partitions", rep.Partitions, "files", rep.Files, "bytes", rep.Bytes,
		"worst_table", rep.Worst.Table, "worst_partition", rep.Worst.Partition, "worst_files", rep.Worst.Files)
	fmt.Fprint(stdout, summary)
	return nil
}

func countTables(ctx context.Context, wh *hiveql.Warehouse) (int, error) {
	sess := wh.NewSession("hivesandbox")
	dbs, err := sess.Execute(ctx, "SHOW DATABASES", hiveql.Events{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, row := range dbs.Rows {
		db, _ := row[0].(string)
		res, err := sess.Execute(ctx, "SHOW TABLES IN `"+db+"`", hiveql.Events{})
		if err != nil {
			return 0, err
		}
		if res != nil {
			n += len(res.Rows)
		}
	}
	return n, nil
}

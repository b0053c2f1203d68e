// Command hivemerge drives a hivemerge server from scripts and terminals over its REST API:
// clusters, scans, tables, previews, merges, tasks and their logs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes. Scripts rely on them: they are documented in usage and the README, and only
// ever added to.
const (
	exitOK          = 0
	exitUsage       = 1   // bad command, flag or argument; nothing was sent
	exitRefused     = 2   // the API refused the request (400, 405, other 4xx; an endpoint this server lacks)
	exitNotFound    = 3   // 404: no such task, cluster, table or scan
	exitConflict    = 4   // 409: e.g. an active task already targets the table or partition
	exitAuth        = 5   // 401 or 403: no valid token, or a role that may not do this
	exitUnavailable = 6   // 5xx, connection refused, no answer within --timeout
	exitFailed      = 7   // the work ended badly: a task failed or was cancelled, a scan failed, a connection test failed
	exitInterrupted = 130 // interrupted (Ctrl-C, SIGTERM)
)

const usage = `hivemerge drives a hivemerge server over its REST API.

Usage:
  hivemerge [global flags] <command> [arguments] [flags]

Commands:
  clusters                      list registered clusters
  clusters get ID               show one cluster
  clusters add --id ID --host HOST [--port N] [--password-ref env:NAME] ...
  clusters test ID              connect to a cluster; shows the stage reached and why it failed
  clusters rm ID                remove a cluster
  scan CLUSTER [--db DB]        scan a cluster's tables and wait for the scan to finish
  tables CLUSTER DB             tables of a database, worst first
  preview TASK_ID               the exact plan of a task
  preview --cluster C --db D --table T [--partition k=v,...] [--strategy S] [--target-size 256MB]
  create --cluster C --db D --table T [--partition k=v,...] [--strategy S] [--target-size SIZE]
  merge  (as create) [--wait]   create a task and execute it; --wait follows it to the end
  tasks [--status S] [--cluster C] [--db D] [--table T] [--limit N] [--all]
  tasks get ID                  a task with its progress and statistics
  tasks stats                   counts by status, files and bytes saved
  logs ID [--follow] [--sql]    a task's log; --follow polls until the task ends
  cancel ID                     cancel a pending or running task
  rollback ID                   point a merged table back at the backup the task kept
  help                          this text; "hivemerge <command> -h" explains one command

Global flags (before or after the command):
  --url URL         server ($HIVEMERGE_URL, else http://127.0.0.1:8080); a deployed API
                    function's URL such as https://REGION-PROJECT.cloudfunctions.net/API works
  --token TOKEN     bearer token ($HIVEMERGE_API_TOKEN, better: a flag shows in the process
                    list); never printed. It is only sent over https, or over http to a
                    loopback address, unless --insecure
  --insecure        allow sending the token over plain http to another host
  --json            print the API's JSON as is, one document (logs --follow: one entry a line)
  --timeout D       bound on each request (default 30s)
  --no-color        no colours even on a terminal (NO_COLOR is honoured too)

Exit codes:
  0    ok
  1    usage error: bad command, flag or argument (nothing was sent)
  2    the API refused the request (400 invalid, 405, other 4xx), or the server lacks the endpoint
  3    not found (404): no such task, cluster, table or scan
  4    conflict (409): e.g. an active task already targets the same table or partition
  5    unauthenticated or forbidden (401, 403)
  6    server or network unavailable (5xx, connection refused, no answer within --timeout)
  7    the work ended badly: a task failed or was cancelled (merge --wait, logs --follow),
       a scan failed, a connection test failed
  130  interrupted

Examples:
  export HIVEMERGE_API_TOKEN=demo-admin-token
  hivemerge clusters test demo
  hivemerge tables demo sales
  hivemerge preview --cluster demo --db sales --table orders --partition dt=2024-01-01
  hivemerge merge --cluster demo --db sales --table orders --partition dt=2024-01-01 --wait
  hivemerge tasks --status failed --all --json | jq -r '.tasks[].id'
  hivemerge logs --follow --sql 3f2a...
`

// command is one subcommand.
type command struct {
	name string
	run  func(a *app, args []string) error
}

var commands = []command{
	{"clusters", (*app).clusters},
	{"scan", (*app).scan},
	{"tables", (*app).tables},
	{"preview", (*app).preview},
	{"create", (*app).create},
	{"merge", (*app).merge},
	{"tasks", (*app).tasks},
	{"logs", (*app).logs},
	{"cancel", (*app).cancel},
	{"rollback", (*app).rollback},
}

// globals are the flags every command accepts.
type globals struct {
	url      string
	token    secretFlag
	insecure bool
	json     bool
	timeout  time.Duration
	noColor  bool
}

// secretFlag holds the token. Its String is always empty, so flag's usage never prints it as
// a default.
type secretFlag string

func (s *secretFlag) String() string     { return "" }
func (s *secretFlag) Set(v string) error { *s = secretFlag(v); return nil }

var globalNames = []string{"url", "token", "insecure", "json", "timeout", "no-color"}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.url, "url", g.url, "server `URL` ($HIVEMERGE_URL)")
	fs.Var(&g.token, "token", "bearer `token` ($HIVEMERGE_API_TOKEN)")
	fs.BoolVar(&g.insecure, "insecure", g.insecure, "allow the token over plain http to a non-loopback host")
	fs.BoolVar(&g.json, "json", g.json, "print the API's JSON")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "bound on each request")
	fs.BoolVar(&g.noColor, "no-color", g.noColor, "no colours")
}

// app is one invocation: its flags, its streams and its client.
type app struct {
	ctx    context.Context
	g      globals
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	api    *client
	// tty says stdout is a terminal: progress bars and colours go there only.
	tty bool
}

// run is the whole program; it returns the exit code. No command reads standard input yet;
// it is passed so that one can without changing how run is called.
func run(ctx context.Context, args []string, getenv func(string) string, _ io.Reader, stdout, stderr io.Writer) int {
	a := &app{ctx: ctx, getenv: getenv, stdout: stdout, stderr: stderr}
	a.g.url = getenv("HIVEMERGE_URL")
	if a.g.url == "" {
		a.g.url = "http://127.0.0.1:8080"
	}
	a.g.timeout = 30 * time.Second
	fs := flag.NewFlagSet("hivemerge", flag.ContinueOnError)
	a.g.register(fs)
	rest, err := a.parse(fs, args[1:], usage, true)
	if err == nil && len(rest) == 0 {
		fmt.Fprint(stderr, usage)
		err = usageErrorf("no command given")
	}
	if err == nil {
		name := rest[0]
		if name == "help" {
			return a.help(rest[1:])
		}
		i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
		if i < 0 {
			err = usageErrorf("unknown command %q; run \"hivemerge help\"", name)
		} else {
			err = commands[i].run(a, rest[1:])
		}
	}
	return a.exit(err)
}

func (a *app) help(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(a.stdout, usage)
		return exitOK
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		return a.exit(usageErrorf("unknown command %q; run \"hivemerge help\"", args[0]))
	}
	return a.exit(commands[i].run(a, append(args[1:], "-h")))
}

// exit reports err on stderr and turns it into an exit code.
func (a *app) exit(err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	code := exitCode(a.ctx, err)
	if code == exitInterrupted {
		fmt.Fprintln(a.stderr, "hivemerge: interrupted")
		return code
	}
	fmt.Fprintln(a.stderr, "hivemerge:", err)
	return code
}

// errHelp ends a command that printed its help.
var errHelp = errors.New("help requested")

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// failedError is work that ran and ended badly.
type failedError struct{ msg string }

func (e *failedError) Error() string { return e.msg }

func exitCode(ctx context.Context, err error) int {
	if ctx.Err() != nil {
		return exitInterrupted
	}
	if _, ok := errors.AsType[*usageError](err); ok {
		return exitUsage
	}
	if _, ok := errors.AsType[*failedError](err); ok {
		return exitFailed
	}
	if e, ok := errors.AsType[*apiError](err); ok {
		return e.exitCode()
	}
	return exitUnavailable
}

// parse parses args with fs, which also accepts the global flags. Flags may follow positional
// arguments (tasks get ID --json); "--" ends flags. top parses the global flags before the
// command, so it stops at the command's name.
func (a *app) parse(fs *flag.FlagSet, args []string, help string, top bool) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional, after []string
	if i := slices.Index(args, "--"); i >= 0 && !top {
		args, after = args[:i], args[i+1:]
	}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(a.stdout, help)
				if !top {
					printFlags(a.stdout, fs)
				}
				return nil, errHelp
			}
			if top {
				return nil, usageErrorf("%v (see hivemerge help)", err)
			}
			return nil, usageErrorf("%s: %v (see hivemerge %s -h)", fs.Name(), err, fs.Name())
		}
		args = fs.Args()
		if top || len(args) == 0 {
			positional = append(positional, args...)
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	positional = append(positional, after...)
	if !top {
		if err := a.connect(); err != nil {
			return nil, err
		}
	}
	return positional, nil
}

// printFlags lists a command's own flags; the global ones are in hivemerge help.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	heading := false
	fs.VisitAll(func(f *flag.Flag) {
		if slices.Contains(globalNames, f.Name) {
			return
		}
		if !heading {
			fmt.Fprintln(w, "\nFlags:")
			heading = true
		}
		name, text := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" && f.DefValue != "[]" {
			text += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%-28s %s\n", line, text)
	})
	fmt.Fprintln(w, "\nGlobal flags (--url, --token, --insecure, --json, --timeout, --no-color) and exit codes: hivemerge help")
}

// connect checks the global flags and builds the client. The token is refused over plain
// http to anything but loopback: anyone on the path would read it.
func (a *app) connect() error {
	if a.api != nil {
		return nil
	}
	token := string(a.g.token)
	if token == "" {
		token = a.getenv("HIVEMERGE_API_TOKEN")
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return usageErrorf("the token contains white space")
	}
	u, err := url.Parse(a.g.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("--url %q is not an http:// or https:// URL", redact(a.g.url))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return usageErrorf("--url %q may not carry credentials, a query or a fragment", u.Redacted())
	}
	if token != "" && u.Scheme == "http" && !loopback(u.Hostname()) && !a.g.insecure {
		return usageErrorf("refusing to send the token over plain http to %s: use https, or --insecure if the network is trusted", u.Host)
	}
	if a.g.timeout <= 0 {
		return usageErrorf("--timeout must be positive")
	}
	a.api = &client{base: u, token: token, timeout: a.g.timeout}
	a.tty = isTerminal(a.stdout)
	return nil
}

// redact hides whatever a URL that does not parse might carry after a scheme's "//".
func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	if i := strings.Index(s, "@"); i >= 0 {
		return "...@" + s[i+1:]
	}
	return s
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// color says whether output may carry ANSI colours.
func (a *app) color() bool {
	return a.tty && !a.g.noColor && a.getenv("NO_COLOR") == "" && a.getenv("TERM") != "dumb"
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

const logsUsage = `Usage:
  hivemerge logs ID [--follow] [--sql] [--interval 2s]

Prints a task's log in order. --follow keeps polling for new entries until the task ends, then
exits 0 when it succeeded and 7 when it failed or was cancelled. --sql shows the HiveQL of
each step. With --json, one document {"logs": [...]}, or with --follow one entry a line.

Examples:
  hivemerge logs 3f2a9c...
  hivemerge logs --follow --sql 3f2a9c...
`

// logPage is a page of a task's log as the API sends it.
type logPage struct {
	Logs      []json.RawMessage `json:"logs"`
	NextAfter int64             `json:"next_after"`
}

func (a *app) logs(args []string) error {
	fs := a.flags("logs")
	follow := fs.Bool("follow", false, "poll for new entries until the task ends")
	showSQL := fs.Bool("sql", false, "show the SQL of each step")
	interval := fs.Duration("interval", 2*time.Second, "how often --follow polls")
	pos, err := a.args(fs, args, logsUsage, "ID")
	if err != nil {
		return err
	}
	if *interval <= 0 {
		return usageErrorf("logs: --interval must be positive")
	}
	id := pos[0]
	var (
		after int64
		all   []json.RawMessage
	)
	// drain prints or collects every entry after the last one seen.
	drain := func() error {
		for {
			var page logPage
			q := url.Values{"after": {strconv.FormatInt(after, 10)}}
			if _, err := a.get("/api/v1/tasks/"+seg(id)+"/logs", q, &page); err != nil {
				return err
			}
			if len(page.Logs) == 0 {
				return nil
			}
			for _, r := range page.Logs {
				if err := a.logEntry(r, *follow, *showSQL); err != nil {
					return err
				}
			}
			all = append(all, page.Logs...)
			if page.NextAfter <= after {
				return nil
			}
			after = page.NextAfter
		}
	}
	if !*follow {
		if err := drain(); err != nil {
			return err
		}
		if a.g.json {
			if all == nil {
				all = []json.RawMessage{}
			}
			b, err := json.Marshal(logPage{Logs: all, NextAfter: after})
			if err != nil {
				return err
			}
			return a.raw(b)
		}
		if len(all) == 0 {
			fmt.Fprintf(a.stdout, "task %s has no log entries yet\n", id)
		}
		return nil
	}
	fmt.Fprintf(a.stderr, "following the log of task %s until it ends\n", id)
	for {
		// The task is read before the log: entries written before it ended are then drained
		// below, and none is missed.
		var t merge.Task
		if _, err := a.get("/api/v1/tasks/"+seg(id), nil, &t); err != nil {
			return err
		}
		if err := drain(); err != nil {
			return err
		}
		if terminal(t.Status) {
			return a.ended(&t)
		}
		if err := a.sleep(*interval); err != nil {
			return err
		}
	}
}

// logEntry prints one entry: a line of JSON when following with --json, else a line for
// people. Without --json and without follow, entries are only collected.
func (a *app) logEntry(raw json.RawMessage, follow, showSQL bool) error {
	if a.g.json {
		if follow {
			return a.raw(compact(raw))
		}
		return nil
	}
	var e merge.LogEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("a log entry is not what this client understands: %v", err)
	}
	level := fmt.Sprintf("%-5s", strings.ToUpper(string(e.Level)))
	switch e.Level {
	case "error":
		level = a.paint(red, level)
	case "warn":
		level = a.paint(yellow, level)
	case "debug":
		level = a.paint(dim, level)
	}
	line := e.Time.UTC().Format("15:04:05") + " " + level
	if e.Step != "" {
		line += " [" + e.Step + "]"
	}
	line += " " + e.Message
	if e.DurationMS > 0 {
		line += " (" + humanMS(e.DurationMS) + ")"
	}
	fmt.Fprintln(a.stdout, line)
	if showSQL && e.SQL != "" {
		for l := range strings.SplitSeq(strings.TrimRight(e.SQL, "\n"), "\n") {
			fmt.Fprintln(a.stdout, "    "+a.paint(dim, l))
		}
	}
	return nil
}

// compact drops the white space of a JSON value so that it fits one line.
func compact(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// ended reports how a task ended: nil for success, a failedError otherwise.
func (a *app) ended(t *merge.Task) error {
	switch t.Status {
	case merge.StatusSuccess:
		return nil
	case merge.StatusFailed:
		msg := "task " + t.ID + " failed"
		if t.Error != "" {
			msg += ": " + t.Error
		}
		return &failedError{msg}
	}
	msg := "task " + t.ID + " was " + string(t.Status)
	if t.CancelledBy != "" {
		msg += " by " + t.CancelledBy
	}
	return &failedError{msg}
}

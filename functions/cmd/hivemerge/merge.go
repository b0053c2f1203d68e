package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

const previewUsage = `Usage:
  hivemerge preview TASK_ID
  hivemerge preview --cluster C --db D --table T [--partition k=v[,k=v]]... [--strategy S]
                    [--target-size SIZE] [--sql]

Shows the exact plan of a merge before anything runs: per partition the files and bytes
before and after, the strategy and why, what is skipped and why, the NameNode objects saved,
and the totals. --sql shows the HiveQL of each partition.

Examples:
  hivemerge preview --cluster demo --db sales --table orders --partition dt=2024-01-01 --sql
  hivemerge preview 3f2a9c... --json
`

func (a *app) preview(args []string) error {
	fs := a.flags("preview")
	var tf taskFlags
	tf.register(fs, false)
	showSQL := fs.Bool("sql", false, "show the HiveQL of each partition")
	pos, err := a.parse(fs, args, previewUsage, false)
	if err != nil {
		return err
	}
	var raw []byte
	var p merge.Preview
	switch {
	case len(pos) == 1 && tf.cluster == "" && tf.db == "" && tf.table == "":
		raw, err = a.do(http.MethodGet, "/api/v1/tasks/"+seg(pos[0])+"/preview", nil, nil, nil, "preview")
	case len(pos) == 0:
		body, berr := tf.body(false)
		if berr != nil {
			return berr
		}
		path := fmt.Sprintf("/api/v1/tables/%s/%s/%s/merge-preview", seg(tf.cluster), seg(tf.db), seg(tf.table))
		raw, err = a.do(http.MethodPost, path, nil, body, nil, "preview")
	default:
		return usageErrorf("preview takes a task id, or --cluster, --db and --table (see hivemerge preview -h)")
	}
	if err != nil {
		return err
	}
	if a.g.json {
		return a.raw(raw)
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		// A server newer than this client: show what it said rather than nothing.
		fmt.Fprintln(a.stderr, "hivemerge: the preview is not in a shape this client knows; its JSON follows")
		return a.raw(raw)
	}
	return a.printPreview(&p, *showSQL)
}

func (a *app) printPreview(p *merge.Preview, showSQL bool) error {
	head := []string{
		"table", p.Database + "." + p.Table,
		"task", p.TaskID,
		"strategy", string(p.Strategy),
		"requested", ifTrue(p.RequestedStrategy != "" && p.RequestedStrategy != p.Strategy, string(p.RequestedStrategy)),
		"reason", p.Reason,
		"target size", ifPositive(p.TargetFileSize, humanBytes(p.TargetFileSize)),
		"statistics from", string(p.Source),
		"estimated time", p.DurationEstimate,
	}
	if err := fields(a.stdout, head...); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout)
	t := newTable(a.stdout, "PARTITION", "FILES", "BYTES", "STRATEGY", "NN OBJECTS SAVED", "NOTE")
	for _, pp := range p.Partitions {
		name := pp.Partition
		if name == "" {
			name = "(table)"
		}
		note := pp.Reason
		if pp.Skipped {
			note = a.paint(yellow, "skipped: "+pp.SkipReason)
		}
		t.row(name, fmt.Sprintf("%s → %s", count(pp.FilesBefore), count(pp.FilesAfter)),
			fmt.Sprintf("%s → %s", humanBytes(pp.BytesBefore), humanBytes(pp.BytesAfter)),
			string(pp.Strategy), count(pp.NameNodeObjectsSaved), note)
	}
	tt := p.Totals
	t.row("total", fmt.Sprintf("%s → %s", count(tt.FilesBefore), count(tt.FilesAfter)),
		fmt.Sprintf("%s → %s", humanBytes(tt.BytesBefore), humanBytes(tt.BytesAfter)), "",
		count(tt.NameNodeObjectsSaved), fmt.Sprintf("%d to merge, %d skipped", tt.PartitionsToMerge, tt.PartitionsSkipped))
	if err := t.flush(); err != nil {
		return err
	}
	for _, w := range p.Warnings {
		fmt.Fprintln(a.stdout, a.paint(yellow, "warning: "+w))
	}
	if showSQL {
		for _, pp := range p.Partitions {
			if len(pp.Statements) == 0 {
				continue
			}
			name := pp.Partition
			if name == "" {
				name = p.Database + "." + p.Table
			}
			fmt.Fprintf(a.stdout, "\n-- %s\n", name)
			for _, s := range pp.Statements {
				fmt.Fprintln(a.stdout, strings.TrimRight(s, ";\n")+";")
			}
		}
	}
	return nil
}

const mergeUsage = `Usage:
  hivemerge merge --cluster C --db D --table T [--partition k=v[,k=v]]... [--strategy S]
                  [--target-size SIZE] [--name NAME] [--wait] [--interval 2s]

Creates a task and executes it. With --wait it follows the task to its end (a progress bar on
a terminal, a line per change otherwise), prints the files and bytes before and after, and
exits 0 on success and 7 when the task failed or was cancelled. Look first with
"hivemerge preview" and the same flags.

Examples:
  hivemerge merge --cluster demo --db sales --table orders --partition dt=2024-01-01 --wait
  id=$(hivemerge merge --cluster demo --db sales --table orders --json | jq -r .id)
`

func (a *app) merge(args []string) error {
	fs := a.flags("merge")
	var tf taskFlags
	tf.register(fs, true)
	wait := fs.Bool("wait", false, "follow the task until it ends")
	interval := fs.Duration("interval", 2*time.Second, "how often --wait polls")
	if _, err := a.args(fs, args, mergeUsage); err != nil {
		return err
	}
	if *interval <= 0 {
		return usageErrorf("merge: --interval must be positive")
	}
	body, err := tf.body(true)
	if err != nil {
		return err
	}
	var t merge.Task
	if _, err := a.do(http.MethodPost, "/api/v1/tasks/", nil, body, &t, ""); err != nil {
		return err
	}
	if !a.g.json {
		fmt.Fprintf(a.stderr, "task %s created: %s\n", t.ID, tableName(&t))
	}
	raw, err := a.do(http.MethodPost, "/api/v1/tasks/"+seg(t.ID)+"/execute", nil, nil, &t, "merge")
	if err != nil {
		// A task left pending would block the next one on this table.
		if e, ok := errors.AsType[*apiError](err); ok && e.unsupported {
			if _, cerr := a.do(http.MethodPost, "/api/v1/tasks/"+seg(t.ID)+"/cancel", nil, nil, nil, ""); cerr == nil {
				return fmt.Errorf("%w; task %s, created for it, was cancelled so that it blocks no other task", err, t.ID)
			}
			return fmt.Errorf("%w; task %s was created and is pending: hivemerge cancel %s", err, t.ID, t.ID)
		}
		return err
	}
	if !*wait {
		if a.g.json {
			return a.raw(raw)
		}
		fmt.Fprintf(a.stdout, "task %s started; follow it with: hivemerge logs --follow %s\n", t.ID, t.ID)
		return nil
	}
	return a.wait(t.ID, *interval)
}

// wait polls a task until it ends, showing progress, then its statistics.
func (a *app) wait(id string, interval time.Duration) error {
	var (
		t    merge.Task
		raw  []byte
		last string
		err  error
	)
	bar := a.tty && !a.g.json
	for {
		t = merge.Task{}
		if raw, err = a.get("/api/v1/tasks/"+seg(id), nil, &t); err != nil {
			if bar {
				fmt.Fprintln(a.stdout)
			}
			return err
		}
		line := fmt.Sprintf("%s %3d%%", t.Status, t.Progress)
		if t.Step != "" {
			line += " " + t.Step
		}
		switch {
		case bar:
			fmt.Fprintf(a.stdout, "\r\x1b[K%s %s", progressBar(t.Progress, 30), line)
		case !a.g.json && line != last:
			fmt.Fprintln(a.stdout, line)
		}
		last = line
		if terminal(t.Status) {
			break
		}
		if err := a.sleep(interval); err != nil {
			if bar {
				fmt.Fprintln(a.stdout)
			}
			return err
		}
	}
	if bar {
		fmt.Fprintln(a.stdout)
	}
	if a.g.json {
		if err := a.raw(raw); err != nil {
			return err
		}
		return a.ended(&t)
	}
	s := t.Stats
	fmt.Fprintf(a.stdout, "task %s %s", t.ID, a.status(t.Status))
	if s != (merge.Stats{}) {
		fmt.Fprintf(a.stdout, ": files %s → %s, bytes %s → %s", count(s.FilesBefore), count(s.FilesAfter), humanBytes(s.BytesBefore), humanBytes(s.BytesAfter))
		if s.DurationMS > 0 {
			fmt.Fprintf(a.stdout, ", in %s", humanMS(s.DurationMS))
		}
	}
	fmt.Fprintln(a.stdout)
	return a.ended(&t)
}

// progressBar draws pct percent of width cells.
func progressBar(pct, width int) string {
	pct = min(max(pct, 0), 100)
	n := pct * width / 100
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "]"
}

const rollbackUsage = `Usage:
  hivemerge rollback ID

Points the table of a merged task back at the backup the task kept.
`

func (a *app) rollback(args []string) error {
	fs := a.flags("rollback")
	pos, err := a.args(fs, args, rollbackUsage, "ID")
	if err != nil {
		return err
	}
	raw, err := a.do(http.MethodPost, "/api/v1/tasks/"+seg(pos[0])+"/rollback", nil, nil, nil, "rollback")
	if err != nil {
		return err
	}
	if a.g.json {
		return a.raw(raw)
	}
	fmt.Fprintf(a.stdout, "task %s rolled back\n", pos[0])
	return scalars(a.stdout, raw)
}

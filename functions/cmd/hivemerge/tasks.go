package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

const tasksUsage = `Usage:
  hivemerge tasks [list] [--status S] [--cluster C] [--db D] [--table T] [--limit N] [--all | --page-token P]
  hivemerge tasks get ID
  hivemerge tasks stats

Statuses: pending, running, success, failed, cancelled. Without --all one page is shown and
the token of the next one is printed on stderr; --all follows every page (with --json, one
document {"tasks": [...]}).

Examples:
  hivemerge tasks --status running
  hivemerge tasks --cluster demo --table orders --all --json | jq -r '.tasks[].id'
  hivemerge tasks get 3f2a9c...
`

func (a *app) tasks(args []string) error {
	sub := "list"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "list", "ls":
		return a.tasksList(args)
	case "get", "show":
		return a.taskGet(args)
	case "stats":
		return a.taskStats(args)
	}
	return usageErrorf("tasks: unknown subcommand %q (list, get, stats)", sub)
}

func (a *app) tasksList(args []string) error {
	fs := a.flags("tasks")
	var (
		status  = fs.String("status", "", "only tasks with this `status`")
		cluster = fs.String("cluster", "", "only tasks on this cluster `id`")
		db      = fs.String("db", "", "only tasks on this `database`")
		tbl     = fs.String("table", "", "only tasks on this `table`")
		limit   = fs.Int("limit", 0, "tasks per page (server default)")
		all     = fs.Bool("all", false, "follow every page")
		page    = fs.String("page-token", "", "continue a listing from this `token`")
	)
	if _, err := a.args(fs, args, tasksUsage); err != nil {
		return err
	}
	if *all && *page != "" {
		return usageErrorf("tasks: --all and --page-token exclude each other")
	}
	if *limit < 0 {
		return usageErrorf("tasks: --limit may not be negative")
	}
	q := url.Values{}
	for k, v := range map[string]string{"status": *status, "cluster_id": *cluster, "database_name": *db, "table_name": *tbl, "page_token": *page} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if *limit > 0 {
		q.Set("limit", strconv.Itoa(*limit))
	}
	var (
		raws  []json.RawMessage
		tasks []merge.Task
		next  string
		first []byte
	)
	for {
		var body struct {
			Tasks         []json.RawMessage `json:"tasks"`
			NextPageToken string            `json:"next_page_token"`
		}
		raw, err := a.get("/api/v1/tasks/", q, &body)
		if err != nil {
			return err
		}
		if first == nil {
			first = raw
		}
		for _, r := range body.Tasks {
			var t merge.Task
			if err := json.Unmarshal(r, &t); err != nil {
				return fmt.Errorf("GET /api/v1/tasks/: a task is not what this client understands: %v", err)
			}
			raws, tasks = append(raws, r), append(tasks, t)
		}
		next = body.NextPageToken
		if !*all || next == "" {
			break
		}
		q.Set("page_token", next)
	}
	if a.g.json {
		if !*all {
			return a.raw(first)
		}
		if raws == nil {
			raws = []json.RawMessage{}
		}
		b, err := json.Marshal(map[string]any{"tasks": raws})
		if err != nil {
			return err
		}
		return a.raw(b)
	}
	if len(tasks) == 0 {
		fmt.Fprintln(a.stdout, "no tasks")
	} else {
		t := newTable(a.stdout, "ID", "STATUS", "PROGRESS", "TABLE", "PARTITIONS", "STRATEGY", "FILES", "CREATED")
		for _, task := range tasks {
			t.row(task.ID, a.status(task.Status), fmt.Sprintf("%d%%", task.Progress), tableName(&task),
				partitions(task.Partitions), strategy(&task), filesChange(task.Stats), humanTime(task.CreatedAt))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if next != "" {
		fmt.Fprintf(a.stderr, "more tasks: add --all, or --page-token %s\n", next)
	}
	return nil
}

func (a *app) taskGet(args []string) error {
	fs := a.flags("tasks get")
	pos, err := a.args(fs, args, tasksUsage, "ID")
	if err != nil {
		return err
	}
	var t merge.Task
	raw, err := a.get("/api/v1/tasks/"+seg(pos[0]), nil, &t)
	if err != nil {
		return err
	}
	if a.g.json {
		return a.raw(raw)
	}
	return a.printTask(&t)
}

func (a *app) printTask(t *merge.Task) error {
	s := t.Stats
	kv := []string{
		"id", t.ID,
		"name", t.Name,
		"table", tableName(t),
		"partitions", partitions(t.Partitions),
		"strategy", strategy(t),
		"reason", t.StrategyReason,
		"target size", ifPositive(t.TargetFileSize, humanBytes(t.TargetFileSize)),
		"status", a.status(t.Status),
		"cancel requested", ifTrue(t.CancelRequested, "yes"),
		"step", t.Step,
		"progress", fmt.Sprintf("%d%%", t.Progress),
		"error", t.Error,
		"created", humanTime(t.CreatedAt) + by(t.CreatedBy),
		"started", ifTrue(!t.StartedAt.IsZero(), humanTime(t.StartedAt)+by(t.ExecutedBy)),
		"finished", ifTrue(!t.FinishedAt.IsZero(), humanTime(t.FinishedAt)),
		"cancelled by", t.CancelledBy,
		"files", ifTrue(s != merge.Stats{}, fmt.Sprintf("%s → %s", count(s.FilesBefore), count(s.FilesAfter))),
		"bytes", ifTrue(s != merge.Stats{}, fmt.Sprintf("%s → %s", humanBytes(s.BytesBefore), humanBytes(s.BytesAfter))),
		"rows validated", ifPositive(s.RowsValidated, count(s.RowsValidated)),
		"duration", ifPositive(s.DurationMS, humanMS(s.DurationMS)),
	}
	return fields(a.stdout, kv...)
}

func (a *app) taskStats(args []string) error {
	fs := a.flags("tasks stats")
	if _, err := a.args(fs, args, tasksUsage); err != nil {
		return err
	}
	var body struct {
		Total      int64                  `json:"total"`
		ByStatus   map[merge.Status]int64 `json:"by_status"`
		FilesSaved int64                  `json:"files_saved"`
		BytesSaved int64                  `json:"bytes_saved"`
	}
	raw, err := a.get("/api/v1/tasks/stats", nil, &body)
	if err != nil {
		return err
	}
	if a.g.json {
		return a.raw(raw)
	}
	t := newTable(a.stdout, "STATUS", "TASKS")
	for _, s := range merge.Statuses {
		t.row(string(s), count(body.ByStatus[s]))
	}
	t.row("total", count(body.Total))
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\nsaved: %s files, %s\n", count(body.FilesSaved), humanBytes(body.BytesSaved))
	return nil
}

// taskFlags are the flags that describe a merge: create, merge and preview share them.
type taskFlags struct {
	cluster, db, table, strategy, size, name string
	partitions                               partitionList
}

func (f *taskFlags) register(fs *flag.FlagSet, withName bool) {
	fs.StringVar(&f.cluster, "cluster", "", "cluster `id` (required)")
	fs.StringVar(&f.db, "db", "", "`database` (required)")
	fs.StringVar(&f.table, "table", "", "`table` (required)")
	fs.Var(&f.partitions, "partition", "partition `spec` such as dt=2024-01-01,hr=00; repeat for several (default: the whole table)")
	fs.StringVar(&f.strategy, "strategy", "", "merge `strategy`: auto, safe_merge, concatenate, insert_overwrite or acid_compact (server default auto)")
	fs.StringVar(&f.size, "target-size", "", "target file `size` such as 256MB or 1GB (default: the planner's)")
	if withName {
		fs.StringVar(&f.name, "name", "", "task `name` shown in lists (default: DB.TABLE)")
	}
}

// body is the create or preview request. Keys left empty are omitted so that the server's
// defaults apply.
func (f *taskFlags) body(withTable bool) (map[string]any, error) {
	if f.cluster == "" || f.db == "" || f.table == "" {
		return nil, usageErrorf("--cluster, --db and --table are required")
	}
	b := map[string]any{}
	if withTable {
		name := f.name
		if name == "" {
			name = f.db + "." + f.table
		}
		b["cluster_id"], b["database_name"], b["table_name"], b["task_name"] = f.cluster, f.db, f.table, name
	}
	// A task spells them as the create request does; a table's merge-preview, shorter.
	partitions, strategy := "partition_filter", "merge_strategy"
	if !withTable {
		partitions, strategy = "partitions", "strategy"
	}
	if len(f.partitions) > 0 {
		b[partitions] = []map[string]string(f.partitions)
	}
	if f.strategy != "" {
		b[strategy] = f.strategy
	}
	if f.size != "" {
		n, err := parseSize(f.size)
		if err != nil {
			return nil, usageErrorf("--target-size: %v", err)
		}
		b["target_file_size_bytes"] = n
	}
	return b, nil
}

// partitionList collects repeated --partition flags.
type partitionList []map[string]string

func (p *partitionList) String() string {
	var parts []string
	for _, spec := range *p {
		parts = append(parts, merge.PartitionSpec(spec).String())
	}
	return strings.Join(parts, " ")
}

func (p *partitionList) Set(v string) error {
	spec := map[string]string{}
	for item := range strings.SplitSeq(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return fmt.Errorf("%q is not key=value[,key=value...]", v)
		}
		if _, dup := spec[k]; dup {
			return fmt.Errorf("%q names %s twice", v, k)
		}
		spec[k] = val
	}
	*p = append(*p, spec)
	return nil
}

const createUsage = `Usage:
  hivemerge create --cluster C --db D --table T [--partition k=v[,k=v]]... [--strategy S]
                   [--target-size SIZE] [--name NAME]

Creates a pending task; "hivemerge merge" also starts it. Sizes are binary: 256MB is 256 MiB.
A second task on a table or partition an active task targets is refused (exit 4).

Examples:
  hivemerge create --cluster demo --db sales --table orders
  hivemerge create --cluster demo --db sales --table events --partition dt=2024-01-01,hr=00 \
      --partition dt=2024-01-01,hr=01 --strategy safe_merge --target-size 256MB
`

func (a *app) create(args []string) error {
	fs := a.flags("create")
	var tf taskFlags
	tf.register(fs, true)
	if _, err := a.args(fs, args, createUsage); err != nil {
		return err
	}
	body, err := tf.body(true)
	if err != nil {
		return err
	}
	var t merge.Task
	raw, err := a.do(http.MethodPost, "/api/v1/tasks/", nil, body, &t, "")
	if err != nil {
		return err
	}
	if a.g.json {
		return a.raw(raw)
	}
	fmt.Fprintf(a.stdout, "task %s created: %s, %s\n", t.ID, tableName(&t), t.Status)
	return nil
}

const cancelUsage = `Usage:
  hivemerge cancel ID

A pending task is cancelled at once; a running one stops after its current step and restores
the table.
`

func (a *app) cancel(args []string) error {
	fs := a.flags("cancel")
	pos, err := a.args(fs, args, cancelUsage, "ID")
	if err != nil {
		return err
	}
	var t merge.Task
	raw, err := a.do(http.MethodPost, "/api/v1/tasks/"+seg(pos[0])+"/cancel", nil, nil, &t, "")
	if err != nil {
		return err
	}
	if a.g.json {
		return a.raw(raw)
	}
	if t.Status.Active() {
		fmt.Fprintf(a.stdout, "task %s: cancel requested; it stops after its current step\n", t.ID)
		return nil
	}
	fmt.Fprintf(a.stdout, "task %s: %s\n", t.ID, t.Status)
	return nil
}

func (a *app) status(s merge.Status) string {
	switch s {
	case merge.StatusSuccess:
		return a.paint(green, string(s))
	case merge.StatusFailed:
		return a.paint(red, string(s))
	case merge.StatusCancelled:
		return a.paint(yellow, string(s))
	}
	return string(s)
}

func tableName(t *merge.Task) string {
	return t.ClusterID + "/" + t.Database + "." + t.Table
}

func partitions(ps []merge.PartitionSpec) string {
	if len(ps) == 0 {
		return "all"
	}
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, " ")
}

func strategy(t *merge.Task) string {
	if t.ChosenStrategy != "" && t.ChosenStrategy != t.Strategy {
		return fmt.Sprintf("%s → %s", t.Strategy, t.ChosenStrategy)
	}
	return string(t.Strategy)
}

func filesChange(s merge.Stats) string {
	if s.FilesBefore == 0 && s.FilesAfter == 0 {
		return "-"
	}
	return fmt.Sprintf("%s → %s", count(s.FilesBefore), count(s.FilesAfter))
}

func by(who string) string {
	if who == "" {
		return ""
	}
	return " by " + who
}

func ifTrue(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}

func ifPositive(n int64, s string) string { return ifTrue(n > 0, s) }

// terminal says a task has ended.
func terminal(s merge.Status) bool { return s.Valid() && !s.Active() }

// sleep waits d, or less when ctx ends.
func (a *app) sleep(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-a.ctx.Done():
		return a.ctx.Err()
	case <-t.C:
		return nil
	}
}

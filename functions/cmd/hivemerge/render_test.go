package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// The endpoints behind preview and tables are not served yet; these tests render the shapes
// their contract names, so that the output is settled before the endpoints land.

func renderer() (*app, *bytes.Buffer) {
	var out bytes.Buffer
	return &app{ctx: context.Background(), getenv: func(string) string { return "" }, stdout: &out, stderr: &out}, &out
}

func TestPrintPreview(t *testing.T) {
	p := &merge.Preview{
		Database: "sales", Table: "events", RequestedStrategy: merge.StrategyAuto,
		Strategy: "safe_merge", Reason: "text table with small files: rewrite into a staging location and swap",
		TargetFileSize: 256 << 20, Source: merge.SourceListing, DurationEstimate: "unknown",
		Partitions: []merge.PartitionPreview{
			{Partition: "dt=2024-01-01/hr=00", FilesBefore: 1200, BytesBefore: 300 << 20, FilesAfter: 2, BytesAfter: 300 << 20,
				Strategy: "safe_merge", Reason: "1,200 files below 16 MiB", NameNodeObjectsSaved: 2398,
				Statements: []string{"SET hive.merge.mapfiles=true", "INSERT OVERWRITE TABLE `sales`.`events_hm_stage` SELECT * FROM `sales`.`events` WHERE `dt`='2024-01-01' AND `hr`='00'"}},
			{Partition: "dt=2024-01-01/hr=01", FilesBefore: 3, BytesBefore: 700 << 20, FilesAfter: 3, BytesAfter: 700 << 20,
				Skipped: true, SkipReason: "already healthy"},
		},
		Totals:   merge.PreviewTotals{Partitions: 2, PartitionsToMerge: 1, PartitionsSkipped: 1, FilesBefore: 1203, BytesBefore: 1000 << 20, FilesAfter: 5, BytesAfter: 1000 << 20, NameNodeObjectsSaved: 2398},
		Warnings: []string{"the table is read while it is rewritten"},
	}
	for _, sql := range []bool{false, true} {
		a, out := renderer()
		if err := a.printPreview(p, sql); err != nil {
			t.Fatal(err)
		}
		name := "render-preview"
		if sql {
			name += "-sql"
		}
		golden(t, name, out.String())
	}
}

func TestPrintTables(t *testing.T) {
	cases := []struct {
		name  string
		body  string
		limit int
		want  []string // table names in the order printed
	}{
		{"by objects saved", `{"tables":[{"table_name":"a","namenode_objects_saved":10},{"table_name":"b","namenode_objects_saved":300},{"table_name":"c","namenode_objects_saved":20}]}`, 0, []string{"b", "c", "a"}},
		{"then small files", `[{"name":"a","small_files":1},{"name":"b","small_files":9}]`, 0, []string{"b", "a"}},
		{"then lowest score", `{"items":[{"table_name":"good","health_score":90},{"table_name":"bad","health_score":12}]}`, 0, []string{"bad", "good"}},
		{"metrics nested", `{"tables":[{"table_name":"a","metrics":{"namenode_objects_saved":1}},{"table_name":"b","metrics":{"namenode_objects_saved":5}}]}`, 0, []string{"b", "a"}},
		{"limit", `{"tables":[{"table_name":"a","small_files":1},{"table_name":"b","small_files":2},{"table_name":"c","small_files":3}]}`, 2, []string{"c", "b"}},
		{"empty", `{"tables":[]}`, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, out := renderer()
			if err := a.printTables([]byte(c.body), "demo", "sales", c.limit); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			var got []string
			for _, l := range lines[1:] {
				got = append(got, strings.Fields(l)[0])
			}
			if c.want == nil {
				if !strings.Contains(out.String(), "no tables in demo.sales") {
					t.Errorf("output %q, want the no-tables hint", out)
				}
				return
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("order %q, want %q\n%s", got, c.want, out)
			}
		})
	}
	a, out := renderer()
	body := `{"tables":[{"table_name":"events","files":33000,"small_files":32000,"bytes":5368709120,"format":"text","health_score":7,"namenode_objects_saved":64000,"reason":"97% of files below 16 MiB"},{"table_name":"orders","files":12,"small_files":0,"bytes":1073741824,"format":"orc","health_score":100,"namenode_objects_saved":0}]}`
	if err := a.printTables([]byte(body), "demo", "sales", 0); err != nil {
		t.Fatal(err)
	}
	golden(t, "render-tables", out.String())
}

func TestScalars(t *testing.T) {
	var out bytes.Buffer
	err := scalars(&out, []byte(`{"scan_id":"s1","status":"success","tables":42,"bytes_scanned":1073741824,"duration_ms":65000,"ratio":0.25,"partial":false,"databases":["a"]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := "bytes scanned: 1.00 GiB\nduration:      1m5s\npartial:       no\nratio:         0.25\nscan id:       s1\nstatus:        success\ntables:        42\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestProgressBar(t *testing.T) {
	for pct, want := range map[int]string{-5: "[----]", 0: "[----]", 50: "[##--]", 100: "[####]", 250: "[####]"} {
		if got := progressBar(pct, 4); got != want {
			t.Errorf("progressBar(%d) = %q, want %q", pct, got, want)
		}
	}
}

func TestLogEntry(t *testing.T) {
	entries := []string{
		`{"seq":1,"time":"2024-05-01T10:00:00Z","level":"info","step":"plan","message":"chose safe_merge","duration_ms":1500}`,
		`{"seq":2,"time":"2024-05-01T10:00:02Z","level":"warn","message":"listing fell back to the metastore"}`,
		`{"seq":3,"time":"2024-05-01T10:00:03Z","level":"error","step":"swap","message":"ALTER TABLE failed","sql":"ALTER TABLE ` + "`sales`.`events`" + `\nSET LOCATION 'x'"}`,
	}
	cases := []struct {
		name      string
		tty       bool
		env       map[string]string
		sql       bool
		wantColor bool
	}{
		{"plain", false, nil, true, false},
		{"terminal", true, nil, false, true},
		{"terminal with NO_COLOR", true, map[string]string{"NO_COLOR": "1"}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, out := renderer()
			a.tty = c.tty
			a.getenv = func(k string) string { return c.env[k] }
			for _, e := range entries {
				if err := a.logEntry([]byte(e), false, c.sql); err != nil {
					t.Fatal(err)
				}
			}
			if got := strings.Contains(out.String(), red+"ERROR"); got != c.wantColor {
				t.Errorf("coloured %v, want %v:\n%q", got, c.wantColor, out)
			}
			if !c.wantColor && strings.Contains(out.String(), "\x1b[") {
				t.Errorf("escape codes without a terminal:\n%q", out)
			}
			if c.name == "plain" {
				golden(t, "render-logs-sql", out.String())
			}
		})
	}
}

// TestWait follows a task of the real server to its end, as merge --wait does once the
// server executes tasks: here the task is cancelled while it is being waited for.
func TestWait(t *testing.T) {
	url := startServer(t)
	id := createTask(t, url, "waited")
	a, out := renderer()
	a.g = globals{url: url, timeout: 10 * time.Second}
	a.getenv = func(k string) string { return map[string]string{"HIVEMERGE_API_TOKEN": token}[k] }
	if err := a.connect(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.wait(id, 10*time.Millisecond) }()
	if r := cli(t, url, nil, "cancel", id); r.code != 0 {
		t.Fatalf("cancel: %+v", r)
	}
	err := <-done
	if code := exitCode(context.Background(), err); code != exitFailed {
		t.Errorf("wait returned %v (exit %d), want exit %d", err, code, exitFailed)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; last != "task "+id+" cancelled" {
		t.Errorf("last line %q, want the task's end; output:\n%s", last, out)
	}
	if strings.Contains(out.String(), "\r") {
		t.Errorf("a progress bar without a terminal:\n%q", out)
	}
}

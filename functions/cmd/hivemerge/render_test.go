package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
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

// testdata/tables-response.json and scan-response.json are the discovery service's answers
// over the generated demo warehouse (scale 3).
func TestPrintTables(t *testing.T) {
	raw, err := os.ReadFile("testdata/tables-response.json")
	if err != nil {
		t.Fatal(err)
	}
	a, out := renderer()
	if err := a.printTables(list(raw, "tables"), "demo", "sales"); err != nil {
		t.Fatal(err)
	}
	golden(t, "render-tables", out.String())

	cases := []struct {
		name string
		body string
		want []string // table names in the order printed
	}{
		{"by objects saved", `{"tables":[{"table_name":"a","savings":{"namenode_objects":10}},{"table_name":"b","savings":{"namenode_objects":300}},{"table_name":"c","savings":{"namenode_objects":20}}]}`, []string{"b", "c", "a"}},
		{"then small files", `{"tables":[{"table_name":"a","stats":{"small_files":1}},{"table_name":"b","stats":{"small_files":9}}]}`, []string{"b", "a"}},
		{"then lowest score", `{"tables":[{"table_name":"good","health":{"score":90}},{"table_name":"bad","health":{"score":12}}]}`, []string{"bad", "good"}},
		{"then name", `{"tables":[{"table_name":"b"},{"table_name":"a"}]}`, []string{"a", "b"}},
		{"empty", `{"tables":[]}`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows := list([]byte(c.body), "tables")
			sortWorstFirst(rows)
			a, out := renderer()
			if err := a.printTables(rows, "demo", "sales"); err != nil {
				t.Fatal(err)
			}
			if c.want == nil {
				if !strings.Contains(out.String(), "no tables measured in demo.sales") {
					t.Errorf("output %q, want the hint to scan", out)
				}
				return
			}
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n")[1:] {
				got = append(got, strings.Fields(l)[0])
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("order %q, want %q\n%s", got, c.want, out)
			}
		})
	}
}

func TestPrintScan(t *testing.T) {
	raw, err := os.ReadFile("testdata/scan-response.json")
	if err != nil {
		t.Fatal(err)
	}
	obj := object(raw)
	if !scanEnded(obj) {
		t.Errorf("a succeeded scan is not taken as ended")
	}
	a, out := renderer()
	if err := a.printScan(obj); err != nil {
		t.Fatal(err)
	}
	golden(t, "render-scan", timeRe.ReplaceAllString(out.String(), "<TIME>"))
	for status, ended := range map[string]bool{"pending": false, "running": false, "succeeded": true, "failed": true, "cancelled": true, "interrupted": true} {
		if got := scanEnded(map[string]any{"status": status}); got != ended {
			t.Errorf("scanEnded(%s) = %v, want %v", status, got, ended)
		}
	}
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
// server executes tasks: here the task is cancelled while it is being waited for. On a
// terminal progress is a bar redrawn in place; elsewhere a line per change.
func TestWait(t *testing.T) {
	url := startServer(t)
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprintf("tty=%v", tty), func(t *testing.T) {
			id := createTask(t, url, fmt.Sprintf("waited_%v", tty))
			a, out := renderer()
			a.g = globals{url: url, timeout: 10 * time.Second}
			a.getenv = func(k string) string { return map[string]string{"HIVEMERGE_API_TOKEN": token}[k] }
			if err := a.connect(); err != nil {
				t.Fatal(err)
			}
			a.tty = tty
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
			end := "task " + id + " cancelled"
			if tty {
				end = "task " + id + " " + yellow + "cancelled" + reset
			}
			if last := lines[len(lines)-1]; last != end {
				t.Errorf("last line %q, want %q; output:\n%q", last, end, out)
			}
			if bar := strings.Contains(out.String(), "\r\x1b[K[------------------------------] cancelled   0%"); bar != tty {
				t.Errorf("progress bar drawn: %v, want %v; output:\n%q", bar, tty, out)
			}
		})
	}
}

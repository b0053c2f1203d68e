package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestConcurrentRuns(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	task := e.newTask(t, "logs", merge.StrategySafeMerge)
	const n = 50
	type result struct {
		task *merge.Task
		err  error
	}
	results := make(chan result, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			got, err := e.ex.Run(context.Background(), task.ID, []string{"worker-a", "worker-b"}[i%2])
			results <- result{got, err}
		}()
	}
	close(start)
	ok := 0
	for range n {
		r := <-results
		switch {
		case r.err == nil:
			ok++
			if r.task.Status != merge.StatusSuccess {
				t.Errorf("the winner ended %s: %s", r.task.Status, r.task.Error)
			}
		case !errors.Is(r.err, merge.ErrConflict):
			t.Errorf("a loser got %v, want ErrConflict", r.err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d runs executed the task", ok)
	}
	logs := e.logs(t, task.ID)
	if c := strings.Count(logs, "claimed by"); c != 1 {
		t.Errorf("%d claims logged", c)
	}
	if c := strings.Count(logs, "INSERT OVERWRITE"); c != 2 {
		t.Errorf("%d INSERTs ran, want one per partition", c)
	}
}

func TestConcurrentWriter(t *testing.T) {
	e := newEnv(t)
	e.logsTable(t)
	before := e.state(t, "logs")
	late := [][]string{{"7001", "late-a"}, {"7002", "late-b"}, {"7003", "late-c"}}
	// While the merge reads the partition, a writer adds a file to it.
	e.srv.Inject(hivesandbox.Fault{Match: `^INSERT OVERWRITE.*2024-01-01`, Action: hivesandbox.FaultConcurrentWrite, Times: 1,
		Write: &hivesandbox.ConcurrentWrite{DB: "m", Table: "logs", Partition: map[string]string{"dt": "2024-01-01"}, Rows: late}})
	task := e.newTask(t, "logs", merge.StrategySafeMerge)

	got := e.run(t, task.ID, "w")
	if got.Status != merge.StatusSuccess {
		t.Fatalf("status %s: %s\n%s", got.Status, got.Error, e.logs(t, task.ID))
	}
	after := e.state(t, "logs")
	if n, want := after.rows["dt=2024-01-01"].Rows, before.rows["dt=2024-01-01"].Rows+int64(len(late)); n != want {
		t.Errorf("dt=2024-01-01 has %d rows after the swap, want %d: rows were lost\n%s", n, want, e.logs(t, task.ID))
	}
	if p := got.Checkpoint.Partitions[0]; p.LateFiles != 1 || p.RowsBefore != before.rows["dt=2024-01-01"].Rows {
		t.Errorf("checkpoint %+v", p)
	}
	// The backup holds exactly the files the merge read and the original of the late file,
	// which was copied into the merged location before the swap.
	if files, _ := walk(t, before.location["dt=2024-01-01"]); files != 21 {
		t.Errorf("the backup holds %d files, want the 20 read and the late one copied", files)
	}
	if logs := e.logs(t, task.ID); !strings.Contains(logs, "appeared since the snapshot") {
		t.Errorf("logs:\n%s", logs)
	}
}

func TestSafeMergeTwoThousandFiles(t *testing.T) {
	// -short skips it on a laptop; CI runs it whatever the flags.
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("writes 2,000 files")
	}
	e := newEnv(t)
	e.exec(t, "CREATE TABLE m.big (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE")
	// One file through the sandbox registers the partition; the rest are written straight to
	// its directory, as a writer outside Hive would (2,000 sandbox appends are slow).
	e.files(t, "big", map[string]string{"dt": "2024-01-01"}, 1, 1)
	dir := filepath.Join(e.tableDir(t, "big"), "dt=2024-01-01")
	for i := 1; i < 2000; i++ {
		line := fmt.Sprintf("%d\x01value-%d\n", 1000*i, 1000*i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-%05d", i)), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := e.state(t, "big")
	task := e.newTask(t, "big", merge.StrategySafeMerge)
	stop := e.startReader(t, "big")
	got := e.run(t, task.ID, "w")
	stop()
	if got.Status != merge.StatusSuccess {
		t.Fatalf("status %s: %s", got.Status, got.Error)
	}
	after := e.state(t, "big")
	if after.rows["dt=2024-01-01"] != before.rows["dt=2024-01-01"] || before.rows["dt=2024-01-01"].Rows != 2000 {
		t.Errorf("rows %v, want %v", after.rows, before.rows)
	}
	files, bytes := walk(t, after.location["dt=2024-01-01"])
	if files > (bytes+targetSize-1)/targetSize+1 || got.Stats.FilesBefore != 2000 {
		t.Errorf("%d files (%d bytes) after; stats %+v", files, bytes, got.Stats)
	}
}

package engine_test

import (
	"context"
	"errors"
	"github.com/hivemerge/hivemerge/shared/hivesandbox"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestInPlaceStrategies(t *testing.T) {
	tests := []struct {
		name, create string
		files        int
		strategy     merge.Strategy
		want         merge.Strategy
		logs         []string
	}{
		{name: "concatenate on ORC managed", create: "CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (dt string) STORED AS ORC",
			files: 12, strategy: merge.StrategyConcatenate, want: merge.StrategyConcatenate, logs: []string{"CONCATENATE", "SET hive.merge.size.per.task=1048576"}},
		{name: "insert_overwrite on text", create: "CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE",
			files: 25, strategy: merge.StrategyInsertOverwrite, want: merge.StrategyInsertOverwrite, logs: []string{"INSERT OVERWRITE TABLE `m`.`t` PARTITION", "SET hive.merge.mapfiles=true"}},
		{name: "acid_compact on a transactional table", create: "CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (dt string) STORED AS ORC TBLPROPERTIES ('transactional'='true')",
			files: 8, strategy: merge.StrategyAuto, want: merge.StrategyACIDCompact, logs: []string{"COMPACT 'major'", "is succeeded"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.exec(t, tc.create)
			e.files(t, "t", map[string]string{"dt": "2024-01-01"}, tc.files, 3)
			before := e.state(t, "t")
			task := e.newTask(t, "t", tc.strategy)

			got := e.run(t, task.ID, "w")
			logs := e.logs(t, task.ID)
			if got.Status != merge.StatusSuccess {
				t.Fatalf("status %s: %s\n%s", got.Status, got.Error, logs)
			}
			after := e.state(t, "t")
			sameState(t, "rows and locations", after, before)
			cp := got.Checkpoint
			if cp.Strategy != tc.want || got.ChosenStrategy != tc.want {
				t.Fatalf("strategy %s (task says %s), want %s", cp.Strategy, got.ChosenStrategy, tc.want)
			}
			p := cp.Partitions[0]
			if p.Step != merge.StepDone || p.RowsBefore != int64(3*tc.files) || p.RowsAfter != p.RowsBefore || p.ChecksumAfter != p.ChecksumBefore {
				t.Errorf("partition %+v", p)
			}
			files, _ := walk(t, after.location["dt=2024-01-01"])
			if files >= int64(tc.files) || files != p.FilesAfter || p.FilesBefore != int64(tc.files) {
				t.Errorf("%d files after (checkpoint %d -> %d)", files, p.FilesBefore, p.FilesAfter)
			}
			if tc.want == merge.StrategyACIDCompact && p.CompactionID == 0 {
				t.Errorf("no compaction recorded")
			}
			for _, want := range tc.logs {
				if !strings.Contains(logs, want) {
					t.Errorf("logs lack %q:\n%s", want, logs)
				}
			}
		})
	}
}

func TestInPlaceFailure(t *testing.T) {
	e := newEnv(t)
	e.exec(t, "CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (dt string) STORED AS ORC")
	e.files(t, "t", map[string]string{"dt": "2024-01-01"}, 5, 3)
	before := e.state(t, "t")
	e.srv.Inject(hivesandbox.Fault{Match: `CONCATENATE`, Action: hivesandbox.FaultFail})
	task := e.newTask(t, "t", merge.StrategyConcatenate)

	got := e.run(t, task.ID, "w")
	if got.Status != merge.StatusFailed || !strings.Contains(got.Error, "failed after step snapshotted") || !strings.Contains(got.Error, "cannot be rolled back") {
		t.Fatalf("status %s: %s", got.Status, got.Error)
	}
	sameState(t, "after the failed concatenate", e.state(t, "t"), before)
	if _, err := e.ex.Rollback(context.Background(), task.ID, "bob"); !errors.Is(err, merge.ErrInvalid) {
		t.Errorf("Rollback of a concatenate: %v", err)
	}
}

func TestInPlaceCancel(t *testing.T) {
	e := newEnv(t)
	e.exec(t, "CREATE TABLE m.t (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE")
	e.files(t, "t", map[string]string{"dt": "2024-01-01"}, 6, 2)
	e.files(t, "t", map[string]string{"dt": "2024-01-02"}, 6, 2)
	before := e.state(t, "t")
	fired := make(chan struct{})
	e.srv.Inject(hivesandbox.Fault{Match: `^INSERT OVERWRITE.*2024-01-02`, Action: hivesandbox.FaultHang, AtCommit: true, Fired: fired})
	task := e.newTask(t, "t", merge.StrategyInsertOverwrite)
	done := make(chan *merge.Task, 1)
	go func() {
		got, err := e.ex.Run(context.Background(), task.ID, "w")
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		done <- got
	}()
	<-fired
	if _, err := e.svc.CancelTask(context.Background(), task.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if got == nil {
		t.FailNow()
	}
	if got.Status != merge.StatusCancelled || !strings.Contains(got.Error, "1 partition(s) merged before it stay merged") {
		t.Fatalf("status %s: %s", got.Status, got.Error)
	}
	after := e.state(t, "t")
	sameState(t, "rows and locations", after, before)
	if files, _ := walk(t, after.location["dt=2024-01-02"]); files != 6 {
		t.Errorf("the cancelled partition has %d files, want its 6", files)
	}
}

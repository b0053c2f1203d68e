package main

import (
	"errors"
	"os"
	"testing"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestCleanupBackupsJob: with a keep period over by the time the merge ends, the
// cleanup-backups job run through the API deletes both partitions' backups, the rows stay, and
// its run record counts what it did.
func TestCleanupBackupsJob(t *testing.T) {
	d := startDemo(t)
	d.table(t, "events", 6)
	before := d.state(t, "events")
	d.env["HIVEMERGE_BACKUP_RETENTION"] = "1ms"
	s := start(t, d.env)

	task := createTask(t, s.url, "events")
	if status := api(t, s.url, "POST", "/api/v1/tasks/"+task.ID+"/execute", "", nil); status != 202 {
		t.Fatalf("execute: %d", status)
	}
	if done := wait(t, s.url, task.ID); done.Status != merge.StatusSuccess || done.Checkpoint.Strategy != merge.StrategySafeMerge {
		t.Fatalf("task ended %s: %s", done.Status, done.Error)
	}

	var run merge.Run
	if status := api(t, s.url, "POST", "/api/v1/scheduler/jobs/cleanup-backups/run", "{}", &run); status != 200 {
		t.Fatalf("run cleanup-backups: %d", status)
	}
	if run.Job != "cleanup-backups" || run.Status != merge.RunSucceeded || run.Counts["checked"] != 2 || run.Counts["cleaned"] != 2 ||
		run.Counts["files_deleted"] != 12 || run.Counts["failed"] != 0 {
		t.Errorf("run %+v", run)
	}
	for name, p := range before {
		l, err := fsys.ParseLocation(p.location)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(l.Path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("backup of %s at %s: %v, want it deleted", name, p.location, err)
		}
	}
	sameRows(t, "after the cleanup", d.state(t, "events"), before)
	if status := api(t, s.url, "POST", "/api/v1/tasks/"+task.ID+"/rollback", "", nil); status != 409 {
		t.Errorf("rollback after cleanup: %d, want 409", status)
	}
}

package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
	"github.com/hivemerge/hivemerge/shared/merge"
)

func write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFileSnapshots(t *testing.T) {
	ctx := context.Background()
	fs := localfs.New()
	root := t.TempDir()
	old, live := filepath.Join(root, "dt=1"), filepath.Join(root, ".hivemerge-x", "dt=1")
	write(t, filepath.Join(old, "000000_0"), "a\n")
	write(t, filepath.Join(old, "sub", "000001_0"), "bb\n")
	write(t, filepath.Join(old, "_SUCCESS"), "")                    // Hive skips it, so does the snapshot
	write(t, filepath.Join(old, ".hive-staging_1", "x"), "partial") // and a writer's staging
	write(t, filepath.Join(live, "000000_0"), "merged\n")

	var s FileSnapshots
	snap, err := s.Take(ctx, fs, old)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Files != 2 || snap.Bytes != 5 || !slices.Equal(snap.Paths, []string{"000000_0", "sub/000001_0"}) || snap.Fingerprint == "" {
		t.Fatalf("snapshot %+v", snap)
	}
	again, err := s.Take(ctx, fs, old)
	if err != nil || again.Fingerprint != snap.Fingerprint {
		t.Errorf("an unchanged directory has another fingerprint: %v", err)
	}
	if empty, err := s.Take(ctx, fs, filepath.Join(root, "missing")); err != nil || empty.Files != 0 {
		t.Errorf("missing directory: %+v, %v", empty, err)
	}

	// The compact record tells the same files apart.
	mark := snap.Mark()
	back, err := SnapshotOf(mark)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SnapshotOf(&merge.SnapshotMark{Files: 3, Names: mark.Names}); err == nil {
		t.Error("a record whose file count does not match its names was accepted")
	}

	// A late file, and one whose name the live location already uses.
	write(t, filepath.Join(old, "late"), "late\n")
	write(t, filepath.Join(old, "sub", "late"), "late2\n")
	d, err := s.Changed(ctx, fs, old, snap)
	if err != nil || d.Removed != 0 || len(d.Added) != 2 {
		t.Fatalf("Changed after additions: %+v, %v", d, err)
	}
	write(t, filepath.Join(live, "late"), "taken\n")
	moved, err := s.CarryOver(ctx, fs, snap, old, live)
	if err != nil || len(moved) != 2 {
		t.Fatalf("CarryOver moved %v: %v", moved, err)
	}
	for name, want := range map[string]string{"late": "taken\n", "late_copy_1": "late\n", "sub/late": "late2\n", "000000_0": "merged\n"} {
		if b, err := os.ReadFile(filepath.Join(live, name)); err != nil || string(b) != want {
			t.Errorf("live %s: %q, %v; want %q", name, b, err, want)
		}
	}
	if after, _ := s.Take(ctx, fs, old); after.Fingerprint != snap.Fingerprint {
		t.Error("the old location does not hold exactly the snapshot's files after the carry-over")
	}

	// A worker that resumes after the swap has only the record: it carries over the same way.
	write(t, filepath.Join(old, "later"), "later\n")
	moved, err = s.CarryOver(ctx, fs, back, old, live)
	if err != nil || !slices.Equal(moved, []string{"later"}) {
		t.Fatalf("CarryOver from the record moved %v: %v", moved, err)
	}
	if _, err := s.Changed(ctx, fs, old, back); err == nil {
		t.Error("Changed without the listing did not fail")
	}
	// Carrying back keeps the merged files where they are.
	if moved, err := carryBack(ctx, fs, []string{"000000_0"}, live, old); err != nil || len(moved) != 4 {
		t.Fatalf("carryBack moved %v: %v", moved, err)
	}
	if after, _ := s.Take(ctx, fs, live); !slices.Equal(after.Paths, []string{"000000_0"}) {
		t.Errorf("live holds %v after carrying back", after.Paths)
	}

	// A modified file counts as removed: the version read is gone.
	if err := os.Remove(filepath.Join(old, "late")); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	write(t, filepath.Join(old, "000000_0"), "changed\n")
	if d, err := s.Changed(ctx, fs, old, snap); err != nil || d.Removed != 1 {
		t.Errorf("Changed after a modification: %+v, %v", d, err)
	}
	if err := os.Remove(filepath.Join(old, "sub", "000001_0")); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Changed(ctx, fs, old, snap); err != nil || d.Removed != 2 {
		t.Errorf("Changed after a removal: %+v, %v", d, err)
	}
}

func TestSnapshotMarkBounded(t *testing.T) {
	s := &Snapshot{Files: MaxRecordedFiles + 1, keys: make([]uint64, MaxRecordedFiles+1)}
	m := s.Mark()
	if m.Names != "" {
		t.Fatalf("recorded %d bytes of names", len(m.Names))
	}
	if _, err := SnapshotOf(m); !errors.Is(err, errNotRecorded) {
		t.Errorf("SnapshotOf: %v", err)
	}
}

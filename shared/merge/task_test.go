package merge_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestTransition(t *testing.T) {
	allowed := map[[2]merge.Status]bool{
		{merge.StatusPending, merge.StatusRunning}:   true,
		{merge.StatusPending, merge.StatusCancelled}: true,
		{merge.StatusPending, merge.StatusFailed}:    true,
		{merge.StatusRunning, merge.StatusSuccess}:   true,
		{merge.StatusRunning, merge.StatusFailed}:    true,
		{merge.StatusRunning, merge.StatusCancelled}: true,
		{merge.StatusRunning, merge.StatusPending}:   true,
	}
	// Every pair of statuses, so a new edge in the graph must be added here on purpose.
	for _, from := range merge.Statuses {
		for _, to := range merge.Statuses {
			t.Run(fmt.Sprintf("%s_to_%s", from, to), func(t *testing.T) {
				err := merge.Transition(from, to)
				if allowed[[2]merge.Status{from, to}] {
					if err != nil {
						t.Fatalf("Transition(%s, %s) = %v, want allowed", from, to, err)
					}
					return
				}
				if !errors.Is(err, merge.ErrConflict) {
					t.Fatalf("Transition(%s, %s) = %v, want ErrConflict", from, to, err)
				}
			})
		}
	}
	t.Run("unknown_status", func(t *testing.T) {
		if err := merge.Transition("paused", merge.StatusRunning); !errors.Is(err, merge.ErrInvalid) {
			t.Fatalf("got %v, want ErrInvalid", err)
		}
	})
}

func TestTaskOverlaps(t *testing.T) {
	base := func(parts ...merge.PartitionSpec) *merge.Task {
		return &merge.Task{ClusterID: "c", Database: "db", Table: "t", Partitions: parts}
	}
	day := merge.PartitionSpec{"dt": "2024-01-01"}
	hour0 := merge.PartitionSpec{"dt": "2024-01-01", "hr": "00"}
	hour1 := merge.PartitionSpec{"dt": "2024-01-01", "hr": "01"}
	otherDay := merge.PartitionSpec{"dt": "2024-01-02", "hr": "00"}
	for _, tc := range []struct {
		name string
		a, b *merge.Task
		want bool
	}{
		{"whole_table_vs_whole_table", base(), base(), true},
		{"whole_table_vs_partition", base(), base(hour0), true},
		{"same_partition", base(hour0), base(hour0), true},
		{"different_hours", base(hour0), base(hour1), false},
		{"day_prefix_covers_hour", base(day), base(hour1), true},
		{"different_days", base(day), base(otherDay), false},
		{"one_of_many", base(hour1, otherDay), base(otherDay), true},
		{"other_table", base(), &merge.Task{ClusterID: "c", Database: "db", Table: "u"}, false},
		{"other_cluster", base(), &merge.Task{ClusterID: "d", Database: "db", Table: "t"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Overlaps(tc.b); got != tc.want {
				t.Errorf("a.Overlaps(b) = %v, want %v", got, tc.want)
			}
			if got := tc.b.Overlaps(tc.a); got != tc.want {
				t.Errorf("b.Overlaps(a) = %v, want %v (overlap must be symmetric)", got, tc.want)
			}
		})
	}
}

func TestPartitionSpecString(t *testing.T) {
	got := merge.PartitionSpec{"hr": "00", "dt": "2024-01-01"}.String()
	if want := "dt=2024-01-01/hr=00"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

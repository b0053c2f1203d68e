package firestore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// covered reports whether indexes serve shape under the merging rule stated on Indexes: a
// shape with one field at most needs only single-field indexes; otherwise every equality
// field needs an index of that field followed by the shape's orderings.
func covered(shape queryShape, indexes []Index) bool {
	if len(shape.Equalities)+len(shape.Orders) <= 1 {
		return true
	}
	if len(shape.Equalities) == 0 {
		return hasIndex(indexes, shape.Collection, shape.Orders)
	}
	for _, eq := range shape.Equalities {
		if !hasIndex(indexes, shape.Collection, append([]IndexField{{Path: eq}}, shape.Orders...)) {
			return false
		}
	}
	return true
}

func hasIndex(indexes []Index, collection string, fields []IndexField) bool {
	for _, ix := range indexes {
		if ix.Collection == collection && slices.Equal(ix.Fields, fields) {
			return true
		}
	}
	return false
}

func TestIndexesCoverEveryListQuery(t *testing.T) {
	indexes := Indexes()
	for mask := range 1 << 4 {
		var f merge.TaskFilter
		if mask&1 != 0 {
			f.Status = merge.StatusRunning
		}
		if mask&2 != 0 {
			f.ClusterID = "prod"
		}
		if mask&4 != 0 {
			f.Database = "web"
		}
		if mask&8 != 0 {
			f.Table = "events"
		}
		// A page token only adds a cursor, which uses the same index.
		for _, token := range []string{"", "x"} {
			f.PageToken = token
			shape := listShape(f)
			if !covered(shape, indexes) {
				t.Errorf("ListTasks(%+v) has shape %+v, which Indexes() does not cover", f, shape)
			}
		}
	}
}

func TestIndexesCoverEveryRunQuery(t *testing.T) {
	indexes := Indexes()
	for _, f := range []merge.RunFilter{{}, {Job: "retention"}, {Job: "retention", PageToken: "x"}} {
		if shape := runListShape(f); !covered(shape, indexes) {
			t.Errorf("ListRuns(%+v) has shape %+v, which Indexes() does not cover", f, shape)
		}
	}
	// DeleteRunsBefore filters and orders on slot alone.
	if shape := (queryShape{Collection: colRuns, Orders: []IndexField{{Path: "slot"}}}); !covered(shape, nil) {
		t.Errorf("DeleteRunsBefore's shape %+v needs a composite index", shape)
	}
}

func TestStatsAndLogsNeedNoCompositeIndex(t *testing.T) {
	shapes := []queryShape{{Collection: colTasks, Equalities: []string{statsCountField}}}
	for _, f := range statsSumFields {
		shapes = append(shapes, queryShape{Collection: colTasks, Orders: []IndexField{{Path: f}}})
	}
	shapes = append(shapes, queryShape{Collection: colLogs, Orders: []IndexField{{Path: "seq"}}})
	for _, shape := range shapes {
		if !covered(shape, nil) {
			t.Errorf("shape %+v needs a composite index", shape)
		}
	}
}

func TestIndexesAreMinimal(t *testing.T) {
	indexes := Indexes()
	seen := map[string]bool{}
	for _, ix := range indexes {
		key := fmt.Sprint(ix)
		if seen[key] {
			t.Errorf("index %v listed twice", ix)
		}
		seen[key] = true
		if len(ix.Fields) < 2 {
			t.Errorf("index %v has one field; single-field indexes are automatic", ix)
		}
	}
	if want := len(listFilters) + len(runIndexes()); len(indexes) != want {
		t.Errorf("got %d indexes, want one per filter field of tasks and runs (%d)", len(indexes), want)
	}
}

func TestPageTokens(t *testing.T) {
	task := &merge.Task{ID: "abc123"}
	task.CreatedAt = task.CreatedAt.AddDate(2024, 0, 0)
	normalize(task)
	created, id, err := decodePageToken(encodePageToken(task))
	if err != nil || id != task.ID || !created.Equal(task.CreatedAt) {
		t.Errorf("round trip: %v %q %v", created, id, err)
	}
}

func TestPartitionNames(t *testing.T) {
	specs := []merge.PartitionSpec{
		{"dt": "2024-01-01", "hr": "00"},
		{"path": "a/b=c%d", "k=": "/"},
		{"empty": ""},
	}
	names := encodeSpecs(specs)
	if names[0] != "dt=2024-01-01/hr=00" {
		t.Errorf("encoded %q", names[0])
	}
	got, err := decodeSpecs(names)
	if err != nil {
		t.Fatal(err)
	}
	for i := range specs {
		if fmt.Sprint(got[i]) != fmt.Sprint(specs[i]) {
			t.Errorf("round trip of %v gave %v", specs[i], got[i])
		}
	}
	for _, bad := range []string{"novalue", "a=%zz", "a=%2"} {
		if _, err := decodeSpecs([]string{bad}); err == nil {
			t.Errorf("decodeSpecs(%q) accepted it", bad)
		}
	}
}

func TestTranslate(t *testing.T) {
	cases := []struct {
		code codes.Code
		want error
	}{
		{codes.NotFound, merge.ErrNotFound},
		{codes.AlreadyExists, merge.ErrConflict},
		{codes.Aborted, merge.ErrUnavailable},
		{codes.Unavailable, merge.ErrUnavailable},
		{codes.DeadlineExceeded, merge.ErrUnavailable},
		{codes.ResourceExhausted, merge.ErrUnavailable},
		{codes.InvalidArgument, merge.ErrInvalid},
	}
	for _, c := range cases {
		in := status.Error(c.code, "backend says no")
		got := translate(fmt.Errorf("wrapped: %w", in))
		if !errors.Is(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.code, got, c.want)
		}
		if status.Code(got) != c.code {
			t.Errorf("%s: the gRPC status was lost: %v", c.code, got)
		}
	}
	// Deployment faults stay internal errors.
	for _, code := range []codes.Code{codes.PermissionDenied, codes.FailedPrecondition, codes.Internal} {
		got := translate(status.Error(code, "x"))
		for _, kind := range []error{merge.ErrNotFound, merge.ErrInvalid, merge.ErrConflict, merge.ErrUnavailable, merge.ErrForbidden} {
			if errors.Is(got, kind) {
				t.Errorf("%s became %v", code, kind)
			}
		}
	}
	domain := merge.Errorf(merge.ErrConflict, "taken")
	if got := translate(domain); got != domain {
		t.Errorf("a domain error was rewrapped: %v", got)
	}
	if got := translate(context.Canceled); !errors.Is(got, merge.ErrUnavailable) || !errors.Is(got, context.Canceled) {
		t.Errorf("context.Canceled became %v", got)
	}
}

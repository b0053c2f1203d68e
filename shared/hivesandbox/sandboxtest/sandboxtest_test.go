package sandboxtest_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/sandboxtest"
)

// TestPartitions sets up tables as the packages' tests do and reads them back: the rows
// appended, where $WAREHOUSE put them, and a table without partitions as one of its own.
func TestPartitions(t *testing.T) {
	sb := sandboxtest.Start(t)
	c := sb.Client(t, hive.Config{Name: "test"})
	sb.Exec(t, c,
		"CREATE DATABASE m",
		"CREATE TABLE m.events (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE",
		"ALTER TABLE m.events ADD PARTITION (dt='2024-01-02') LOCATION 'file://$WAREHOUSE/custom/events'",
		"CREATE TABLE m.flat (id bigint, msg string) STORED AS TEXTFILE",
	)
	rows := func(i int) [][]string { return [][]string{{strconv.Itoa(i), "a"}, {strconv.Itoa(i + 100), "b"}} }
	sb.AppendFiles(t, "m", "events", map[string]string{"dt": "2024-01-01"}, 3, rows)
	sb.AppendFiles(t, "m", "events", map[string]string{"dt": "2024-01-02"}, 1, rows)
	sb.AppendFiles(t, "m", "flat", nil, 2, rows)

	type part struct {
		name     string
		rows     int64
		location string // under the warehouse directory
	}
	tests := []struct {
		name, table string
		want        []part
	}{
		{"partitioned", "events", []part{{"dt=2024-01-01", 6, "/warehouse/m.db/events/dt=2024-01-01"}, {"dt=2024-01-02", 2, "/custom/events"}}},
		{"unpartitioned", "flat", []part{{"", 4, "/warehouse/m.db/flat"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []part
			for _, p := range sandboxtest.Partitions(t, c, "m", tt.table) {
				got = append(got, part{p.Name, p.Rows.Rows, strings.TrimPrefix(p.Location, "file:"+sb.Dir)})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Partitions = %+v, want %+v", got, tt.want)
			}
		})
	}
}

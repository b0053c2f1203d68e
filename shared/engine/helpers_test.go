package engine_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/fsystest"
	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hivesandbox/sandboxtest"
)

// sandbox is a running sandbox with a client and a planner over it.
type sandbox struct {
	srv     *sandboxtest.Sandbox
	client  *hive.Client
	planner *engine.Planner
}

func startSandbox(t testing.TB) *sandbox {
	t.Helper()
	srv := sandboxtest.Start(t)
	client := srv.Client(t, hive.Config{
		Name: "sandbox", PoolSize: 8, PollInterval: 5 * time.Millisecond, ConnectTimeout: 10 * time.Second, SocketTimeout: 60 * time.Second,
	})
	files := fsys.NewResolver(map[string]fsys.Opener{"file": localfs.Opener()})
	t.Cleanup(func() { files.Close() })
	return &sandbox{srv: srv, client: client, planner: &engine.Planner{Hive: client, Files: files}}
}

// exec runs HiveQL written by the test itself (fixtures), through the client.
func (sb *sandbox) exec(t testing.TB, stmts ...string) {
	t.Helper()
	sb.srv.Exec(t, sb.client, stmts...)
}

// files writes n data files of rows rows each into a table or partition, as a writer outside
// Hive would (the partition is registered if new).
func (sb *sandbox) files(t testing.TB, table string, part map[string]string, n, rows int) {
	t.Helper()
	sb.srv.AppendFiles(t, "m", table, part, n, func(i int) [][]string {
		var data [][]string
		for r := range rows {
			id := strconv.Itoa(i*1000 + r)
			data = append(data, []string{id, "value-" + id})
		}
		return data
	})
}

// fixture creates the tables every test reads: one per layout the planner must handle.
func fixture(t testing.TB) *sandbox {
	t.Helper()
	sb := startSandbox(t)
	sb.exec(t,
		"CREATE DATABASE m",
		// Partitioned text with many small files, a healthy, an empty and a custom-location
		// partition.
		"CREATE TABLE m.events (id bigint, msg string) PARTITIONED BY (dt string) STORED AS TEXTFILE",
		"ALTER TABLE m.events ADD PARTITION (dt='2024-01-03')",
		"ALTER TABLE m.events ADD PARTITION (dt='2024-01-04') LOCATION 'file://$WAREHOUSE/custom/events_0104'",
		"CREATE TABLE m.orc_t (id bigint, msg string) PARTITIONED BY (dt string) STORED AS ORC",
		"CREATE EXTERNAL TABLE m.ext (id bigint, msg string) PARTITIONED BY (dt string) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' STORED AS TEXTFILE LOCATION 'file://$WAREHOUSE/external/ext'",
		"CREATE EXTERNAL TABLE m.ext_orc (id bigint, msg string) STORED AS ORC LOCATION 'file://$WAREHOUSE/external/ext_orc'",
		"CREATE TABLE m.acid (id bigint, msg string) PARTITIONED BY (dt string) STORED AS ORC TBLPROPERTIES ('transactional'='true')",
		"CREATE TABLE m.bkt (id bigint, msg string) CLUSTERED BY (id) INTO 2 BUCKETS STORED AS ORC",
		"CREATE TABLE m.multi (id bigint, msg string) PARTITIONED BY (d date, h int) STORED AS TEXTFILE",
		"CREATE TABLE m.flat (id bigint, msg string) STORED AS TEXTFILE",
		"CREATE TABLE m.ice (id bigint, msg string) STORED AS PARQUET TBLPROPERTIES ('table_type'='ICEBERG')",
	)
	sb.files(t, "events", map[string]string{"dt": "2024-01-01"}, 12, 3)
	sb.files(t, "events", map[string]string{"dt": "2024-01-02"}, 1, 50)
	sb.files(t, "events", map[string]string{"dt": "2024-01-04"}, 5, 2)
	// Names Hive skips: a success marker and a writer's hidden staging directory.
	for _, p := range []string{"m.db/events/dt=2024-01-01/_SUCCESS", "m.db/events/dt=2024-01-01/.hive-staging_1/000000_0"} {
		p = filepath.Join(sb.srv.Dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("not data\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sb.files(t, "orc_t", map[string]string{"dt": "2024-01-01"}, 6, 4)
	sb.files(t, "ext", map[string]string{"dt": "2024-01-01"}, 4, 3)
	sb.files(t, "ext_orc", nil, 4, 3)
	sb.files(t, "acid", map[string]string{"dt": "2024-01-01"}, 4, 2)
	sb.files(t, "bkt", nil, 6, 4)
	for _, p := range []map[string]string{{"d": "2024-01-01", "h": "0"}, {"d": "2024-01-01", "h": "13"}, {"d": "2024-01-02", "h": "0"}} {
		sb.files(t, "multi", p, 3, 2)
	}
	sb.files(t, "flat", nil, 5, 2)
	sb.files(t, "ice", nil, 3, 1)
	return sb
}

// walk is fsystest.Walk: the files and bytes under a location, counted independently.
var walk = fsystest.Walk

func describe(v any) string { return fmt.Sprintf("%+v", v) }

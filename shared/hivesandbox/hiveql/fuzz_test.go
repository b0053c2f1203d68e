package hiveql

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// FuzzExecute feeds arbitrary statement text to a session over a small warehouse: whatever
// the text, the engine answers with a result or an error, never a panic, since one client's
// typo must not take down a sandbox that other clients share. Locations are confined to the
// warehouse, so the fuzzer cannot reach the machine's files: a canary directory beside the
// warehouse must come through every input untouched, which also makes the target safe to run
// anywhere.
func FuzzExecute(f *testing.F) {
	w, err := Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { w.Close() })
	outside := f.TempDir()
	plantCanary(f, outside)

	// Seed locations stay inside the fuzz warehouse.
	inside := filepath.ToSlash(filepath.Join(w.Dir(), "fuzz"))
	staging := filepath.ToSlash(filepath.Join(w.Dir(), "warehouse", "p", ".hivemerge-1"))
	for _, seed := range []string{
		"SHOW PARTITIONS p",
		"DESCRIBE FORMATTED p PARTITION (dt='2024-01-01')",
		"INSERT OVERWRITE TABLE p PARTITION (dt) SELECT a, dt FROM p WHERE dt IN ('2024-01-01')",
		"INSERT INTO TABLE t SELECT a FROM t",
		"SELECT COUNT(*), SUM(HASH(a)) FROM p WHERE dt = '2024-01-01'",
		"ALTER TABLE p PARTITION (dt='2024-01-01') CONCATENATE",
		"ALTER TABLE p PARTITION (dt='2024-01-01') SET LOCATION 'file://" + inside + "/x'",
		"CREATE EXTERNAL TABLE e LIKE p LOCATION '" + inside + "/e'",
		"ALTER TABLE p ADD PARTITION (dt='2024-01-02') LOCATION '" + inside + "/p2'",
		"CREATE TABLE `x` (a string) PARTITIONED BY (dt string) STORED AS ORC TBLPROPERTIES ('transactional'='true')",
		"ALTER TABLE p RENAME TO q",
		"DROP TABLE IF EXISTS e PURGE",
		"SHOW TABLE EXTENDED LIKE 'p' PARTITION (dt='2024-01-01')",
		"SET hive.merge.mapfiles=${hiveconf:x}",
		"CREATE EXTERNAL TABLE s (a string) LOCATION '" + staging + "'",
		"ALTER TABLE p PARTITION (dt='2024-01-01') SET LOCATION '" + staging + "'",
		"CREATE TABLE `z/../p` (a string)",
		"SELECT '${hivevar:x}${hivevar:x}'",
		"SELECT 1",
		"",
	} {
		f.Add(seed)
	}
	setup := w.NewSession("hive")
	for _, q := range []string{
		"CREATE TABLE t (a string)",
		"CREATE TABLE p (a string) PARTITIONED BY (dt string)",
		"INSERT INTO TABLE p PARTITION (dt='2024-01-01') VALUES ('x'), ('y')",
	} {
		if _, err := setup.Execute(context.Background(), q, Events{}); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, stmt string) {
		s := w.NewSession("hive")
		_, err := s.Execute(context.Background(), stmt, Events{})
		var he *Error
		if err != nil && !errors.As(err, &he) {
			t.Fatalf("%q: error %v is not a Hive error", stmt, err)
		}
		checkCanary(t, outside)
	})
}

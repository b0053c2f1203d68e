package hiveql

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// treeDigest hashes every data file under dir by relative path and content.
func treeDigest(t *testing.T, dir string) (string, int, int64) {
	t.Helper()
	h := sha256.New()
	files, bytes := 0, int64(0)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(p) == "metastore.json" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h.Write([]byte(rel))
		h.Write(data)
		files++
		bytes += int64(len(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), files, bytes
}

func TestGenerate(t *testing.T) {
	opts := GenerateOptions{Seed: 42, Scale: 1}
	gen := func(o GenerateOptions) (string, *Warehouse, GenerateReport) {
		dir := t.TempDir()
		w, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		rep, err := Generate(context.Background(), w, o)
		if err != nil {
			t.Fatal(err)
		}
		return dir, w, rep
	}
	dir1, w, rep := gen(opts)
	dir2, _, rep2 := gen(opts)
	d1, files, bytes := treeDigest(t, dir1)
	d2, _, _ := treeDigest(t, dir2)
	if d1 != d2 || rep != rep2 {
		t.Errorf("the same seed gave different warehouses: %v vs %v", rep, rep2)
	}
	if rep.Files != files || rep.Bytes != bytes {
		t.Errorf("report %+v, on disk %d files %d bytes", rep, files, bytes)
	}
	// The data is dated back beyond discovery's quiet period, so a scan recommends merges at once.
	if err := filepath.WalkDir(filepath.Join(dir1, "warehouse"), func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		fi, err := de.Info()
		if err != nil {
			return err
		}
		if time.Since(fi.ModTime()) < 24*time.Hour {
			return fmt.Errorf("%s was written %s ago", p, time.Since(fi.ModTime()).Round(time.Second))
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	// Scale shrinks file counts, never the partitions or the table kinds.
	if rep.Databases != 3 || rep.Tables != 12 || rep.Partitions != 1650 || rep.Files < 1650 || rep.Files > 3000 {
		t.Errorf("report %+v", rep)
	}
	if rep.Worst != (WorstPartition{Table: "ops.metrics", Partition: "dt=2024-01-01/hr=00", Files: 30}) {
		t.Errorf("worst partition %+v", rep.Worst)
	}
	if sum := rep.String(); !strings.Contains(sum, "1650 partitions") || !strings.Contains(sum, "delimited text") {
		t.Errorf("summary %q", sum)
	}
	other := GenerateOptions{Seed: 43, Scale: 1, Databases: []string{"ops"}}
	dir3, _, _ := gen(other)
	ops1, _, _ := treeDigest(t, filepath.Join(dir1, "warehouse", "ops.db"))
	if ops3, _, _ := treeDigest(t, filepath.Join(dir3, "warehouse", "ops.db")); ops3 == ops1 {
		t.Errorf("a different seed gave the same files")
	}

	s := w.NewSession("hive")
	// Every table is readable through the engine, and together they hold every row written.
	var total int64
	for _, db := range []string{"sales", "web", "ops"} {
		for _, name := range render(run(t, s, "show tables in "+db)) {
			n, _ := countAndChecksum(t, s, db+"."+name)
			if n == 0 {
				t.Errorf("%s.%s has no rows", db, name)
			}
			total += n
		}
	}
	if total != rep.Rows {
		t.Errorf("the tables hold %d rows, the generator wrote %d", total, rep.Rows)
	}

	parts := render(run(t, s, "show partitions sales.orders"))
	if len(parts) != 720 || parts[0] != "dt=2024-01-01/hr=00" {
		t.Errorf("sales.orders has %d partitions, first %q", len(parts), parts[0])
	}
	if got := render(run(t, s, "show partitions sales.order_items")); got[1] != "dt=2024-01-01/hr=1" {
		t.Errorf("sales.order_items partitions start %q, want an int hour key", got[:2])
	}
	var custom, empty bool
	w.mu.Lock()
	orders, _ := w.lookupTable("sales", "orders")
	for _, p := range orders.Partitions {
		if !strings.HasPrefix(p.Location, orders.Location) {
			custom = true
		}
		if p.Params["numFiles"] == "0" {
			empty = true
		}
	}
	// The hot partitions stand out at any scale; the healthy ones hold one large file.
	var hot, healthy int
	kinds := map[string]bool{}
	for _, d := range w.cat.Databases {
		for _, tb := range d.Tables {
			kinds["external"] = kinds["external"] || tb.External && tb.Delim != ""
			kinds["unpartitioned"] = kinds["unpartitioned"] || !tb.partitioned()
			kinds["acid"] = kinds["acid"] || tb.fullACID() && tb.Format == "ORC"
			kinds["insert-only"] = kinds["insert-only"] || tb.insertOnly()
			kinds["bucketed"] = kinds["bucketed"] || tb.NumBuckets > 0 && !tb.transactional()
			kinds["iceberg"] = kinds["iceberg"] || tb.Params["table_type"] == "ICEBERG"
			for _, p := range tb.Partitions {
				n, _ := strconv.Atoi(p.Params["numFiles"])
				size, _ := strconv.ParseInt(p.Params["totalSize"], 10, 64)
				hot += btoi(n >= 20)
				healthy += btoi(n == 1 && size > 10_000)
			}
			if tb.Params["comment"] != storageNote {
				t.Errorf("%s comment %q", tb.qualified(), tb.Params["comment"])
			}
		}
	}
	w.mu.Unlock()
	if !custom || !empty {
		t.Errorf("sales.orders lacks a custom-location partition (%v) or an empty one (%v)", custom, empty)
	}
	if hot != 4 || healthy != 30 {
		t.Errorf("%d hot partitions, %d healthy ones; want 4 and 30", hot, healthy)
	}
	if len(kinds) != 6 || slices.Contains(slices.Collect(maps.Values(kinds)), false) {
		t.Errorf("table kinds %v", kinds)
	}
	props := strings.Join(render(run(t, s, "show tblproperties ops.events_iceberg")), "\n")
	if !strings.Contains(props, "table_type\tICEBERG") || !strings.Contains(props, "storage_handler\torg.apache.iceberg.mr.hive.HiveIcebergStorageHandler") {
		t.Errorf("ops.events_iceberg properties:\n%s", props)
	}
	// The custom delimiter is real: the file splits on it.
	if got := render(run(t, s, "select session_id, pages from web.sessions where dt = '2024-01-01' and user_id is not null limit 1")); len(got) != 1 || strings.Contains(got[0], ",") {
		t.Errorf("web.sessions row %q", got)
	}
	for _, q := range []string{
		"alter table ops.metrics partition (dt='2024-01-01', hr='00') concatenate",
		"alter table sales.payments partition (dt='2024-01-01') compact 'major' and wait",
	} {
		run(t, s, q)
	}
	if err := hiveErr(t, s, "alter table ops.events partition (dt='2024-01-01') concatenate"); err.Code != 30031 {
		t.Errorf("bucketed table: %v", err)
	}

	capped := GenerateOptions{Databases: []string{"web"}, Scale: 1, MaxFiles: 10}
	_, _, rep4 := gen(capped)
	if rep4.Files > 10 || rep4.Files == 0 {
		t.Errorf("MaxFiles 10 gave %d files", rep4.Files)
	}
}

func TestGenerateTwiceReplacesTables(t *testing.T) {
	w := newWarehouse(t)
	opts := GenerateOptions{Seed: 5, Databases: []string{"sales"}, Scale: 1}
	first, err := Generate(context.Background(), w, opts)
	if err != nil {
		t.Fatal(err)
	}
	digest1, _, _ := treeDigest(t, w.Dir())
	s := w.NewSession("hive")
	rows1, sum1 := countAndChecksum(t, s, "sales.orders")
	second, err := Generate(context.Background(), w, opts)
	if err != nil {
		t.Fatal(err)
	}
	digest2, _, _ := treeDigest(t, w.Dir())
	if first != second || digest1 != digest2 {
		t.Errorf("regenerating changed the warehouse: %+v vs %+v", first, second)
	}
	if got := render(run(t, s, "show partitions sales.orders")); len(got) != 720 {
		t.Errorf("%d partitions", len(got))
	}
	if n, sum := countAndChecksum(t, s, "sales.orders"); n != rows1 || sum != sum1 {
		t.Errorf("sales.orders has %d rows (sum %v) after regenerating, %d (%v) before", n, sum, rows1, sum1)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

package hiveql

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	opts := GenerateOptions{Seed: 42, Days: 2, HoursPerDay: 2, FilesPerPartition: 3, RowsPerFile: 5}
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
	if rep.Tables != 9 || rep.Partitions == 0 {
		t.Errorf("report %+v", rep)
	}
	other := opts
	other.Seed = 43
	dir3, _, _ := gen(other)
	if d3, _, _ := treeDigest(t, dir3); d3 == d1 {
		t.Errorf("a different seed gave the same files")
	}

	s := w.NewSession("hive")
	parts := render(run(t, s, "show partitions sales.orders"))
	if len(parts) != 4 || parts[0] != "dt=2024-01-01/hr=00" {
		t.Errorf("sales.orders partitions %v", parts)
	}
	// Statistics match the files, so COUNT(*) and numRows agree.
	if n, _ := countAndChecksum(t, s, "sales.orders"); n != int64(3*3*5) {
		t.Errorf("sales.orders has %d rows, want 45 (one partition empty)", n)
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
	w.mu.Unlock()
	if !custom || !empty {
		t.Errorf("sales.orders lacks a custom-location partition (%v) or an empty one (%v)", custom, empty)
	}
	for _, q := range []string{
		"select count(*), sum(hash(*)) from sales.payments",
		"select count(*) from web.clicks",
		"select count(*) from web.sessions",
		"select count(*) from web.pageviews",
		"select count(*) from ops.metrics where dt = '2024-01-01'",
		"select count(*) from ops.events",
		"select count(*) from ops.audit_log",
		"alter table ops.metrics partition (dt='2024-01-01', hr='00') concatenate",
		"alter table sales.payments partition (dt='2024-01-01') compact 'major' and wait",
	} {
		run(t, s, q)
	}
	if err := hiveErr(t, s, "alter table ops.events partition (dt='2024-01-01') concatenate"); err.Code != 30031 {
		t.Errorf("bucketed table: %v", err)
	}

	capped := opts
	capped.MaxFiles = 10
	_, _, rep4 := gen(capped)
	if rep4.Files > 10 || rep4.Files == 0 {
		t.Errorf("MaxFiles 10 gave %d files", rep4.Files)
	}
}

func TestGenerateTwiceReplacesTables(t *testing.T) {
	w := newWarehouse(t)
	opts := GenerateOptions{Seed: 5, Databases: []string{"sales"}, Days: 2, HoursPerDay: 2, FilesPerPartition: 2, RowsPerFile: 3}
	first, err := Generate(context.Background(), w, opts)
	if err != nil {
		t.Fatal(err)
	}
	digest1, _, _ := treeDigest(t, w.Dir())
	second, err := Generate(context.Background(), w, opts)
	if err != nil {
		t.Fatal(err)
	}
	digest2, _, _ := treeDigest(t, w.Dir())
	if first != second || digest1 != digest2 {
		t.Errorf("regenerating changed the warehouse: %+v vs %+v", first, second)
	}
	s := w.NewSession("hive")
	if got := render(run(t, s, "show partitions sales.orders")); len(got) != 4 {
		t.Errorf("partitions %v", got)
	}
	if n, _ := countAndChecksum(t, s, "sales.orders"); n != 3*2*3 {
		t.Errorf("sales.orders has %d rows after regenerating", n)
	}
}

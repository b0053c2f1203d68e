package namenodetest_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/colinmarc/hdfs/v2"

	"github.com/hivemerge/hivemerge/shared/fsys/hdfsfs/namenodetest"
)

func client(t *testing.T, addrs ...string) *hdfs.Client {
	t.Helper()
	c, err := hdfs.NewClient(hdfs.ClientOptions{Addresses: addrs, User: "hive"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestClient drives the server with the real Go client, call by call.
func TestClient(t *testing.T) {
	ns := namenodetest.NewNamespace()
	mtime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 25 {
		if err := ns.WriteFile(fmt.Sprintf("/w/t/f%02d", i), int64(i), mtime); err != nil {
			t.Fatal(err)
		}
	}
	srv := namenodetest.Start(t, ns, namenodetest.Options{ListLimit: 10})
	c := client(t, srv.Addr())

	fi, err := c.Stat("/w/t/f07")
	if err != nil || fi.Size() != 7 || fi.IsDir() || !fi.ModTime().Equal(mtime) || fi.Name() != "f07" {
		t.Fatalf("Stat = %v, %v", fi, err)
	}
	if _, err := c.Stat("/w/nope"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stat(missing) error = %v", err)
	}

	f, err := c.Open("/w/t")
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetCalls()
	var names []string
	for {
		page, err := f.Readdir(10)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, fi := range page {
			names = append(names, fi.Name())
		}
		if len(page) < 10 {
			break // a short page is the last one; asking again costs a call
		}
	}
	if len(names) != 25 || names[0] != "f00" || names[24] != "f24" {
		t.Errorf("Readdir = %v", names)
	}
	if n := srv.Calls("getListing"); n != 3 {
		t.Errorf("25 entries with a limit of 10 took %d getListing calls, want 3", n)
	}

	cs, err := c.GetContentSummary("/w")
	if err != nil || cs.FileCount() != 25 || cs.DirectoryCount() != 2 || cs.Size() != 300 {
		t.Errorf("GetContentSummary = %+v, %v", cs, err)
	}
	if err := c.MkdirAll("/w/new/a", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.Mkdir("/w/t/f01", 0o755); !errors.Is(err, os.ErrExist) {
		t.Errorf("Mkdir over a file: %v", err)
	}
	if err := c.Rename("/w/t", "/w/new/a/t"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stat("/w/new/a/t/f24"); err != nil {
		t.Errorf("after Rename: %v", err)
	}
	if err := c.Remove("/w/new"); err == nil {
		t.Error("Remove of a non-empty directory succeeded")
	}
	if err := c.RemoveAll("/w/new"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stat("/w/new"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after RemoveAll: %v", err)
	}
	if _, err := c.ServerDefaults(); err != nil {
		t.Errorf("ServerDefaults: %v", err)
	}
}

func TestStandbyFailover(t *testing.T) {
	ns := namenodetest.NewNamespace()
	if err := ns.MkdirAll("/w"); err != nil {
		t.Fatal(err)
	}
	standby := namenodetest.Start(t, ns, namenodetest.Options{})
	active := namenodetest.Start(t, ns, namenodetest.Options{})
	standby.SetStandby(true)
	c := client(t, standby.Addr(), active.Addr())
	if _, err := c.Stat("/w"); err != nil {
		t.Fatalf("Stat through a standby and an active NameNode: %v", err)
	}
	if standby.Calls("getFileInfo") != 1 || active.Calls("getFileInfo") != 1 {
		t.Errorf("calls: standby %v, active %v", standby.CallCounts(), active.CallCounts())
	}
}

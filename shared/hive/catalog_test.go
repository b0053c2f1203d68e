package hive_test

import (
	"context"
	"slices"
	"testing"
)

func TestDatabasesAndTables(t *testing.T) {
	sb := startSandbox(t, endpoints[0])
	c := sb.client(t)
	ctx := context.Background()
	for _, s := range []string{"CREATE DATABASE web", "CREATE TABLE web.b (x int)", "CREATE TABLE web.a (x int)", "CREATE DATABASE empty_db"} {
		if err := c.Exec(ctx, s, nil); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	dbs, err := c.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(dbs, "web") || !slices.Contains(dbs, "empty_db") || !slices.IsSorted(dbs) {
		t.Errorf("Databases = %q", dbs)
	}
	tables, err := c.Tables(ctx, "web")
	if err != nil || !slices.Equal(tables, []string{"a", "b"}) {
		t.Errorf("Tables(web) = %q, %v", tables, err)
	}
	if tables, err := c.Tables(ctx, "empty_db"); err != nil || len(tables) != 0 {
		t.Errorf("Tables(empty_db) = %q, %v", tables, err)
	}
	if _, err := c.Tables(ctx, "web`x"); err == nil {
		t.Error("Tables accepted a name with a backtick")
	}
}

package merge_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

func validRequest() merge.CreateTaskRequest {
	return merge.CreateTaskRequest{
		ClusterID: "demo", Name: "t1", Database: "sales", Table: "orders",
		Strategy: merge.StrategySafeMerge,
	}
}

func TestCreateTaskRequestValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(*merge.CreateTaskRequest)
		wantErr string // substring of the message; "" means valid
	}{
		{"valid", func(*merge.CreateTaskRequest) {}, ""},
		{"default_strategy", func(r *merge.CreateTaskRequest) { r.Strategy = "" }, ""},
		{"partitions", func(r *merge.CreateTaskRequest) {
			r.Partitions = []merge.PartitionSpec{{"dt": "2024-01-01", "hr": "00"}, {"dt": "2024-01-02"}}
		}, ""},
		{"hive_default_partition", func(r *merge.CreateTaskRequest) {
			r.Partitions = []merge.PartitionSpec{{"dt": "__HIVE_DEFAULT_PARTITION__"}}
		}, ""},
		{"cluster_with_dash", func(r *merge.CreateTaskRequest) { r.ClusterID = "prod-eu" }, ""},
		{"missing_cluster", func(r *merge.CreateTaskRequest) { r.ClusterID = "" }, "cluster_id is required"},
		{"cluster_uppercase", func(r *merge.CreateTaskRequest) { r.ClusterID = "Prod" }, "cluster_id"},
		{"missing_name", func(r *merge.CreateTaskRequest) { r.Name = "" }, "task_name is required"},
		{"blank_name", func(r *merge.CreateTaskRequest) { r.Name = "  " }, "task_name is required"},
		{"name_control_char", func(r *merge.CreateTaskRequest) { r.Name = "a\x00b" }, "control characters"},
		{"missing_database", func(r *merge.CreateTaskRequest) { r.Database = "" }, "database_name is required"},
		{"missing_table", func(r *merge.CreateTaskRequest) { r.Table = "" }, "table_name is required"},
		{"table_backtick", func(r *merge.CreateTaskRequest) { r.Table = "orders`; DROP TABLE x" }, "table_name"},
		{"table_quote", func(r *merge.CreateTaskRequest) { r.Table = "o'rders" }, "table_name"},
		{"table_semicolon", func(r *merge.CreateTaskRequest) { r.Table = "orders;" }, "table_name"},
		{"table_space", func(r *merge.CreateTaskRequest) { r.Table = "my orders" }, "table_name"},
		{"table_dot", func(r *merge.CreateTaskRequest) { r.Table = "sales.orders" }, "table_name"},
		{"table_variable", func(r *merge.CreateTaskRequest) { r.Table = "${hiveconf:x}" }, "table_name"},
		{"database_unicode", func(r *merge.CreateTaskRequest) { r.Database = "sälës" }, "database_name"},
		{"identifier_too_long", func(r *merge.CreateTaskRequest) { r.Table = strings.Repeat("a", 129) }, "longer than 128"},
		{"partition_key_bad", func(r *merge.CreateTaskRequest) { r.Partitions = []merge.PartitionSpec{{"d t": "x"}} }, "partition column"},
		{"partition_value_quote", func(r *merge.CreateTaskRequest) { r.Partitions = []merge.PartitionSpec{{"dt": "x' OR '1'='1"}} }, "quotes"},
		{"partition_value_double_quote", func(r *merge.CreateTaskRequest) { r.Partitions = []merge.PartitionSpec{{"dt": `x"`}} }, "quotes"},
		{"partition_value_backslash", func(r *merge.CreateTaskRequest) { r.Partitions = []merge.PartitionSpec{{"dt": `x\`}} }, "backslashes"},
		{"partition_value_newline", func(r *merge.CreateTaskRequest) { r.Partitions = []merge.PartitionSpec{{"dt": "x\ny"}} }, "control characters"},
		{"partition_value_variable", func(r *merge.CreateTaskRequest) { r.Partitions = []merge.PartitionSpec{{"dt": "${env:HOME}"}} }, "${"},
		{"partition_empty_spec", func(r *merge.CreateTaskRequest) { r.Partitions = []merge.PartitionSpec{{}} }, "may not be empty"},
		{"partition_max_keys", func(r *merge.CreateTaskRequest) {
			r.Partitions = []merge.PartitionSpec{manyKeys(merge.MaxPartitionKeys)}
		}, ""},
		{"partition_too_many_keys", func(r *merge.CreateTaskRequest) {
			r.Partitions = []merge.PartitionSpec{manyKeys(merge.MaxPartitionKeys + 1)}
		}, "has 33 columns; at most 32"},
		{"partition_fifty_thousand_keys", func(r *merge.CreateTaskRequest) { r.Partitions = []merge.PartitionSpec{manyKeys(50000)} }, "at most 32"},
		{"partition_key_twice_in_other_case", func(r *merge.CreateTaskRequest) {
			r.Partitions = []merge.PartitionSpec{{"dt": "x", "DT": "y"}}
		}, "names partition column dt twice"},
		{"partition_duplicate_spec", func(r *merge.CreateTaskRequest) {
			r.Partitions = []merge.PartitionSpec{{"dt": "x"}, {"hr": "1"}, {"dt": "x"}}
		}, "entries 0 and 2 are the same partition spec"},
		{"partition_duplicate_spec_after_folding", func(r *merge.CreateTaskRequest) {
			r.Partitions = []merge.PartitionSpec{{"DT": "x", "hr": "1"}, {"dt": "x", "HR": "1"}}
		}, "entries 0 and 1 are the same partition spec"},
		{"partition_values_differing_in_case_are_distinct", func(r *merge.CreateTaskRequest) {
			r.Partitions = []merge.PartitionSpec{{"dt": "x"}, {"dt": "X"}}
		}, ""},
		{"name_rlo", func(r *merge.CreateTaskRequest) { r.Name = "merge \u202egnp.exe" }, "formatting characters (U+202E)"},
		{"name_zero_width_space", func(r *merge.CreateTaskRequest) { r.Name = "a\u200bb" }, "U+200B"},
		{"name_bom", func(r *merge.CreateTaskRequest) { r.Name = "\ufeffname" }, "U+FEFF"},
		{"name_isolate", func(r *merge.CreateTaskRequest) { r.Name = "a\u2066b\u2069" }, "U+2066"},
		{"name_line_separator", func(r *merge.CreateTaskRequest) { r.Name = "a\u2028b" }, "U+2028"},
		{"name_paragraph_separator", func(r *merge.CreateTaskRequest) { r.Name = "a\u2029b" }, "U+2029"},
		{"name_soft_hyphen", func(r *merge.CreateTaskRequest) { r.Name = "a\u00adb" }, "U+00AD"},
		{"name_visible_unicode", func(r *merge.CreateTaskRequest) { r.Name = "fusion des données – été" }, ""},
		{"partition_value_rlo", func(r *merge.CreateTaskRequest) { r.Partitions = []merge.PartitionSpec{{"dt": "2024\u202e"}} }, "partition value for dt may not contain invisible"},
		{"partition_value_zero_width", func(r *merge.CreateTaskRequest) { r.Partitions = []merge.PartitionSpec{{"dt": "2024\u200d01"}} }, "U+200D"},
		{"partition_value_line_separator", func(r *merge.CreateTaskRequest) { r.Partitions = []merge.PartitionSpec{{"dt": "a\u2028"}} }, "U+2028"},
		{"unknown_strategy", func(r *merge.CreateTaskRequest) { r.Strategy = "fast" }, "merge_strategy"},
		{"negative_target", func(r *merge.CreateTaskRequest) { r.TargetFileSize = -1 }, "may not be negative"},
		{"tiny_target", func(r *merge.CreateTaskRequest) { r.TargetFileSize = 1000 }, "between"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := validRequest()
			tc.edit(&r)
			err := r.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, merge.ErrInvalid) {
				t.Fatalf("Validate() = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate() = %q, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func manyKeys(n int) merge.PartitionSpec {
	p := merge.PartitionSpec{}
	for i := range n {
		p[fmt.Sprintf("k%d", i)] = "v"
	}
	return p
}

// TestCreateTaskRequestFoldsNames pins down what Validate leaves in the request: database,
// table and partition column names in lower case, partition values untouched.
func TestCreateTaskRequestFoldsNames(t *testing.T) {
	for _, tc := range []struct {
		name           string
		db, table      string
		parts          []merge.PartitionSpec
		wantDB, wantTb string
		wantParts      []merge.PartitionSpec
	}{
		{"lower_case_unchanged", "web", "pageviews", nil, "web", "pageviews", nil},
		{"mixed_case", "WEB", "PageViews", nil, "web", "pageviews", nil},
		{"partition_keys_folded_values_kept", "Web", "Events",
			[]merge.PartitionSpec{{"DT": "2024-01-01", "Region": "EU_West"}, {"dt": "2024-01-02"}},
			"web", "events",
			[]merge.PartitionSpec{{"dt": "2024-01-01", "region": "EU_West"}, {"dt": "2024-01-02"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := validRequest()
			r.Database, r.Table, r.Partitions = tc.db, tc.table, tc.parts
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			if r.Database != tc.wantDB || r.Table != tc.wantTb || !reflect.DeepEqual(r.Partitions, tc.wantParts) {
				t.Errorf("after Validate: %s.%s %v, want %s.%s %v", r.Database, r.Table, r.Partitions, tc.wantDB, tc.wantTb, tc.wantParts)
			}
		})
	}
}

func TestClusterNormalize(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       merge.Cluster
		wantErr string
		check   func(t *testing.T, c merge.Cluster)
	}{
		{name: "defaults", c: merge.Cluster{ID: "demo", Host: "127.0.0.1"}, check: func(t *testing.T, c merge.Cluster) {
			if c.Port != 10000 || c.Transport != "binary" || c.Auth != "NONE" || c.MaxRunningTasks != 2 || c.Name != "demo" {
				t.Errorf("defaults not applied: %+v", c)
			}
		}},
		{name: "ldap_with_env_ref", c: merge.Cluster{ID: "prod-1", Host: "hs2.example.com", Auth: "LDAP", Username: "etl", PasswordRef: "env:HIVE_PASSWORD"}},
		{name: "secret_manager_ref", c: merge.Cluster{ID: "p", Host: "h", PasswordRef: "secretmanager:projects/p1/secrets/hive/versions/latest"}},
		{name: "file_ref", c: merge.Cluster{ID: "p", Host: "h", PasswordRef: "file:/etc/hivemerge/pw"}},
		{name: "ipv6_host", c: merge.Cluster{ID: "p", Host: "[::1]"}},
		{name: "password_in_ref", c: merge.Cluster{ID: "p", Host: "h", PasswordRef: "hunter2"}, wantErr: "password_ref"},
		{name: "relative_file_ref", c: merge.Cluster{ID: "p", Host: "h", PasswordRef: "file:pw"}, wantErr: "password_ref"},
		{name: "ldap_without_ref", c: merge.Cluster{ID: "p", Host: "h", Auth: "LDAP", Username: "u"}, wantErr: "LDAP"},
		{name: "bad_id", c: merge.Cluster{ID: "Prod Cluster", Host: "h"}, wantErr: "id must be"},
		{name: "bad_host", c: merge.Cluster{ID: "p", Host: "h;rm -rf"}, wantErr: "host"},
		{name: "bad_port", c: merge.Cluster{ID: "p", Host: "h", Port: 70000}, wantErr: "port"},
		{name: "bad_transport", c: merge.Cluster{ID: "p", Host: "h", Transport: "grpc"}, wantErr: "transport"},
		{name: "bad_auth", c: merge.Cluster{ID: "p", Host: "h", Auth: "PLAIN"}, wantErr: "auth"},
		{name: "bad_fs_default", c: merge.Cluster{ID: "p", Host: "h", FSDefault: "s3://bucket"}, wantErr: "fs_default"},
		{name: "name_bidi_override", c: merge.Cluster{ID: "p", Name: "prod\u202e", Host: "h"}, wantErr: "U+202E"},
		{name: "bad_max_running", c: merge.Cluster{ID: "p", Host: "h", MaxRunningTasks: -1}, wantErr: "max_running_tasks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			err := c.Normalize(nil)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Normalize() = %v", err)
				}
				if tc.check != nil {
					tc.check(t, c)
				}
				return
			}
			if !errors.Is(err, merge.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Normalize() = %v, want ErrInvalid mentioning %q", err, tc.wantErr)
			}
		})
	}
}

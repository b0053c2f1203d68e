package hivesandbox

import "testing"

func TestGuessHasResultSet(t *testing.T) {
	tests := []struct {
		stmt string
		want bool
	}{
		{"SELECT 1", true},
		{"  select\n count(*) from t", true},
		{"DESCRIBE FORMATTED t", true},
		{"desc t", true},
		{"SHOW PARTITIONS t", true},
		{"-- a comment\nSHOW TABLES", true},
		{"/* hint */ SELECT 1", true},
		{"(SELECT 1) UNION ALL (SELECT 2)", true},
		{"WITH x AS (SELECT 1) SELECT * FROM x", true},
		{"SET", true},
		{"SET hive.merge.mapfiles", true},
		{"SET hive.merge.mapfiles=true", false},
		{"set hive.merge.mapfiles = true;", false},
		{"USE sales", false},
		{"INSERT OVERWRITE TABLE t SELECT * FROM s", false},
		{"ALTER TABLE t CONCATENATE", false},
		{"CREATE TABLE t (a int)", false},
		{"", false},
		{"-- only a comment", false},
	}
	for _, tt := range tests {
		if got := guessHasResultSet(tt.stmt); got != tt.want {
			t.Errorf("guessHasResultSet(%q) = %v, want %v", tt.stmt, got, tt.want)
		}
	}
}

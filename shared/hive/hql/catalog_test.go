package hql

import (
	"errors"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestShowTables(t *testing.T) {
	got, err := ShowTables("web_1")
	if err != nil || got != "SHOW TABLES IN `web_1`" {
		t.Errorf("ShowTables(web_1) = %q, %v", got, err)
	}
	for _, bad := range []string{"", "web`; DROP TABLE x", "a.b", "${x}"} {
		if _, err := ShowTables(bad); !errors.Is(err, merge.ErrInvalid) {
			t.Errorf("ShowTables(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

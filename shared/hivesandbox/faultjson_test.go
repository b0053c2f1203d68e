package hivesandbox_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
)

func TestReadFaults(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []hivesandbox.Fault
		wantErr string
	}{
		{
			name: "array",
			in: `[{"match": "^INSERT", "action": "slow", "delay": "1.5s", "at_commit": true},
			      {"match": "x", "action": "concurrent_write", "times": 2,
			       "write": {"db": "sales", "table": "orders", "partition": {"dt": "2024-01-01"}, "rows": [["1", "a"]]}}]`,
			want: []hivesandbox.Fault{
				{Match: "^INSERT", Action: hivesandbox.FaultSlow, Delay: 1500 * time.Millisecond, AtCommit: true},
				{Match: "x", Action: hivesandbox.FaultConcurrentWrite, Times: 2, Write: &hivesandbox.ConcurrentWrite{
					DB: "sales", Table: "orders", Partition: map[string]string{"dt": "2024-01-01"}, Rows: [][]string{{"1", "a"}}}},
			},
		},
		{name: "single object", in: `{"match": "DROP", "action": "fail", "message": "no"}`,
			want: []hivesandbox.Fault{{Match: "DROP", Action: hivesandbox.FaultFail, Message: "no"}}},
		{name: "unknown field", in: `[{"match": "x", "action": "fail", "tmies": 1}]`, wantErr: "tmies"},
		{name: "unknown action", in: `[{"match": "x", "action": "explode"}]`, wantErr: "unknown fault action"},
		{name: "bad delay", in: `[{"match": "x", "action": "slow", "delay": "soon"}]`, wantErr: "delay"},
		{name: "slow without delay", in: `[{"match": "x", "action": "slow"}]`, wantErr: "positive delay"},
		{name: "bad regexp", in: `[{"match": "(", "action": "fail"}]`, wantErr: "fault match"},
		{name: "write without rows", in: `[{"match": "x", "action": "concurrent_write", "write": {"db": "d", "table": "t"}}]`, wantErr: "write.rows"},
		{name: "drop at commit", in: `[{"match": "x", "action": "drop_connection", "at_commit": true}]`, wantErr: "at_commit"},
		{name: "negative times", in: `[{"match": "x", "action": "hang", "times": -1}]`, wantErr: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hivesandbox.ReadFaults(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadFaults error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReadFaults = %+v, want %+v", got, tt.want)
			}
			// The JSON form round-trips.
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			again, err := hivesandbox.ReadFaults(strings.NewReader(string(b)))
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip through %s = %+v, %v", b, again, err)
			}
		})
	}
}

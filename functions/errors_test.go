package functions

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestErrorBusy pins a claim refused by the cluster's cap to 429, apart from conflicts.
func TestErrorBusy(t *testing.T) {
	for _, c := range []struct {
		name     string
		err      error
		wantBody string
	}{
		{"with its message", fmt.Errorf("claim: %w", merge.Errorf(merge.ErrBusy, "cluster prod already runs 2 of its 2 tasks")),
			`{"error":{"code":"busy","message":"cluster prod already runs 2 of its 2 tasks"}}`},
		{"bare kind", merge.ErrBusy, `{"error":{"code":"busy","message":"the cluster runs as many tasks as it allows; retry later"}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := classify(c.err)
			b, _ := json.Marshal(body)
			if status != 429 || string(b) != c.wantBody {
				t.Errorf("classify = %d %s, want 429 %s", status, b, c.wantBody)
			}
		})
	}
}

// TestErrorRefusal: a refusal answers 400 with its reason, and its code and arguments for
// translation.
func TestErrorRefusal(t *testing.T) {
	err := fmt.Errorf("create: %w", merge.Check(merge.TableFacts{Format: merge.FormatText}, merge.StrategyConcatenate))
	status, body := classify(err)
	b, _ := json.Marshal(body)
	want := `{"error":{"code":"invalid_argument","message":"CONCATENATE works only on ORC and RCFile tables; this one is text (Hive refuses it with Error 30030): use safe_merge",` +
		`"reason_code":"concatenate-format","reason_args":{"format":"text"}}}`
	if status != 400 || string(b) != want {
		t.Errorf("classify = %d %s, want 400 %s", status, b, want)
	}
}

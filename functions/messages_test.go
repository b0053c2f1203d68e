package functions

import (
	"encoding/json"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestMessageCatalog keeps the console's copy of the message catalog (codes and English
// templates) in step with the API's: the console formats arguments by the templates' verbs,
// and its unit tests fail when a code has no translation.
func TestMessageCatalog(t *testing.T) {
	b, err := json.MarshalIndent(merge.Catalog(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "../console/ui/src/messages.json", append(b, '\n'))
}

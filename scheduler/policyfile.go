package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// maxPolicyFile bounds the policies file hivemerge reads.
const maxPolicyFile = 4 << 20

// LoadPolicyFile reads policies from a YAML or JSON file of the form
//
//	policies:
//	  - name: nightly-web
//	    databases: [web]
//	    min_small_files: 100
//
// Each policy is decoded over merge.DefaultPolicy with the API's field names; an unknown field
// is an error, as in the API. YAML is read into plain values and re-encoded as JSON, so that
// the file and the API share one decoder and one set of names. Policies are not validated
// here (see ApplyPolicyFile).
func LoadPolicyFile(path string) ([]merge.Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) > maxPolicyFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxPolicyFile)
	}
	var doc struct {
		Policies []any `yaml:"policies"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]merge.Policy, 0, len(doc.Policies))
	for i, raw := range doc.Policies {
		js, err := json.Marshal(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: policies[%d]: %w", path, i, err)
		}
		p := merge.DefaultPolicy()
		d := json.NewDecoder(bytes.NewReader(js))
		d.DisallowUnknownFields()
		if err := d.Decode(&p); err != nil {
			return nil, fmt.Errorf("%s: policies[%d]: %w", path, i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// ApplyPolicyFile loads path and stores each policy in it (creating or replacing it), after
// validating them all, so that a file with one bad policy changes nothing. It returns how many
// it stored.
func ApplyPolicyFile(ctx context.Context, policies *merge.Policies, path string) (int, error) {
	list, err := LoadPolicyFile(path)
	if err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	for i := range list {
		if err := policies.Validate(&list[i]); err != nil {
			return 0, fmt.Errorf("%s: policies[%d]: %w", path, i, err)
		}
		if seen[list[i].Name] {
			return 0, fmt.Errorf("%s: policies[%d]: name %s is used twice", path, i, list[i].Name)
		}
		seen[list[i].Name] = true
	}
	for _, p := range list {
		if _, err := policies.Put(ctx, p, "file:"+path); err != nil {
			return 0, fmt.Errorf("%s: store policy %s: %w", path, p.Name, err)
		}
	}
	return len(list), nil
}

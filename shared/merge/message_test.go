package merge_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// TestCatalog: every template's placeholders use verbs the renderer knows, so a client that
// reads the same verbs can format every argument.
func TestCatalog(t *testing.T) {
	ph := regexp.MustCompile(`\{([^}]*)\}`)
	verb := regexp.MustCompile(`^\w+(:(count|bytes|round|fixed2|q|duration|time|plural:\w+))?$`)
	for code, tmpl := range merge.Catalog() {
		if !regexp.MustCompile(`^[a-z0-9-]+$`).MatchString(code) {
			t.Errorf("code %q is not lower-case words joined by hyphens", code)
		}
		for _, m := range ph.FindAllStringSubmatch(tmpl, -1) {
			if !verb.MatchString(m[1]) {
				t.Errorf("%s: placeholder {%s} has no known verb", code, m[1])
			}
		}
		if strings.ContainsAny(tmpl, "|@") {
			t.Errorf("%s: | and @ are syntax in the console's message format", code)
		}
	}
}

// TestSay: texts rendered from codes and arguments read as the API's sentences always have.
func TestSay(t *testing.T) {
	nested := merge.Say(merge.RuleView, nil)
	for _, tc := range []struct {
		name, code string
		args       merge.Args
		want       string
	}{
		{"plural, sizes", merge.RuleNeedsMerge, merge.Args{"files": int64(8), "avg_bytes": int64(296), "files_after": int64(1), "bytes_after": int64(2374)},
			"8 files averaging 296 B merge into 1 file of about 2.4 kB"},
		{"plural of many", merge.RuleHealthy, merge.Args{"files": int64(3), "bytes": int64(600_000_000), "files_after": int64(3)},
			"3 files of 600.0 MB need no merge: target-sized files would still be 3"},
		{"thousands, rounding", merge.MsgHealthSmall, merge.Args{"small": int64(2431), "files": int64(2480), "small_bytes": int64(16_000_000),
			"percent": 98.024, "penalty": 39.2},
			"2,431 of 2,480 files are under 16.0 MB (98%): -39"},
		{"durations", merge.RuleQuietPeriod, merge.Args{"age": int64(90), "quiet": int64(3600)},
			"do not merge yet: files were written 1m30s ago, within the quiet period of 1h0m0s, so a writer may still be adding files"},
		{"quoted", merge.RuleUnknownStrategy, merge.Args{"strategy": `x"y`},
			`merge strategy "x\"y" is not one of auto, safe_merge, concatenate, insert_overwrite, acid_compact`},
		{"two decimals", merge.MsgSkipLowRatio, merge.Args{"ratio": 0.126, "min": 0.5}, "small file ratio 0.13 is below min_small_file_ratio 0.50"},
		{"nested", merge.MsgDoNotMerge, merge.Args{"reason": nested}, "do not merge: a view has no files of its own: merge the tables it reads instead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := merge.Say(tc.code, tc.args)
			if m.Text != tc.want || m.Code != tc.code {
				t.Errorf("Say = %s %q, want %s %q", m.Code, m.Text, tc.code, tc.want)
			}
		})
	}
}

// TestReasonsCarryCodes: every reason the API composes comes with its code and arguments,
// rendered into the same text.
func TestReasonsCarryCodes(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	th := merge.Thresholds{}
	small := merge.FileFacts{Files: 8, Bytes: 8 * 296}
	orc := merge.TableFacts{Format: merge.FormatORC}
	type reason struct{ text, code string }
	check := func(t *testing.T, r reason, want string) {
		t.Helper()
		if r.code != want || r.text == "" {
			t.Errorf("reason %q has code %q, want %q", r.text, r.code, want)
		}
	}
	t.Run("refusal", func(t *testing.T) {
		err := merge.Check(merge.TableFacts{TableFormat: merge.TableFormatIceberg}, merge.StrategyAuto)
		rf := err.(*merge.Refusal)
		check(t, reason{rf.Reason, rf.ReasonCode}, merge.MsgOpenTableFormatIceberg)
	})
	t.Run("decision", func(t *testing.T) {
		d, err := merge.Choose(orc, small, merge.StrategyAuto)
		if err != nil {
			t.Fatal(err)
		}
		check(t, reason{d.Reason, d.ReasonCode}, merge.RuleAutoTinyStripes)
	})
	t.Run("assessment", func(t *testing.T) {
		a := merge.Assess(orc, small, merge.DefaultTargetFileSize)
		check(t, reason{a.Reason.Text, a.Reason.Code}, merge.RuleNeedsMerge)
	})
	t.Run("recommendation refused", func(t *testing.T) {
		r := merge.Recommend(merge.TableFacts{View: true}, small, time.Time{}, th, now)
		check(t, reason{r.Reason, r.ReasonCode}, merge.MsgDoNotMerge)
		if in, ok := r.ReasonArgs["reason"].(merge.Message); !ok || in.Code != merge.RuleView || !strings.HasSuffix(r.Reason, in.Text) {
			t.Errorf("reason args %v, want the refusal nested", r.ReasonArgs)
		}
	})
	t.Run("health", func(t *testing.T) {
		e := merge.EvaluatePartition(orc, small, time.Time{}, th, now)
		h := e.Health
		if len(h.RuleMessages) != len(h.Rules) || len(h.Rules) < 2 {
			t.Fatalf("rules %q with messages %v", h.Rules, h.RuleMessages)
		}
		for i, m := range h.RuleMessages {
			if m.Text != h.Rules[i] || m.Code == "" {
				t.Errorf("rule %q has message %v", h.Rules[i], m)
			}
		}
		check(t, reason{e.Recommendation.Reason, e.Recommendation.ReasonCode}, merge.RuleAutoTinyStripes)
	})
	t.Run("JSON", func(t *testing.T) {
		b, err := json.Marshal(merge.Recommend(orc, small, time.Time{}, th, now))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"reason_code":"auto-orc-tiny-stripes","reason_args":{"avg_bytes":296,"min_bytes":16000000}`) {
			t.Errorf("recommendation %s", b)
		}
	})
}

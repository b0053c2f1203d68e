package merge

import (
	"fmt"
	"maps"
	"regexp"
	"strings"
	"time"
)

// Message is a sentence the API shows a person, in two forms: a stable code with named
// arguments, which a client translates, and the English text rendered from them. Both come
// from one catalog entry, so a translation and the English never say different things.
type Message struct {
	Code string `json:"code"`
	// Args are int64, float64, string or a nested Message; after a round trip through JSON,
	// numbers and objects.
	Args Args   `json:"args,omitempty"`
	Text string `json:"text"`
}

// Args are a message's named arguments.
type Args map[string]any

// Message codes that are not rule names. A rule name serves as the code of the one text its
// rule produces.
const (
	MsgOpenTableFormatIceberg = "open-table-format-iceberg"
	MsgOpenTableFormatHudi    = "open-table-format-hudi"
	MsgOpenTableFormatDelta   = "open-table-format-delta"
	MsgAutoRewriteExternal    = "auto-rewrite-external"
	MsgAutoRewriteFormat      = "auto-rewrite-format"
	MsgAutoRewriteBucketed    = "auto-rewrite-bucketed"
	MsgPartitionInputFormat   = "partition-input-format"
	MsgPartitionSerDe         = "partition-serde"
	MsgPartitionSerDeParams   = "partition-serde-params"

	MsgDoNotMerge       = "do-not-merge"
	MsgAllHealthy       = "all-healthy"
	MsgNoDataFiles      = "health-no-data-files"
	MsgHealthNoMerge    = "health-no-merge"
	MsgHealthSmall      = "health-small-files"
	MsgHealthExcess     = "health-excess-files"
	MsgHealthPerPart    = "health-files-per-partition"
	MsgHealthNameNode   = "health-namenode-objects"
	MsgGrowthAlert      = "growth-alert"
	MsgWarnConcatenate  = "warn-concatenate"
	MsgWarnInsertOver   = "warn-insert-overwrite"
	MsgWarnACIDCompact  = "warn-acid-compact"
	MsgWarnListFailed   = "warn-listing-failed"
	MsgWarnMissing      = "warn-missing-location"
	MsgCandidateTable   = "candidate-table"
	MsgCandidateParts   = "candidate-partitions"
	MsgSkipScanError    = "skip-scan-error"
	MsgSkipNotAdvised   = "skip-not-recommended"
	MsgSkipFewSmall     = "skip-min-small-files"
	MsgSkipLowRatio     = "skip-min-small-file-ratio"
	MsgSkipHighScore    = "skip-max-health-score"
	MsgSkipRecent       = "skip-quiet-period"
	MsgSkipRecentParts  = "skip-partitions-quiet-period"
	MsgSkipNoPartition  = "skip-no-partition"
	MsgSkipBadPartition = "skip-partition-name"
	MsgSkipNoSavings    = "skip-no-savings"
)

// catalog is every message's English template. A placeholder {name} or {name:verb} takes
// argument name; the verb says how to render it (clients read the same verbs):
//
//	(none)          as it is: %d for integers, a nested message's text
//	count           an integer with thousands separators: 2,431
//	bytes           a size in decimal units: 3.2 MB
//	round           a number without decimals
//	fixed2          a number with two decimals
//	q               a quoted string
//	duration        seconds as a Go duration: 1h0m0s
//	time            an RFC 3339 time
//	plural:WORD     an integer and WORD, plural unless 1: 1 file, 8 files
var catalog = map[string]string{
	RuleView: "a view has no files of its own: merge the tables it reads instead",
	MsgOpenTableFormatIceberg: "an Iceberg table keeps its own metadata over its data files; rewriting them behind it would corrupt the table: " +
		"use Iceberg's rewrite_data_files procedure instead",
	MsgOpenTableFormatHudi: "a Hudi table keeps its own metadata over its data files; rewriting them behind it would corrupt the table: " +
		"use Hudi's clustering or compaction instead",
	MsgOpenTableFormatDelta: "a Delta table keeps its own metadata over its data files; rewriting them behind it would corrupt the table: " +
		"use Delta's OPTIMIZE instead",
	RuleOpenTableFormat: "a {format} table keeps its own metadata over its data files; rewriting them behind it would corrupt the table: " +
		"use the format's own compaction instead",
	RuleStorageHandler: "the table is stored by the storage handler {handler}, which owns its data: Hive has no files to merge",
	RuleUnknownFormat:  "the table's storage format is not one hivemerge can rewrite faithfully (text, ORC, Parquet, RCFile, Avro or SequenceFile)",
	RuleConcatFormat:   "CONCATENATE works only on ORC and RCFile tables; this one is {format} (Hive refuses it with Error 30030): use safe_merge",
	RuleConcatACID:     "CONCATENATE cannot merge a transactional table (Hive refuses it with Error 30035): use acid_compact",
	RuleConcatExternal: "CONCATENATE works only on managed tables and this one is external (Hive refuses it with Error 30034): use safe_merge",
	RuleConcatBucketed: "CONCATENATE cannot merge a bucketed table, whose file count is its bucket count (Hive refuses it with Error 30031): use safe_merge",
	RuleRewriteACID: "a transactional table must not be rewritten directly, behind its transaction log: " +
		"use acid_compact, which lets Hive's compactor merge its deltas",
	RuleCompactNotACID:  "acid_compact needs a transactional table and this one is not: use safe_merge",
	RuleUnknownStrategy: "merge strategy {strategy:q} is not one of auto, safe_merge, concatenate, insert_overwrite, acid_compact",

	RuleRequested: "{strategy} was requested and Hive accepts it for this table",
	RuleAutoACID:  "the table is transactional, so only Hive's compactor may merge its files: a major compaction rewrites its deltas into one base",
	RuleAutoTinyStripes: "the ORC files average {avg_bytes:bytes}, below {min_bytes:bytes}: CONCATENATE would only append their tiny stripes, " +
		"so a rewrite into a new location builds full stripes and can be validated and rolled back",
	RuleAutoConcatenate: "a managed, unbucketed {format} table can be merged by CONCATENATE, which joins files without decoding rows",
	MsgAutoRewriteExternal: "the table is external: safe_merge rewrites the rows into a new location with the same format and SerDe, " +
		"validates them and swaps the location atomically",
	MsgAutoRewriteFormat: "the table is {format}, which CONCATENATE cannot merge: safe_merge rewrites the rows into a new location " +
		"with the same format and SerDe, validates them and swaps the location atomically",
	MsgAutoRewriteBucketed: "the table is bucketed: safe_merge rewrites the rows into a new location with the same format and SerDe, " +
		"validates them and swaps the location atomically",

	RuleEmpty:           "the partition has no files",
	RuleHealthy:         "{files:plural:file} of {bytes:bytes} need no merge: target-sized files would still be {files_after}",
	RuleBucketedFiles:   "{files:plural:file} for {buckets} buckets need no merge: a rewrite writes one file per bucket",
	RuleRewriteBucketed: "{files} files for {buckets} buckets: a rewrite leaves one file per bucket",
	RuleNeedsMerge:      "{files} files averaging {avg_bytes:bytes} merge into {files_after:plural:file} of about {bytes_after:bytes}",

	MsgPartitionInputFormat: "the partition is stored as {format}, unlike its table ({table_format}): merge it on its own",
	MsgPartitionSerDe:       "the partition's SerDe {serde} differs from its table's ({table_serde}): merge it on its own",
	MsgPartitionSerDeParams: "the partition's SerDe properties (delimiters) differ from its table's: merge it on its own",
	RuleStatsUnavailable:    "neither a listing nor Hive's metastore could tell this partition's files",
	RuleUnsafeMetadata:      "its metadata cannot be written safely in HiveQL: {error}",

	MsgWarnConcatenate: "concatenate rewrites the files in place: it cannot be rolled back, and a failure part-way leaves the partition as Hive left it",
	MsgWarnInsertOver: "insert_overwrite replaces the partition in place: rows a concurrent writer adds while it runs are lost, " +
		"and it cannot be rolled back; prefer safe_merge unless writers are stopped",
	MsgWarnACIDCompact: "acid_compact queues a major compaction: Hive's compactor runs it asynchronously, " +
		"and the old files disappear only after its cleaner has run",
	MsgWarnListFailed: "the filesystem of {partitions} partition(s) could not be listed ({error}), so their file counts and sizes come " +
		"from Hive's metastore (SHOW TABLE EXTENDED, or statistics that may be stale) and their NameNode objects are estimated from totals",
	MsgWarnMissing: "the location of {partitions} partition(s) does not exist and was counted as empty: {names}",

	MsgDoNotMerge: "do not merge: {reason}",
	MsgAllHealthy: "do not merge: every partition already has about as few files as target-sized files of {target_bytes:bytes} would leave",
	RuleQuietPeriod: "do not merge yet: files were written {age:duration} ago, within the quiet period of {quiet:duration}, " +
		"so a writer may still be adding files",
	RuleTooLarge: "do not merge in one step: {bytes:bytes} to merge is more than {max_bytes:bytes}: merge it in tasks over ranges of partitions",

	MsgNoDataFiles:   "no data files",
	MsgHealthNoMerge: "{files:plural:file} of {bytes:bytes}: no merge would reduce them",
	MsgHealthSmall:   "{small:count} of {files:count} files are under {small_bytes:bytes} ({percent:round}%): -{penalty:round}",
	MsgHealthExcess: "a merge into files of {target_bytes:bytes} would leave {files_after:count} instead of {files:count}, " +
		"removing {excess:count} excess files: -{penalty:round}",
	MsgHealthPerPart: "{per_partition:count} files per partition on average over {partitions:plural:partition}: -{penalty:round}",
	MsgHealthNameNode: "a merge would free {objects:count} NameNode objects (files and blocks), about {heap_bytes:bytes} of NameNode heap: " +
		"-{penalty:round}",
	MsgGrowthAlert: "small files grew from {before:count} to {after:count} since {since:time}, {per_day:count} a day, " +
		"above the alert threshold of {threshold:count} a day",

	MsgCandidateTable: "{small:count} of {files:count} files are small ({percent:round}%), health score {score}; " +
		"merging the whole table quiet for {quiet:duration} removes {excess:count} files",
	MsgCandidateParts: "{small:count} of {files:count} files are small ({percent:round}%), health score {score}; " +
		"merging {partitions:plural:partition} quiet for {quiet:duration} removes {excess:count} files",
	MsgSkipScanError:    "its last scan could not measure it: {error}",
	MsgSkipNotAdvised:   "discovery recommends against it: {reason}",
	MsgSkipFewSmall:     "{small:count} small files, fewer than min_small_files {min:count}",
	MsgSkipLowRatio:     "small file ratio {ratio:fixed2} is below min_small_file_ratio {min:fixed2}",
	MsgSkipHighScore:    "health score {score} is above max_health_score {max}",
	MsgSkipRecent:       "written {age:duration} ago, within the quiet period of {quiet:duration}",
	MsgSkipRecentParts:  "the {partitions} partitions that need a merge were written within the quiet period of {quiet:duration}",
	MsgSkipNoPartition:  "no partition of its last scan needs a merge",
	MsgSkipBadPartition: "partition {partition:q} cannot be targeted: {error}",
	MsgSkipNoSavings:    "merging it would remove no files",
}

var placeholder = regexp.MustCompile(`\{(\w+)(?::([\w:]+))?\}`)

// Say renders message code with args. Callers name codes by the constants above, all in the
// catalog, so an unknown code is a programming error: Say panics.
func Say(code string, args Args) Message {
	tmpl, ok := catalog[code]
	if !ok {
		panic("merge: no message " + code)
	}
	text := placeholder.ReplaceAllStringFunc(tmpl, func(p string) string {
		m := placeholder.FindStringSubmatch(p)
		return render(args[m[1]], m[2])
	})
	if len(args) == 0 {
		args = nil
	}
	return Message{Code: code, Args: args, Text: text}
}

func render(v any, verb string) string {
	if m, ok := v.(Message); ok {
		return m.Text
	}
	n, isInt := v.(int64)
	f, isFloat := v.(float64)
	switch word, isPlural := strings.CutPrefix(verb, "plural:"); {
	case isPlural && isInt:
		return plural(n, word)
	case verb == "count" && isInt:
		return thousands(n)
	case verb == "bytes" && isInt:
		return humanBytes(n)
	case verb == "duration" && isInt:
		return (time.Duration(n) * time.Second).String()
	case verb == "round" && isFloat:
		return fmt.Sprintf("%.0f", f)
	case verb == "fixed2" && isFloat:
		return fmt.Sprintf("%.2f", f)
	case verb == "q":
		return fmt.Sprintf("%q", v)
	case isFloat:
		return fmt.Sprintf("%g", f)
	}
	return fmt.Sprint(v)
}

// Catalog returns every message code with its English template, for clients that translate
// them (the console checks it has a translation of each).
func Catalog() map[string]string { return maps.Clone(catalog) }

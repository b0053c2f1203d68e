package merge

import (
	"cmp"
	"fmt"
	"strings"
)

// The strategy rules. Discovery's recommendations and the planner both decide through these
// functions, so they never disagree; every decision names the rule that fired and says why in a
// sentence a person understands.

// Format is a table's storage format as the rules see it.
type Format string

// Storage formats. FormatOther is any input format the rules do not know, which hivemerge
// does not rewrite.
const (
	FormatText         Format = "text"
	FormatORC          Format = "orc"
	FormatParquet      Format = "parquet"
	FormatRCFile       Format = "rcfile"
	FormatAvro         Format = "avro"
	FormatSequenceFile Format = "sequencefile"
	FormatOther        Format = "other"
)

// TableFormat is an open table format that keeps its own metadata over the files.
type TableFormat string

// Open table formats. Their files must never be rewritten behind their metadata.
const (
	TableFormatIceberg TableFormat = "ICEBERG"
	TableFormatHudi    TableFormat = "HUDI"
	TableFormatDelta   TableFormat = "DELTA"
)

// TableFacts are what the rules need to know about a table.
type TableFacts struct {
	Format   Format
	External bool
	// Transactional is transactional=true; InsertOnly is an insert-only (micro-managed) one.
	Transactional bool
	InsertOnly    bool
	// Buckets is the bucket count of a bucketed (CLUSTERED BY) table, 0 otherwise.
	Buckets int
	// StorageHandler is the table's storage handler class, if any (HBase, Kafka, JDBC, ...).
	StorageHandler string
	// TableFormat is set for Iceberg, Hudi and Delta tables.
	TableFormat TableFormat
	View        bool
	Partitioned bool
}

// Bucketed reports whether the table is bucketed.
func (t TableFacts) Bucketed() bool { return t.Buckets > 0 }

// FileFacts describe the data files of a partition, or of a set of partitions added together.
type FileFacts struct {
	Files int64
	Bytes int64
	// Sizes are the file sizes when a listing gave them; nil when only totals are known (the
	// metastore's statistics). Block counts are exact only with Sizes.
	Sizes []int64
}

// AvgFileSize is the mean file size, 0 when there are no files.
func (f FileFacts) AvgFileSize() int64 {
	if f.Files <= 0 {
		return 0
	}
	return f.Bytes / f.Files
}

// Add returns the facts of f and g together.
func (f FileFacts) Add(g FileFacts) FileFacts {
	out := FileFacts{Files: f.Files + g.Files, Bytes: f.Bytes + g.Bytes}
	if (f.Sizes != nil || f.Files == 0) && (g.Sizes != nil || g.Files == 0) {
		out.Sizes = append(append(make([]int64, 0, len(f.Sizes)+len(g.Sizes)), f.Sizes...), g.Sizes...)
	}
	return out
}

// Rule thresholds and defaults.
const (
	// DefaultTargetFileSize is the size merged files aim at when a task names none: Hive's own
	// default for hive.merge.size.per.task.
	DefaultTargetFileSize int64 = 256_000_000
	// DefaultBlockSize is the HDFS block size assumed when the cluster's is not known
	// (dfs.blocksize's default).
	DefaultBlockSize int64 = 128 << 20
	// TinyStripeAvgFileSize is the average ORC file size below which CONCATENATE is not worth
	// it. ORC concatenation appends whole stripes, and a small file's stripes are no larger
	// than the file, so files averaging under this size would merge into files of many tiny
	// stripes (a merged file of 62,458 stripes is a known disaster): a rewrite builds full
	// stripes instead. The threshold is Hive's own small-file line,
	// hive.merge.smallfiles.avgsize's default of 16,000,000 bytes.
	TinyStripeAvgFileSize int64 = 16_000_000
)

// Rule names, stable for logs, tests and the console.
const (
	RuleView             = "view"
	RuleOpenTableFormat  = "open-table-format"
	RuleStorageHandler   = "storage-handler"
	RuleUnknownFormat    = "non-native-format"
	RuleConcatFormat     = "concatenate-format"
	RuleConcatExternal   = "concatenate-external"
	RuleConcatBucketed   = "concatenate-bucketed"
	RuleConcatACID       = "concatenate-transactional"
	RuleRewriteACID      = "rewrite-transactional"
	RuleCompactNotACID   = "compact-not-transactional"
	RuleRequested        = "requested"
	RuleAutoACID         = "auto-transactional"
	RuleAutoConcatenate  = "auto-concatenate"
	RuleAutoTinyStripes  = "auto-orc-tiny-stripes"
	RuleAutoRewrite      = "auto-rewrite"
	RuleUnknownStrategy  = "unknown-strategy"
	RuleHealthy          = "healthy"
	RuleEmpty            = "empty"
	RuleNeedsMerge       = "needs-merge"
	RuleBucketedFiles    = "bucketed"
	RuleRewriteBucketed  = "rewrite-bucketed"
	RuleStatsUnavailable = "stats-unavailable"
	// RulePartitionStorage skips a partition whose format or SerDe differs from its table's.
	RulePartitionStorage = "partition-storage"
	// RuleUnsafeMetadata skips a partition whose location or names HiveQL cannot carry safely.
	RuleUnsafeMetadata = "unsafe-metadata"
)

// Refusal is why hivemerge will not merge a table with a strategy. It is an ErrInvalid domain
// error, so the API answers 400 with Reason as the message.
type Refusal struct {
	Rule   string
	Reason string
	// ReasonCode and ReasonArgs are Reason as a catalog message (see Say).
	ReasonCode string
	ReasonArgs Args
}

func (r *Refusal) Error() string { return r.Reason }
func (r *Refusal) Unwrap() error { return ErrInvalid }

// Message is the refusal's reason as a message.
func (r *Refusal) Message() Message {
	return Message{Code: r.ReasonCode, Args: r.ReasonArgs, Text: r.Reason}
}

// refuse refuses by rule with the message code (the rule's name when code is "").
func refuse(rule, code string, args Args) *Refusal {
	m := Say(cmp.Or(code, rule), args)
	return &Refusal{Rule: rule, Reason: m.Text, ReasonCode: m.Code, ReasonArgs: m.Args}
}

// Decision is the strategy chosen for a table and why.
type Decision struct {
	Strategy Strategy `json:"strategy"`
	Rule     string   `json:"rule"`
	Reason   string   `json:"reason"`
	// ReasonCode and ReasonArgs are Reason as a catalog message (see Say), for translation.
	ReasonCode string `json:"reason_code,omitempty"`
	ReasonArgs Args   `json:"reason_args,omitempty"`
}

func decide(s Strategy, rule string, m Message) Decision {
	return Decision{Strategy: s, Rule: rule, Reason: m.Text, ReasonCode: m.Code, ReasonArgs: m.Args}
}

// Check refuses tables hivemerge must not merge at all and strategies Hive would reject for
// this table. requested may be StrategyAuto, which only the table-level refusals apply to.
func Check(t TableFacts, requested Strategy) error {
	switch {
	case t.View:
		return refuse(RuleView, "", nil)
	case t.TableFormat != "":
		return refuse(RuleOpenTableFormat, openTableFormatMessages[t.TableFormat], Args{"format": string(t.TableFormat)})
	case t.StorageHandler != "":
		return refuse(RuleStorageHandler, "", Args{"handler": t.StorageHandler})
	case !t.Format.native():
		return refuse(RuleUnknownFormat, "", nil)
	}
	switch requested {
	case StrategyAuto:
	case StrategyConcatenate:
		switch {
		case t.Format != FormatORC && t.Format != FormatRCFile:
			return refuse(RuleConcatFormat, "", Args{"format": string(t.Format)})
		case t.Transactional:
			return refuse(RuleConcatACID, "", nil)
		case t.External:
			return refuse(RuleConcatExternal, "", nil)
		case t.Bucketed():
			return refuse(RuleConcatBucketed, "", nil)
		}
	case StrategySafeMerge, StrategyInsertOverwrite:
		if t.Transactional {
			return refuse(RuleRewriteACID, "", nil)
		}
	case StrategyACIDCompact:
		if !t.Transactional {
			return refuse(RuleCompactNotACID, "", nil)
		}
	default:
		return refuse(RuleUnknownStrategy, "", Args{"strategy": string(requested)})
	}
	return nil
}

// Choose decides how to merge a table whose files to merge are files (the partitions that
// need it, added together). A requested strategy other than auto is kept when Check allows it.
func Choose(t TableFacts, files FileFacts, requested Strategy) (Decision, error) {
	if err := Check(t, requested); err != nil {
		return Decision{}, err
	}
	if requested != StrategyAuto {
		return decide(requested, RuleRequested, Say(RuleRequested, Args{"strategy": string(requested)})), nil
	}
	switch {
	case t.Transactional:
		return decide(StrategyACIDCompact, RuleAutoACID, Say(RuleAutoACID, nil)), nil
	case (t.Format == FormatORC || t.Format == FormatRCFile) && !t.External && !t.Bucketed():
		if t.Format == FormatORC && files.Files > 0 && files.AvgFileSize() < TinyStripeAvgFileSize {
			return decide(StrategySafeMerge, RuleAutoTinyStripes,
				Say(RuleAutoTinyStripes, Args{"avg_bytes": files.AvgFileSize(), "min_bytes": TinyStripeAvgFileSize})), nil
		}
		return decide(StrategyConcatenate, RuleAutoConcatenate, Say(RuleAutoConcatenate, Args{"format": strings.ToUpper(string(t.Format))})), nil
	}
	why := Say(MsgAutoRewriteExternal, nil)
	switch {
	case t.Format != FormatORC && t.Format != FormatRCFile:
		why = Say(MsgAutoRewriteFormat, Args{"format": string(t.Format)})
	case t.Bucketed():
		why = Say(MsgAutoRewriteBucketed, nil)
	}
	return decide(StrategySafeMerge, RuleAutoRewrite, why), nil
}

// Healthy reports whether files of bytes total are already as few as a merge to target-sized
// files would leave (one file of slack), with the reason when they are.
func Healthy(files, bytes, target int64) (bool, Message) {
	if files == 0 {
		return true, Say(RuleEmpty, nil)
	}
	need := ceilDiv(bytes, target)
	if files <= need+1 {
		return true, Say(RuleHealthy, Args{"files": files, "bytes": bytes, "files_after": max(need, 1)})
	}
	return false, Message{}
}

// ExpectedFiles is how many files a merge of files totalling bytes leaves: target-sized files,
// at least one, none for an empty partition.
func ExpectedFiles(files, bytes, target int64) int64 {
	if files == 0 {
		return 0
	}
	return max(1, ceilDiv(bytes, target))
}

// Assessment is whether one partition needs merging and what a merge would leave.
type Assessment struct {
	Skip          bool
	Rule          string
	Reason        Message
	ExpectedFiles int64
}

// Assess applies Healthy and ExpectedFiles to one partition of t. A bucketed table's rewrite
// writes exactly one file per bucket, so its bucket count is the floor.
func Assess(t TableFacts, f FileFacts, target int64) Assessment {
	if f.Files == 0 {
		return Assessment{Skip: true, Rule: RuleEmpty, Reason: Say(RuleEmpty, nil)}
	}
	if t.Bucketed() && !t.Transactional {
		want := int64(t.Buckets)
		if f.Files <= max(want, ceilDiv(f.Bytes, target))+1 {
			return Assessment{Skip: true, Rule: RuleBucketedFiles, ExpectedFiles: want,
				Reason: Say(RuleBucketedFiles, Args{"files": f.Files, "buckets": want})}
		}
		return Assessment{Rule: RuleRewriteBucketed, ExpectedFiles: want,
			Reason: Say(RuleRewriteBucketed, Args{"files": f.Files, "buckets": want})}
	}
	exp := ExpectedFiles(f.Files, f.Bytes, target)
	if ok, why := Healthy(f.Files, f.Bytes, target); ok {
		return Assessment{Skip: true, Rule: RuleHealthy, Reason: why, ExpectedFiles: exp}
	}
	return Assessment{Rule: RuleNeedsMerge, ExpectedFiles: exp,
		Reason: Say(RuleNeedsMerge, Args{"files": f.Files, "avg_bytes": f.AvgFileSize(), "files_after": exp, "bytes_after": min(target, f.Bytes)})}
}

// Blocks counts the HDFS blocks of the files: ceil(size/blockSize) per file and at least one
// per file (the NameNode keeps a block even for a small file; an empty file has none, which
// the lower bound ignores). Without sizes it is the lower bound max(files, ceil(bytes/blockSize)),
// exact when every file is smaller than a block.
func (f FileFacts) Blocks(blockSize int64) int64 {
	if blockSize <= 0 {
		blockSize = DefaultBlockSize
	}
	if f.Sizes == nil {
		if f.Files == 0 {
			return 0
		}
		return max(f.Files, ceilDiv(f.Bytes, blockSize))
	}
	var n int64
	for _, s := range f.Sizes {
		if s > 0 {
			n += ceilDiv(s, blockSize)
		}
	}
	return n
}

// Merged are the predicted files after merging f into n files: full target-sized files and the
// remainder when n is what target asks for, n even files otherwise (one per bucket).
func (f FileFacts) Merged(n, target int64) FileFacts {
	out := FileFacts{Files: n, Bytes: f.Bytes, Sizes: make([]int64, 0, n)}
	// Hive's merge fills files up to target; a bucketed rewrite spreads rows over its buckets.
	fill := n == ceilDiv(f.Bytes, target)
	left := f.Bytes
	for i := int64(0); i < n; i++ {
		s := ceilDiv(left, n-i)
		if fill {
			s = min(target, left)
		}
		out.Sizes = append(out.Sizes, s)
		left -= s
	}
	return out
}

// NameNodeObjectsSaved is how many NameNode objects (files and blocks) merging before into
// after removes.
func NameNodeObjectsSaved(before, after FileFacts, blockSize int64) int64 {
	return before.Files + before.Blocks(blockSize) - after.Files - after.Blocks(blockSize)
}

func (f Format) native() bool {
	switch f {
	case FormatText, FormatORC, FormatParquet, FormatRCFile, FormatAvro, FormatSequenceFile:
		return true
	}
	return false
}

// openTableFormatMessages name each open table format's own compaction; another format gets
// RuleOpenTableFormat's generic text.
var openTableFormatMessages = map[TableFormat]string{
	TableFormatIceberg: MsgOpenTableFormatIceberg,
	TableFormatHudi:    MsgOpenTableFormatHudi,
	TableFormatDelta:   MsgOpenTableFormatDelta,
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}
	if b <= 0 {
		b = DefaultTargetFileSize
	}
	return (a + b - 1) / b
}

// humanBytes renders a size for reasons: "3.2 MB" (decimal units, as Hive's sizes are).
func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

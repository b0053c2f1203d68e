package merge

import (
	"math"
	"strconv"
	"time"
)

// Discovery measures tables and partitions, scores their health and recommends a merge. Its
// recommendations are the strategy rules of rules.go (Check, Assess, Choose) applied to the
// measured files, so a table is never recommended one strategy by a scan and planned with
// another by a merge.

// Discovery defaults.
const (
	// DefaultSmallFileSize is the size below which a file counts as small: Hive's own line,
	// hive.merge.smallfiles.avgsize.
	DefaultSmallFileSize = TinyStripeAvgFileSize
	// DefaultQuietPeriod is how long a partition must go unwritten before a merge is
	// recommended: a writer still adding files would race the merge.
	DefaultQuietPeriod = time.Hour
	// DefaultMaxStepBytes is the most a recommended merge rewrites in one task. A larger table
	// is merged a range of partitions at a time, so each task fits its deadline.
	DefaultMaxStepBytes int64 = 1_000_000_000_000
	// NameNodeBytesPerObject is the NameNode heap each file or block takes, the figure Hadoop's
	// own sizing guidance uses (about 150 bytes per namespace object).
	NameNodeBytesPerObject = 150
)

// Rules of discovery's recommendations, beside the strategy rules.
const (
	RuleQuietPeriod = "quiet-period"
	RuleTooLarge    = "too-large"
)

// Thresholds are what discovery measures files against. The zero value means the defaults.
type Thresholds struct {
	// SmallFileSize: a file below it is small (DefaultSmallFileSize).
	SmallFileSize int64 `json:"small_file_size_bytes"`
	// TargetFileSize is the size merged files would have (DefaultTargetFileSize, or the
	// cluster's block size when the caller prefers it).
	TargetFileSize int64 `json:"target_file_size_bytes"`
	// BlockSize is the cluster's HDFS block size (DefaultBlockSize).
	BlockSize int64 `json:"block_size_bytes"`
	// QuietPeriod: data written more recently is not recommended for merging.
	QuietPeriod time.Duration `json:"quiet_period"`
	// MaxStepBytes: more bytes to merge than this is too large for one task.
	MaxStepBytes int64 `json:"max_step_bytes"`
}

// WithDefaults fills the zero fields of th.
func (th Thresholds) WithDefaults() Thresholds {
	if th.SmallFileSize <= 0 {
		th.SmallFileSize = DefaultSmallFileSize
	}
	if th.TargetFileSize <= 0 {
		th.TargetFileSize = DefaultTargetFileSize
	}
	if th.BlockSize <= 0 {
		th.BlockSize = DefaultBlockSize
	}
	if th.QuietPeriod <= 0 {
		th.QuietPeriod = DefaultQuietPeriod
	}
	if th.MaxStepBytes <= 0 {
		th.MaxStepBytes = DefaultMaxStepBytes
	}
	return th
}

// FileStats describe the data files of a partition or a table.
type FileStats struct {
	Files      int64 `json:"files"`
	Bytes      int64 `json:"bytes"`
	SmallFiles int64 `json:"small_files"`
	// Blocks are the HDFS blocks of the files (exact from a listing; the lower bound from
	// totals, see FileFacts.Blocks).
	Blocks int64 `json:"blocks"`
	// Histogram counts files per size bucket (SizeLabels).
	Histogram Histogram `json:"histogram"`
	// LastModified is the newest file's modification time, zero when unknown.
	LastModified time.Time `json:"last_modified,omitzero"`
}

// Measure computes the statistics of f. Without sizes (the metastore's totals) every file is
// taken to be of the average size, which the stats source of the result makes known.
func Measure(f FileFacts, th Thresholds) FileStats {
	th = th.WithDefaults()
	s := FileStats{Files: f.Files, Bytes: f.Bytes, Blocks: f.Blocks(th.BlockSize)}
	if f.Sizes == nil {
		if f.Files > 0 {
			s.Histogram[SizeBucket(f.AvgFileSize())] = f.Files
			if f.AvgFileSize() < th.SmallFileSize {
				s.SmallFiles = f.Files
			}
		}
		return s
	}
	for _, size := range f.Sizes {
		s.Histogram[SizeBucket(size)]++
		if size < th.SmallFileSize {
			s.SmallFiles++
		}
	}
	return s
}

// Add returns the statistics of s and o together.
func (s FileStats) Add(o FileStats) FileStats {
	s.Files += o.Files
	s.Bytes += o.Bytes
	s.SmallFiles += o.SmallFiles
	s.Blocks += o.Blocks
	for i := range s.Histogram {
		s.Histogram[i] += o.Histogram[i]
	}
	if o.LastModified.After(s.LastModified) {
		s.LastModified = o.LastModified
	}
	return s
}

// AvgFileSize is the mean file size, 0 without files.
func (s FileStats) AvgFileSize() int64 {
	if s.Files <= 0 {
		return 0
	}
	return s.Bytes / s.Files
}

// SmallFileRatio is the share of small files, 0 without files.
func (s FileStats) SmallFileRatio() float64 {
	if s.Files <= 0 {
		return 0
	}
	return float64(s.SmallFiles) / float64(s.Files)
}

// Savings are what a merge would remove.
type Savings struct {
	// Files are the excess files: files minus the files a merge leaves.
	Files int64 `json:"files"`
	// NameNodeObjects are the files and blocks a merge removes, HeapBytes their NameNode heap.
	NameNodeObjects int64 `json:"namenode_objects"`
	HeapBytes       int64 `json:"heap_bytes"`
}

// Add returns s and o together.
func (s Savings) Add(o Savings) Savings {
	return Savings{Files: s.Files + o.Files, NameNodeObjects: s.NameNodeObjects + o.NameNodeObjects, HeapBytes: s.HeapBytes + o.HeapBytes}
}

// Health is a score from 0 (worst) to 100 (nothing to merge) with the rules that produced it,
// in words.
type Health struct {
	Score int      `json:"score"`
	Rules []string `json:"rules"`
	// RuleMessages are Rules as catalog messages (see Say), for translation.
	RuleMessages []Message `json:"rule_messages,omitempty"`
}

func (h *Health) add(m Message) {
	h.Rules = append(h.Rules, m.Text)
	h.RuleMessages = append(h.RuleMessages, m)
}

// Recommendation is what to do about a table or partition and why. Strategy is empty when the
// recommendation is not to merge.
type Recommendation struct {
	Merge    bool     `json:"merge"`
	Strategy Strategy `json:"strategy,omitempty"`
	Rule     string   `json:"rule"`
	Reason   string   `json:"reason"`
	// ReasonCode and ReasonArgs are Reason as a catalog message (see Say), for translation.
	ReasonCode string `json:"reason_code,omitempty"`
	ReasonArgs Args   `json:"reason_args,omitempty"`
}

func recommend(rule string, m Message) Recommendation {
	return Recommendation{Rule: rule, Reason: m.Text, ReasonCode: m.Code, ReasonArgs: m.Args}
}

// Message is the recommendation's reason as a message.
func (r Recommendation) Message() Message {
	return Message{Code: r.ReasonCode, Args: r.ReasonArgs, Text: r.Reason}
}

// Evaluation is the verdict on one partition (or an unpartitioned table): its statistics,
// whether it needs a merge, what a merge saves, its health and the recommendation.
type Evaluation struct {
	Stats          FileStats      `json:"stats"`
	NeedsMerge     bool           `json:"needs_merge"`
	Savings        Savings        `json:"savings"`
	Health         Health         `json:"health"`
	Recommendation Recommendation `json:"recommendation"`
}

// EvaluatePartition judges one partition's files f of table t, last modified at lastMod (zero
// when unknown), at time now. Whether it needs a merge and what a merge leaves are Assess's.
func EvaluatePartition(t TableFacts, f FileFacts, lastMod time.Time, th Thresholds, now time.Time) Evaluation {
	th = th.WithDefaults()
	e := Evaluation{Stats: Measure(f, th)}
	e.Stats.LastModified = lastMod
	a := Assess(t, f, th.TargetFileSize)
	if !a.Skip {
		e.NeedsMerge = true
		after := f.Merged(a.ExpectedFiles, th.TargetFileSize)
		e.Savings = savings(f.Files-a.ExpectedFiles, NameNodeObjectsSaved(f, after, th.BlockSize))
	}
	e.Health = Score(e.Stats, 1, e.Savings, th)
	if a.Skip {
		e.Health.add(a.Reason)
	}
	need := FileFacts{}
	if e.NeedsMerge {
		need = FileFacts{Files: f.Files, Bytes: f.Bytes}
	}
	e.Recommendation = Recommend(t, need, lastMod, th, now)
	return e
}

// EvaluateTable judges a table from the evaluations of its partitions (one for an
// unpartitioned table), as the planner would merge it: one strategy chosen from the
// partitions that need merging, added together.
func EvaluateTable(t TableFacts, parts []Evaluation, th Thresholds, now time.Time) Evaluation {
	th = th.WithDefaults()
	var e Evaluation
	var need FileFacts
	var newest time.Time
	for _, p := range parts {
		e.Stats = e.Stats.Add(p.Stats)
		if p.NeedsMerge {
			e.NeedsMerge = true
			e.Savings = e.Savings.Add(p.Savings)
			need = need.Add(FileFacts{Files: p.Stats.Files, Bytes: p.Stats.Bytes})
			if p.Stats.LastModified.After(newest) {
				newest = p.Stats.LastModified
			}
		}
	}
	e.Health = Score(e.Stats, int64(len(parts)), e.Savings, th)
	e.Recommendation = Recommend(t, need, newest, th, now)
	return e
}

// Recommend says whether and how to merge the files need of table t (those that need a merge,
// added together; none when nothing does), last written at lastMod. The strategy is Choose's.
func Recommend(t TableFacts, need FileFacts, lastMod time.Time, th Thresholds, now time.Time) Recommendation {
	th = th.WithDefaults()
	if err := Check(t, StrategyAuto); err != nil {
		r := err.(*Refusal)
		return recommend(r.Rule, Say(MsgDoNotMerge, Args{"reason": r.Message()}))
	}
	if need.Files == 0 {
		return recommend(RuleHealthy, Say(MsgAllHealthy, Args{"target_bytes": th.TargetFileSize}))
	}
	if !lastMod.IsZero() && now.Sub(lastMod) < th.QuietPeriod {
		return recommend(RuleQuietPeriod, Say(RuleQuietPeriod, Args{"age": seconds(now.Sub(lastMod)), "quiet": seconds(th.QuietPeriod)}))
	}
	if need.Bytes > th.MaxStepBytes {
		return recommend(RuleTooLarge, Say(RuleTooLarge, Args{"bytes": need.Bytes, "max_bytes": th.MaxStepBytes}))
	}
	d, err := Choose(t, need, StrategyAuto)
	if err != nil {
		// Check passed for auto, and Choose refuses nothing more for it.
		return recommend(RuleUnknownStrategy, err.(*Refusal).Message())
	}
	return Recommendation{Merge: true, Strategy: d.Strategy, Rule: d.Rule, Reason: d.Reason, ReasonCode: d.ReasonCode, ReasonArgs: d.ReasonArgs}
}

func savings(files, objects int64) Savings {
	return Savings{Files: max(files, 0), NameNodeObjects: max(objects, 0), HeapBytes: max(objects, 0) * NameNodeBytesPerObject}
}

// Weights of the health score: the penalties add up to at most 100.
const (
	weightSmall      = 40 // share of small files
	weightExcess     = 30 // share of files a merge removes
	weightPerPart    = 15 // files per partition: 10 or fewer cost nothing, 1,000 or more all of it
	weightObjectsMax = 15 // NameNode objects saved: 100 or fewer nothing, 1,000,000 or more all
)

// Score rates files spread over partitions (at least 1) that a merge would reduce by sav. A
// table with nothing to merge scores 100 whatever its file sizes: only what a merge can fix
// costs points. Each penalty adds the rule behind it, in words.
func Score(s FileStats, partitions int64, sav Savings, th Thresholds) Health {
	th = th.WithDefaults()
	h := Health{Score: 100, Rules: []string{}, RuleMessages: []Message{}}
	if s.Files == 0 {
		h.add(Say(MsgNoDataFiles, nil))
		return h
	}
	if sav.Files == 0 {
		h.add(Say(MsgHealthNoMerge, Args{"files": s.Files, "bytes": s.Bytes}))
		return h
	}
	partitions = max(partitions, 1)
	penalty := 0.0
	if s.SmallFiles > 0 {
		p := weightSmall * s.SmallFileRatio()
		penalty += p
		h.add(Say(MsgHealthSmall, Args{"small": s.SmallFiles, "files": s.Files, "small_bytes": th.SmallFileSize,
			"percent": 100 * s.SmallFileRatio(), "penalty": p}))
	}
	p := weightExcess * float64(sav.Files) / float64(s.Files)
	penalty += p
	h.add(Say(MsgHealthExcess, Args{"target_bytes": th.TargetFileSize, "files_after": s.Files - sav.Files, "files": s.Files,
		"excess": sav.Files, "penalty": p}))
	perPart := float64(s.Files) / float64(partitions)
	if p := weightPerPart * clamp((math.Log10(perPart)-1)/2); p > 0 {
		penalty += p
		h.add(Say(MsgHealthPerPart, Args{"per_partition": int64(math.Round(perPart)), "partitions": partitions, "penalty": p}))
	}
	if sav.NameNodeObjects > 0 {
		p := weightObjectsMax * clamp((math.Log10(float64(sav.NameNodeObjects))-2)/4)
		penalty += p
		h.add(Say(MsgHealthNameNode, Args{"objects": sav.NameNodeObjects, "heap_bytes": sav.HeapBytes, "penalty": p}))
	}
	h.Score = max(0, min(100, int(math.Round(100-penalty))))
	// A table that needs a merge never scores a perfect 100.
	h.Score = min(h.Score, 99)
	return h
}

func clamp(x float64) float64 { return max(0, min(1, x)) }

// thousands renders n with thousands separators: 2,431.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// DefaultGrowthAlertPerDay is the growth of a table's small files, per day, above which
// discovery raises a growth alert.
const DefaultGrowthAlertPerDay = 10_000

// Growth is how a table's small files changed since its previous scan.
type Growth struct {
	Since            time.Time `json:"since"`
	SmallFilesBefore int64     `json:"small_files_before"`
	SmallFiles       int64     `json:"small_files"`
	// PerDay is the change per day. Scans less than an hour apart are taken as an hour apart,
	// so a burst between two quick scans is not extrapolated to a day.
	PerDay float64 `json:"per_day"`
	// Alert is set while PerDay exceeds the threshold; Crossed when this scan raised it.
	Alert   bool   `json:"alert"`
	Crossed bool   `json:"crossed,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// ReasonCode and ReasonArgs are Reason as a catalog message (see Say), for translation.
	ReasonCode string `json:"reason_code,omitempty"`
	ReasonArgs Args   `json:"reason_args,omitempty"`
}

// GrowthOf compares cur with prev, the table's previous metrics (nil when none), against a
// threshold of perDay small files a day (DefaultGrowthAlertPerDay when 0).
func GrowthOf(prev, cur *TableMetrics, perDay float64) *Growth {
	if prev == nil || prev.ScanID == cur.ScanID || !cur.ScannedAt.After(prev.ScannedAt) || prev.Error != "" || cur.Error != "" {
		return nil
	}
	if perDay <= 0 {
		perDay = DefaultGrowthAlertPerDay
	}
	elapsed := max(cur.ScannedAt.Sub(prev.ScannedAt), time.Hour)
	g := &Growth{Since: prev.ScannedAt, SmallFilesBefore: prev.Stats.SmallFiles, SmallFiles: cur.Stats.SmallFiles}
	g.PerDay = float64(g.SmallFiles-g.SmallFilesBefore) / elapsed.Hours() * 24
	if g.PerDay > perDay {
		g.Alert = true
		g.Crossed = prev.Growth == nil || !prev.Growth.Alert
		m := Say(MsgGrowthAlert, Args{"before": g.SmallFilesBefore, "after": g.SmallFiles, "since": prev.ScannedAt.Format(time.RFC3339),
			"per_day": int64(math.Round(g.PerDay)), "threshold": int64(perDay)})
		g.Reason, g.ReasonCode, g.ReasonArgs = m.Text, m.Code, m.Args
	}
	return g
}

// seconds is d in whole seconds, as messages take durations.
func seconds(d time.Duration) int64 { return int64(d.Round(time.Second) / time.Second) }

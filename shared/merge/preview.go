package merge

import "time"

// StatsSource says where a preview's file counts and sizes come from.
type StatsSource string

// Sources of file statistics. A listing is exact at the time of the preview; the metastore's
// figures come from Hive (SHOW TABLE EXTENDED, or numFiles/totalSize, which may be stale) when
// hivemerge could not list the filesystem itself. A preview mixing both says "mixed".
const (
	SourceListing   StatsSource = "listing"
	SourceMetastore StatsSource = "metastore"
	SourceMixed     StatsSource = "mixed"
)

// DurationUnknown is a preview's duration estimate when no throughput was measured on the
// cluster: hivemerge does not guess one.
const DurationUnknown = "unknown"

// Preview is the exact plan of a merge: what each partition holds now, what it will hold, and
// the HiveQL that gets it there, before anything runs.
type Preview struct {
	TaskID            string   `json:"task_id,omitempty"`
	Database          string   `json:"database_name"`
	Table             string   `json:"table_name"`
	RequestedStrategy Strategy `json:"requested_strategy"`
	// Strategy, Rule and Reason are the decision for the whole table (see Choose).
	Strategy       Strategy           `json:"strategy"`
	Rule           string             `json:"rule"`
	Reason         string             `json:"reason"`
	ReasonCode     string             `json:"reason_code,omitempty"`
	ReasonArgs     Args               `json:"reason_args,omitempty"`
	TargetFileSize int64              `json:"target_file_size_bytes"`
	BlockSize      int64              `json:"block_size_bytes"`
	Source         StatsSource        `json:"source"`
	Partitions     []PartitionPreview `json:"partitions"`
	Totals         PreviewTotals      `json:"totals"`
	Warnings       []string           `json:"warnings"`
	// WarningMessages are Warnings as catalog messages (see Say), for translation.
	WarningMessages []Message `json:"warning_messages"`
	// DurationEstimate is DurationUnknown, or the bytes to rewrite over a throughput measured
	// on the cluster, as a Go duration ("4m10s").
	DurationEstimate string `json:"duration_estimate"`
}

// PartitionPreview is the plan for one partition (or the whole table when it is not
// partitioned, with an empty Partition).
type PartitionPreview struct {
	// Partition is the Hive partition name, escaped as SHOW PARTITIONS prints it.
	Partition   string      `json:"partition"`
	Location    string      `json:"location"`
	Source      StatsSource `json:"source"`
	FilesBefore int64       `json:"files_before"`
	BytesBefore int64       `json:"bytes_before"`
	FilesAfter  int64       `json:"files_after"`
	// BytesAfter is predicted equal to BytesBefore: a rewrite keeps the format and codec.
	BytesAfter int64    `json:"bytes_after"`
	Strategy   Strategy `json:"strategy,omitempty"`
	Rule       string   `json:"rule"`
	Reason     string   `json:"reason"`
	// ReasonCode and ReasonArgs are Reason as a catalog message (see Say), for translation;
	// SkipReason is the same reason.
	ReasonCode string `json:"reason_code,omitempty"`
	ReasonArgs Args   `json:"reason_args,omitempty"`
	Skipped    bool   `json:"skipped"`
	SkipReason string `json:"skip_reason,omitempty"`
	// Statements are the exact HiveQL, in order; the SET statements of Settings come first.
	Statements []string          `json:"statements"`
	Settings   map[string]string `json:"settings"`
	// NameNodeObjectsSaved is files plus blocks before, minus after.
	NameNodeObjectsSaved int64 `json:"namenode_objects_saved"`
}

// PreviewTotals add up the partitions of a preview.
type PreviewTotals struct {
	Partitions           int   `json:"partitions"`
	PartitionsToMerge    int   `json:"partitions_to_merge"`
	PartitionsSkipped    int   `json:"partitions_skipped"`
	FilesBefore          int64 `json:"files_before"`
	BytesBefore          int64 `json:"bytes_before"`
	FilesAfter           int64 `json:"files_after"`
	BytesAfter           int64 `json:"bytes_after"`
	NameNodeObjectsSaved int64 `json:"namenode_objects_saved"`
	// BytesToRewrite are the bytes of the partitions to merge.
	BytesToRewrite int64 `json:"bytes_to_rewrite"`
}

// Total recomputes p.Totals and p.Source from the partitions.
func (p *Preview) Total() {
	var t PreviewTotals
	sources := map[StatsSource]bool{}
	for _, pp := range p.Partitions {
		t.Partitions++
		if pp.Skipped {
			t.PartitionsSkipped++
		} else {
			t.PartitionsToMerge++
			t.BytesToRewrite += pp.BytesBefore
		}
		t.FilesBefore += pp.FilesBefore
		t.BytesBefore += pp.BytesBefore
		t.FilesAfter += pp.FilesAfter
		t.BytesAfter += pp.BytesAfter
		t.NameNodeObjectsSaved += pp.NameNodeObjectsSaved
		if pp.Source != "" {
			sources[pp.Source] = true
		}
	}
	p.Totals = t
	switch {
	case len(sources) > 1:
		p.Source = SourceMixed
	case sources[SourceMetastore]:
		p.Source = SourceMetastore
	default:
		p.Source = SourceListing
	}
}

// EstimateDuration is how long rewriting bytes takes at a throughput measured on the cluster
// (bytes per second), or DurationUnknown without a measurement.
func EstimateDuration(bytes int64, throughput float64) string {
	if throughput <= 0 {
		return DurationUnknown
	}
	d := time.Duration(float64(bytes) / throughput * float64(time.Second))
	return d.Round(time.Second).String()
}

// Warnings of the strategies that change data in place.
var strategyWarnings = map[Strategy]string{
	StrategyConcatenate:     MsgWarnConcatenate,
	StrategyInsertOverwrite: MsgWarnInsertOver,
	StrategyACIDCompact:     MsgWarnACIDCompact,
}

// Warn adds warning m to the preview.
func (p *Preview) Warn(m Message) {
	p.Warnings = append(p.Warnings, m.Text)
	p.WarningMessages = append(p.WarningMessages, m)
}

// StrategyWarning is the warning a preview carries for s; ok is false when s has none.
func StrategyWarning(s Strategy) (m Message, ok bool) {
	code, ok := strategyWarnings[s]
	if !ok {
		return Message{}, false
	}
	return Say(code, nil), true
}

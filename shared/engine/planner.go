// Package engine plans and runs merges: it reads a table's metadata from Hive, lists
// its partitions' files, applies the strategy rules of package merge and writes the exact
// HiveQL each partition needs, built only by package hql.
package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"regexp"
	"sort"
	"sync"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Hive is the part of *hive.Client the planner uses.
type Hive interface {
	DescribeTable(ctx context.Context, t hql.Table) (*hive.Table, error)
	Partitions(ctx context.Context, t hql.Table, filter hql.Spec) ([]hive.Partition, error)
	DescribePartition(ctx context.Context, t hql.Table, spec hql.Spec) (*hive.PartitionDetail, error)
	TableStatus(ctx context.Context, t hql.Table, spec hql.Spec) (*hive.TableStatus, error)
}

// Files resolves a table or partition location to its filesystem; *fsys.Resolver implements it.
type Files interface {
	Open(ctx context.Context, location string) (fsys.FS, string, error)
}

var (
	_ Hive  = (*hive.Client)(nil)
	_ Files = (*fsys.Resolver)(nil)
)

// Planner previews merges. Its zero options are usable: the default block size and concurrency,
// and an unknown duration.
type Planner struct {
	Hive  Hive
	Files Files
	// BlockSize is the cluster's HDFS block size (dfs.blocksize); 0 means merge.DefaultBlockSize.
	BlockSize int64
	// Throughput is the rewrite throughput measured on this cluster, in bytes per second. Without
	// a measurement (0) the duration estimate is "unknown".
	Throughput float64
	// Concurrency bounds how many partitions are described and listed at once; 0 means 8.
	Concurrency int
}

// Request is what to preview: a task, or a table with optional partition filters.
type Request struct {
	// TaskID names the staging directories and tables; a preview without a task uses
	// PreviewTaskID. Only lowercase letters and digits (task IDs are hex).
	TaskID   string
	Database string
	Table    string
	// Partitions are partition filters, each full or partial (a prefix filter); none means every
	// partition.
	Partitions     []merge.PartitionSpec
	Strategy       merge.Strategy
	TargetFileSize int64
}

// PreviewTaskID stands in for the task ID in a preview of a table that has no task yet.
const PreviewTaskID = "preview"

var taskIDRE = regexp.MustCompile(`^[a-z0-9]{1,32}$`)

// RequestFor is the preview request of a task.
func RequestFor(t *merge.Task) Request {
	return Request{TaskID: t.ID, Database: t.Database, Table: t.Table, Partitions: t.Partitions, Strategy: t.Strategy, TargetFileSize: t.TargetFileSize}
}

func (r *Request) validate() error {
	if r.TaskID == "" {
		r.TaskID = PreviewTaskID
	}
	if !taskIDRE.MatchString(r.TaskID) {
		return merge.Errorf(merge.ErrInvalid, "task id %q must be 1-32 lowercase letters and digits", r.TaskID)
	}
	if err := merge.CheckIdentifier("database_name", r.Database); err != nil {
		return err
	}
	if err := merge.CheckIdentifier("table_name", r.Table); err != nil {
		return err
	}
	if len(r.Partitions) > merge.MaxPartitionSpecs {
		return merge.Errorf(merge.ErrInvalid, "partition_filter has more than %d entries", merge.MaxPartitionSpecs)
	}
	for _, p := range r.Partitions {
		if err := merge.CheckPartitionSpec(p); err != nil {
			return err
		}
	}
	if r.Strategy == "" {
		r.Strategy = merge.StrategyAuto
	}
	if r.TargetFileSize == 0 {
		r.TargetFileSize = merge.DefaultTargetFileSize
	}
	if r.TargetFileSize < merge.MinTargetFileSize || r.TargetFileSize > merge.MaxTargetFileSize {
		return merge.Errorf(merge.ErrInvalid, "target_file_size_bytes must be between %d and %d", merge.MinTargetFileSize, int64(merge.MaxTargetFileSize))
	}
	return nil
}

// target is one partition (or the unpartitioned table) being planned.
type target struct {
	name     string // Hive's escaped partition name; "" for an unpartitioned table
	spec     hql.Spec
	location string
	files    merge.FileFacts
	source   merge.StatsSource
	// skip, when its Code is set, is why the partition is left alone whatever the strategy.
	skip     merge.Message
	skipRule string
	// listErr is why the filesystem could not be listed (statistics then came from Hive).
	listErr error
	missing bool // the location does not exist
}

// Preview plans r without changing anything: it reads metadata, lists files and returns the
// exact statements a merge would run. Tables and strategies hivemerge refuses fail with a
// *merge.Refusal (ErrInvalid) that says why.
func (p *Planner) Preview(ctx context.Context, r Request) (*merge.Preview, error) {
	return p.preview(ctx, r, nil)
}

// preview is Preview of the table tb describes, or of a table described now when tb is nil.
func (p *Planner) preview(ctx context.Context, r Request, tb *hive.Table) (*merge.Preview, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	src := hql.Table{Database: r.Database, Name: r.Table}
	if tb == nil {
		var err error
		if tb, err = p.Hive.DescribeTable(ctx, src); err != nil {
			return nil, err
		}
	}
	facts := Facts(tb)
	if err := merge.Check(facts, r.Strategy); err != nil {
		return nil, err
	}
	targets, err := p.targets(ctx, src, tb, r.Partitions)
	if err != nil {
		return nil, err
	}
	if err := p.measure(ctx, src, tb, targets); err != nil {
		return nil, err
	}

	// One strategy for the whole task, chosen from the files that need merging.
	var need, all merge.FileFacts
	for _, t := range targets {
		all = all.Add(t.files)
		if t.skip.Code == "" && !merge.Assess(facts, t.files, r.TargetFileSize).Skip {
			need = need.Add(t.files)
		}
	}
	if need.Files == 0 {
		need = all
	}
	d, err := merge.Choose(facts, need, r.Strategy)
	if err != nil {
		return nil, err
	}

	blockSize := p.BlockSize
	if blockSize <= 0 {
		blockSize = merge.DefaultBlockSize
	}
	pv := &merge.Preview{
		TaskID: r.TaskID, Database: r.Database, Table: r.Table, RequestedStrategy: r.Strategy,
		Strategy: d.Strategy, Rule: d.Rule, Reason: d.Reason, ReasonCode: d.ReasonCode, ReasonArgs: d.ReasonArgs,
		TargetFileSize: r.TargetFileSize, BlockSize: blockSize,
		Partitions:      make([]merge.PartitionPreview, 0, len(targets)),
		Warnings:        []string{},
		WarningMessages: []merge.Message{},
	}
	cols := tb.DataColumns()
	var fallback []*target
	var missing []string
	for _, t := range targets {
		pp := merge.PartitionPreview{
			Partition: t.name, Location: t.location, Source: t.source,
			FilesBefore: t.files.Files, BytesBefore: t.files.Bytes, BytesAfter: t.files.Bytes,
			Statements: []string{}, Settings: map[string]string{},
		}
		if t.listErr != nil {
			fallback = append(fallback, t)
		}
		if t.missing {
			missing = append(missing, displayName(t.name))
		}
		a := merge.Assess(facts, t.files, r.TargetFileSize)
		if t.skip.Code != "" {
			a = merge.Assessment{Skip: true, Rule: t.skipRule, Reason: t.skip}
		}
		pp.Rule, pp.Reason, pp.ReasonCode, pp.ReasonArgs = a.Rule, a.Reason.Text, a.Reason.Code, a.Reason.Args
		if a.Skip {
			pp.Skipped, pp.SkipReason = true, pp.Reason
			pp.FilesAfter = t.files.Files
			pv.Partitions = append(pv.Partitions, pp)
			continue
		}
		set := settings(d.Strategy, r.TargetFileSize)
		stmts, err := statements(d.Strategy, r.TaskID, src, t, cols, set)
		switch {
		case errors.Is(err, merge.ErrInvalid):
			// Metadata hql will not quote (a location with a quote, say) costs this partition,
			// not the preview.
			m := merge.Say(merge.RuleUnsafeMetadata, merge.Args{"error": err.Error()})
			pp.Rule, pp.Reason, pp.ReasonCode, pp.ReasonArgs = merge.RuleUnsafeMetadata, m.Text, m.Code, m.Args
			pp.Skipped, pp.SkipReason = true, pp.Reason
			pp.FilesAfter = t.files.Files
			pv.Partitions = append(pv.Partitions, pp)
			continue
		case err != nil:
			return nil, fmt.Errorf("engine: %s partition %q: %w", src, t.name, err)
		}
		pp.Strategy = d.Strategy
		pp.FilesAfter = a.ExpectedFiles
		after := t.files.Merged(a.ExpectedFiles, r.TargetFileSize)
		pp.NameNodeObjectsSaved = merge.NameNodeObjectsSaved(t.files, after, blockSize)
		pp.Settings, pp.Statements = set, stmts
		pv.Partitions = append(pv.Partitions, pp)
	}
	pv.Total()
	if pv.Totals.PartitionsToMerge > 0 {
		if w, ok := merge.StrategyWarning(d.Strategy); ok {
			pv.Warn(w)
		}
	}
	if len(fallback) > 0 {
		pv.Warn(merge.Say(merge.MsgWarnListFailed, merge.Args{"partitions": int64(len(fallback)), "error": fallback[0].listErr.Error()}))
	}
	if len(missing) > 0 {
		pv.Warn(merge.Say(merge.MsgWarnMissing, merge.Args{"partitions": int64(len(missing)), "names": summarize(missing)}))
	}
	pv.DurationEstimate = merge.EstimateDuration(pv.Totals.BytesToRewrite, p.Throughput)
	return pv, nil
}

// Facts translates DESCRIBE FORMATTED into the facts the rules read.
func Facts(tb *hive.Table) merge.TableFacts {
	f := merge.TableFacts{
		External:       tb.TableType == hive.ExternalTable,
		Transactional:  tb.Transactional,
		InsertOnly:     tb.InsertOnly,
		StorageHandler: tb.StorageHandler,
		View:           tb.TableType == hive.VirtualView || tb.TableType == hive.MaterializedView,
		Partitioned:    tb.Partitioned(),
		Format:         merge.FormatOther,
	}
	if tb.Bucketed() {
		f.Buckets = tb.Storage.NumBuckets
	}
	switch tb.Format {
	case hive.FormatText:
		f.Format = merge.FormatText
	case hive.FormatORC:
		f.Format = merge.FormatORC
	case hive.FormatParquet:
		f.Format = merge.FormatParquet
	case hive.FormatRCFile:
		f.Format = merge.FormatRCFile
	case hive.FormatAvro:
		f.Format = merge.FormatAvro
	case hive.FormatSequenceFile:
		f.Format = merge.FormatSequenceFile
	case hive.FormatIceberg:
		f.TableFormat = merge.TableFormatIceberg
	case hive.FormatHudi:
		f.TableFormat = merge.TableFormatHudi
	case hive.FormatDelta:
		f.TableFormat = merge.TableFormatDelta
	}
	return f
}

// targets lists the partitions the filters select (SHOW PARTITIONS per filter, in Hive's order,
// without duplicates), or the table itself when it is not partitioned.
func (p *Planner) targets(ctx context.Context, src hql.Table, tb *hive.Table, filters []merge.PartitionSpec) ([]*target, error) {
	if !tb.Partitioned() {
		if len(filters) > 0 {
			return nil, merge.Errorf(merge.ErrInvalid, "%s is not partitioned, so partition_filter must be empty", src)
		}
		return []*target{{location: tb.Location}}, nil
	}
	if len(filters) == 0 {
		filters = []merge.PartitionSpec{nil}
	}
	var out []*target
	seen := map[string]bool{}
	for _, f := range filters {
		filter, err := tb.Spec(f)
		if err != nil {
			return nil, err
		}
		parts, err := p.Hive.Partitions(ctx, src, filter)
		if err != nil {
			return nil, err
		}
		for _, part := range parts {
			if seen[part.Name] {
				continue
			}
			seen[part.Name] = true
			spec, err := tb.Spec(part.Spec())
			if err != nil {
				return nil, fmt.Errorf("engine: partition %q of %s: %w", part.Name, src, err)
			}
			out = append(out, &target{name: part.Name, spec: spec})
		}
		if len(parts) == 0 && f != nil {
			return nil, merge.Errorf(merge.ErrNotFound, "no partition of %s matches %s", src, f)
		}
	}
	return out, nil
}

// measure describes and lists every target, Concurrency at a time.
func (p *Planner) measure(ctx context.Context, src hql.Table, tb *hive.Table, targets []*target) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	n := p.Concurrency
	if n <= 0 {
		n = 8
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, t := range targets {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := p.measureOne(ctx, src, tb, t); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

func (p *Planner) measureOne(ctx context.Context, src hql.Table, tb *hive.Table, t *target) error {
	stats := tb.Stats
	if tb.Partitioned() {
		d, err := p.Hive.DescribePartition(ctx, src, t.spec)
		if err != nil {
			return err
		}
		t.location, stats = d.Location, d.Stats
		if why := storageDiffers(tb.Storage, d.Storage); why.Code != "" {
			t.skip, t.skipRule = why, merge.RulePartitionStorage
		}
	}
	files, err := p.list(ctx, t.location)
	switch {
	case err == nil:
		t.files, t.source = files, merge.SourceListing
		return nil
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case errors.Is(err, fsys.ErrNotExist):
		t.source, t.missing = merge.SourceListing, true
		return nil
	}
	t.listErr, t.source = err, merge.SourceMetastore
	st, err := p.Hive.TableStatus(ctx, src, t.spec)
	if err != nil && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	switch {
	case err == nil && st.FilesKnown():
		t.files = merge.FileFacts{Files: *st.TotalNumberFiles, Bytes: *st.TotalFileSize}
	case stats.NumFiles != nil && stats.TotalSize != nil:
		t.files = merge.FileFacts{Files: *stats.NumFiles, Bytes: *stats.TotalSize}
	default:
		t.skip, t.skipRule = merge.Say(merge.RuleStatsUnavailable, nil), merge.RuleStatsUnavailable
	}
	return nil
}

// storageDiffers says why a partition whose storage differs from its table's must not be
// rewritten through a copy of the table (CREATE TABLE LIKE copies the table's storage, so the
// merged files would not match the partition's own format or delimiters), or a message without
// a Code.
func storageDiffers(table, part hive.Storage) merge.Message {
	switch {
	case part.InputFormat != "" && part.InputFormat != table.InputFormat:
		return merge.Say(merge.MsgPartitionInputFormat, merge.Args{"format": part.InputFormat, "table_format": table.InputFormat})
	case part.SerDe != "" && part.SerDe != table.SerDe:
		return merge.Say(merge.MsgPartitionSerDe, merge.Args{"serde": part.SerDe, "table_serde": table.SerDe})
	case len(part.SerDeParams) > 0 && !maps.Equal(part.SerDeParams, table.SerDeParams):
		return merge.Say(merge.MsgPartitionSerDeParams, nil)
	}
	return merge.Message{}
}

// tempTable names the staging table of one partition: the task and a hash of the partition
// name, so it is the same on every attempt and unique within the task.
func tempTable(db, taskID, partition string) hql.Table {
	h := fnv.New64a()
	h.Write([]byte(partition))
	return hql.Table{Database: db, Name: fmt.Sprintf("hivemerge_%s_%016x", taskID, h.Sum64())}
}

func displayName(name string) string {
	if name == "" {
		return "(table)"
	}
	return name
}

// summarize lists a few names and how many more there are.
func summarize(names []string) string {
	sort.Strings(names)
	const show = 5
	if len(names) <= show {
		return fmt.Sprint(names)
	}
	return fmt.Sprintf("%v and %d more", names[:show], len(names)-show)
}

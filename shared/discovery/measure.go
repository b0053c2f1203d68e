package discovery

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hivemerge/hivemerge/shared/engine"
	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// counters are a scan's running totals, shared by its table workers.
type counters struct {
	listed, reused, metastore, files, bytes atomic.Int64
}

// tableJob measures one table of a scan.
type tableJob struct {
	svc     *Service
	hive    Hive
	files   engine.Files
	scanID  string
	cluster string
	src     hql.Table
	filters []merge.PartitionSpec
	now     time.Time
	// last is the table's latest metrics before this scan; nil when there are none.
	last  *merge.TableMetrics
	count *counters
}

// measure describes the table, lists or reuses each partition and evaluates it all.
func (j *tableJob) measure(ctx context.Context) (*merge.TableMetrics, []merge.PartitionMetrics, error) {
	tb, err := j.hive.DescribeTable(ctx, j.src)
	if err != nil {
		return nil, nil, err
	}
	facts := engine.Facts(tb)
	th := j.svc.thresholds()
	m := &merge.TableMetrics{
		ClusterID: j.cluster, Database: j.src.Database, Table: j.src.Name, ScanID: j.scanID, ScannedAt: j.now,
		TableType: tb.TableType, Format: string(tb.Format), Compression: tb.Compression, StorageHandler: tb.StorageHandler,
		Transactional: tb.Transactional, InsertOnly: tb.InsertOnly, Buckets: facts.Buckets,
		PartitionKeys: []string{}, Location: tb.Location, Thresholds: th,
	}
	for _, k := range tb.PartitionKeys {
		m.PartitionKeys = append(m.PartitionKeys, k.Name)
	}
	var parts []merge.PartitionMetrics
	// A view or a storage handler's table has no files of its own to list.
	if !facts.View && facts.StorageHandler == "" {
		parts, err = j.partitions(ctx, tb)
		if err != nil {
			return nil, nil, err
		}
		prev := j.previous(ctx)
		var wg sync.WaitGroup
		sem := make(chan struct{}, j.svc.partitionConcurrency())
		for i := range parts {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				j.measurePartition(ctx, tb, facts, &parts[i], prev[parts[i].Partition])
			})
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
	}
	evals := make([]merge.Evaluation, len(parts))
	sources := map[merge.StatsSource]bool{}
	for i, p := range parts {
		evals[i] = p.Evaluation
		sources[p.Source] = true
		if p.NeedsMerge {
			m.PartitionsToMerge++
		}
	}
	m.Partitions = int64(len(parts))
	m.Evaluation = merge.EvaluateTable(facts, evals, th, j.now)
	m.AvgFileSize, m.SmallFileRatio = m.Stats.AvgFileSize(), m.Stats.SmallFileRatio()
	switch {
	case len(sources) > 1:
		m.Source = merge.SourceMixed
	case sources[merge.SourceMetastore]:
		m.Source = merge.SourceMetastore
	default:
		m.Source = merge.SourceListing
	}
	return m, parts, nil
}

// partitions lists the partitions the scan's filters select, in name order, or the table
// itself when it is not partitioned.
func (j *tableJob) partitions(ctx context.Context, tb *hive.Table) ([]merge.PartitionMetrics, error) {
	if !tb.Partitioned() {
		if len(j.filters) > 0 {
			return nil, merge.Errorf(merge.ErrInvalid, "%s is not partitioned, so partitions must be empty", j.src)
		}
		return []merge.PartitionMetrics{{Location: tb.Location}}, nil
	}
	filters := j.filters
	if len(filters) == 0 {
		filters = []merge.PartitionSpec{nil}
	}
	seen := map[string]bool{}
	var out []merge.PartitionMetrics
	for _, f := range filters {
		spec, err := tb.Spec(f)
		if err != nil {
			return nil, err
		}
		ps, err := j.hive.Partitions(ctx, j.src, spec)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if !seen[p.Name] {
				seen[p.Name] = true
				out = append(out, merge.PartitionMetrics{Partition: p.Name})
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Partition < out[b].Partition })
	return out, nil
}

// previous returns the partitions of the table's latest metrics, by name; none when the
// table was never scanned or its metrics cannot be read (then everything is listed).
func (j *tableJob) previous(ctx context.Context) map[string]merge.PartitionMetrics {
	out := map[string]merge.PartitionMetrics{}
	if j.last == nil {
		return out
	}
	parts, err := j.svc.Store.PartitionMetrics(ctx, j.cluster, j.src.Database, j.src.Name, j.last.ScanID)
	if err != nil {
		return out
	}
	for _, p := range parts {
		out[p.Partition] = p
	}
	return out
}

// measurePartition fills p: from the previous scan when the partition did not change (see
// unchanged), else from a listing, else from Hive's statistics. Failures are recorded on p.
func (j *tableJob) measurePartition(ctx context.Context, tb *hive.Table, facts merge.TableFacts, p *merge.PartitionMetrics, prev merge.PartitionMetrics) {
	th := j.svc.thresholds()
	stats := tb.Stats
	var spec hql.Spec
	if tb.Partitioned() {
		var err error
		if spec, err = specOf(tb, p.Partition); err != nil {
			p.Error = err.Error()
			return
		}
		d, err := j.hive.DescribePartition(ctx, j.src, spec)
		if err != nil {
			p.Error = err.Error()
			return
		}
		p.Location, stats = d.Location, d.Stats
	}
	p.MetastoreFiles = stats.NumFiles

	fs, root, err := j.open(ctx, p.Location)
	// The Stat is only for a partition the previous scan may have measured as it is now; any
	// other goes straight to the listing, which stats its root itself.
	if err == nil && reusable(prev, p) {
		var top fsys.Entry
		if top, err = fs.Stat(ctx, root); err == nil && unchanged(prev, p, top) {
			p.Source, p.DirModTime, p.Subdirs = merge.SourceListing, prev.DirModTime, prev.Subdirs
			p.Evaluation = prev.Evaluation
			need := merge.FileFacts{}
			if prev.NeedsMerge {
				need = merge.FileFacts{Files: prev.Stats.Files, Bytes: prev.Stats.Bytes}
			}
			// The files are the same; the table's facts and the clock may not be.
			p.Recommendation = merge.Recommend(facts, need, prev.Stats.LastModified, th, j.now)
			p.AvgFileSize, p.SmallFileRatio = prev.AvgFileSize, prev.SmallFileRatio
			j.count.reused.Add(1)
			return
		}
	}
	var l engine.Listing
	if err == nil {
		l, err = engine.List(ctx, fs, root)
	}
	switch {
	case err == nil:
		p.Source, p.DirModTime, p.Subdirs = merge.SourceListing, l.Root.ModTime, l.Subdirs
		p.Evaluation = merge.EvaluatePartition(facts, l.FileFacts, l.ModTime, th, j.now)
		j.count.listed.Add(1)
		j.count.files.Add(l.Files)
		j.count.bytes.Add(l.Bytes)
	case ctx.Err() != nil:
		p.Error = context.Cause(ctx).Error()
		return
	case errors.Is(err, fsys.ErrNotExist):
		p.Source = merge.SourceListing
		p.Evaluation = merge.EvaluatePartition(facts, merge.FileFacts{Sizes: []int64{}}, time.Time{}, th, j.now)
		p.Error = "the location does not exist: counted as empty"
		j.count.listed.Add(1)
	default:
		// The filesystem is out of reach: Hive's own live listing, then its statistics.
		p.Source = merge.SourceMetastore
		j.count.metastore.Add(1)
		st, serr := j.hive.TableStatus(ctx, j.src, spec)
		var f merge.FileFacts
		switch {
		case serr == nil && st.FilesKnown():
			f = merge.FileFacts{Files: *st.TotalNumberFiles, Bytes: *st.TotalFileSize}
		case stats.NumFiles != nil && stats.TotalSize != nil:
			f = merge.FileFacts{Files: *stats.NumFiles, Bytes: *stats.TotalSize}
		default:
			p.Error = fmt.Sprintf("neither a listing (%v) nor Hive's metastore could tell this partition's files", err)
			return
		}
		p.Evaluation = merge.EvaluatePartition(facts, f, time.Time{}, th, j.now)
	}
	p.AvgFileSize, p.SmallFileRatio = p.Stats.AvgFileSize(), p.Stats.SmallFileRatio()
}

func (j *tableJob) open(ctx context.Context, location string) (fsys.FS, string, error) {
	if location == "" {
		return nil, "", fmt.Errorf("Hive reported no location: %w", fsys.ErrUnavailable)
	}
	return j.files.Open(ctx, location)
}

// unchanged reports whether partition p, whose location directory Stat found as top, still
// holds the files the previous scan listed, so listing it again would find the same:
//
//   - the previous figures came from a listing of the same location, without error;
//   - the location is a directory whose modification time is known and equal to the one the
//     previous listing saw. HDFS and POSIX filesystems change a directory's modification
//     time whenever an entry is added, removed or renamed in it, which is how every Hive
//     writer and merge publishes files (object stores have no directory times, so their
//     partitions are always listed);
//   - the listing met no subdirectory: a file added inside a subdirectory (an ACID delta, a
//     nested partition) changes only that subdirectory's time, so such trees are listed;
//   - the metastore's file count (numFiles), when Hive keeps one, did not change.
//
// A file rewritten in place under the same name is not detected; Hive never does that.
func unchanged(prev merge.PartitionMetrics, p *merge.PartitionMetrics, top fsys.Entry) bool {
	return reusable(prev, p) && top.IsDir && !top.ModTime.IsZero() && top.ModTime.Equal(prev.DirModTime)
}

// reusable is the part of unchanged that Hive's answer and the previous scan decide, before
// the location is looked at.
func reusable(prev merge.PartitionMetrics, p *merge.PartitionMetrics) bool {
	return prev.Source == merge.SourceListing && prev.Error == "" && !prev.Subdirs &&
		prev.Location == p.Location && sameCount(prev.MetastoreFiles, p.MetastoreFiles)
}

func sameCount(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// specOf turns a partition name from SHOW PARTITIONS into a spec of the table's keys.
func specOf(tb *hive.Table, name string) (hql.Spec, error) {
	keys := make([]string, len(tb.PartitionKeys))
	for i, k := range tb.PartitionKeys {
		keys[i] = k.Name
	}
	part, err := hive.ParsePartitionName(name, keys)
	if err != nil {
		return hql.Spec{}, err
	}
	return tb.Spec(part.Spec())
}

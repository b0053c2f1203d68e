package discovery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// execute runs sc to its end: it lists the scope's tables, measures them Concurrency at a time
// per cluster, saves each table's metrics as soon as it is measured and records progress and
// a heartbeat after each. A table measured by an earlier attempt of the same scan (a resumed
// scan) is not measured again.
func (s *Service) execute(r *run, sc *merge.Scan) (*merge.Scan, error) {
	ctx := r.ctx
	// The scan's record outlives its cancellation: its last words are written regardless.
	rec := context.WithoutCancel(ctx)
	p := &progress{}
	p.restore(sc.Progress)
	update := func(fn func(*merge.Scan)) (*merge.Scan, error) {
		return s.Store.UpdateScan(rec, sc.ClusterID, sc.ID, func(c *merge.Scan) error {
			if c.Owner != s.owner {
				r.cancel(errLost)
				return errLost
			}
			c.Heartbeat = s.now()
			c.Progress = p.snapshot(c.Progress.TablesTotal)
			if fn != nil {
				fn(c)
			}
			if c.CancelRequested {
				r.cancel(errCancelled)
			}
			return nil
		})
	}
	finish := func(err error) (*merge.Scan, error) {
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, errLost):
			return nil, cause
		case errors.Is(cause, errShutdown):
			// Left running with its last heartbeat, for the next process to resume.
			return update(func(c *merge.Scan) {
				c.AddLog(s.now(), "WARN", fmt.Sprintf("stopped by a shutdown after %d of %d tables; it resumes when the server starts again", c.Progress.TablesDone, c.Progress.TablesTotal))
			})
		}
		return update(func(c *merge.Scan) {
			now := s.now()
			c.FinishedAt = now
			switch {
			case errors.Is(context.Cause(ctx), errCancelled) || (err != nil && c.CancelRequested):
				c.Status = merge.ScanCancelled
				c.AddLog(now, "INFO", fmt.Sprintf("cancelled after %d of %d tables", c.Progress.TablesDone, c.Progress.TablesTotal))
			case err != nil:
				c.Status, c.Error = merge.ScanFailed, err.Error()
				c.AddLog(now, "ERROR", "scan failed: "+err.Error())
			default:
				c.Status = merge.ScanSucceeded
				c.AddLog(now, "INFO", fmt.Sprintf("scan finished: %d tables (%d failed), %d partitions listed, %d unchanged, %d from Hive's statistics, %d files, %d bytes",
					c.Progress.TablesDone, c.Progress.TablesFailed, c.Progress.PartitionsListed, c.Progress.PartitionsReused, c.Progress.PartitionsMetastore, c.Progress.FilesListed, c.Progress.BytesListed))
			}
		})
	}

	if _, err := update(func(c *merge.Scan) {
		c.Status = merge.ScanRunning
		if c.StartedAt.IsZero() {
			c.StartedAt = s.now()
		}
	}); err != nil {
		return nil, err
	}
	h, files, err := s.Connector.Connect(ctx, sc.ClusterID)
	if err != nil {
		return finish(err)
	}
	tables, err := s.tables(ctx, h, sc.Scope)
	if err != nil {
		return finish(err)
	}
	if _, err := update(func(c *merge.Scan) {
		c.Progress.TablesTotal = int64(len(tables))
		c.AddLog(s.now(), "INFO", fmt.Sprintf("%d tables to measure", len(tables)))
	}); err != nil {
		return finish(err)
	}

	stop := s.heartbeat(ctx, update)
	defer stop()
	slot := s.slot(sc.ClusterID)
	keepAfter := time.Time{}
	if ret := s.Retention; ret >= 0 {
		if ret == 0 {
			ret = DefaultRetention
		}
		keepAfter = s.now().Add(-ret)
	}
	var wg sync.WaitGroup
	for _, t := range tables {
		if last, err := s.Store.LatestTableMetrics(ctx, sc.ClusterID, t.Database, t.Name); err == nil && last.ScanID == sc.ID {
			p.tablesDone.Add(1)
			continue
		}
		select {
		case slot <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-slot }()
			// The table's latest metrics serve twice: for the partitions that need no listing
			// and for the growth since.
			last, err := s.Store.LatestTableMetrics(ctx, sc.ClusterID, t.Database, t.Name)
			if err != nil {
				last = nil
			}
			job := &tableJob{svc: s, hive: h, files: files, scanID: sc.ID, cluster: sc.ClusterID, src: t, filters: sc.Scope.Partitions, now: s.now(), last: last, count: &p.counters}
			level, msg := "INFO", ""
			m, parts, err := job.measure(ctx)
			if err == nil {
				if m.Growth = merge.GrowthOf(last, m, s.GrowthAlertPerDay); m.Growth != nil && m.Growth.Crossed {
					// Logged once per crossing: the next scans find the alert already raised.
					s.Logger.Warn("small files growing", "cluster_id", sc.ClusterID, "table", t.String(), "per_day", m.Growth.PerDay, "reason", m.Growth.Reason)
				}
				err = s.Store.SaveTableMetrics(rec, m, parts, keepAfter)
			}
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				p.tablesFailed.Add(1)
				level, msg = "WARN", fmt.Sprintf("%s: %v", t, err)
			default:
				msg = fmt.Sprintf("%s: %d partitions, %d files, %d bytes, score %d: %s", t, m.Partitions, m.Stats.Files, m.Stats.Bytes, m.Health.Score, m.Recommendation.Reason)
				if m.Growth != nil && m.Growth.Crossed {
					msg += "; growth alert: " + m.Growth.Reason
				}
			}
			p.tablesDone.Add(1)
			if _, err := update(func(c *merge.Scan) {
				c.AddLog(s.now(), level, msg)
				if m != nil && level == "INFO" {
					c.Totals.Add(m)
				}
			}); err != nil {
				s.Logger.Warn("scan progress not saved", "scan_id", sc.ID, "error", err.Error())
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return finish(context.Cause(ctx))
	}
	return finish(nil)
}

// heartbeat records progress every third of the lease until the returned stop is called, so
// a live scan busy with one large table is not taken for dead.
func (s *Service) heartbeat(ctx context.Context, update func(func(*merge.Scan)) (*merge.Scan, error)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.lease() / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := update(nil); err != nil {
					s.Logger.Warn("scan heartbeat not saved", "error", err.Error())
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// tables lists the tables of a scope.
func (s *Service) tables(ctx context.Context, h Hive, scope merge.ScanScope) ([]hql.Table, error) {
	if scope.Table != "" {
		return []hql.Table{{Database: scope.Database, Name: scope.Table}}, nil
	}
	dbs := []string{scope.Database}
	if scope.Database == "" {
		var err error
		if dbs, err = h.Databases(ctx); err != nil {
			return nil, err
		}
	}
	var out []hql.Table
	for _, db := range dbs {
		// Names hivemerge cannot quote are left out rather than sent to Hive.
		if merge.CheckIdentifier("database", db) != nil {
			continue
		}
		names, err := h.Tables(ctx, db)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if merge.CheckIdentifier("table", n) == nil {
				out = append(out, hql.Table{Database: db, Name: n})
			}
		}
	}
	return out, nil
}

// progress counts a scan's work; the table workers update it without locks.
type progress struct {
	counters
	tablesDone, tablesFailed atomic.Int64
}

// restore continues the counts of an earlier attempt. Tables that failed then are tried again,
// so failures are counted afresh.
func (p *progress) restore(sp merge.ScanProgress) {
	p.listed.Store(sp.PartitionsListed)
	p.reused.Store(sp.PartitionsReused)
	p.metastore.Store(sp.PartitionsMetastore)
	p.files.Store(sp.FilesListed)
	p.bytes.Store(sp.BytesListed)
}

func (p *progress) snapshot(total int64) merge.ScanProgress {
	return merge.ScanProgress{
		TablesTotal: total, TablesDone: p.tablesDone.Load(), TablesFailed: p.tablesFailed.Load(),
		PartitionsListed: p.listed.Load(), PartitionsReused: p.reused.Load(), PartitionsMetastore: p.metastore.Load(),
		FilesListed: p.files.Load(), BytesListed: p.bytes.Load(),
	}
}

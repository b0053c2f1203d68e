package hiveql

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Compaction states as SHOW COMPACTIONS prints them.
const (
	stateInitiated = "initiated"
	stateWorking   = "working"
	stateReady     = "ready for cleaning"
	stateSucceeded = "succeeded"
	stateFailed    = "failed"
)

var hostOnce = sync.OnceValue(func() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "sandbox"
	}
	return h
})

func hostName() string { return hostOnce() }

type compactStmt struct {
	ref  tableRef
	spec []specItem
	typ  string
	wait bool
}

func (st *compactStmt) run(x *exec) (*Result, error) {
	if st.typ != "major" && st.typ != "minor" {
		return nil, semanticError("42000", 10282, "Invalid compaction type, supported values are 'major' and 'minor'")
	}
	t, err := x.table(st.ref, false)
	if err != nil {
		return nil, err
	}
	if !t.partitioned() && st.spec != nil {
		return nil, semanticError("42000", 10241, "Table is not partitioned but partition spec exists: "+specString(st.spec))
	}
	// What follows are the DDLTask's checks: execution errors in Hive.
	if err := x.compiled(nil); err != nil {
		return nil, err
	}
	ddlFail := func(code int32, msg string) *Error {
		return Errorf("42000", code, "%sFAILED: Execution Error, return code %d from org.apache.hadoop.hive.ql.exec.DDLTask. %s", processPrefix, code, msg)
	}
	if !t.transactional() {
		return nil, ddlFail(10286, fmt.Sprintf("Compaction is not allowed on non-ACID table %s", t.qualified()))
	}
	part := ""
	if t.partitioned() {
		if st.spec == nil {
			return nil, ddlFail(10283, "You must specify a partition to compact for partitioned tables")
		}
		vals, err := resolveSpec(t, st.spec, false)
		if err != nil {
			return nil, err
		}
		names := t.matchPartitions(vals)
		switch {
		case len(names) > 1:
			return nil, ddlFail(10284, "Compaction can only be requested on one partition at a time.")
		case len(names) == 0:
			return nil, ddlFail(10006, "Partition not found "+specString(st.spec))
		}
		part = names[0]
	}

	w := x.w
	w.mu.Lock()
	for _, c := range w.cat.Compactions {
		if c.DB == t.DB && c.Table == t.Name && c.Partition == part && (c.State == stateInitiated || c.State == stateWorking) {
			w.mu.Unlock()
			x.log("Compaction already enqueued with id %d; State is %s", c.ID, c.State)
			return nil, nil
		}
	}
	c := &compaction{
		ID: w.cat.NextCompactionID, DB: t.DB, Table: t.Name, Partition: part,
		Type: "MAJOR", State: stateInitiated, EnqueueTime: w.now().UnixMilli(), TxnID: w.cat.NextTxnID,
	}
	if st.typ == "minor" {
		c.Type = "MINOR"
	}
	w.cat.NextCompactionID++
	w.cat.NextTxnID++
	w.cat.Compactions = append(w.cat.Compactions, c)
	err = w.commit()
	id := c.ID
	w.mu.Unlock()
	if err != nil {
		return nil, err
	}
	w.compactionChanged()
	w.wakeCompactor()
	x.log("Compaction enqueued with id %d", id)
	if !st.wait {
		return nil, nil
	}
	state, err := w.waitCompaction(x.ctx, id)
	if err != nil {
		return nil, err
	}
	if state != stateSucceeded {
		return nil, ddlFail(1, fmt.Sprintf("Compaction with id %d finished with status: %s", id, state))
	}
	x.log("Compaction with id %d finished with status: %s", id, state)
	return nil, nil
}

// compactionChanged wakes everything waiting for a compaction state change.
func (w *Warehouse) compactionChanged() {
	w.changeMu.Lock()
	close(w.changed)
	w.changed = make(chan struct{})
	w.changeMu.Unlock()
}

func (w *Warehouse) changes() <-chan struct{} {
	w.changeMu.Lock()
	defer w.changeMu.Unlock()
	return w.changed
}

// waitCompaction blocks until compaction id succeeds or fails and returns its final state.
func (w *Warehouse) waitCompaction(ctx context.Context, id int64) (string, error) {
	for {
		ch := w.changes()
		w.mu.Lock()
		state := ""
		for _, c := range w.cat.Compactions {
			if c.ID == id {
				state = c.State
			}
		}
		w.mu.Unlock()
		if state == stateSucceeded || state == stateFailed || state == "" {
			return state, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return "", ctx.Err()
		case <-w.stop:
			return "", errClosed
		}
	}
}

// WaitCompactions blocks until no compaction is initiated, working or ready for cleaning.
// Tests and demos use it instead of polling SHOW COMPACTIONS.
func (w *Warehouse) WaitCompactions(ctx context.Context) error {
	for {
		ch := w.changes()
		w.mu.Lock()
		busy := slices.ContainsFunc(w.cat.Compactions, func(c *compaction) bool {
			return c.State == stateInitiated || c.State == stateWorking || c.State == stateReady
		})
		w.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-w.stop:
			return errClosed
		}
	}
}

func (w *Warehouse) wakeCompactor() {
	select {
	case w.compactWake <- struct{}{}:
	default:
	}
}

// compactor is the background Worker and Cleaner: it takes initiated compactions one at a
// time, rewrites the delta directories into a base (major) or one wider delta (minor), then
// removes the directories the new one makes obsolete.
func (w *Warehouse) compactor() {
	defer close(w.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-w.stop
		cancel()
	}()
	for {
		select {
		case <-w.stop:
			return
		case <-w.compactWake:
		}
		for w.compactOne(ctx) {
			if ctx.Err() != nil {
				return
			}
		}
	}
}

// compactOne runs the oldest initiated compaction; it reports whether there was one.
func (w *Warehouse) compactOne(ctx context.Context) bool {
	w.mu.Lock()
	var c *compaction
	for _, cc := range w.cat.Compactions {
		if cc.State != stateInitiated {
			continue
		}
		// A table whose stored location the sandbox refuses waits: AllowLocations may yet
		// allow it, and nothing is compacted or cleaned there before.
		if t, ok := w.lookupTable(cc.DB, cc.Table); ok && t.locErr != nil {
			continue
		}
		c = cc
		break
	}
	if c == nil {
		w.mu.Unlock()
		return false
	}
	id := c.ID
	t, ok := w.lookupTable(c.DB, c.Table)
	var snap *table
	loc := ""
	if ok {
		snap = cloneTable(t)
		loc = t.Location
		if c.Partition != "" {
			p, pok := t.Partitions[c.Partition]
			if pok {
				loc = p.Location
			} else {
				ok = false
			}
		}
	}
	c.State = stateWorking
	c.WorkerHost = hostName()
	c.WorkerID = fmt.Sprintf("%s-%d", hostName(), id)
	c.StartTime = w.now().UnixMilli()
	major := c.Type == "MAJOR"
	w.commit()
	w.mu.Unlock()
	w.compactionChanged()

	finish := func(state, msg string, highest int64) {
		w.mu.Lock()
		for _, cc := range w.cat.Compactions {
			if cc.ID == id {
				cc.State, cc.Error = state, msg
				if state == stateSucceeded || state == stateFailed {
					cc.EndTime = w.now().UnixMilli()
					cc.CommitTime = cc.EndTime
				}
				if highest > 0 {
					cc.HighestWID = highest
				}
			}
		}
		w.commit()
		w.mu.Unlock()
		w.compactionChanged()
	}
	if !ok {
		finish(stateFailed, "table or partition no longer exists", 0)
		return true
	}
	highest, err := rewriteAcid(ctx, snap, loc, major)
	if err != nil {
		if ctx.Err() != nil {
			// Closing: leave it initiated so a reopened warehouse resumes it.
			w.mu.Lock()
			for _, cc := range w.cat.Compactions {
				if cc.ID == id {
					cc.State = stateInitiated
				}
			}
			w.commit()
			w.mu.Unlock()
			return false
		}
		finish(stateFailed, err.Error(), 0)
		return true
	}
	finish(stateReady, "", highest)

	// Cleaner: only directories at or below the compacted write id, so deltas written by
	// concurrent writers since the compaction started survive.
	_, obsolete, err := acidSnapshot(loc, highest)
	if err == nil {
		for _, d := range obsolete {
			os.RemoveAll(filepath.Join(loc, d.name))
		}
	}
	s, serr := scanStats(snap, loc, true)
	w.mu.Lock()
	if t, ok := w.lookupTable(snap.DB, snap.Name); ok && serr == nil {
		params := t.Params
		if c.Partition != "" {
			if p, ok := t.Partitions[c.Partition]; ok {
				params = p.Params
			}
		}
		setStats(params, t.Columns, s)
	}
	w.mu.Unlock()
	finish(stateSucceeded, "", highest)
	return true
}

// rewriteAcid merges the visible directories of a transactional location: all of them into
// base_N (major) or the deltas into delta_min_max (minor). It returns the highest write id
// compacted, or 0 when there was nothing to do.
func rewriteAcid(ctx context.Context, t *table, loc string, major bool) (int64, error) {
	current, _, err := acidSnapshot(loc, t.NextWriteID)
	if err != nil {
		return 0, err
	}
	var inputs []acidDir
	for _, d := range current {
		if major || !d.base {
			inputs = append(inputs, d)
		}
	}
	if len(inputs) == 0 {
		return 0, nil
	}
	lo, hi := inputs[0].min, inputs[len(inputs)-1].max
	for _, d := range inputs {
		lo, hi = min(lo, d.min), max(hi, d.max)
	}
	if len(inputs) == 1 && (major && inputs[0].base || !major) {
		return hi, nil
	}
	var data []byte
	for _, d := range inputs {
		files, err := listFiles(filepath.Join(loc, d.name))
		if err != nil {
			return 0, err
		}
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			b, err := os.ReadFile(f.path)
			if err != nil {
				return 0, fmt.Errorf("read %s: %w", f.path, err)
			}
			if len(b) > 0 && b[len(b)-1] != '\n' {
				b = append(b, '\n')
			}
			data = append(data, b...)
		}
	}
	name := fmt.Sprintf("base_%07d", hi)
	if !major {
		name = fmt.Sprintf("delta_%07d_%07d", lo, hi)
	}
	tmp := filepath.Join(loc, "."+name+".tmp")
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(tmp, bucketFileName(t, 0)), data, 0o644); err != nil {
		os.RemoveAll(tmp)
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		os.RemoveAll(tmp)
		return 0, err
	}
	final := filepath.Join(loc, name)
	os.RemoveAll(final)
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return 0, err
	}
	return hi, nil
}

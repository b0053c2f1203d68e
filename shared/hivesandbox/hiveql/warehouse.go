package hiveql

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Warehouse is a sandbox metastore plus the data files under one directory. It is safe for
// concurrent use by many sessions: the catalog is guarded by a mutex that is never held while
// a statement reads or writes row data.
type Warehouse struct {
	dir         string // root: metastore.json and warehouse/
	root        string // the default database's location
	catalogPath string

	// roots are the resolved directories locations must lie below, the warehouse directory
	// first; reserved are resolved paths no location may be or contain. See confine.go.
	rootsMu  sync.RWMutex
	roots    []string
	reserved []string

	jobs atomic.Int64

	// maxStmt is the longest statement accepted, in bytes; see SetMaxStatementBytes.
	maxStmt atomic.Int64

	mu  sync.Mutex
	cat *catalog
	// now is the clock; tests keep it real.
	now func() time.Time

	compactWake chan struct{}
	changeMu    sync.Mutex
	changed     chan struct{} // closed and replaced at every compaction state change
	stop        chan struct{}
	done        chan struct{}
	closeOnce   sync.Once
}

// Open opens (or creates) the warehouse stored under dir: the catalog in dir/metastore.json and
// the data in dir/warehouse.
func Open(dir string) (*Warehouse, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open warehouse: %w", err)
	}
	root := filepath.Join(abs, "warehouse")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("open warehouse: %w", err)
	}
	w := &Warehouse{
		dir:         abs,
		root:        root,
		catalogPath: filepath.Join(abs, "metastore.json"),
		now:         time.Now,
		compactWake: make(chan struct{}, 1),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	w.changed = make(chan struct{})
	w.maxStmt.Store(DefaultMaxStatementBytes)
	resolved, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("open warehouse: %w", err)
	}
	w.roots = []string{resolved}
	w.reserved = []string{filepath.Join(resolved, "warehouse"), filepath.Join(resolved, "metastore.json")}
	cat, err := loadCatalog(w.catalogPath, root)
	if err != nil {
		return nil, fmt.Errorf("open warehouse: %w", err)
	}
	w.cat = cat
	w.checkCatalogLocked()
	for _, c := range cat.Compactions {
		// A compaction interrupted by a restart starts over; its output directory is only
		// published by a final rename, so a half-done run left nothing visible.
		if c.State == stateWorking || c.State == stateReady {
			c.State = stateInitiated
		}
	}
	if err := w.cat.save(w.catalogPath); err != nil {
		return nil, fmt.Errorf("open warehouse: %w", err)
	}
	go w.compactor()
	w.wakeCompactor()
	return w, nil
}

// Close stops the background compactor. Statements still running keep their own files.
func (w *Warehouse) Close() error {
	w.closeOnce.Do(func() {
		close(w.stop)
		<-w.done
	})
	return nil
}

// DefaultMaxStatementBytes is the longest statement a warehouse accepts unless
// SetMaxStatementBytes says otherwise: 1 MiB, far beyond any hand-written statement, while a
// multi-megabyte INSERT ... VALUES would cost the shared sandbox hundreds of megabytes to
// parse.
const DefaultMaxStatementBytes = 1 << 20

// SetMaxStatementBytes sets the longest statement the warehouse's sessions accept, counted
// before and after variable substitution; a longer one fails before it is parsed. n <= 0
// restores DefaultMaxStatementBytes.
func (w *Warehouse) SetMaxStatementBytes(n int) {
	if n <= 0 {
		n = DefaultMaxStatementBytes
	}
	w.maxStmt.Store(int64(n))
}

// MaxStatementBytes is the longest statement the warehouse's sessions accept.
func (w *Warehouse) MaxStatementBytes() int { return int(w.maxStmt.Load()) }

// Dir is the directory the warehouse was opened on.
func (w *Warehouse) Dir() string { return w.dir }

// commit persists the catalog; the caller holds w.mu.
func (w *Warehouse) commit() error {
	if err := w.cat.save(w.catalogPath); err != nil {
		return fmt.Errorf("metastore: %w", err)
	}
	return nil
}

// lookupTable finds a table; the caller holds w.mu.
func (w *Warehouse) lookupTable(db, name string) (*table, bool) {
	d, ok := w.cat.Databases[db]
	if !ok {
		return nil, false
	}
	t, ok := d.Tables[name]
	return t, ok
}

func (w *Warehouse) unixNow() int64 { return w.now().Unix() }

func (w *Warehouse) nextJobNumber() int64 { return w.jobs.Add(1) }

var errClosed = errors.New("hiveql: warehouse closed")

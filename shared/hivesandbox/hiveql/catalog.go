package hiveql

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// catalog is the metastore: everything about databases, tables and partitions except the
// rows, which live in files under each location.
type catalog struct {
	Databases        map[string]*database `json:"databases"`
	Compactions      []*compaction        `json:"compactions,omitempty"`
	NextCompactionID int64                `json:"nextCompactionId"`
	NextTxnID        int64                `json:"nextTxnId"`
}

type database struct {
	Name     string            `json:"name"`
	Location string            `json:"location"`
	Owner    string            `json:"owner"`
	Comment  string            `json:"comment,omitempty"`
	Tables   map[string]*table `json:"tables"`

	// locErr is why the sandbox refuses the stored location, for a hand-edited catalog.
	locErr error
}

type column struct {
	Name    string `json:"n"`
	Type    string `json:"t"`
	Comment string `json:"c,omitempty"`
}

type table struct {
	DB         string            `json:"db"`
	Name       string            `json:"name"`
	Owner      string            `json:"owner"`
	Columns    []column          `json:"columns"`
	PartCols   []column          `json:"partCols,omitempty"`
	External   bool              `json:"external,omitempty"`
	Format     string            `json:"format"`          // TEXTFILE, ORC, PARQUET, RCFILE, SEQUENCEFILE
	Delim      string            `json:"delim,omitempty"` // field delimiter when declared; default \001
	BucketCols []string          `json:"bucketCols,omitempty"`
	NumBuckets int               `json:"numBuckets,omitempty"`
	Location   string            `json:"location"` // absolute local path
	Params     map[string]string `json:"params"`
	CreateTime int64             `json:"createTime"`
	// Partitions are keyed by partition name (dt=2024-01-01/hr=00, escaped).
	Partitions  map[string]*partition `json:"partitions,omitempty"`
	NextWriteID int64                 `json:"nextWriteId,omitempty"`

	// locErr is why the sandbox refuses a stored location of the table or of one of its
	// partitions, for a hand-edited catalog: every statement touching the table fails.
	locErr error
}

type partition struct {
	Values     []string          `json:"values"`
	Location   string            `json:"location"`
	Params     map[string]string `json:"params"`
	CreateTime int64             `json:"createTime"`
}

// compaction is one SHOW COMPACTIONS entry.
type compaction struct {
	ID          int64  `json:"id"`
	DB          string `json:"db"`
	Table       string `json:"table"`
	Partition   string `json:"partition,omitempty"`
	Type        string `json:"type"` // MAJOR or MINOR
	State       string `json:"state"`
	WorkerHost  string `json:"workerHost,omitempty"`
	WorkerID    string `json:"workerId,omitempty"`
	EnqueueTime int64  `json:"enqueueTime"`
	StartTime   int64  `json:"startTime,omitempty"`
	EndTime     int64  `json:"endTime,omitempty"`
	Error       string `json:"error,omitempty"`
	TxnID       int64  `json:"txnId"`
	CommitTime  int64  `json:"commitTime,omitempty"`
	HighestWID  int64  `json:"highestWriteId,omitempty"`
}

const defaultDB = "default"

// validName tells whether name may name a database or a table. A table's default location is
// its name joined to its database's directory and a database's is <name>.db in the warehouse,
// so a name must stay one path element: no separator, no NUL or other control character, and
// not only dots, which the join would resolve to the directory itself or to its parent (a
// table `z/../../victim.db` would be another database's directory, and DROP TABLE would
// delete it). Hive's metastore refuses these names too; other punctuation, such as the dots
// of `a.b`, stays allowed as Hive allows it.
func validName(name string) bool {
	if strings.Trim(name, ".") == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '/' || c == '\\' || c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

func (t *table) qualified() string { return t.DB + "." + t.Name }

func (t *table) partitioned() bool { return len(t.PartCols) > 0 }

func (t *table) transactional() bool {
	return strings.EqualFold(t.Params["transactional"], "true")
}

func (t *table) insertOnly() bool {
	return t.transactional() && strings.EqualFold(t.Params["transactional_properties"], "insert_only")
}

// fullACID reports a transactional table that is not insert-only.
func (t *table) fullACID() bool { return t.transactional() && !t.insertOnly() }

// delim is the byte sequence between fields in data files: LazySimpleSerDe's default is \001.
func (t *table) delim() string {
	if t.Delim != "" {
		return t.Delim
	}
	return "\x01"
}

// sortedPartitions returns partition names in Hive's order (lexicographic by name).
func (t *table) sortedPartitions() []string {
	names := make([]string, 0, len(t.Partitions))
	for n := range t.Partitions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// partName builds Hive's partition name, escaping values like FileUtils.escapePathName.
func partName(cols []column, values []string) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(escapePathName(c.Name))
		b.WriteByte('=')
		b.WriteString(escapePathName(values[i]))
	}
	return b.String()
}

const defaultPartitionName = "__HIVE_DEFAULT_PARTITION__"

// escapePathName follows Hive's FileUtils.escapePathName: characters that are unsafe in paths
// become %XX, and an empty or NULL value becomes the default partition name.
func escapePathName(s string) string {
	if s == "" {
		return defaultPartitionName
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func needsEscape(c byte) bool {
	if c < 0x20 || c == 0x7F {
		return true
	}
	return strings.IndexByte("\"#%'*/:=?\\{[]^", c) >= 0
}

// unescapePathName reverses escapePathName.
func unescapePathName(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			var v byte
			if _, err := fmt.Sscanf(s[i+1:i+3], "%02X", &v); err == nil {
				b.WriteByte(v)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// loadCatalog reads the metastore file, or starts an empty one with the default database.
func loadCatalog(path, warehouse string) (*catalog, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return &catalog{
			Databases: map[string]*database{defaultDB: {
				Name: defaultDB, Location: warehouse, Owner: "public", Comment: "Default Hive database",
				Tables: map[string]*table{},
			}},
			NextCompactionID: 1,
			NextTxnID:        1,
		}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	var c catalog
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("decode catalog %s: %w", path, err)
	}
	for _, db := range c.Databases {
		if db.Tables == nil {
			db.Tables = map[string]*table{}
		}
		for _, t := range db.Tables {
			if t.Params == nil {
				t.Params = map[string]string{}
			}
			if t.Partitions == nil {
				t.Partitions = map[string]*partition{}
			}
			for _, p := range t.Partitions {
				if p.Params == nil {
					p.Params = map[string]string{}
				}
			}
		}
	}
	return &c, nil
}

// save writes the catalog atomically: a reader or a crash sees the old or the new file whole.
func (c *catalog) save(path string) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode catalog: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".metastore-*.tmp")
	if err != nil {
		return fmt.Errorf("save catalog: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("save catalog: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save catalog: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save catalog: %w", err)
	}
	return nil
}

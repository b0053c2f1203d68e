package hiveql

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// GenerateOptions size a generated warehouse. Zero values take the defaults noted per field.
type GenerateOptions struct {
	Seed      int64
	Databases []string // default sales, web, ops
	// Scale sizes the warehouse in percent of the demo's: file counts and the rows of the
	// large files shrink with it, while every table, partition and table kind stays. The
	// default, 100, gives about 33,000 files in 1,650 partitions and 60 MB; 1 gives 1,750
	// files, one or a few per partition, for tests.
	Scale    int
	MaxFiles int // upper bound on data files; default 1,000,000
}

// GenerateReport counts what Generate created.
type GenerateReport struct {
	Databases  int
	Tables     int
	Partitions int
	Files      int
	Rows       int64
	Bytes      int64
	// Worst is the partition (or unpartitioned table) with the most files.
	Worst WorstPartition
}

// WorstPartition names the location holding the most files; Partition is empty for an
// unpartitioned table.
type WorstPartition struct {
	Table     string
	Partition string
	Files     int
}

// String is the summary the demo prints.
func (r GenerateReport) String() string {
	worst := r.Worst.Table
	if r.Worst.Partition != "" {
		worst += " " + r.Worst.Partition
	}
	return fmt.Sprintf("%d databases, %d tables, %d partitions, %d files, %d rows, %.1f MB; worst partition: %s (%d files)\n"+
		"Every file is delimited text whatever format its table declares (ORC, Parquet, RCFile...): a sandbox, not a Hive.",
		r.Databases, r.Tables, r.Partitions, r.Files, r.Rows, float64(r.Bytes)/(1<<20), worst, r.Worst.Files)
}

// GeneratedMarker is the file, beside metastore.json, that records a finished generation and
// its summary; a generating command checks it so that a warehouse is generated once.
const GeneratedMarker = "generated.txt"

// storageNote is the comment of every generated table, so that DESCRIBE FORMATTED says what
// the declared format does not.
const storageNote = "hivesandbox: stored as delimited text, whatever the declared format"

// tableTemplate describes one generated table and its layout at scale 100.
type tableTemplate struct {
	name       string
	cols       []column
	format     string
	delim      string
	external   bool
	acid       string // "", "full" or "insert_only"
	bucketCols []string
	buckets    int
	props      map[string]string

	unpart   bool
	hourly   bool   // partitioned by (dt date, hr <hourType>) rather than (dt date)
	hourType string // string or int
	days     int    // daily partitions from 2024-01-01
	hours    int    // hourly partitions per day

	files int // per partition, or of the table when unpartitioned
	rows  int // mean rows per file; each file has between half and one and a half times as many
	// hot partitions, the first of the table, hold hotFiles files each: a backfill gone wrong.
	hot, hotFiles int
	// healthy tables have a few large files that need no merge; their rows follow the scale.
	healthy bool
	// customLoc keeps the second partition at a custom location, as left behind by an earlier
	// manual repair; emptyLast leaves the newest partition created but not yet loaded.
	customLoc, emptyLast bool
}

var (
	orderCols   = []column{{Name: "order_id", Type: "bigint"}, {Name: "customer_id", Type: "bigint"}, {Name: "amount", Type: "double"}, {Name: "status", Type: "string"}, {Name: "note", Type: "string"}}
	itemCols    = []column{{Name: "order_id", Type: "bigint"}, {Name: "sku", Type: "string"}, {Name: "qty", Type: "int"}, {Name: "price", Type: "double"}}
	eventCols   = []column{{Name: "event_id", Type: "bigint"}, {Name: "user_id", Type: "bigint"}, {Name: "kind", Type: "string"}, {Name: "payload", Type: "string"}}
	paymentCols = []column{{Name: "payment_id", Type: "bigint"}, {Name: "order_id", Type: "bigint"}, {Name: "amount", Type: "double"}, {Name: "method", Type: "string"}}
)

// templates are the curated tables of the default databases; together they cover every
// layout the engines must handle, from partitions of thousands of tiny files to tables that
// need no merge, and an Iceberg table they must refuse.
var templates = map[string][]tableTemplate{
	"sales": {
		{name: "orders", cols: orderCols, format: "TEXTFILE", hourly: true, hourType: "string", days: 30, hours: 24, files: 16, rows: 12, customLoc: true, emptyLast: true},
		{name: "order_items", cols: itemCols, format: "ORC", hourly: true, hourType: "int", days: 14, hours: 24, files: 8, rows: 20, hot: 1, hotFiles: 2500, props: map[string]string{"orc.compress": "SNAPPY"}},
		{name: "payments", cols: paymentCols, format: "ORC", acid: "full", bucketCols: []string{"payment_id"}, buckets: 2, days: 10, files: 150, rows: 8},
		{name: "customers", cols: []column{{Name: "customer_id", Type: "bigint"}, {Name: "name", Type: "string"}, {Name: "segment", Type: "string"}}, format: "PARQUET", unpart: true, files: 2, rows: 120_000, healthy: true},
	},
	"web": {
		{name: "clicks", cols: eventCols, format: "PARQUET", external: true, hourly: true, hourType: "string", days: 7, hours: 24, files: 10, rows: 15, hot: 2, hotFiles: 2000, props: map[string]string{"parquet.compression": "SNAPPY"}},
		{name: "sessions", cols: []column{{Name: "session_id", Type: "string"}, {Name: "user_id", Type: "bigint"}, {Name: "pages", Type: "int"}, {Name: "referrer", Type: "string"}}, format: "TEXTFILE", delim: ",", external: true, days: 30, files: 40, rows: 10},
		{name: "pageviews", cols: eventCols, format: "ORC", acid: "insert_only", days: 10, files: 100, rows: 10, emptyLast: true},
		{name: "daily_summary", cols: eventCols, format: "PARQUET", days: 30, files: 1, rows: 45_000, healthy: true},
	},
	"ops": {
		{name: "metrics", cols: []column{{Name: "host", Type: "string"}, {Name: "metric", Type: "string"}, {Name: "value", Type: "double"}}, format: "RCFILE", hourly: true, hourType: "string", days: 14, hours: 24, files: 6, rows: 25, hot: 1, hotFiles: 3000},
		{name: "events", cols: eventCols, format: "ORC", bucketCols: []string{"event_id"}, buckets: 4, days: 10, files: 64, rows: 10},
		{name: "audit_log", cols: []column{{Name: "ts", Type: "string"}, {Name: "actor", Type: "string"}, {Name: "action", Type: "string"}}, format: "SEQUENCEFILE", unpart: true, files: 800, rows: 10},
		{name: "events_iceberg", cols: eventCols, format: "PARQUET", external: true, unpart: true, files: 400, rows: 10, props: map[string]string{
			"table_type": "ICEBERG", "storage_handler": "org.apache.iceberg.mr.hive.HiveIcebergStorageHandler",
			"format-version": "2", "external.table.purge": "TRUE",
		}},
	},
}

func genericTemplate(i int) tableTemplate {
	return tableTemplate{name: fmt.Sprintf("events_%02d", i), cols: eventCols, format: []string{"TEXTFILE", "ORC", "PARQUET"}[i%3], hourly: true, hourType: "string", days: 3, hours: 4, files: 6, rows: 20}
}

// genFile is one data file to write.
type genFile struct {
	path string
	loc  string // the table or partition location the file belongs to
	seed uint64
	tmpl *tableTemplate
	rows int
	base int64 // first id in the file
}

// scaled is n at scale percent, at least 1 when n is.
func scaled(n, scale int) int {
	if n == 0 {
		return 0
	}
	return max(n*scale/100, 1)
}

// Generate fills w with databases and tables full of small files. The same options give the
// same data files byte for byte. Files are written directly and the catalog is saved once at
// the end, so a million files take minutes, not hours. Existing tables of the same names are
// replaced.
func Generate(ctx context.Context, w *Warehouse, opts GenerateOptions) (GenerateReport, error) {
	if len(opts.Databases) == 0 {
		opts.Databases = []string{"sales", "web", "ops"}
	}
	opts.Scale = defaultInt(opts.Scale, 100)
	opts.MaxFiles = defaultInt(opts.MaxFiles, 1_000_000)

	type planned struct {
		db  string
		t   *table
		tpl tableTemplate
	}
	var plan []planned
	for _, db := range opts.Databases {
		tpls := templates[db]
		if len(tpls) == 0 {
			tpls = []tableTemplate{genericTemplate(0)}
		}
		for _, tpl := range tpls {
			plan = append(plan, planned{db: db, tpl: tpl})
		}
	}
	budget := opts.MaxFiles
	var files []genFile
	rep := GenerateReport{Databases: len(opts.Databases)}
	now := w.unixNow()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	w.mu.Lock()
	dbLoc := map[string]string{}
	for _, db := range opts.Databases {
		if d, ok := w.cat.Databases[db]; ok {
			dbLoc[db] = d.Location
		} else {
			dbLoc[db] = filepath.Join(w.root, db+".db")
		}
	}
	// A catalog entry the sandbox refuses is neither replaced nor written into.
	for _, db := range opts.Databases {
		if d, ok := w.cat.Databases[db]; ok {
			if err := refusedIn(d); err != nil {
				w.mu.Unlock()
				return rep, fmt.Errorf("generate: %w", err)
			}
		} else if err := w.checkLocation(dbLoc[db]); err != nil {
			w.mu.Unlock()
			return rep, fmt.Errorf("generate: %w", err)
		}
	}
	// Remove the data of tables being replaced before laying out new ones.
	for _, pl := range plan {
		if old, ok := w.lookupTable(pl.db, pl.tpl.name); ok && (!old.External || old.Location == filepath.Join(w.dir, "external", pl.db, pl.tpl.name)) {
			w.removeTableData(old)
		}
	}
	w.mu.Unlock()

	// where names each location's table and partition, for the worst partition.
	type where struct{ table, part string }
	whereOf := map[string]where{}
	for i := range plan {
		pl := &plan[i]
		tpl := pl.tpl
		t := &table{
			DB: pl.db, Name: tpl.name, Owner: "hive", Columns: tpl.cols, Format: tpl.format, Delim: tpl.delim,
			External: tpl.external, BucketCols: tpl.bucketCols, NumBuckets: tpl.buckets,
			Params: map[string]string{
				"bucketing_version": "2", "transient_lastDdlTime": strconv.FormatInt(now, 10), "comment": storageNote,
			},
			Partitions: map[string]*partition{}, CreateTime: now,
			Location: filepath.Join(dbLoc[pl.db], tpl.name),
		}
		for k, v := range tpl.props {
			t.Params[k] = v
		}
		if tpl.external {
			t.Location = filepath.Join(w.dir, "external", pl.db, tpl.name)
			t.Params["EXTERNAL"] = "TRUE"
		}
		switch tpl.acid {
		case "full":
			t.Params["transactional"], t.Params["transactional_properties"] = "true", "default"
		case "insert_only":
			t.Params["transactional"], t.Params["transactional_properties"] = "true", "insert_only"
		}
		if !tpl.unpart {
			t.PartCols = []column{{Name: "dt", Type: "date"}}
			if tpl.hourly {
				t.PartCols = append(t.PartCols, column{Name: "hr", Type: tpl.hourType})
			}
		}
		pl.t = t
		rep.Tables++
		if err := os.MkdirAll(t.Location, 0o755); err != nil {
			return rep, fmt.Errorf("generate: %w", err)
		}
		rows := tpl.rows
		if tpl.healthy {
			rows = scaled(rows, opts.Scale)
		}
		// Spread the file budget evenly over the tables still to plan.
		tableBudget := budget / (len(plan) - i)
		used := 0
		var nextID int64 = 1
		addFiles := func(dir string, n int, partIdx int) []genFile {
			var out []genFile
			for f := range n {
				if used >= tableBudget {
					break
				}
				var path string
				switch {
				case tpl.acid != "":
					t.NextWriteID++
					wid := t.NextWriteID
					name := "bucket_00000"
					if tpl.acid == "insert_only" {
						name = "000000_0"
					}
					path = filepath.Join(dir, fmt.Sprintf("delta_%07d_%07d_0000", wid, wid), name)
				case len(tpl.bucketCols) > 0:
					name := fmt.Sprintf("%06d_0", f%tpl.buckets)
					if c := f / tpl.buckets; c > 0 {
						name += "_copy_" + strconv.Itoa(c)
					}
					path = filepath.Join(dir, name)
				default:
					name := "000000_0"
					if f > 0 {
						name += "_copy_" + strconv.Itoa(f)
					}
					path = filepath.Join(dir, name)
				}
				seed := fileSeed(opts.Seed, pl.db, tpl.name, partIdx, f)
				// Small files vary between half and one and a half times the mean; the
				// large files of healthy tables stay within a tenth of it.
				spread := rows
				if tpl.healthy {
					spread = rows / 5
				}
				n := max(rows-spread/2+int(seed%uint64(spread+1)), 1)
				out = append(out, genFile{path: path, loc: dir, seed: seed, tmpl: &pl.tpl, rows: n, base: nextID})
				nextID += int64(n)
				used++
			}
			return out
		}
		if tpl.unpart {
			files = append(files, addFiles(t.Location, scaled(tpl.files, opts.Scale), 0)...)
			whereOf[t.Location] = where{table: t.qualified()}
		} else {
			hours := 1
			if tpl.hourly {
				hours = tpl.hours
			}
			partIdx := 0
			for d := range tpl.days {
				for h := range hours {
					if used >= tableBudget {
						break
					}
					values := []string{start.AddDate(0, 0, d).Format("2006-01-02")}
					if tpl.hourly {
						if tpl.hourType == "int" {
							values = append(values, strconv.Itoa(h))
						} else {
							values = append(values, fmt.Sprintf("%02d", h))
						}
					}
					name := partName(t.PartCols, values)
					loc := filepath.Join(t.Location, name)
					if tpl.customLoc && partIdx == 1 {
						loc = filepath.Join(w.dir, "custom", pl.db+"_"+tpl.name+"_"+strings.Join(values, "_"))
					}
					n := scaled(tpl.files, opts.Scale)
					switch {
					case partIdx < tpl.hot:
						n = scaled(tpl.hotFiles, opts.Scale)
					case tpl.emptyLast && d == tpl.days-1 && h == hours-1:
						n = 0
					}
					files = append(files, addFiles(loc, n, partIdx)...)
					whereOf[loc] = where{table: t.qualified(), part: name}
					t.Partitions[name] = &partition{Values: values, Location: loc, CreateTime: now, Params: map[string]string{
						"transient_lastDdlTime": strconv.FormatInt(now, 10),
					}}
					if err := os.MkdirAll(loc, 0o755); err != nil {
						return rep, fmt.Errorf("generate: %w", err)
					}
					partIdx++
				}
			}
		}
		budget -= used
	}

	sizes, err := writeGenerated(ctx, files)
	if err != nil {
		return rep, err
	}
	// Record statistics as Hive would have after loading the files: accurate for managed
	// tables, fast (file-count only) for the external ones.
	byLoc := map[string]*basicStats{}
	for i, f := range files {
		s := byLoc[f.loc]
		if s == nil {
			s = &basicStats{}
			byLoc[f.loc] = s
		}
		s.files++
		s.total += sizes[i]
		s.rows += int64(f.rows)
		s.raw += sizes[i] - int64(f.rows)
		rep.Bytes += sizes[i]
		rep.Rows += int64(f.rows)
	}
	rep.Files = len(files)
	for loc, s := range byLoc {
		wh := whereOf[loc]
		// Ties go to the first name, so the report does not depend on map order.
		if n := int(s.files); n > rep.Worst.Files || n == rep.Worst.Files && wh.table+wh.part < rep.Worst.Table+rep.Worst.Partition {
			rep.Worst = WorstPartition{Table: wh.table, Partition: wh.part, Files: n}
		}
	}
	for _, pl := range plan {
		t := pl.t
		statsFor := func(params map[string]string, loc string) {
			var s basicStats
			if bs := byLoc[loc]; bs != nil {
				s = *bs
			}
			if t.External {
				setFastStats(params, s)
			} else {
				setStats(params, t.Columns, s)
			}
		}
		if !t.partitioned() {
			statsFor(t.Params, t.Location)
			continue
		}
		t.Params["COLUMN_STATS_ACCURATE"] = basicStatsAccurate
		for _, p := range t.Partitions {
			statsFor(p.Params, p.Location)
		}
		rep.Partitions += len(t.Partitions)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, db := range opts.Databases {
		if _, ok := w.cat.Databases[db]; !ok {
			if err := os.MkdirAll(dbLoc[db], 0o755); err != nil {
				return rep, fmt.Errorf("generate: %w", err)
			}
			w.cat.Databases[db] = &database{Name: db, Location: dbLoc[db], Owner: "hive", Tables: map[string]*table{}}
		}
	}
	for _, pl := range plan {
		w.cat.Databases[pl.db].Tables[pl.t.Name] = pl.t
	}
	if err := w.commit(); err != nil {
		return rep, err
	}
	return rep, nil
}

func defaultInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// generatedAge is how long ago the generated files were written.
const generatedAge = 48 * time.Hour

func fileSeed(seed int64, db, table string, part, file int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%s/%d/%d", seed, db, table, part, file)
	return h.Sum64()
}

// writeGenerated writes the files with a few workers; each file's bytes depend only on its
// own seed, so the order of writing does not matter.
func writeGenerated(ctx context.Context, files []genFile) ([]int64, error) {
	sizes := make([]int64, len(files))
	// The data is dated back as data that landed earlier would be: discovery holds back merges
	// of partitions written within its quiet period (an hour), so freshly dated demo data would
	// show nothing to merge at first.
	written := time.Now().Add(-generatedAge)
	jobs := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range jobs {
				f := files[i]
				buf = genRows(buf[:0], f)
				// Partition directories exist already; only ACID delta directories are
				// created here, on the first miss, saving a stat per file.
				err := os.WriteFile(f.path, buf, 0o644)
				if os.IsNotExist(err) {
					if err = os.MkdirAll(filepath.Dir(f.path), 0o755); err == nil {
						err = os.WriteFile(f.path, buf, 0o644)
					}
				}
				if err == nil {
					err = os.Chtimes(f.path, written, written)
				}
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
				}
				sizes[i] = int64(len(buf))
			}
		}()
	}
	var err error
	for i := range files {
		if err = ctx.Err(); err != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, fmt.Errorf("generate: %w", firstErr)
	}
	return sizes, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

var (
	statuses = []string{"NEW", "PAID", "SHIPPED", "CANCELLED", "RETURNED"}
	words    = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"}
	kinds    = []string{"view", "click", "scroll", "purchase", "login"}
	methods  = []string{"card", "paypal", "transfer", "voucher"}
)

// genRows renders one file's rows in the table's text layout.
func genRows(buf []byte, f genFile) []byte {
	r := rand.New(rand.NewPCG(f.seed, f.seed^0x9e3779b97f4a7c15))
	delim := "\x01"
	if f.tmpl.delim != "" {
		delim = f.tmpl.delim
	}
	for i := range f.rows {
		id := f.base + int64(i)
		for c, col := range f.tmpl.cols {
			if c > 0 {
				buf = append(buf, delim...)
			}
			switch {
			case c == 0 && col.Type == "bigint":
				buf = strconv.AppendInt(buf, id, 10)
			case col.Type == "bigint":
				buf = strconv.AppendInt(buf, r.Int64N(100000), 10)
			case col.Type == "int":
				buf = strconv.AppendInt(buf, int64(r.IntN(50)+1), 10)
			case col.Type == "double":
				buf = strconv.AppendFloat(buf, float64(r.IntN(1000000))/100, 'f', 2, 64)
			case col.Name == "status":
				buf = append(buf, statuses[r.IntN(len(statuses))]...)
			case col.Name == "kind":
				buf = append(buf, kinds[r.IntN(len(kinds))]...)
			case col.Name == "method":
				buf = append(buf, methods[r.IntN(len(methods))]...)
			case col.Name == "ts":
				buf = append(buf, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(86400*30))*time.Second).Format("2006-01-02 15:04:05")...)
			default:
				// Text columns sometimes hold NULL (\N), so checksums must cope with it.
				if r.IntN(20) == 0 {
					buf = append(buf, `\N`...)
					break
				}
				buf = append(buf, words[r.IntN(len(words))]...)
				buf = append(buf, '-')
				buf = strconv.AppendInt(buf, int64(r.IntN(1000)), 10)
			}
		}
		buf = append(buf, '\n')
	}
	return buf
}

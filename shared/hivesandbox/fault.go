package hivesandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sync"
	"time"
)

// FaultAction is what an injected fault does to a matching statement.
type FaultAction string

const (
	// FaultFail makes the statement fail with Fault.Message (or a Hive-like execution error).
	FaultFail FaultAction = "fail"
	// FaultHang blocks the statement until it is cancelled, closed or the server stops.
	FaultHang FaultAction = "hang"
	// FaultSlow delays the statement by Fault.Delay.
	FaultSlow FaultAction = "slow"
	// FaultDropConnection closes the client's connection when the statement arrives, without
	// running it and without an answer.
	FaultDropConnection FaultAction = "drop_connection"
	// FaultConcurrentWrite appends Fault.Write's rows as a new file while the statement runs:
	// from its BeforeCommit hook, or right after it for statements that never commit.
	FaultConcurrentWrite FaultAction = "concurrent_write"
)

// Fault describes a failure injected into statements whose text matches Match. FaultFail,
// FaultHang and FaultSlow hit a statement at the start of its execution, once it has
// compiled, so they fail it the way a failed job does; a statement that fails to compile is
// not affected and does not use up Times.
type Fault struct {
	// Match is a regular expression searched in the statement text, case-insensitively.
	Match  string
	Action FaultAction
	// Delay is how long FaultSlow delays the statement.
	Delay time.Duration
	// Message is the error text of FaultFail; empty means a Hive-like execution error.
	Message string
	// Times is how many statements the fault hits before it is spent; 0 means always.
	Times int
	// AtCommit moves FaultFail, FaultHang and FaultSlow from the start of the statement to its
	// BeforeCommit hook: the statement has done its work but not published it, which is where a
	// failure or a cancel must discard the output. A statement that never reaches BeforeCommit
	// is not affected and does not use up Times.
	AtCommit bool
	// Write is the data FaultConcurrentWrite appends.
	Write *ConcurrentWrite
	// Fired, when set, receives a value each time the fault hits a statement: when a hang,
	// slow or fail begins, when a connection is dropped, after a concurrent write's file
	// exists. The statement waits for the send (or its cancellation), so tests can act at
	// exactly that moment; a buffered channel avoids the wait. Not part of the JSON form.
	Fired chan<- struct{}
}

// ConcurrentWrite is a file that a simulated concurrent writer adds to a table or partition.
type ConcurrentWrite struct {
	DB        string            `json:"db"`
	Table     string            `json:"table"`
	Partition map[string]string `json:"partition,omitempty"`
	Rows      [][]string        `json:"rows"`
}

// faultJSON is the wire form of Fault, with Delay as a Go duration string ("1.5s").
type faultJSON struct {
	Match    string           `json:"match"`
	Action   FaultAction      `json:"action"`
	Delay    string           `json:"delay,omitempty"`
	Message  string           `json:"message,omitempty"`
	Times    int              `json:"times,omitempty"`
	AtCommit bool             `json:"at_commit,omitempty"`
	Write    *ConcurrentWrite `json:"write,omitempty"`
}

// MarshalJSON encodes the fault in the form the admin endpoint and -faults files use.
func (f Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{Match: f.Match, Action: f.Action, Message: f.Message, Times: f.Times, AtCommit: f.AtCommit, Write: f.Write}
	if f.Delay != 0 {
		j.Delay = f.Delay.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes a fault; unknown fields are errors so that typos do not silently
// disable a fault.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	var d time.Duration
	if j.Delay != "" {
		var err error
		if d, err = time.ParseDuration(j.Delay); err != nil {
			return fmt.Errorf("fault delay: %w", err)
		}
	}
	*f = Fault{Match: j.Match, Action: j.Action, Delay: d, Message: j.Message, Times: j.Times, AtCommit: j.AtCommit, Write: j.Write}
	return nil
}

// Validate reports whether the fault can be injected.
func (f Fault) Validate() error {
	if _, err := compileMatch(f.Match); err != nil {
		return err
	}
	if f.Times < 0 {
		return fmt.Errorf("fault times %d is negative", f.Times)
	}
	switch f.Action {
	case FaultFail, FaultHang, FaultDropConnection:
	case FaultSlow:
		if f.Delay <= 0 {
			return errors.New("a slow fault needs a positive delay")
		}
	case FaultConcurrentWrite:
		w := f.Write
		if w == nil || w.DB == "" || w.Table == "" || len(w.Rows) == 0 {
			return errors.New("a concurrent_write fault needs write.db, write.table and write.rows")
		}
	default:
		return fmt.Errorf("unknown fault action %q", f.Action)
	}
	if f.AtCommit && (f.Action == FaultDropConnection || f.Action == FaultConcurrentWrite) {
		return fmt.Errorf("at_commit does not apply to %s faults", f.Action)
	}
	return nil
}

func compileMatch(expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile("(?is)" + expr)
	if err != nil {
		return nil, fmt.Errorf("fault match: %w", err)
	}
	return re, nil
}

// ReadFaults decodes a JSON array of faults (or a single fault) and validates them.
func ReadFaults(r io.Reader) ([]Fault, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var faults []Fault
	if err := json.Unmarshal(b, &faults); err != nil {
		var one Fault
		if err1 := json.Unmarshal(b, &one); err1 != nil {
			return nil, fmt.Errorf("decode faults: %w", err)
		}
		faults = []Fault{one}
	}
	for i, f := range faults {
		if err := f.Validate(); err != nil {
			return nil, fmt.Errorf("fault %d: %w", i, err)
		}
	}
	return faults, nil
}

// LoadFaults reads faults from a JSON file (see ReadFaults).
func LoadFaults(path string) ([]Fault, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	faults, err := ReadFaults(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return faults, nil
}

// injected is one registered fault with its remaining uses.
type injected struct {
	id    int
	fault Fault
	re    *regexp.Regexp

	// guarded by faults.mu
	used    int
	removed bool
}

// faults is the server's fault table. Statements consult it when they arrive; uses are
// counted when a fault actually fires.
type faults struct {
	mu     sync.Mutex
	nextID int
	list   []*injected
}

func (fs *faults) add(f Fault) (*injected, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	re, _ := compileMatch(f.Match)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.nextID++
	in := &injected{id: fs.nextID, fault: f, re: re}
	fs.list = append(fs.list, in)
	return in, nil
}

func (fs *faults) remove(id int) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	i := slices.IndexFunc(fs.list, func(in *injected) bool { return in.id == id })
	if i < 0 {
		return false
	}
	fs.list[i].removed = true
	fs.list = slices.Delete(fs.list, i, i+1)
	return true
}

func (fs *faults) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, in := range fs.list {
		in.removed = true
	}
	fs.list = nil
}

// match returns the first live fault whose pattern matches stmt, or nil. Only one fault
// applies to a statement, so the order of injection decides between overlapping patterns.
func (fs *faults) match(stmt string) *injected {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, in := range fs.list {
		if in.fault.Times > 0 && in.used >= in.fault.Times {
			continue
		}
		if in.re.MatchString(stmt) {
			return in
		}
	}
	return nil
}

// use counts one firing of in and reports whether it was still live; a fault spent or removed
// between match and firing does nothing.
func (fs *faults) use(in *injected) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if in.removed || (in.fault.Times > 0 && in.used >= in.fault.Times) {
		return false
	}
	in.used++
	return true
}

// FaultStatus is a registered fault as the admin endpoint lists it.
type FaultStatus struct {
	ID    int   `json:"id"`
	Fault Fault `json:"fault"`
	// Used counts the statements the fault has hit so far.
	Used int `json:"used"`
}

func (fs *faults) snapshot() []FaultStatus {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]FaultStatus, 0, len(fs.list))
	for _, in := range fs.list {
		out = append(out, FaultStatus{ID: in.id, Fault: in.fault, Used: in.used})
	}
	return out
}

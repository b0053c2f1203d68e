package namenodetest

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// Namespace is the directory tree a NameNode serves: names, sizes and times, no blocks.
// Servers sharing a Namespace behave like the active and standby NameNodes of one HA cluster.
type Namespace struct {
	mu     sync.RWMutex
	root   *inode
	nextID uint64
}

type inode struct {
	id       uint64
	name     string
	dir      bool
	size     int64
	mtime    time.Time
	children map[string]*inode
	sorted   []string // children's names in byte order; nil when stale
}

// NewNamespace returns a namespace holding only the root directory.
func NewNamespace() *Namespace {
	ns := &Namespace{nextID: 16385} // HDFS's first inode id
	ns.root = ns.newDir("", time.Now())
	return ns
}

func (ns *Namespace) newDir(name string, mtime time.Time) *inode {
	ns.nextID++
	return &inode{id: ns.nextID, name: name, dir: true, mtime: mtime, children: make(map[string]*inode)}
}

// WriteFile creates or replaces the file at p, creating missing parent directories.
func (ns *Namespace) WriteFile(p string, size int64, mtime time.Time) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	parent, err := ns.mkdirs(path.Dir(p), mtime)
	if err != nil {
		return err
	}
	name := path.Base(p)
	if old := parent.children[name]; old != nil && old.dir {
		return fmt.Errorf("%s is a directory", p)
	}
	ns.nextID++
	parent.add(&inode{id: ns.nextID, name: name, size: size, mtime: mtime})
	return nil
}

// MkdirAll creates the directory p and its missing parents.
func (ns *Namespace) MkdirAll(p string) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	_, err := ns.mkdirs(p, time.Now())
	return err
}

func (ns *Namespace) mkdirs(p string, mtime time.Time) (*inode, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("path %q is not absolute", p)
	}
	n := ns.root
	for _, name := range split(p) {
		child := n.children[name]
		if child == nil {
			child = ns.newDir(name, mtime)
			n.add(child)
		} else if !child.dir {
			return nil, errNotDir
		}
		n = child
	}
	return n, nil
}

var errNotDir = errors.New("not a directory")

func split(p string) []string {
	p = strings.Trim(path.Clean(p), "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// lookup returns the inode at p, or nil.
func (ns *Namespace) lookup(p string) *inode {
	n := ns.root
	for _, name := range split(p) {
		if !n.dir {
			return nil
		}
		if n = n.children[name]; n == nil {
			return nil
		}
	}
	return n
}

func (n *inode) add(child *inode) {
	if _, ok := n.children[child.name]; !ok {
		n.sorted = nil
	}
	n.children[child.name] = child
}

func (n *inode) remove(name string) {
	delete(n.children, name)
	n.sorted = nil
}

func (n *inode) names() []string {
	if n.sorted == nil {
		n.sorted = make([]string, 0, len(n.children))
		for name := range n.children {
			n.sorted = append(n.sorted, name)
		}
		sort.Strings(n.sorted)
	}
	return n.sorted
}

// summary returns the length, file count and directory count of the tree at n.
func (n *inode) summary() (length, files, dirs uint64) {
	if !n.dir {
		return uint64(n.size), 1, 0
	}
	dirs = 1
	for _, c := range n.children {
		l, f, d := c.summary()
		length, files, dirs = length+l, files+f, dirs+d
	}
	return length, files, dirs
}

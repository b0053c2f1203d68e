package namenodetest

import (
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

type handler struct {
	name string // message name stem: name+"RequestProto", name+"ResponseProto"
	fn   func(s *Server, req, resp protoreflect.Message) *remoteError
	// raw, when set, replaces fn and returns the encoded response.
	raw func(s *Server, req protoreflect.Message) ([]byte, *remoteError)
}

// handlers are the ClientProtocol methods the Go client uses to list, stat and move.
var handlers = map[string]handler{
	"getFileInfo":       {name: "GetFileInfo", raw: (*Server).getFileInfo},
	"getListing":        {name: "GetListing", raw: (*Server).getListing},
	"getContentSummary": {name: "GetContentSummary", fn: (*Server).getContentSummary},
	"mkdirs":            {name: "Mkdirs", fn: (*Server).mkdirs},
	"delete":            {name: "Delete", fn: (*Server).delete},
	"rename":            {name: "Rename", fn: (*Server).rename},
	"rename2":           {name: "Rename2", fn: (*Server).rename2},
	"renewLease":        {name: "RenewLease", fn: func(*Server, protoreflect.Message, protoreflect.Message) *remoteError { return nil }},
	"getServerDefaults": {name: "GetServerDefaults", fn: (*Server).getServerDefaults},
}

const (
	blockSize   = 128 << 20
	replication = 3
)

// checkPath rejects what the NameNode rejects before looking anything up.
func checkPath(p string) *remoteError {
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") && p != "/" {
		return exception(ExcInvalidPath, "Invalid path name Invalid file name: %s", p)
	}
	return nil
}

func (s *Server) getFileInfo(req protoreflect.Message) ([]byte, *remoteError) {
	src := get(req, "src").String()
	if err := checkPath(src); err != nil {
		return nil, err
	}
	s.ns.mu.RLock()
	defer s.ns.mu.RUnlock()
	n := s.ns.lookup(src)
	if n == nil {
		return []byte{}, nil // an empty reply: the client reports the file missing
	}
	// The NameNode answers getFileInfo with an empty local name.
	enc := statusEnc()
	return protowire.AppendBytes(protowire.AppendTag(nil, enc.fileInfo, protowire.BytesType), enc.status(n, "")), nil
}

// getListing returns at most listLimit entries after startAfter, in byte order, and how many
// remain, which is how clients page through large directories.
func (s *Server) getListing(req protoreflect.Message) ([]byte, *remoteError) {
	src := get(req, "src").String()
	if err := checkPath(src); err != nil {
		return nil, err
	}
	after := string(get(req, "startAfter").Bytes())
	s.ns.mu.Lock() // names() may sort
	defer s.ns.mu.Unlock()
	n := s.ns.lookup(src)
	if n == nil {
		return []byte{}, nil // no dirList: the client reports the directory missing
	}
	enc := statusEnc()
	var list []byte
	remaining := 0
	if !n.dir {
		list = enc.appendEntry(list, n, "") // a file lists as itself
	} else {
		names := n.names()
		i := sort.Search(len(names), func(i int) bool { return names[i] > after })
		end := min(i+s.listLimit, len(names))
		for _, name := range names[i:end] {
			list = enc.appendEntry(list, n.children[name], name)
		}
		remaining = len(names) - end
	}
	list = protowire.AppendTag(list, enc.remaining, protowire.VarintType)
	list = protowire.AppendVarint(list, uint64(remaining))
	resp := protowire.AppendTag(nil, enc.dirList, protowire.BytesType)
	return protowire.AppendBytes(resp, list), nil
}

// statusEncoder writes HdfsFileStatusProto with protowire, taking field numbers and enum values
// from the registered descriptors so that the schema stays the client's. Listings are the one
// large reply; setting fields by reflection made 100,000 entries slow under the race detector.
type statusEncoder struct {
	fileInfo, dirList, partial, remaining                     protowire.Number
	fileType, path, length, permission, perm, owner, group    protowire.Number
	mtime, atime, replication, blocksize, fileID, childrenNum protowire.Number
	isDir, isFile                                             uint64
}

var statusEnc = sync.OnceValue(func() *statusEncoder {
	num := func(msg, name string) protowire.Number {
		return field(newMsg(msg), name).Number()
	}
	const st = "hadoop.hdfs.HdfsFileStatusProto"
	ft := field(newMsg(st), "fileType").Enum().Values()
	return &statusEncoder{
		fileInfo:    num("hadoop.hdfs.GetFileInfoResponseProto", "fs"),
		dirList:     num("hadoop.hdfs.GetListingResponseProto", "dirList"),
		partial:     num("hadoop.hdfs.DirectoryListingProto", "partialListing"),
		remaining:   num("hadoop.hdfs.DirectoryListingProto", "remainingEntries"),
		fileType:    num(st, "fileType"),
		path:        num(st, "path"),
		length:      num(st, "length"),
		permission:  num(st, "permission"),
		perm:        num("hadoop.hdfs.FsPermissionProto", "perm"),
		owner:       num(st, "owner"),
		group:       num(st, "group"),
		mtime:       num(st, "modification_time"),
		atime:       num(st, "access_time"),
		replication: num(st, "block_replication"),
		blocksize:   num(st, "blocksize"),
		fileID:      num(st, "fileId"),
		childrenNum: num(st, "childrenNum"),
		isDir:       uint64(ft.ByName("IS_DIR").Number()),
		isFile:      uint64(ft.ByName("IS_FILE").Number()),
	}
})

// appendEntry appends one partialListing entry.
func (e *statusEncoder) appendEntry(b []byte, n *inode, local string) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, e.partial, protowire.BytesType), e.status(n, local))
}

// status encodes the status of n under the name local.
func (e *statusEncoder) status(n *inode, local string) []byte {
	varint := func(b []byte, num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
	}
	bytes := func(b []byte, num protowire.Number, v []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
	}
	ms := uint64(n.mtime.UnixMilli())
	var st []byte
	perm := uint64(0o644)
	if n.dir {
		perm = 0o755
		st = varint(st, e.fileType, e.isDir)
	} else {
		st = varint(st, e.fileType, e.isFile)
	}
	st = bytes(st, e.path, []byte(local))
	if n.dir {
		st = varint(st, e.length, 0)
	} else {
		st = varint(st, e.length, uint64(n.size))
	}
	st = bytes(st, e.permission, varint(nil, e.perm, perm))
	st = bytes(st, e.owner, []byte("hive"))
	st = bytes(st, e.group, []byte("hadoop"))
	st = varint(st, e.mtime, ms)
	st = varint(st, e.atime, ms)
	if !n.dir {
		st = varint(st, e.replication, replication)
		st = varint(st, e.blocksize, blockSize)
	}
	st = varint(st, e.fileID, n.id)
	if n.dir {
		st = varint(st, e.childrenNum, uint64(len(n.children)))
	}
	return st
}

func (s *Server) getContentSummary(req, resp protoreflect.Message) *remoteError {
	p := get(req, "path").String()
	if err := checkPath(p); err != nil {
		return err
	}
	s.ns.mu.RLock()
	defer s.ns.mu.RUnlock()
	n := s.ns.lookup(p)
	if n == nil {
		return exception(ExcFileNotFound, "File does not exist: %s", p)
	}
	length, files, dirs := n.summary()
	cs := newMsg("hadoop.hdfs.ContentSummaryProto")
	set(cs, "length", length)
	set(cs, "fileCount", files)
	set(cs, "directoryCount", dirs)
	set(cs, "quota", ^uint64(0)) // -1: no quota
	set(cs, "spaceConsumed", length*replication)
	set(cs, "spaceQuota", ^uint64(0))
	set(resp, "summary", cs)
	return nil
}

func (s *Server) mkdirs(req, resp protoreflect.Message) *remoteError {
	src := get(req, "src").String()
	if err := checkPath(src); err != nil {
		return err
	}
	createParent := get(req, "createParent").Bool()
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	now := time.Now()
	n := s.ns.root
	names := split(src)
	for i, name := range names {
		child := n.children[name]
		switch {
		case child == nil:
			if i < len(names)-1 && !createParent {
				return exception(ExcFileNotFound, "Parent directory doesn't exist: /%s", strings.Join(names[:i+1], "/"))
			}
			child = s.ns.newDir(name, now)
			n.add(child)
			n.mtime = now
		case !child.dir && i == len(names)-1:
			return exception(ExcFileExists, "Path is not a directory: %s", src)
		case !child.dir:
			return exception(ExcParentNotDir, "/%s (is not a directory)", strings.Join(names[:i+1], "/"))
		}
		n = child
	}
	set(resp, "result", true)
	return nil
}

// delete answers false, not an error, for a missing path, as the NameNode does.
func (s *Server) delete(req, resp protoreflect.Message) *remoteError {
	src := get(req, "src").String()
	if err := checkPath(src); err != nil {
		return err
	}
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	n := s.ns.lookup(src)
	if n == nil || n == s.ns.root {
		set(resp, "result", false)
		return nil
	}
	if n.dir && len(n.children) > 0 && !get(req, "recursive").Bool() {
		return exception(ExcNotEmpty, "`%s is non empty': Directory is not empty", src)
	}
	parent := s.ns.lookup(path.Dir(src))
	parent.remove(n.name)
	parent.mtime = time.Now()
	set(resp, "result", true)
	return nil
}

// rename2 follows FSDirRenameOp.renameTo with options: it throws where rename returns false.
func (s *Server) rename2(req, resp protoreflect.Message) *remoteError {
	src, dst := get(req, "src").String(), get(req, "dst").String()
	if err := checkPath(src); err != nil {
		return err
	}
	if err := checkPath(dst); err != nil {
		return err
	}
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return s.ns.move(src, dst, get(req, "overwriteDest").Bool())
}

// rename is the old call: it moves into an existing directory and reports failure as false.
func (s *Server) rename(req, resp protoreflect.Message) *remoteError {
	src, dst := get(req, "src").String(), get(req, "dst").String()
	if checkPath(src) != nil || checkPath(dst) != nil {
		set(resp, "result", false)
		return nil
	}
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if d := s.ns.lookup(dst); d != nil && d.dir {
		dst = path.Join(dst, path.Base(src))
	}
	set(resp, "result", s.ns.move(src, dst, false) == nil)
	return nil
}

func (ns *Namespace) move(src, dst string, overwrite bool) *remoteError {
	src, dst = path.Clean(src), path.Clean(dst)
	n := ns.lookup(src)
	if n == nil {
		return exception(ExcFileNotFound, "rename source %s is not found.", src)
	}
	if src == dst {
		return exception(ExcFileExists, "The source %s and destination %s are the same", src, dst)
	}
	if n == ns.root || strings.HasPrefix(dst, src+"/") {
		return exception(ExcIO, "Rename destination %s is a directory or file under source %s", dst, src)
	}
	parent := ns.lookup(path.Dir(dst))
	if parent == nil {
		return exception(ExcFileNotFound, "rename destination parent %s not found.", path.Dir(dst))
	}
	if !parent.dir {
		return exception(ExcParentNotDir, "rename destination parent %s is a file.", path.Dir(dst))
	}
	if old := parent.children[path.Base(dst)]; old != nil {
		switch {
		case !overwrite:
			return exception(ExcFileExists, "rename destination %s already exists", dst)
		case old.dir != n.dir:
			return exception(ExcIO, "Source %s and destination %s must both be directories", src, dst)
		case old.dir && len(old.children) > 0:
			return exception(ExcIO, "rename destination directory is not empty: %s", dst)
		}
	}
	srcParent := ns.lookup(path.Dir(src))
	srcParent.remove(n.name)
	n.name = path.Base(dst)
	parent.add(n)
	now := time.Now()
	srcParent.mtime, parent.mtime = now, now
	return nil
}

func (s *Server) getServerDefaults(_, resp protoreflect.Message) *remoteError {
	d := newMsg("hadoop.hdfs.FsServerDefaultsProto")
	set(d, "blockSize", uint64(blockSize))
	set(d, "bytesPerChecksum", uint32(512))
	set(d, "writePacketSize", uint32(64<<10))
	set(d, "replication", uint32(replication))
	set(d, "fileBufferSize", uint32(4096))
	set(d, "encryptDataTransfer", false)
	set(d, "trashInterval", uint64(0))
	set(d, "checksumType", "CHECKSUM_CRC32C")
	set(resp, "serverDefaults", d)
	return nil
}

package hiveql

import (
	"io/fs"
	"syscall"
)

func accessTimeMillis(info fs.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return st.Atim.Sec*1000 + st.Atim.Nsec/1e6
	}
	return info.ModTime().UnixMilli()
}

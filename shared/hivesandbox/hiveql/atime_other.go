//go:build !linux

package hiveql

import "io/fs"

// accessTimeMillis falls back to the modification time where the access time is not portable.
func accessTimeMillis(info fs.FileInfo) int64 { return info.ModTime().UnixMilli() }

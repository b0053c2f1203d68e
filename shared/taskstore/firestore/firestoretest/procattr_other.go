//go:build !linux

package firestoretest

import "syscall"

// procAttr puts the emulator in its own process group.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

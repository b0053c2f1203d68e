package firestoretest

import "syscall"

// procAttr puts the emulator in its own process group and kills gcloud if the test binary dies
// without stopping it (a test timeout, for example).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

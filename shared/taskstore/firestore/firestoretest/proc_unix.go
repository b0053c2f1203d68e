//go:build unix

package firestoretest

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// command runs gcloud under a watchdog shell. gcloud puts itself and the JVM it starts in a
// process group of its own; the shell kills that group when the test binary dies without
// stopping the emulator (a test timeout, for example) or when it is told to terminate, so no
// emulator outlives its tests.
func command(gcloud string, args ...string) *exec.Cmd {
	const watchdog = `"$0" "$@" & child=$!
cleanup() { kill -9 "-$child" 2>/dev/null; kill -9 "$child" 2>/dev/null; }
trap 'cleanup; exit 1' TERM INT HUP
while kill -0 "$child" 2>/dev/null; do
	if ! kill -0 "$HIVEMERGE_TEST_PARENT" 2>/dev/null; then cleanup; exit 1; fi
	sleep 1
done
wait "$child"`
	cmd := exec.Command("/bin/sh", append([]string{"-c", watchdog, gcloud}, args...)...)
	cmd.Env = append(os.Environ(), "HIVEMERGE_TEST_PARENT="+strconv.Itoa(os.Getpid()))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// killGroup asks the watchdog to kill the emulator, then kills the watchdog's own group.
func killGroup(cmd *exec.Cmd, exited <-chan struct{}) {
	_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

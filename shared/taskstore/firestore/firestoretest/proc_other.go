//go:build !unix

package firestoretest

import (
	"os"
	"os/exec"
)

func command(gcloud string, args ...string) *exec.Cmd {
	cmd := exec.Command(gcloud, args...)
	cmd.Env = os.Environ()
	return cmd
}

func killGroup(cmd *exec.Cmd, _ <-chan struct{}) {
	_ = cmd.Process.Kill()
}

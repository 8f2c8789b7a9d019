//go:build unix

package python

import (
	"os/exec"
	"syscall"
)

// setGroup puts the child in its own process group and makes a timeout kill
// the whole group, so processes the code started die with it.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

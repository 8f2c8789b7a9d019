//go:build !unix

package python

import "os/exec"

func setGroup(cmd *exec.Cmd) {}

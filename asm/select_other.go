//go:build !amd64 || noasm

package asm

func init() { selectKernels() }

// selectKernels keeps the generic twins: there is no assembly for this
// platform, or the build tag noasm asks for none.
func selectKernels() { level = "generic" }

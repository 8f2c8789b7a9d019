//go:build !amd64 || noasm

package asm

// variants returns the generic twins, the only variant of this build.
func variants() []variant { return []variant{genericVariant()} }

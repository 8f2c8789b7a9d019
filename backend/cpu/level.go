package cpu

import "github.com/goarpo/arpo/asm"

func asmLevel() string { return asm.Level() }

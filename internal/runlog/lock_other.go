//go:build !unix

package runlog

import "os"

func flock(*os.File) error { return nil }

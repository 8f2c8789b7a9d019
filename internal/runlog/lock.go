package runlog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// LockName is the lock file a run folder holds while a process works in it.
const LockName = ".lock"

// ErrLocked is returned by Lock when another live process holds the folder.
var ErrLocked = errors.New("run folder in use")

// Lock is a held run-folder lock.
type Lock struct{ f *os.File }

// LockDir takes dir's lock, or fails with ErrLocked (naming the process
// that holds it) when another process has it. The lock is an advisory
// flock on dir/.lock: the kernel drops it when its process dies, however it
// dies, so a lock left by a killed run is never mistaken for a live one. On
// platforms without flock it only records the process id.
func LockDir(dir string) (*Lock, error) {
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := flock(f); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, ErrLocked) {
			who := "another process"
			if pid, perr := strconv.Atoi(string(bytes.TrimSpace(holder))); perr == nil {
				who = "process " + strconv.Itoa(pid)
			}
			return nil, fmt.Errorf("%w: %s is being written by %s; wait for it to end or stop it first", ErrLocked, dir, who)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	// The pid is only for the message above; the flock is the lock.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock; the file stays, so that no process can lock a
// file another has just unlinked.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor drops the flock
	l.f = nil
	return err
}

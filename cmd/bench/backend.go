package main

import (
	"fmt"
	"slices"

	"github.com/spf13/pflag"

	"github.com/goarpo/arpo/backend"
	_ "github.com/goarpo/arpo/backend/cpu"    // registers backend "cpu"
	_ "github.com/goarpo/arpo/backend/vulkan" // registers backend "vulkan" (usable with -tags vulkan)
	"github.com/goarpo/arpo/internal/exitcode"
)

// backendFlags are the --backend and --device flags shared by the gemm,
// train and decode suites.
type backendFlags struct {
	name    string
	device  int
	profile bool
	// announced is set once the device has been printed on stderr, so that
	// a suite opening the backend per line prints it once.
	announced bool
}

// addBackendFlags defines --backend and --device on fs.
func addBackendFlags(fs *pflag.FlagSet) *backendFlags {
	f := &backendFlags{}
	fs.StringVar(&f.name, "backend", "cpu", "compute backend: cpu, or vulkan (in a build with -tags vulkan)")
	fs.IntVar(&f.device, "device", 0, "GPU index for --backend vulkan (vulkaninfo --summary lists them)")
	fs.BoolVar(&f.profile, "profile", false, "device backends: time every op with GPU timestamps and print the time per op kind to stderr")
	return f
}

// validate checks the flags before anything runs.
func (f *backendFlags) validate() error {
	if !slices.Contains(backend.Names(), f.name) {
		return badInput("--backend %q: want one of %v", f.name, backend.Names())
	}
	if f.device < 0 {
		return badInput("--device must be >= 0, got %d", f.device)
	}
	if f.profile && f.cpu() {
		return badInput("--profile times device ops: it needs --backend vulkan (use --cpuprofile for the CPU)")
	}
	return nil
}

// cpu reports whether the backend runs on the host's threads. Device
// backends ignore the thread count, so suites run them once per line
// instead of once per thread count.
func (f *backendFlags) cpu() bool { return f.name == "cpu" }

// threadCounts returns the thread counts a suite runs: the requested ones
// on the CPU (each must be >= 1), a single 0 ("not applicable") on a
// device.
func (f *backendFlags) threadCounts(fs *pflag.FlagSet, requested []int) ([]int, error) {
	if !f.cpu() {
		if fs.Changed("threads") {
			fmt.Fprintf(logOut, "bench: --threads is ignored by backend %s\n", f.name)
		}
		return []int{0}, nil
	}
	for _, t := range requested {
		if t < 1 {
			return nil, badInput("--threads %d: want >= 1", t)
		}
	}
	return requested, nil
}

// open opens the backend with threads (ignored by device backends). A
// backend that cannot be opened (not built in, no such device) is bad
// input for this build or machine. The first time a device backend opens,
// its name, which carries the device's type, API version and limits, goes
// to stderr. close releases the device; the CPU backend has nothing to
// release.
func (f *backendFlags) open(threads int) (b backend.Backend, close func(), err error) {
	b, err = backend.Open(f.name, backend.Options{Threads: threads, Device: f.device})
	if err != nil {
		return nil, nil, exitcode.Usagef("--backend %s --device %d: %w", f.name, f.device, err)
	}
	if !f.cpu() && !f.announced {
		fmt.Fprintf(logOut, "bench: backend %s\n", b.Name())
		f.announced = true
	}
	close = func() {}
	if c, ok := b.(interface{ Close() }); ok {
		close = c.Close
	}
	if f.profile {
		p, ok := b.(deviceProfiler)
		if !ok {
			close()
			return nil, nil, badInput("--profile: backend %s has no GPU timestamps", f.name)
		}
		if err := p.SetProfile(true); err != nil {
			close()
			return nil, nil, exitcode.Usagef("--profile: %w", err)
		}
		closeDevice := close
		close = func() {
			fmt.Fprintf(logOut, "bench: GPU time per op kind on %s\n%s", b.Name(), p.ProfileTable())
			closeDevice()
		}
	}
	return b, close, nil
}

// deviceProfiler is a backend that times its ops with GPU timestamps
// (backend/vulkan).
type deviceProfiler interface {
	SetProfile(on bool) error
	ProfileTable() string
}

// threadsOf is the thread count of a CPU backend, 0 for a device backend.
func threadsOf(b backend.Backend) int {
	if t, ok := b.(interface{ Threads() int }); ok {
		return t.Threads()
	}
	return 0
}

// threadsLabel names a thread count in error messages: "2 threads", or
// "device" for the single run of a device backend.
func threadsLabel(threads int) string {
	if threads == 0 {
		return "device"
	}
	return fmt.Sprintf("%d threads", threads)
}

// lineError adds the line's context (config, threads, ...) to a run's
// error; a bad-input error, such as a backend that cannot open, is already
// about the command line and comes back as it is.
func lineError(err error, format string, args ...any) error {
	if exitcode.IsUsage(err) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

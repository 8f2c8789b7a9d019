//go:build vulkan && cgo

package vulkan

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// ErrNoVulkan and ErrNoDevice mark the two reasons a machine cannot run the
// backend at all (as opposed to a failure on a working device); tests skip
// on them.
var (
	ErrNoVulkan = errors.New("libvulkan could not be loaded (install libvulkan1 and a Vulkan driver)")
	ErrNoDevice = errors.New("no Vulkan device found (install a GPU driver, or mesa-vulkan-drivers for the lavapipe software driver)")
)

// loader loads libvulkan once per process.
var loader struct {
	once sync.Once
	err  error
}

func loadVulkan() error {
	loader.once.Do(func() {
		if err := vk.SetDefaultGetInstanceProcAddr(); err != nil {
			loader.err = fmt.Errorf("%w: %v", ErrNoVulkan, err)
			return
		}
		if err := vk.Init(); err != nil {
			loader.err = fmt.Errorf("%w: init: %v", ErrNoVulkan, err)
		}
	})
	return loader.err
}

// validation collects the error and warning messages of the validation
// layer (VK_EXT_debug_report) from every instance of the process: the
// binding keeps a single Go callback, so it is one global.
var validation struct {
	sync.Mutex
	msgs []string
}

func onDebugReport(flags vk.DebugReportFlags, _ vk.DebugReportObjectType, _ uint64, _ uint, code int32, layer, msg string, _ unsafe.Pointer) vk.Bool32 {
	validation.Lock()
	defer validation.Unlock()
	validation.msgs = append(validation.msgs, fmt.Sprintf("[%s %d] %s", layer, code, msg))
	return vk.False
}

// ValidationMessages returns the validation-layer errors and warnings
// reported so far in this process (empty unless the layer is enabled, e.g.
// VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation).
func ValidationMessages() []string {
	validation.Lock()
	defer validation.Unlock()
	return append([]string(nil), validation.msgs...)
}

// device holds the Vulkan objects of one logical device.
type device struct {
	instance vk.Instance
	report   vk.DebugReportCallback
	phys     vk.PhysicalDevice
	dev      vk.Device
	queue    vk.Queue
	family   uint32
	// timestampBits is the compute queue's timestampValidBits (0: none).
	timestampBits uint32

	name    string
	devType vk.PhysicalDeviceType
	info    string // name, type, API version and limits, for Name
	limits  vk.PhysicalDeviceLimits
	mem     vk.PhysicalDeviceMemoryProperties
}

func cstr(s string) string { return s + "\x00" }

// vkErr turns a failed Result into an error naming the call.
func vkErr(what string, r vk.Result) error {
	if r == vk.Success {
		return nil
	}
	return fmt.Errorf("%s: %w", what, vk.Error(r))
}

// instanceExtensions lists the instance extensions the loader offers.
func instanceExtensions() map[string]bool {
	var n uint32
	if vk.EnumerateInstanceExtensionProperties("", &n, nil) != vk.Success || n == 0 {
		return nil
	}
	props := make([]vk.ExtensionProperties, n)
	if vk.EnumerateInstanceExtensionProperties("", &n, props) != vk.Success {
		return nil
	}
	out := map[string]bool{}
	for i := range props[:n] {
		props[i].Deref()
		out[vk.ToString(props[i].ExtensionName[:])] = true
	}
	return out
}

// openDevice creates an instance and a logical device with one compute
// queue on physical device index.
func openDevice(index int) (_ *device, err error) {
	if err := loadVulkan(); err != nil {
		return nil, err
	}
	d := &device{}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	var exts []string
	haveReport := instanceExtensions()["VK_EXT_debug_report"]
	if haveReport {
		exts = append(exts, cstr("VK_EXT_debug_report"))
	}
	var instance vk.Instance
	r := vk.CreateInstance(&vk.InstanceCreateInfo{
		SType: vk.StructureTypeInstanceCreateInfo,
		PApplicationInfo: &vk.ApplicationInfo{
			SType:            vk.StructureTypeApplicationInfo,
			PApplicationName: cstr("arpo"),
			PEngineName:      cstr("arpo"),
			ApiVersion:       vk.ApiVersion11,
		},
		EnabledExtensionCount:   uint32(len(exts)),
		PpEnabledExtensionNames: exts,
	}, nil, &instance)
	if err := vkErr("create instance", r); err != nil {
		return nil, err
	}
	d.instance = instance
	if err := vk.InitInstance(instance); err != nil {
		return nil, fmt.Errorf("load instance functions: %w", err)
	}
	if haveReport {
		var cb vk.DebugReportCallback
		r := vk.CreateDebugReportCallback(instance, &vk.DebugReportCallbackCreateInfo{
			SType:       vk.StructureTypeDebugReportCallbackCreateInfo,
			Flags:       vk.DebugReportFlags(vk.DebugReportErrorBit | vk.DebugReportWarningBit | vk.DebugReportPerformanceWarningBit),
			PfnCallback: onDebugReport,
		}, nil, &cb)
		if err := vkErr("create debug report callback", r); err != nil {
			return nil, err
		}
		d.report = cb
	}

	var n uint32
	if err := vkErr("enumerate physical devices", vk.EnumeratePhysicalDevices(instance, &n, nil)); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, ErrNoDevice
	}
	phys := make([]vk.PhysicalDevice, n)
	if err := vkErr("enumerate physical devices", vk.EnumeratePhysicalDevices(instance, &n, phys)); err != nil {
		return nil, err
	}
	names := make([]string, n)
	for i, p := range phys[:n] {
		var props vk.PhysicalDeviceProperties
		vk.GetPhysicalDeviceProperties(p, &props)
		props.Deref()
		names[i] = fmt.Sprintf("%d: %s", i, vk.ToString(props.DeviceName[:]))
	}
	if index < 0 || index >= int(n) {
		return nil, fmt.Errorf("device index %d out of range; devices are %s", index, strings.Join(names, ", "))
	}
	d.phys = phys[index]

	var props vk.PhysicalDeviceProperties
	vk.GetPhysicalDeviceProperties(d.phys, &props)
	props.Deref()
	props.Limits.Deref()
	d.limits = props.Limits
	d.name = vk.ToString(props.DeviceName[:])
	d.devType = props.DeviceType
	vk.GetPhysicalDeviceMemoryProperties(d.phys, &d.mem)
	d.mem.Deref()
	for i := range d.mem.MemoryTypes {
		d.mem.MemoryTypes[i].Deref()
	}
	for i := range d.mem.MemoryHeaps {
		d.mem.MemoryHeaps[i].Deref()
	}
	if props.ApiVersion < vk.ApiVersion11 {
		return nil, fmt.Errorf("device %s supports Vulkan %s; 1.1 is needed", d.name, versionString(props.ApiVersion))
	}
	d.info = fmt.Sprintf("%s, %s, Vulkan %s, storage buffer range %d MiB, shared memory %d KiB, %d MiB device memory",
		d.name, deviceType(props.DeviceType), versionString(props.ApiVersion),
		d.limits.MaxStorageBufferRange>>20, d.limits.MaxComputeSharedMemorySize>>10, d.deviceMemory()>>20)

	family, tsBits, ok := computeFamily(d.phys)
	if !ok {
		return nil, fmt.Errorf("device %s has no compute queue", d.name)
	}
	d.family, d.timestampBits = family, tsBits
	var dev vk.Device
	r = vk.CreateDevice(d.phys, &vk.DeviceCreateInfo{
		SType:                vk.StructureTypeDeviceCreateInfo,
		QueueCreateInfoCount: 1,
		PQueueCreateInfos: []vk.DeviceQueueCreateInfo{{
			SType:            vk.StructureTypeDeviceQueueCreateInfo,
			QueueFamilyIndex: family,
			QueueCount:       1,
			PQueuePriorities: []float32{1},
		}},
	}, nil, &dev)
	if err := vkErr("create device", r); err != nil {
		return nil, err
	}
	d.dev = dev
	var queue vk.Queue
	vk.GetDeviceQueue(dev, family, 0, &queue)
	d.queue = queue
	return d, nil
}

// computeFamily returns the first queue family with compute support and
// its timestampValidBits (0: no timestamps on that queue).
func computeFamily(p vk.PhysicalDevice) (uint32, uint32, bool) {
	var n uint32
	vk.GetPhysicalDeviceQueueFamilyProperties(p, &n, nil)
	fams := make([]vk.QueueFamilyProperties, n)
	vk.GetPhysicalDeviceQueueFamilyProperties(p, &n, fams)
	for i := range fams[:n] {
		fams[i].Deref()
		if fams[i].QueueFlags&vk.QueueFlags(vk.QueueComputeBit) != 0 {
			return uint32(i), fams[i].TimestampValidBits, true
		}
	}
	return 0, 0, false
}

// deviceMemory is the size of the largest device-local heap.
func (d *device) deviceMemory() uint64 {
	var best uint64
	for _, h := range d.mem.MemoryHeaps[:d.mem.MemoryHeapCount] {
		if h.Flags&vk.MemoryHeapFlags(vk.MemoryHeapDeviceLocalBit) != 0 {
			best = max(best, uint64(h.Size))
		}
	}
	return best
}

// memoryType returns a memory type allowed by bits that has all of want,
// preferring one that also has all of prefer.
func (d *device) memoryType(bits uint32, want, prefer vk.MemoryPropertyFlagBits) (uint32, bool) {
	found, ok := uint32(0), false
	for i := uint32(0); i < d.mem.MemoryTypeCount; i++ {
		f := d.mem.MemoryTypes[i].PropertyFlags
		if bits&(1<<i) == 0 || f&vk.MemoryPropertyFlags(want) != vk.MemoryPropertyFlags(want) {
			continue
		}
		if f&vk.MemoryPropertyFlags(prefer) == vk.MemoryPropertyFlags(prefer) {
			return i, true
		}
		if !ok {
			found, ok = i, true
		}
	}
	return found, ok
}

func (d *device) close() {
	if d.dev != nil {
		vk.DeviceWaitIdle(d.dev)
		vk.DestroyDevice(d.dev, nil)
		d.dev = nil
	}
	if d.report != vk.NullDebugReportCallback {
		vk.DestroyDebugReportCallback(d.instance, d.report, nil)
		d.report = vk.NullDebugReportCallback
	}
	if d.instance != nil {
		vk.DestroyInstance(d.instance, nil)
		d.instance = nil
	}
}

func versionString(v uint32) string {
	return fmt.Sprintf("%d.%d.%d", v>>22, (v>>12)&0x3ff, v&0xfff)
}

func deviceType(t vk.PhysicalDeviceType) string {
	switch t {
	case vk.PhysicalDeviceTypeIntegratedGpu:
		return "integrated GPU"
	case vk.PhysicalDeviceTypeDiscreteGpu:
		return "discrete GPU"
	case vk.PhysicalDeviceTypeVirtualGpu:
		return "virtual GPU"
	case vk.PhysicalDeviceTypeCpu:
		return "CPU (software driver)"
	}
	return "other"
}

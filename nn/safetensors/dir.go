package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// The file names Hugging Face uses for a checkpoint directory.
const (
	SingleFileName = "model.safetensors"
	IndexFileName  = "model.safetensors.index.json"
)

// ReadDir reads the checkpoint in dir (see OpenDir) into one map of every
// tensor as float32. A loader of a large model streams instead (OpenDir,
// Dir.ReadInto, Dir.ReadBF16Into): the map holds a float32 copy of the whole
// checkpoint at once.
func ReadDir(dir string) (map[string]Tensor, error) {
	d, err := OpenDir(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ts := make(map[string]Tensor, len(d.of))
	for _, name := range d.names {
		t, err := d.of[name].Read(name)
		if err != nil {
			return nil, err
		}
		ts[name] = t
	}
	return ts, nil
}

// Dir is a checkpoint folder open for reading tensor by tensor: the shards
// listed by dir/model.safetensors.index.json when that exists, else
// dir/model.safetensors. Only the headers are read by OpenDir; a loader then
// reads each tensor straight into its own storage, so that loading holds
// the model plus one tensor, not a second copy of the checkpoint.
type Dir struct {
	files []*File          // open shards, by shard name
	of    map[string]*File // tensor name -> the file holding it
	names []string         // sorted
}

// OpenDir opens the checkpoint in dir and reads its headers. With an
// index, every listed tensor must be in its shard and every tensor of a
// shard must be listed, so that a damaged or mixed-up checkpoint fails
// loudly, before any data is read, instead of loading partly.
func OpenDir(dir string) (*Dir, error) {
	indexPath := filepath.Join(dir, IndexFileName)
	b, err := os.ReadFile(indexPath)
	if errors.Is(err, fs.ErrNotExist) {
		single := filepath.Join(dir, SingleFileName)
		if _, err := os.Stat(single); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("safetensors: %s: neither %s nor %s found", dir, SingleFileName, IndexFileName)
		}
		f, err := Open(single)
		if err != nil {
			return nil, err
		}
		d := &Dir{files: []*File{f}, of: map[string]*File{}, names: f.Names()}
		for _, name := range d.names {
			d.of[name] = f
		}
		return d, nil
	}
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	weightMap, err := parseIndex(b)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %s: %w", indexPath, err)
	}
	byShard := map[string][]string{}
	for name, shard := range weightMap {
		byShard[shard] = append(byShard[shard], name)
	}
	d := &Dir{of: make(map[string]*File, len(weightMap))}
	// Sorted so that the first error reported is the same on every run.
	for _, shard := range slices.Sorted(maps.Keys(byShard)) {
		names := byShard[shard]
		slices.Sort(names)
		f, err := openShard(dir, indexPath, shard, names)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.files = append(d.files, f)
		for _, name := range names {
			d.of[name] = f
		}
	}
	d.names = slices.Sorted(maps.Keys(d.of))
	return d, nil
}

// openShard opens dir/shard and checks that it holds exactly the listed
// names.
func openShard(dir, indexPath, shard string, names []string) (*File, error) {
	// A shard name is a file name relative to dir; refuse absolute paths and
	// ".." so that an index cannot point outside the checkpoint.
	if !filepath.IsLocal(shard) {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: shard %q is not a file inside %s", indexPath, names[0], shard, dir)
	}
	path := filepath.Join(dir, shard)
	f, err := Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: shard %s is missing", indexPath, names[0], path)
	}
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, name := range names {
		listed[name] = true
		if _, ok := f.Info(name); !ok {
			f.Close()
			return nil, fmt.Errorf("safetensors: %s: tensor %q is listed in %s but missing from the shard", path, name, indexPath)
		}
	}
	for _, name := range f.Names() {
		if !listed[name] {
			f.Close()
			return nil, fmt.Errorf("safetensors: %s: tensor %q is in the shard but not listed for it in %s", path, name, indexPath)
		}
	}
	return f, nil
}

// Names lists the checkpoint's tensors, sorted.
func (d *Dir) Names() []string { return slices.Clone(d.names) }

// Info describes the named tensor; ok is false when the checkpoint lacks it.
func (d *Dir) Info(name string) (ti TensorInfo, ok bool) {
	f, ok := d.of[name]
	if !ok {
		return ti, false
	}
	return f.Info(name)
}

// ReadInto reads the named tensor into dst as float32 (File.ReadInto).
func (d *Dir) ReadInto(name string, dst []float32) error {
	f, err := d.file(name)
	if err != nil {
		return err
	}
	return f.ReadInto(name, dst)
}

// ReadBF16Into reads the named tensor into dst as bf16 bits, without
// widening (File.ReadBF16Into).
func (d *Dir) ReadBF16Into(name string, dst []uint16) error {
	f, err := d.file(name)
	if err != nil {
		return err
	}
	return f.ReadBF16Into(name, dst)
}

func (d *Dir) file(name string) (*File, error) {
	f, ok := d.of[name]
	if !ok {
		return nil, fmt.Errorf("safetensors: the checkpoint has no tensor %q", name)
	}
	return f, nil
}

// Close closes the shards.
func (d *Dir) Close() error {
	var first error
	for _, f := range d.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	d.files = nil
	return first
}

// parseIndex returns the weight_map of an index file: tensor name -> shard
// file name. Other fields (metadata.total_size) are not needed to load.
func parseIndex(b []byte) (map[string]string, error) {
	var weightMap map[string]string
	dec := json.NewDecoder(bytes.NewReader(b))
	err := decodeObject(dec, func(key string) error {
		if key != "weight_map" {
			var skip json.RawMessage
			return dec.Decode(&skip)
		}
		weightMap = map[string]string{}
		return decodeObject(dec, func(name string) error {
			var shard string
			if err := dec.Decode(&shard); err != nil {
				return fmt.Errorf("weight_map[%q]: %w", name, err)
			}
			weightMap[name] = shard
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("invalid index: %w", err)
	}
	if len(weightMap) == 0 {
		return nil, errors.New("invalid index: weight_map is missing or empty")
	}
	return weightMap, nil
}

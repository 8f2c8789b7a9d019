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

// ReadDir reads the checkpoint in dir: the shards listed by
// dir/model.safetensors.index.json when that exists, else
// dir/model.safetensors. With an index, every listed tensor must be in its
// shard and every tensor of a shard must be listed, so that a damaged or
// mixed-up checkpoint fails loudly instead of loading partly.
func ReadDir(dir string) (map[string]Tensor, error) {
	indexPath := filepath.Join(dir, IndexFileName)
	b, err := os.ReadFile(indexPath)
	if errors.Is(err, fs.ErrNotExist) {
		single := filepath.Join(dir, SingleFileName)
		if _, err := os.Stat(single); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("safetensors: %s: neither %s nor %s found", dir, SingleFileName, IndexFileName)
		}
		return ReadFile(single)
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
	ts := make(map[string]Tensor, len(weightMap))
	// Sorted so that the first error reported is the same on every run.
	for _, shard := range slices.Sorted(maps.Keys(byShard)) {
		names := byShard[shard]
		slices.Sort(names)
		if err := readShard(ts, dir, indexPath, shard, names); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

// readShard reads the listed names from dir/shard into ts.
func readShard(ts map[string]Tensor, dir, indexPath, shard string, names []string) error {
	// A shard name is a file name relative to dir; refuse absolute paths and
	// ".." so that an index cannot point outside the checkpoint.
	if !filepath.IsLocal(shard) {
		return fmt.Errorf("safetensors: %s: tensor %q: shard %q is not a file inside %s", indexPath, names[0], shard, dir)
	}
	path := filepath.Join(dir, shard)
	f, err := Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("safetensors: %s: tensor %q: shard %s is missing", indexPath, names[0], path)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	listed := map[string]bool{}
	for _, name := range names {
		listed[name] = true
		if _, ok := f.Info(name); !ok {
			return fmt.Errorf("safetensors: %s: tensor %q is listed in %s but missing from the shard", path, name, indexPath)
		}
		t, err := f.Read(name)
		if err != nil {
			return err
		}
		ts[name] = t
	}
	for _, name := range f.Names() {
		if !listed[name] {
			return fmt.Errorf("safetensors: %s: tensor %q is in the shard but not listed for it in %s", path, name, indexPath)
		}
	}
	return nil
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

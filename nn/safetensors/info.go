package safetensors

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// DirInfo returns the header entry of every tensor of the checkpoint in dir
// (found as ReadDir finds it: the shards of model.safetensors.index.json,
// else model.safetensors) without reading any tensor data, so that a caller
// can check names, shapes and dtypes against what it expects before it
// allocates anything. files lists the safetensors files, sorted.
func DirInfo(dir string) (infos map[string]TensorInfo, files []string, err error) {
	indexPath := filepath.Join(dir, IndexFileName)
	b, err := os.ReadFile(indexPath)
	if errors.Is(err, fs.ErrNotExist) {
		single := filepath.Join(dir, SingleFileName)
		if _, err := os.Stat(single); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("safetensors: %s: neither %s nor %s found", dir, SingleFileName, IndexFileName)
		}
		infos, err := FileInfo(single)
		return infos, []string{single}, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	weightMap, err := parseIndex(b)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %s: %w", indexPath, err)
	}
	byShard := map[string][]string{}
	for name, shard := range weightMap {
		byShard[shard] = append(byShard[shard], name)
	}
	infos = make(map[string]TensorInfo, len(weightMap))
	for _, shard := range slices.Sorted(maps.Keys(byShard)) {
		names := byShard[shard]
		slices.Sort(names)
		if !filepath.IsLocal(shard) {
			return nil, nil, fmt.Errorf("safetensors: %s: tensor %q: shard %q is not a file inside %s", indexPath, names[0], shard, dir)
		}
		path := filepath.Join(dir, shard)
		f, err := Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("safetensors: %s: tensor %q: shard %s is missing", indexPath, names[0], path)
		}
		if err != nil {
			return nil, nil, err
		}
		for _, name := range names {
			ti, ok := f.Info(name)
			if !ok {
				f.Close()
				return nil, nil, fmt.Errorf("safetensors: %s: tensor %q is listed in %s but missing from the shard", path, name, indexPath)
			}
			infos[name] = ti
		}
		f.Close()
		files = append(files, path)
	}
	return infos, files, nil
}

// FileInfo returns the header entry of every tensor of the file at path,
// without reading tensor data.
func FileInfo(path string) (map[string]TensorInfo, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	infos := make(map[string]TensorInfo, len(f.h.names))
	for _, name := range f.h.names {
		infos[name], _ = f.Info(name)
	}
	return infos, nil
}

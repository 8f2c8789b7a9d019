package search

import (
	"bufio"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
)

// indexFile is the one file of a saved index directory.
const indexFile = "bm25.gob"

// formatVersion changes whenever the saved layout does.
const formatVersion = 1

type savedIndex struct {
	Version int
	Params  Params
	Docs    []Doc
	Terms   map[string]int32
	Off     []int64
	Post    []int32
	Freqs   []uint16
	DocLen  []int32
}

// Save writes the index into dir (created if needed). It writes a temporary
// file and renames it, so a crash never leaves a half-written index behind.
func (ix *Index) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save index: %w", err)
	}
	tmp, err := os.CreateTemp(dir, indexFile+".tmp*")
	if err != nil {
		return fmt.Errorf("save index: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	w := bufio.NewWriterSize(tmp, 1<<20)
	err = gob.NewEncoder(w).Encode(savedIndex{formatVersion, ix.Params, ix.Docs, ix.Terms, ix.Off, ix.Post, ix.Freqs, ix.DocLen})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, indexFile))
	}
	if err != nil {
		return fmt.Errorf("save index to %s: %w", dir, err)
	}
	return nil
}

// Load reads an index saved by Save and checks that it is consistent, so a
// damaged file is an error rather than a panic at query time.
func Load(dir string) (*Index, error) {
	path := filepath.Join(dir, indexFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load index: %w", err)
	}
	defer f.Close()
	var s savedIndex
	if err := gob.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(&s); err != nil {
		return nil, fmt.Errorf("load index %s: %w", path, err)
	}
	if s.Version != formatVersion {
		return nil, fmt.Errorf("load index %s: format version %d, want %d", path, s.Version, formatVersion)
	}
	ix := &Index{Params: s.Params, Docs: s.Docs, Terms: s.Terms, Off: s.Off, Post: s.Post, Freqs: s.Freqs, DocLen: s.DocLen}
	if err := ix.check(); err != nil {
		return nil, fmt.Errorf("load index %s: %w", path, err)
	}
	ix.prepare()
	return ix, nil
}

func (ix *Index) check() error {
	v, n := len(ix.Terms), len(ix.Docs)
	if len(ix.Off) != v+1 || len(ix.DocLen) != n || len(ix.Post) != len(ix.Freqs) {
		return fmt.Errorf("inconsistent sizes")
	}
	if ix.Off[0] != 0 || ix.Off[v] != int64(len(ix.Post)) {
		return fmt.Errorf("bad posting offsets")
	}
	for t := 0; t < v; t++ {
		if ix.Off[t] > ix.Off[t+1] {
			return fmt.Errorf("bad posting offsets")
		}
	}
	for _, t := range ix.Terms {
		if t < 0 || int(t) >= v {
			return fmt.Errorf("term id %d out of range", t)
		}
	}
	for _, d := range ix.Post {
		if d < 0 || int(d) >= n {
			return fmt.Errorf("document id %d out of range", d)
		}
	}
	return nil
}

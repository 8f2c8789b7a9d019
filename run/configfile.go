package run

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// duplicateKeys refuses a JSON document in which an object names a key
// twice: encoding/json silently keeps the last, so {"lr": 1e-4, "lr": 1}
// would train with 1 and the file would still look right at a glance.
// (YAML files need no such check: yaml.v3 refuses duplicates itself.)
func duplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	err := walkJSON(dec, "")
	if errors.Is(err, io.EOF) {
		return nil // an empty or malformed document: json.Unmarshal says why
	}
	return err
}

// walkJSON reads one value and reports the first key repeated within an
// object, with its path.
func walkJSON(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k, _ := kt.(string)
			if seen[k] {
				return fmt.Errorf("key %q appears twice%s; give each key once", k, where(path))
			}
			seen[k] = true
			if err := walkJSON(dec, path+"."+k); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
		return err
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := walkJSON(dec, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
		return err
	}
	return nil
}

func where(path string) string {
	if path == "" {
		return ""
	}
	return " in " + strings.TrimPrefix(path, ".")
}

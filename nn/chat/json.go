package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ardanlabs/jinja"
)

// jsonValue decodes one JSON value into a template value, keeping the key
// order of objects (Python's json.loads does, and tojson writes them back in
// that order) and the difference between 1 and 1.0.
func jsonValue(raw json.RawMessage) (jinja.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return jinja.Value{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return jinja.Value{}, errors.New("trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (jinja.Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return jinja.Value{}, err
	}
	switch tok := tok.(type) {
	case nil:
		return jinja.None(), nil
	case bool:
		return jinja.NewBool(tok), nil
	case string:
		return jinja.NewString(tok), nil
	case json.Number:
		return jinja.FromGoValue(tok), nil
	case json.Delim:
		switch tok {
		case '[':
			items := []jinja.Value{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return jinja.Value{}, err
				}
				items = append(items, v)
			}
			if _, err := dec.Token(); err != nil {
				return jinja.Value{}, err
			}
			return jinja.NewList(items), nil
		case '{':
			d := jinja.NewDict()
			dict := d.AsDict()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return jinja.Value{}, err
				}
				key, ok := kt.(string)
				if !ok {
					return jinja.Value{}, fmt.Errorf("object key %v is not a string", kt)
				}
				v, err := decodeValue(dec)
				if err != nil {
					return jinja.Value{}, err
				}
				dict.Set(key, v)
			}
			if _, err := dec.Token(); err != nil {
				return jinja.Value{}, err
			}
			return d, nil
		}
	}
	return jinja.Value{}, fmt.Errorf("unexpected JSON token %v", tok)
}

// ParseConversation reads the keyword arguments of apply_chat_template as a
// JSON object: {"messages": [{"role": ..., "content": ...}, ...],
// "add_generation_prompt": true, "enable_thinking": false, ...}. Every other
// key is passed to the template as it is.
func ParseConversation(data []byte) (Conversation, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return Conversation{}, fmt.Errorf("conversation is not a JSON object: %w", err)
	}
	var c Conversation
	rawMsgs, ok := top["messages"]
	if !ok {
		return c, errors.New(`conversation has no "messages"`)
	}
	var msgs []json.RawMessage
	if err := json.Unmarshal(rawMsgs, &msgs); err != nil {
		return c, fmt.Errorf(`"messages" is not a list: %w`, err)
	}
	for i, raw := range msgs {
		m, err := parseMessage(raw)
		if err != nil {
			return c, fmt.Errorf("message %d: %w", i, err)
		}
		c.Messages = append(c.Messages, m)
	}
	for k, v := range top {
		switch k {
		case "messages":
		case "add_generation_prompt":
			if err := json.Unmarshal(v, &c.AddGenerationPrompt); err != nil {
				return c, fmt.Errorf(`"add_generation_prompt" is not a boolean: %w`, err)
			}
		case "enable_thinking":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return c, fmt.Errorf(`"enable_thinking" is not a boolean: %w`, err)
			}
			c.EnableThinking = &b
		default:
			if c.Kwargs == nil {
				c.Kwargs = map[string]json.RawMessage{}
			}
			c.Kwargs[k] = v
		}
	}
	return c, nil
}

// parseMessage reads one message object, keeping its keys in order.
func parseMessage(raw json.RawMessage) (Message, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return Message{}, errors.New("not a JSON object")
	}
	var m Message
	hasRole := false
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return m, err
		}
		key := kt.(string) // object keys are strings once the object parsed
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return m, err
		}
		switch key {
		case "role":
			if err := json.Unmarshal(v, &m.Role); err != nil {
				return m, fmt.Errorf(`"role" is not a string: %w`, err)
			}
			hasRole = true
		case "content":
			var s string
			if err := json.Unmarshal(v, &s); err == nil && !isNull(v) {
				m.Content = s
			} else {
				m.Extra = append(m.Extra, Field{Key: key, Value: v}) // null or a list of parts
			}
		default:
			m.Extra = append(m.Extra, Field{Key: key, Value: v})
		}
	}
	if !hasRole || strings.TrimSpace(m.Role) == "" {
		return m, errors.New(`no "role"`)
	}
	return m, nil
}

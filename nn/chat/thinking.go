package chat

import "fmt"

// Thinking is Qwen3's thinking switch as a command-line flag value (it
// implements pflag.Value): "auto" leaves enable_thinking unset, so the
// template decides (Qwen3 thinks); "on" and "off" pass true and false.
// Templates that do not read enable_thinking ignore it.
type Thinking int

const (
	ThinkingAuto Thinking = iota
	ThinkingOn
	ThinkingOff
)

// String implements pflag.Value.
func (t Thinking) String() string {
	switch t {
	case ThinkingOn:
		return "on"
	case ThinkingOff:
		return "off"
	}
	return "auto"
}

// Set implements pflag.Value.
func (t *Thinking) Set(s string) error {
	switch s {
	case "auto":
		*t = ThinkingAuto
	case "on", "true":
		*t = ThinkingOn
	case "off", "false":
		*t = ThinkingOff
	default:
		return fmt.Errorf("thinking %q: want auto, on or off", s)
	}
	return nil
}

// Type implements pflag.Value.
func (t Thinking) Type() string { return "auto|on|off" }

// Enable returns the enable_thinking value to render with, nil for auto.
func (t Thinking) Enable() *bool {
	switch t {
	case ThinkingOn:
		return Bool(true)
	case ThinkingOff:
		return Bool(false)
	}
	return nil
}

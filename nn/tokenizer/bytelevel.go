package tokenizer

import "unicode/utf8"

// The byte-level alphabet of GPT-2: every byte gets a printable rune so that
// vocabulary files can store arbitrary byte strings as JSON text. Printable
// Latin-1 bytes map to themselves, the other 68 bytes to U+0100 onwards.
var (
	byteToRune [256]rune
	runeToByte = map[rune]byte{}
)

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// byteLevelEncode maps raw bytes to their byte-level string form ("Ġthe").
func byteLevelEncode(b []byte) string {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = utf8.AppendRune(out, byteToRune[c])
	}
	return string(out)
}

// byteLevelDecode maps a byte-level vocabulary string back to raw bytes. Like
// the Hugging Face ByteLevel decoder, a string with any rune outside the
// alphabet is taken as its own UTF-8 bytes (added tokens such as
// "<|im_end|>" are stored that way in some files).
func byteLevelDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		b, ok := runeToByte[r]
		if !ok {
			return []byte(s)
		}
		out = append(out, b)
	}
	return out
}

package chat

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referenceClock is the clock scripts/chat_template_reference.mjs pins for
// strftime_now.
var referenceClock = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// loadIndexed returns the template named in testdata/templates/index.json:
// a real tokenizer_config.json from the shared data (skipped when absent)
// or a template file in testdata with its special tokens.
func loadIndexed(t *testing.T, name string) *Template {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "templates", "index.json"))
	require.NoError(t, err)
	var index map[string]struct {
		Shared        string            `json:"shared"`
		File          string            `json:"file"`
		SpecialTokens map[string]string `json:"special_tokens"`
	}
	require.NoError(t, json.Unmarshal(data, &index))
	e, ok := index[name]
	require.True(t, ok, "template %q not in index.json", name)
	var tmpl *Template
	if e.Shared != "" {
		p := shareddata.Path(t, e.Shared)
		tmpl, err = Load(filepath.Dir(p))
	} else {
		var src []byte
		src, err = os.ReadFile(filepath.Join("testdata", "templates", e.File))
		require.NoError(t, err)
		tmpl, err = New(string(src), e.SpecialTokens)
	}
	require.NoError(t, err)
	tmpl.Now = func() time.Time { return referenceClock }
	return tmpl
}

func loadConversations(t *testing.T) map[string]Conversation {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "conversations.json"))
	require.NoError(t, err)
	var list []struct {
		Name   string
		Kwargs json.RawMessage
	}
	require.NoError(t, json.Unmarshal(data, &list))
	out := map[string]Conversation{}
	for _, c := range list {
		conv, err := ParseConversation(c.Kwargs)
		require.NoError(t, err, c.Name)
		out[c.Name] = conv
	}
	return out
}

// knownDifferences are reference cases the engine renders differently, with
// why (docs/CHAT.md): the test reports them and does not compare them.
var knownDifferences = map[string]string{
	"llama3_2_instruct/tools_and_tool_calls": "tojson(indent=4) of the tool definitions sorts keys and escapes <, >, &",
}

// TestReference renders every conversation of testdata/conversations.json
// with the real Qwen3 and Llama 3.1 templates (shared data) and the stored
// Qwen2.5 and Llama 3.2 Instruct templates, and compares byte for byte with
// @huggingface/jinja's renderings (scripts/chat_template_reference.mjs).
func TestReference(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "reference.json"))
	require.NoError(t, err)
	var ref struct {
		Cases []struct {
			Template, Conversation string
			Text                   *string
			Error                  string
		}
	}
	require.NoError(t, json.Unmarshal(data, &ref))
	convs := loadConversations(t)
	byTemplate := map[string][]int{}
	for i, c := range ref.Cases {
		byTemplate[c.Template] = append(byTemplate[c.Template], i)
	}
	require.Len(t, byTemplate, 4)
	for name, idx := range byTemplate {
		t.Run(name, func(t *testing.T) {
			tmpl := loadIndexed(t, name)
			for _, i := range idx {
				c := ref.Cases[i]
				conv, ok := convs[c.Conversation]
				require.True(t, ok, c.Conversation)
				got, err := tmpl.Render(conv)
				if why, ok := knownDifferences[name+"/"+c.Conversation]; ok {
					t.Logf("%s/%s: not compared, a known difference: %s", name, c.Conversation, why)
					continue
				}
				if c.Text == nil {
					assert.Error(t, err, "%s/%s: the reference raised %q", name, c.Conversation, c.Error)
					continue
				}
				require.NoError(t, err, "%s/%s", name, c.Conversation)
				assert.Equal(t, *c.Text, got, "%s/%s", name, c.Conversation)
			}
		})
	}
}

// The real templates end assistant turns with their EOS token.
func TestEndOfTurnReal(t *testing.T) {
	for name, want := range map[string][]string{
		"qwen3":             {"<|im_end|>"},
		"llama3_1":          {"<|eot_id|>"},
		"qwen2_5_instruct":  {"<|im_end|>"},
		"llama3_2_instruct": {"<|eot_id|>"},
	} {
		tmpl := loadIndexed(t, name)
		assert.Equal(t, want, tmpl.EndOfTurn, name)
	}
	ids := map[string]int{"<|eot_id|>": 128009}
	tmpl := loadIndexed(t, "llama3_2_instruct")
	assert.Equal(t, []int{128009}, tmpl.EndOfTurnIDs(func(s string) (int, bool) { id, ok := ids[s]; return id, ok }))
}

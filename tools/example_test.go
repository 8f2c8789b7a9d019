package tools_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/goarpo/arpo/tools"
	"github.com/goarpo/arpo/tools/python"
	"github.com/goarpo/arpo/tools/search"
)

// Example shows the turn loop an RL rollout runs: stream generated text into
// a Stream; on a call, run it through the Executor and append the result;
// stop at the answer. The "model" here is a fixed list of turns.
func Example() {
	docs, _ := search.ReadCorpus(strings.NewReader(`{"id": "1", "title": "Eiffel Tower", "text": "Completed in 1889 for the World's Fair."}` + "\n"))
	reg, _ := tools.NewRegistry(
		&search.Tool{Index: search.Build(docs, search.DefaultParams), TopK: 1},
		python.New(python.Config{}),
	)
	ex := tools.NewExecutor(reg, tools.Config{Workers: 4, MaxResultLen: 2000, Cache: tools.NewCache()})
	s := reg.Protocol(3).NewStream()

	turns := []string{
		"<think>When was it built?</think>\n<search> Eiffel Tower completed </search>",
		"<python>print(2026 - 1889)</python>",
		"<answer> 137 years </answer>",
	}
	for _, turn := range turns {
		ev := s.Feed(turn)
		switch ev.Kind {
		case tools.Call, tools.Invalid:
			s.AppendResult(ex.Result(context.Background(), ev))
		case tools.Answer:
			fmt.Printf("answer: %s\n", ev.Arg)
		}
	}
	fmt.Print(s.Text()[strings.Index(s.Text(), "<result>"):])
	st := ex.Stats()
	fmt.Printf("\nsearch calls %d, python calls %d, failures %d\n", st.Tools["search"].Calls, st.Tools["python"].Calls, st.Total().Failures)
	// Output:
	// answer: 137 years
	// <result>
	// Doc 1(Title: Eiffel Tower) Completed in 1889 for the World's Fair.
	// </result>
	// <python>print(2026 - 1889)</python><result>
	// 137
	// </result>
	// <answer> 137 years </answer>
	// search calls 1, python calls 1, failures 0
}

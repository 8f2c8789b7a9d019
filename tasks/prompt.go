package tasks

// SystemPrompt teaches a pretrained model the tag protocol of docs/arpo.md:
// reasoning in <think>, tool calls in <search> and <python>, their output in
// <result>, the final answer in <answer> as \boxed{...}. It is the system
// prompt of the ARPO paper's training data (every row of
// arpo_train_10k.parquet, math and QA alike), word for word, except that the
// data's "\x08oxed" (a Python "\b" escape that turned "\boxed" into a
// backspace and "oxed") is written "\boxed" as the paper means.
const SystemPrompt = `You are a helpful assistant that can solve the given question step by step with the help of the wikipedia search tool and python interpreter tool. ` +
	`Given a question, you need to first think about the reasoning process in the mind and then provide the answer. ` +
	`During thinking, you can invoke the wikipedia search tool to search and python interpreter tool to calculate the math problem for fact information about specific topics if needed. ` +
	`The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags respectively, ` +
	`and the search query and result are enclosed within <search> </search> and <result> </result> tags respectively. ` +
	`For example, <think> This is the reasoning process. </think> <search> search query here </search> <result> search result here </result> ` +
	`<think> This is the reasoning process. </think> <python> python code here </python> <result> python interpreter result here </result> ` +
	`<think> This is the reasoning process. </think> <answer> The final answer is \[ \boxed{answer here} \] </answer>. ` +
	`In the last part of the answer, the final exact answer is enclosed within \boxed{} with latex format.`

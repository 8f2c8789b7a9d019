// Package tasks holds the datasets an agent is trained and evaluated on: the
// Example and Passage types every trainer, evaluator and search index shares,
// loaders for JSONL (the common field names, GSM8K "#### N" answers, lists
// written as JSON or as Python literals), Parquet (the verl/ARPO training mix)
// and the "hotpotqa-local" task whose search corpus is built from its own
// context paragraphs.
//
// Grading lives in tasks/grade and the ToolWorld generator in tasks/toolworld.
// This package does not run tools or models: an Example only knows how to
// score a finished response.
package tasks

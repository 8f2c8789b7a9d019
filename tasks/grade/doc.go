// Package grade scores an agent's answers and trajectories: SQuAD answer
// normalisation, exact match and token F1 for open QA, mathematical
// equivalence for math (\boxed extraction, commas, fractions, percentages,
// light LaTeX, numeric tolerance), the format-validity check of the ARPO turn
// format, and the hierarchical reward built from them.
//
// It is pure string processing with no dependency on the rest of the project,
// so that trainers, evaluators and tests can share one definition of "correct".
// It is not a symbolic algebra system: "x^2+2x+1" and "(x+1)^2" are different
// answers here, as they are in the graders of the ARPO reference.
package grade

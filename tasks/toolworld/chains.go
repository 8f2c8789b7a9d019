package toolworld

import (
	"fmt"
	"math/rand/v2"

	"github.com/goarpo/arpo/tasks/grade"
)

// Multi-step families: each search's query is built from a name the previous
// result gave, which is what a model must learn to copy.

func genTwoHop(w *world, rng *rand.Rand) item {
	name := func(j int) string { return w.ents[j].Name }
	it := item{think: "Two searches are needed."}
	switch rng.IntN(5) {
	case 0: // company -> founder -> birth year
		c := &w.ents[w.pick(rng, Company)]
		p := &w.ents[c.Founder]
		it.question = fmt.Sprintf("In what year was the founder of %s born?", c.Name)
		it.answer, it.metric = itoa(p.Born), grade.MetricMath
		it.steps = []step{search(c.Name, AttrFounded, p.Name), search(p.Name, AttrBorn, it.answer)}
	case 1: // company -> founder -> birthplace
		c := &w.ents[w.pick(rng, Company)]
		p := &w.ents[c.Founder]
		it.question = fmt.Sprintf("In which city was the founder of %s born?", c.Name)
		it.answer, it.metric = name(p.Birthplace), grade.MetricEM
		it.steps = []step{search(c.Name, AttrFounded, p.Name), search(p.Name, AttrBorn, it.answer)}
	case 2: // country -> capital -> population
		co := &w.ents[w.pick(rng, Country)]
		cap := &w.ents[co.Capital]
		it.question = fmt.Sprintf("What is the population of the capital of %s?", co.Name)
		it.answer, it.metric = itoa(cap.Population), grade.MetricMath
		it.steps = []step{search(co.Name, AttrCapital, cap.Name), search(cap.Name, AttrPopulation, it.answer)}
	case 3: // city -> country -> capital
		ci := &w.ents[w.pick(rng, City)]
		co := &w.ents[ci.Country]
		it.question = fmt.Sprintf("What is the capital of the country that %s is in?", ci.Name)
		it.answer, it.metric = name(co.Capital), grade.MetricEM
		it.steps = []step{search(ci.Name, AttrCountry, co.Name), search(co.Name, AttrCapital, it.answer)}
	default: // company -> headquarters -> founding year of the city
		c := &w.ents[w.pick(rng, Company)]
		h := &w.ents[c.HQ]
		it.question = fmt.Sprintf("When was the city where %s has its headquarters founded?", c.Name)
		it.answer, it.metric = itoa(h.Founded), grade.MetricMath
		it.steps = []step{search(c.Name, AttrHQ, h.Name), search(h.Name, AttrFounded, it.answer)}
	}
	return it
}

func genLookupPython(w *world, rng *rand.Rand) item {
	var n string
	var a Attr
	var y int
	switch rng.IntN(3) {
	case 0:
		e := &w.ents[w.pick(rng, City)]
		n, a, y = e.Name, AttrFounded, e.Founded
	case 1:
		e := &w.ents[w.pick(rng, Company)]
		n, a, y = e.Name, AttrFounded, e.Founded
	default:
		e := &w.ents[w.pick(rng, Person)]
		n, a, y = e.Name, AttrBorn, e.Born
	}
	verb := "founded"
	if a == AttrBorn {
		verb = "born"
	}
	return item{
		question: fmt.Sprintf("How many years before %d was %s %s?", Now, n, verb),
		answer:   itoa(Now - y), metric: grade.MetricMath, think: "Search, then compute.",
		steps: []step{search(n, a, itoa(y)), python(fmt.Sprintf("print(%d - %d)", Now, y), Now-y)},
	}
}

// twoOf picks two different entities of kind k whose values differ.
func twoOf(w *world, rng *rand.Rand, k Kind, val func(*Entity) int) (*Entity, *Entity) {
	a := &w.ents[w.pick(rng, k)]
	for {
		b := &w.ents[w.pick(rng, k)]
		if b != a && val(a) != val(b) {
			return a, b
		}
	}
}

func genComparePython(w *world, rng *rand.Rand) item {
	it := item{metric: grade.MetricMath, think: "Search both, then compute."}
	switch rng.IntN(4) {
	case 0:
		a, b := twoOf(w, rng, City, func(e *Entity) int { return e.Founded })
		hi, lo := max(a.Founded, b.Founded), min(a.Founded, b.Founded)
		it.question = fmt.Sprintf("How many years apart were %s and %s founded?", a.Name, b.Name)
		it.answer = itoa(hi - lo)
		it.steps = []step{search(a.Name, AttrFounded, itoa(a.Founded)), search(b.Name, AttrFounded, itoa(b.Founded)),
			python(fmt.Sprintf("print(%d - %d)", hi, lo), hi-lo)}
	case 1:
		a, b := twoOf(w, rng, City, func(e *Entity) int { return e.Population })
		it.question = fmt.Sprintf("What is the combined population of %s and %s?", a.Name, b.Name)
		it.answer = itoa(a.Population + b.Population)
		it.steps = []step{search(a.Name, AttrPopulation, itoa(a.Population)), search(b.Name, AttrPopulation, itoa(b.Population)),
			python(fmt.Sprintf("print(%d + %d)", a.Population, b.Population), a.Population+b.Population)}
	case 2:
		a, b := twoOf(w, rng, River, func(e *Entity) int { return e.Length })
		if a.Length < b.Length {
			a, b = b, a
		}
		it.question = fmt.Sprintf("How many km longer is the %s than the %s?", a.Name, b.Name)
		it.answer = itoa(a.Length - b.Length)
		it.steps = []step{search(a.Name, AttrLength, itoa(a.Length)), search(b.Name, AttrLength, itoa(b.Length)),
			python(fmt.Sprintf("print(%d - %d)", a.Length, b.Length), a.Length-b.Length)}
	default:
		a, b := twoOf(w, rng, Company, func(e *Entity) int { return e.Employees })
		it.question = fmt.Sprintf("How many employees do %s and %s have together?", a.Name, b.Name)
		it.answer = itoa(a.Employees + b.Employees)
		it.steps = []step{search(a.Name, AttrEmployees, itoa(a.Employees)), search(b.Name, AttrEmployees, itoa(b.Employees)),
			python(fmt.Sprintf("print(%d + %d)", a.Employees, b.Employees), a.Employees+b.Employees)}
	}
	return it
}

// Level 3 ("novel" by default): longer chains and new combinations.

func genThreeHop(w *world, rng *rand.Rand) item {
	c := &w.ents[w.pick(rng, Company)]
	it := item{metric: grade.MetricEM, think: "Three searches are needed."}
	if rng.IntN(2) == 0 { // company -> founder -> birthplace -> country
		p := &w.ents[c.Founder]
		bp := &w.ents[p.Birthplace]
		it.question = fmt.Sprintf("In which country was the founder of %s born?", c.Name)
		it.answer = w.ents[bp.Country].Name
		it.steps = []step{search(c.Name, AttrFounded, p.Name), search(p.Name, AttrBorn, bp.Name), search(bp.Name, AttrCountry, it.answer)}
		return it
	}
	// company -> headquarters -> country -> capital
	h := &w.ents[c.HQ]
	co := &w.ents[h.Country]
	it.question = fmt.Sprintf("What is the capital of the country where %s has its headquarters?", c.Name)
	it.answer = w.ents[co.Capital].Name
	it.steps = []step{search(c.Name, AttrHQ, h.Name), search(h.Name, AttrCountry, co.Name), search(co.Name, AttrCapital, it.answer)}
	return it
}

func genTwoHopPython(w *world, rng *rand.Rand) item {
	c := &w.ents[w.pick(rng, Company)]
	p := &w.ents[c.Founder]
	it := item{metric: grade.MetricMath, think: "Search twice, then compute."}
	first := search(c.Name, AttrFounded, p.Name)
	if rng.IntN(2) == 0 {
		it.question = fmt.Sprintf("How old was the founder of %s when it was founded?", c.Name)
		it.answer = itoa(c.Founded - p.Born)
		first.want = itoa(c.Founded)
		it.steps = []step{first, search(p.Name, AttrBorn, itoa(p.Born)),
			python(fmt.Sprintf("print(%d - %d)", c.Founded, p.Born), c.Founded-p.Born)}
		return it
	}
	it.question = fmt.Sprintf("How many years before %d was the founder of %s born?", Now, c.Name)
	it.answer = itoa(Now - p.Born)
	it.steps = []step{first, search(p.Name, AttrBorn, itoa(p.Born)),
		python(fmt.Sprintf("print(%d - %d)", Now, p.Born), Now-p.Born)}
	return it
}

// genCompare asks for the value of the winner of a comparison: the answer
// is a number, not one of the two names in the question, so that guessing
// without the tools stays near zero.
func genCompare(w *world, rng *rand.Rand) item {
	it := item{metric: grade.MetricMath, think: "Search both and compare."}
	if rng.IntN(2) == 0 {
		a, b := twoOf(w, rng, City, func(e *Entity) int { return e.Founded })
		it.question = fmt.Sprintf("In what year was the older of %s and %s founded?", a.Name, b.Name)
		it.answer = itoa(min(a.Founded, b.Founded))
		it.steps = []step{search(a.Name, AttrFounded, itoa(a.Founded)), search(b.Name, AttrFounded, itoa(b.Founded))}
		return it
	}
	a, b := twoOf(w, rng, City, func(e *Entity) int { return e.Population })
	it.question = fmt.Sprintf("What is the population of the larger of %s and %s?", a.Name, b.Name)
	it.answer = itoa(max(a.Population, b.Population))
	it.steps = []step{search(a.Name, AttrPopulation, itoa(a.Population)), search(b.Name, AttrPopulation, itoa(b.Population))}
	return it
}

func genSum3(w *world, rng *rand.Rand) item {
	a, b := twoOf(w, rng, City, func(e *Entity) int { return e.Population })
	c := a
	for c == a || c == b {
		c = &w.ents[w.pick(rng, City)]
	}
	sum := a.Population + b.Population + c.Population
	return item{
		question: fmt.Sprintf("What is the combined population of %s, %s and %s?", a.Name, b.Name, c.Name),
		answer:   itoa(sum), metric: grade.MetricMath, think: "Search all three, then add.",
		steps: []step{
			search(a.Name, AttrPopulation, itoa(a.Population)), search(b.Name, AttrPopulation, itoa(b.Population)),
			search(c.Name, AttrPopulation, itoa(c.Population)),
			python(fmt.Sprintf("print(%d + %d + %d)", a.Population, b.Population, c.Population), sum),
		},
	}
}

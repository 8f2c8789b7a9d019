package main

import "github.com/goarpo/arpo/internal/analysis"

// analysisReport is an analysis.Report read back from entropy.json.
type analysisReport analysis.Report

// bucket returns the pooled ("all" tools) statistic of a bucket.
func (r analysisReport) bucket(b string) (analysis.Stat, bool) {
	s, ok := analysis.Report(r).Bucket(analysis.Bucket(b), analysis.All)
	return s.Stat, ok
}

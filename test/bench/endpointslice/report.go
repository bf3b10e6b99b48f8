/*
Copyright 2026 The signet Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// row is one line of the results. The JSON keys are a contract with
// whatever reads the output (issue 4, section 3); keep them as they are.
type row struct {
	Scenario        string `json:"scenario"`
	Impl            string `json:"impl"`
	Creates         int64  `json:"creates"`
	Updates         int64  `json:"updates"`
	Deletes         int64  `json:"deletes"`
	BytesWritten    int64  `json:"bytes_written"`
	BytesToWatchers int64  `json:"bytes_to_watchers"`
	FinalSlices     int    `json:"final_slices"`
}

func (r row) writes() int64 { return r.Creates + r.Updates + r.Deletes }

// lowerBound returns the lower-bound row of the scenario, if any.
func lowerBound(rows []row, scenario string) (row, bool) {
	for _, r := range rows {
		if r.Scenario == scenario && r.Impl == "lower-bound" {
			return r, true
		}
	}
	return row{}, false
}

// writeTable prints the rows for people, with the total writes and each
// row's bytes to watchers as a multiple of the lower bound.
func writeTable(out io.Writer, rows []row) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\timpl\tcreates\tupdates\tdeletes\twrites\tbytes written\tbytes to watchers\tx lower bound\tfinal slices\t")
	for _, r := range rows {
		ratio := "-"
		if lb, ok := lowerBound(rows, r.Scenario); ok && lb.BytesToWatchers > 0 {
			ratio = fmt.Sprintf("%.2f", float64(r.BytesToWatchers)/float64(lb.BytesToWatchers))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t\n",
			r.Scenario, r.Impl, r.Creates, r.Updates, r.Deletes, r.writes(),
			r.BytesWritten, r.BytesToWatchers, ratio, r.FinalSlices)
	}
	return tw.Flush()
}

// writeJSONLines prints one JSON object per row and line.
func writeJSONLines(out io.Writer, rows []row) error {
	enc := json.NewEncoder(out)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

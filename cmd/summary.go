package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/batchimport/batchimport/importer"
	"github.com/batchimport/batchimport/store"
)

// printSummary writes one input's summary: a JSON object on one line, or a
// few lines of text.
func printSummary(w io.Writer, format string, s *importer.Summary) error {
	if format == "json" {
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	var b strings.Builder
	run := ""
	if s.RunID != nil {
		run = fmt.Sprintf(" (run %d)", *s.RunID)
	}
	fmt.Fprintf(&b, "%s: %s%s\n", printable(s.Source), s.Status, run)
	if s.Status == store.StatusInterrupted && s.RunID == nil {
		b.WriteString("  not started: the import was stopped before this file; the next one takes it\n")
	}
	if s.ResumedFromLine != nil {
		fmt.Fprintf(&b, "  resumed after line %d\n", *s.ResumedFromLine)
	}
	fmt.Fprintf(&b, "  rows read       %d\n", s.RowsRead)
	if s.Reverted {
		fmt.Fprintf(&b, "  rows imported   %d, then reverted: nothing of this run stays\n", s.RowsImported)
	} else {
		fmt.Fprintf(&b, "  rows imported   %d\n", s.RowsImported)
	}
	fmt.Fprintf(&b, "  rows rejected   %d\n", s.RowsRejected)
	if s.RowsSkipped > 0 {
		fmt.Fprintf(&b, "  rows skipped    %d (no invoice line: totals, notes, blank rows)\n", s.RowsSkipped)
	}
	if s.RejectsFile != nil {
		fmt.Fprintf(&b, "  rejects file    %s\n", printable(*s.RejectsFile))
	}
	fmt.Fprintf(&b, "  items created   %d\n", s.ItemsCreated)
	fmt.Fprintf(&b, "  fuzzy matches   %d\n", s.FuzzyMatches)
	fmt.Fprintf(&b, "  chunks          %d (%d replayed)\n", s.Chunks, s.ChunksReplayed)
	if s.MappingReport != nil {
		fmt.Fprintf(&b, "  mapping report  %s\n", printable(*s.MappingReport))
	}
	fmt.Fprintf(&b, "  duration        %.2fs\n", s.DurationSeconds)
	if s.Error != nil {
		fmt.Fprintf(&b, "  error           %s\n", printable(*s.Error))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

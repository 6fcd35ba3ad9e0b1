package importer

import (
	"context"
	"errors"
	"os"

	"github.com/batchimport/batchimport/store"
)

// Summary is what an import of one input did. Its JSON form is the contract
// of --output json.
type Summary struct {
	Status          store.Status `json:"status"`
	Source          string       `json:"source"`
	SourceKey       string       `json:"source_key"`
	RunID           *int64       `json:"run_id"`
	RowsRead        int64        `json:"rows_read"`
	RowsImported    int64        `json:"rows_imported"`
	RowsRejected    int64        `json:"rows_rejected"`
	RowsSkipped     int64        `json:"rows_skipped"`
	ItemsCreated    int64        `json:"items_created"`
	FuzzyMatches    int64        `json:"fuzzy_matches"`
	Chunks          int64        `json:"chunks"`
	ChunksReplayed  int64        `json:"chunks_replayed"`
	RejectsFile     *string      `json:"rejects_file"`
	MappingReport   *string      `json:"mapping_report,omitempty"`
	ResumedFromLine *int64       `json:"resumed_from_line,omitempty"`
	DryRun          DryRun       `json:"dry_run,omitempty"`
	AlreadyImported bool         `json:"already_imported,omitempty"`
	Reverted        bool         `json:"reverted,omitempty"`
	DurationSeconds float64      `json:"duration_seconds"`
	Error           *string      `json:"error"`
	// Err is the error that ended the run, typed, for errors.Is and
	// errors.As; Error is its text.
	Err error `json:"-"`
	// Opened is the file the run read, as it was opened: a drop folder
	// moves the path only while it is still that file.
	Opened os.FileInfo `json:"-"`
}

// setCounts copies a run's progress into the summary.
func (s *Summary) setCounts(p store.Progress) {
	s.RowsRead, s.RowsImported, s.RowsRejected, s.RowsSkipped = p.RowsRead, p.RowsImported, p.RowsRejected, p.RowsSkipped
	s.ItemsCreated, s.FuzzyMatches = p.ItemsCreated, p.FuzzyMatches
	s.Chunks, s.ChunksReplayed = p.Chunks, p.ChunksReplayed
}

// end sets the status from how the run ended, unless it is decided already.
func (s *Summary) end(ctx context.Context, err error) {
	var deferred *deferredError
	switch {
	case errors.As(err, &deferred):
		s.Status = store.StatusDeferred
		return
	case ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)):
		s.Status = store.StatusInterrupted
		return
	case err != nil:
		var all *AllRejectedError
		s.Status = store.StatusFailed
		if errors.As(err, &all) {
			s.Status = store.StatusRejected
		}
		s.Err = err
		msg := err.Error()
		s.Error = &msg
		return
	case s.Status != "":
		return
	case s.RowsRejected > 0:
		s.Status = store.StatusPartialSuccess
	default:
		s.Status = store.StatusSuccess
	}
}

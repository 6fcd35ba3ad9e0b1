package importer

// Statuses of a summary: the run statuses, plus skipped.
const (
	StatusSuccess        = "success"
	StatusPartialSuccess = "partial_success"
	StatusFailed         = "failed"
	StatusSkipped        = "skipped"
	StatusInterrupted    = "interrupted"
)

// Summary is what an import of one input did. Its JSON form is the contract
// of --output json.
type Summary struct {
	Status          string  `json:"status"`
	Source          string  `json:"source"`
	SourceKey       string  `json:"source_key"`
	RunID           *int64  `json:"run_id"`
	RowsRead        int64   `json:"rows_read"`
	RowsImported    int64   `json:"rows_imported"`
	RowsRejected    int64   `json:"rows_rejected"`
	ItemsCreated    int64   `json:"items_created"`
	FuzzyMatches    int64   `json:"fuzzy_matches"`
	Chunks          int64   `json:"chunks"`
	ChunksReplayed  int64   `json:"chunks_replayed"`
	RejectsFile     *string `json:"rejects_file"`
	MappingReport   *string `json:"mapping_report,omitempty"`
	ResumedFromLine *int64  `json:"resumed_from_line,omitempty"`
	DryRun          DryRun  `json:"dry_run,omitempty"`
	AlreadyImported bool    `json:"already_imported,omitempty"`
	DurationSeconds float64 `json:"duration_seconds"`
	Error           *string `json:"error"`
}

func (s *Summary) fail(err error) {
	s.Status = StatusFailed
	msg := err.Error()
	s.Error = &msg
}

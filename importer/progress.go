package importer

// Progress hears how a run advances. The command line shows it as a progress
// bar; the default does nothing. Calls come from the run's writer, after
// each chunk commits.
type Progress interface {
	// Start is called once per input; size is its length in bytes, or -1.
	Start(source string, size int64)
	// Update reports bytes of the input consumed and rows handled so far.
	Update(bytes, rows, rejected int64)
	// Finish is called once the input is done, whatever the outcome.
	Finish()
}

// NoProgress is the Progress that shows nothing.
type NoProgress struct{}

var _ Progress = NoProgress{}

// Start does nothing.
func (NoProgress) Start(string, int64) {}

// Update does nothing.
func (NoProgress) Update(int64, int64, int64) {}

// Finish does nothing.
func (NoProgress) Finish() {}

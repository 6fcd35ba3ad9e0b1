package importer

import (
	"errors"
	"fmt"
	"time"

	"github.com/batchimport/batchimport/store"
)

// The errors a run can end with, besides *store.LockedError (another
// process holds the source), *store.FencedError (another process took the
// run over), store.ErrSchema and *invoice.FatalError. They reach the
// summary intact (Summary.Err), for errors.Is and errors.As.

// ErrMaxRejects ends a run that rejected more rows than --max-rejects; the
// run is reverted.
var ErrMaxRejects = errors.New("too many rejected rows")

// ChangedError says the file changed while it was being imported: what was
// imported of it is reverted.
type ChangedError struct {
	Path string
	What string
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%s changed while it was being imported (%s); what was imported of it was reverted: import it again once it is complete", e.Path, e.What)
}

// ReusedSourceError refuses a --source-id that an earlier run used for
// different content.
type ReusedSourceError struct {
	SourceID string
	RunID    int64
	Was, Now string // the content of the earlier run and of this input
}

func (e *ReusedSourceError) Error() string {
	return fmt.Sprintf("--source-id %q was used by run %d for different content (%s, now %s); give this input a --source-id of its own",
		e.SourceID, e.RunID, e.Was, e.Now)
}

// AllRejectedError ends a run of which every record was rejected: usually
// a format setting, which the commonest reason names.
type AllRejectedError struct {
	Rejected int64
	Rule     string // the commonest reason
	Count    int64  // how many rejects give it
}

func (e *AllRejectedError) Error() string {
	return fmt.Sprintf("every record was rejected (%d); the commonest reason, for %d of them: %s", e.Rejected, e.Count, e.Rule)
}

// InputError is an input that cannot be read further (a broken JSON array,
// a damaged gzip stream, a read error): never retried.
type InputError struct {
	Name string
	Err  error
	// Midway says the input broke off after its first records were read,
	// not before (its header, its format).
	Midway bool
}

func (e *InputError) Error() string { return e.Name + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// brokenError is an input that broke off after its first records (a
// *invoice.FatalError): the run is reverted.
type brokenError struct{ err error }

func (e *brokenError) Error() string {
	return e.err.Error() + "; what was imported of it was reverted: import it again once it is mended or complete"
}
func (e *brokenError) Unwrap() error { return e.err }

// deferredError is a file newer than --min-age: not an error of the run, a
// reason to leave the file for later.
type deferredError struct{ age, minAge time.Duration }

func (e *deferredError) Error() string {
	if e.age < 0 {
		return fmt.Sprintf("modified %s in the future (a clock that is wrong, here or where it was written): left for later, until that time is --min-age %s past",
			(-e.age).Round(time.Second), e.minAge)
	}
	return fmt.Sprintf("modified %s ago, less than --min-age %s: left for later (an upload may be in progress)",
		e.age.Round(time.Second), e.minAge)
}

// rewindError says that the run goes back to its checkpoint, to, and reads
// its input again from there: a transaction carrying several batches
// failed, and the batches it carried are no longer in memory.
type rewindError struct {
	to store.Progress
}

func (e *rewindError) Error() string {
	return fmt.Sprintf("writing again from record %d", e.to.Record)
}

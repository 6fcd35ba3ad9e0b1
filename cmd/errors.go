package cmd

import (
	"errors"
	"fmt"

	"github.com/batchimport/batchimport/importer"
	"github.com/batchimport/batchimport/store"
)

// Exit codes, the contract for cron jobs.
const (
	ExitOK          = 0   // every file success or skipped
	ExitFailure     = 1   // a fatal error, --max-rejects exceeded, a lock held elsewhere
	ExitUsage       = 2   // a usage error
	ExitPartial     = 3   // some partial_success, none failed
	ExitInterrupted = 130 // SIGINT or SIGTERM
)

// exitStatusHelp ends every command's --help.
const exitStatusHelp = `
EXIT STATUS
  0    done; import and dryrun: every file imported (success), already imported (skipped) or deferred
  1    a failure; import: also --max-rejects exceeded, every row of a file rejected, the source locked elsewhere
  2    a usage error
  3    import and dryrun: some rows were rejected (partial_success) and no file failed
  130  interrupted by SIGINT or SIGTERM
`

// usageError is a mistake on the command line; it exits 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// exitError carries an exit code decided by a command that already reported
// what happened (the summaries say it).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitCode maps what a command returned to the process's exit code: the one
// place where exit codes are decided.
func exitCode(err error) int {
	var ee *exitError
	var ue *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		return ExitUsage
	}
	return ExitFailure
}

// summaryExitCode: 130 if interrupted, else 1 if any failed or rejected,
// else 3 if any partial_success, else 0 (success, skipped, deferred).
func summaryExitCode(sums []importer.Summary) int {
	code := ExitOK
	for _, s := range sums {
		switch s.Status {
		case store.StatusInterrupted:
			return ExitInterrupted
		case store.StatusFailed, store.StatusRejected:
			code = ExitFailure
		case store.StatusPartialSuccess:
			if code == ExitOK {
				code = ExitPartial
			}
		}
	}
	return code
}

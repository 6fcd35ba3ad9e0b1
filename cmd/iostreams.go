package cmd

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the command's standard streams. Data (summaries) goes to
// Out; logs and progress go to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// ErrTTY says whether ErrOut is a terminal: the progress bar shows only
	// then. Decided once, here, and overridable in tests.
	ErrTTY bool
	// Getenv reads the environment; tests give their own.
	Getenv func(string) string
}

// System returns the process's streams.
func System() IOStreams {
	return IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		Getenv: os.Getenv,
	}
}

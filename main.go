// Command batchimport loads supplier invoice files into PostgreSQL.
package main

import (
	"os"

	"github.com/batchimport/batchimport/cmd"
)

// Stamped at release by goreleaser's ldflags.
var (
	version = ""
	commit  = ""
	date    = ""
)

func main() {
	os.Exit(cmd.Main(os.Args[1:], cmd.System(), cmd.Build{Version: version, Commit: commit, Date: date}))
}

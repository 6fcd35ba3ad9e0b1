package cmd

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version, commit and build date",
		Example: `  batchimport version`,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			b := g.build.withBuildInfo()
			_, err := fmt.Fprintf(g.io.Out, "batchimport %s (commit %s, built %s)\n", b.Version, b.Commit, b.Date)
			return err
		},
	}
}

// withBuildInfo fills what the release did not stamp from the module's build
// information, so `go install` builds still say what they are.
func (b Build) withBuildInfo() Build {
	info, ok := debug.ReadBuildInfo()
	if ok {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.Date == "" {
					b.Date = s.Value
				}
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

package cmd

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles starts the CPU profile of --cpuprofile.
func (g *globalOptions) startProfiles() error {
	if g.cpuProfile == "" {
		return nil
	}
	f, err := os.Create(g.cpuProfile)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	g.profileFile = f
	return nil
}

// stopProfiles ends the CPU profile and writes the allocation profile.
func (g *globalOptions) stopProfiles() error {
	if g.profileFile != nil {
		pprof.StopCPUProfile()
		if err := g.profileFile.Close(); err != nil {
			return err
		}
		g.profileFile = nil
	}
	if g.memProfile == "" {
		return nil
	}
	f, err := os.Create(g.memProfile)
	if err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("--memprofile: %w", err)
	}
	return f.Close()
}

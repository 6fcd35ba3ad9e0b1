package cmd

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/batchimport/batchimport/importer"
)

// progressBar shows an import's progress on stderr: bytes of the file read
// (a spinner for standard input), rows per second, and rejects so far.
type progressBar struct {
	w       io.Writer
	visible bool
	bar     *progressbar.ProgressBar
	start   time.Time
}

var _ importer.Progress = (*progressBar)(nil)

func newProgressBar(w io.Writer, visible bool) importer.Progress {
	if !visible {
		return importer.NoProgress{}
	}
	return &progressBar{w: w, visible: visible}
}

func (p *progressBar) Start(source string, size int64) {
	p.start = time.Now()
	p.bar = progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetVisibility(p.visible),
		progressbar.OptionSetDescription(source),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *progressBar) Update(bytes, rows, rejected int64) {
	rate := float64(rows) / max(time.Since(p.start).Seconds(), 0.001)
	p.bar.Describe(fmt.Sprintf("%d rows (%.0f/s), %d rejected", rows, rate, rejected))
	_ = p.bar.Set64(bytes)
}

func (p *progressBar) Finish() {
	_ = p.bar.Finish()
}

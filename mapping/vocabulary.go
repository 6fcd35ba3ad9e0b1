package mapping

import (
	_ "embed"
	"encoding/json"
	"strings"
)

// vocabularyJSON is every word normalization knows, as data: what each
// section does is written in it ("about").
//
//go:embed vocabulary.json
var vocabularyJSON []byte

// vocabulary is vocabulary.json.
type vocabulary struct {
	Version          int               `json:"version"`
	About            map[string]string `json:"about"`
	StopWords        []string          `json:"stop_words"`
	Phrases          map[string]string `json:"phrases"`
	Abbreviations    map[string]string `json:"abbreviations"`
	IrregularPlurals map[string]string `json:"irregular_plurals"`
	IEWords          []string          `json:"ie_words"`
	EWords           []string          `json:"e_words"`
	MeasureUnits     []string          `json:"measure_units"`
	ShortUnits       []string          `json:"short_units"`
	CountUnits       []string          `json:"count_units"`
	ContainerWords   []string          `json:"container_words"`
	PackWords        []string          `json:"pack_words"`
	LengthUnits      []string          `json:"length_units"`
	PercentWords     []string          `json:"percent_words"`
	Qualifiers       map[string]string `json:"qualifiers"`
}

var vocab = func() vocabulary {
	var v vocabulary
	if err := json.Unmarshal(vocabularyJSON, &v); err != nil {
		panic("mapping: vocabulary.json: " + err.Error())
	}
	return v
}()

// Version is the version of the vocabulary normalization uses. Keys stored
// under another version are re-keyed (Rekey) before any import.
func Version() int { return vocab.Version }

var (
	stopWords        = set(vocab.StopWords...)
	abbreviations    = vocab.Abbreviations
	irregularPlurals = vocab.IrregularPlurals
	ieWords          = set(vocab.IEWords...)
	eWords           = set(vocab.EWords...)
	measureUnits     = set(vocab.MeasureUnits...)
	shortUnits       = set(vocab.ShortUnits...)
	countUnits       = set(vocab.CountUnits...)
	containerWords   = set(vocab.ContainerWords...)
	packWords        = set(vocab.PackWords...)
	lengthUnits      = set(vocab.LengthUnits...)
	percentWords     = set(vocab.PercentWords...)
	phrases          = func() map[[2]string][]string {
		m := make(map[[2]string][]string, len(vocab.Phrases))
		for k, v := range vocab.Phrases {
			a, b, _ := strings.Cut(k, " ")
			m[[2]string{a, b}] = strings.Fields(v)
		}
		return m
	}()
	qualifiers = func() map[string][2]string {
		m := make(map[string][2]string, len(vocab.Qualifiers))
		for k, v := range vocab.Qualifiers {
			kind, label, _ := strings.Cut(v, "=")
			m[k] = [2]string{kind, label}
		}
		return m
	}()
)

package cmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/batchimport/batchimport/internal/regular"
)

// config is the config file of import and dryrun (SPEC §15): defaults for
// every input, and profiles, one per supplier, each picked by --profile or
// by a pattern of the file's name. Keys are the commands' long flag names;
// a flag given on the command line wins over both.
//
//	[defaults]
//	account = "acme"
//
//	[profiles.sysco]
//	match = ["sysco*.csv", "SYSCO_*.csv"]
//	date-format = "MM/DD/YYYY"
//	set = ["vendor=Sysco"]
//	thousands-separator = ","
type config struct {
	path     string
	Defaults map[string]any            `toml:"defaults"`
	Profiles map[string]map[string]any `toml:"profiles"`
}

// configEnv names the config file when --config does not.
const configEnv = "BATCHIMPORT_CONFIG"

// loadConfig reads the config file: --config, else $BATCHIMPORT_CONFIG,
// else batchimport/config.toml in the user's config directory, if there
// is one. A file named by the first two must exist. nil: no config.
func loadConfig(flag string) (*config, error) {
	path, must := flag, true
	if path == "" {
		path = os.Getenv(configEnv)
	}
	if path == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return nil, nil
		}
		path, must = filepath.Join(dir, "batchimport", "config.toml"), false
	}
	c := &config{path: path}
	text, err := readConfig(path)
	var md toml.MetaData
	if err == nil {
		md, err = toml.Decode(text, c)
	}
	if u := md.Undecoded(); err == nil && len(u) > 0 {
		// A section misspelt ([default], [profile.x]) or a key outside any:
		// ignored, its account would be another.
		return nil, usagef("config %s: %q is in no section: want [defaults] or [profiles.NAME], of keys the long flag names", path, u[0].String())
	}
	switch {
	case errors.Is(err, fs.ErrNotExist) && !must:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// maxConfigBytes bounds a config file: it is read whole, and a path that
// names something else by mistake (an invoice file) must not be.
const maxConfigBytes = 1 << 20

// readConfig reads a config file of at most maxConfigBytes.
func readConfig(path string) (string, error) {
	f, err := openRegular(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err == nil && len(b) > maxConfigBytes {
		err = fmt.Errorf("longer than %d bytes: is it the config file?", maxConfigBytes)
	}
	return string(b), err
}

// profileFor picks the profile of an input: the one named, else the one
// whose match patterns match the file's name. Two that match are an error.
func (c *config) profileFor(name, file string) (string, map[string]any, error) {
	if name != "" {
		p, ok := c.Profiles[name]
		if !ok {
			return "", nil, usagef("--profile %q: config %s has no such profile (it has %s)", name, c.path, strings.Join(c.names(), ", "))
		}
		return name, p, nil
	}
	base := filepath.Base(file)
	var found []string
	for _, n := range c.names() {
		patterns, err := stringsOf(c.Profiles[n]["match"])
		if err != nil {
			return "", nil, fmt.Errorf("config %s: profile %q: match: %w", c.path, n, err)
		}
		for _, pat := range patterns {
			if ok, err := filepath.Match(pat, base); err != nil {
				return "", nil, fmt.Errorf("config %s: profile %q: match %q: %w", c.path, n, pat, err)
			} else if ok || matchesRejectsOf(pat, base) {
				found = append(found, n)
				break
			}
		}
	}
	switch len(found) {
	case 0:
		return "", nil, nil
	case 1:
		return found[0], c.Profiles[found[0]], nil
	}
	return "", nil, usagef("%s matches the profiles %s of config %s; choose one with --profile", base, strings.Join(found, " and "), c.path)
}

// matchesRejectsOf says whether base is the rejects file of a file pat
// matches: acme-1.rejects.ndjson of acme-*.json, sysco.rejects.csv of
// sysco*.xlsx. A rejects file, fixed, imports with its input's profile.
func matchesRejectsOf(pat, base string) bool {
	i := strings.LastIndex(base, ".rejects.")
	if i < 0 {
		return false
	}
	stem, ext := base[:i], filepath.Ext(pat)
	for _, e := range []string{ext, filepath.Ext(strings.TrimSuffix(pat, ".gz")) + ".gz"} {
		if ok, _ := filepath.Match(pat, stem+e); ok {
			return true
		}
	}
	return false
}

func (c *config) names() []string {
	var ns []string
	for n := range c.Profiles {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// apply sets the flags of fs from a section of the config.
func (c *config) apply(fs *pflag.FlagSet, section string, values map[string]any) error {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "match" && section != "defaults" {
			continue
		}
		fl := fs.Lookup(k)
		if fl == nil || k == "config" || k == "profile" {
			return usagef("config %s: [%s]: %q is not a flag a profile can set", c.path, section, k)
		}
		if slices.Contains(perInput, k) {
			return usagef("config %s: [%s]: %q is for one input at a time; give it on the command line", c.path, section, k)
		}
		var err error
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			var vs []string
			if vs, err = stringsOf(values[k]); err == nil {
				err = sv.Replace(vs)
			}
		} else {
			err = fl.Value.Set(fmt.Sprint(values[k]))
		}
		if err != nil {
			return usagef("config %s: [%s] %s: %v", c.path, section, k, err)
		}
	}
	return nil
}

// perInput are flags for one input, or one run, that a config must not set
// for every file it matches: a rejects path or a source id shared by many
// files, a mapping report overwritten, --force every night.
var perInput = []string{"rejects", "source-id", "mapping-report", "force"}

// stringsOf reads a string or a list of strings.
func stringsOf(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("want strings, got %v", e)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a string or a list of strings, got %v", v)
}

// optionsFor is o for one input once the config applies: the defaults,
// then the input's profile, then the flags given on the command line c.
// It says which profile applied ("" for none).
// cfg is the config checkConfig read (nil: none).
func optionsFor(c *cobra.Command, o *importOptions, cfg *config, file string) (*importOptions, string, error) {
	if cfg == nil {
		return o, "", nil
	}
	name, profile, err := cfg.profileFor(o.profile, file)
	if err != nil {
		return nil, "", err
	}
	fo, err := cfg.options(c, o, name, profile)
	return fo, name, err
}

// outputFor is the summary format of a file: its profile's, else, when
// its options cannot be made (two profiles match it), the config's
// defaults' with the command line's, else the command line's.
func outputFor(c *cobra.Command, o *importOptions, cfg *config, file string) string {
	if fo, _, err := optionsFor(c, o, cfg, file); err == nil {
		return fo.output
	}
	if cfg != nil {
		if fo, err := cfg.options(c, o, "", nil); err == nil {
			return fo.output
		}
	}
	return o.output
}

// options is o once the config's defaults, then the named profile (none
// when name is ""), then the flags given on the command line cmd apply.
func (c *config) options(cmd *cobra.Command, o *importOptions, name string, profile map[string]any) (*importOptions, error) {
	fo := &importOptions{}
	fs := pflag.NewFlagSet(cmd.Name(), pflag.ContinueOnError)
	fo.addFlagsTo(fs)
	if err := c.apply(fs, "defaults", c.Defaults); err != nil {
		return nil, err
	}
	if err := c.apply(fs, "profiles."+name, profile); err != nil {
		return nil, err
	}
	var err error
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		to := fs.Lookup(fl.Name)
		if to == nil { // a flag of dryrun's own, or a global one
			return
		}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			// Added to the profile's, whose later entries they override
			// (--set unit=CS keeps the profile's vendor).
			for _, v := range sv.GetSlice() {
				err = errors.Join(err, to.Value.(pflag.SliceValue).Append(v))
			}
		} else {
			err = errors.Join(err, to.Value.Set(fl.Value.String()))
		}
	})
	return fo, err
}

// checkConfig reads the config once, before any input, for every input
// (nil: none), and checks its defaults and each of its profiles as they
// would apply: a mistake in it (a file that does not parse, a value its
// flag refuses, a match pattern that is malformed, a --profile it lacks)
// is a usage error, exit 2, found before any file is read or moved,
// rather than a failure of every file it applies to, named by a flag the
// command line does not have.
func checkConfig(c *cobra.Command, g *globalOptions, o *importOptions) (*config, error) {
	cfg, err := loadConfig(o.config)
	if err != nil {
		return nil, &usageError{err: err}
	}
	if cfg == nil {
		if o.profile != "" {
			return nil, usagef("--profile %q: no config file (give --config, or set %s)", o.profile, configEnv)
		}
		return nil, nil
	}
	if o.profile != "" {
		if _, _, err := cfg.profileFor(o.profile, ""); err != nil {
			return nil, err
		}
	}
	for _, name := range append([]string{""}, cfg.names()...) {
		section := "defaults"
		if name != "" {
			section = "profiles." + name
		}
		if o.profile != "" && name != "" && name != o.profile {
			continue // no file is read with it
		}
		fo, err := cfg.options(c, o, name, cfg.Profiles[name])
		if err != nil {
			return nil, &usageError{err: err}
		}
		if _, err := fo.importerOptions(g); err != nil {
			return nil, usagef("config %s: [%s]: %v", cfg.path, section, err)
		}
		patterns, err := stringsOf(cfg.Profiles[name]["match"])
		if err != nil {
			return nil, usagef("config %s: [%s] match: %v", cfg.path, section, err)
		}
		for _, pat := range patterns {
			if _, err := filepath.Match(pat, ""); err != nil {
				return nil, usagef("config %s: [%s] match %q: %v", cfg.path, section, pat, err)
			}
		}
	}
	return cfg, nil
}

// openRegular opens a file that is read whole before it is used (a
// config, a file of corrections): a device or a pipe named by mistake
// would never end, or never open.
func openRegular(path string) (*os.File, error) {
	f, _, err := regular.Open(path)
	return f, err
}

package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
)

func newMigrateCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema",
		Long: `Create the schema (--schema, default batchimport) and its tables, or upgrade
them to this version of batchimport. It is idempotent and safe to run
concurrently.`,
		Example: `  batchimport migrate --database-url postgres://importer@db/erp
  batchimport migrate --schema batchimport_test`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runMigrate(c.Context(), g)
		},
	}
}

func runMigrate(ctx context.Context, g *globalOptions) error {
	db, err := store.OpenSession(ctx, g.dbConfig())
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	applied, err := db.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	rk, err := db.Rekey(ctx, mapping.Vocabulary{})
	if err != nil {
		return fmt.Errorf("migrate: re-key: %w", err)
	}
	if len(applied) == 0 {
		fmt.Fprintf(g.io.Out, "schema %q is up to date (version %d)\n", db.Schema(), store.LatestVersion())
	} else {
		fmt.Fprintf(g.io.Out, "schema %q migrated to version %d (applied %v)\n", db.Schema(), store.LatestVersion(), applied)
	}
	if rk.Items+rk.Mappings+rk.Dropped+rk.Proposals > 0 {
		fmt.Fprintf(g.io.Out, "keys re-keyed from normalizer version %d to %d: %d items, %d description mappings (%d dropped: another had the key), %d pending proposals dropped\n",
			rk.From, rk.To, rk.Items, rk.Mappings, rk.Dropped, rk.Proposals)
	}
	for _, a := range rk.Alike {
		g.log.Warn("re-keyed: " + a)
	}
	return nil
}

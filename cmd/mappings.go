package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/batchimport/batchimport/store"
)

func newMappingsCmd(g *globalOptions) *cobra.Command {
	var account, output string
	c := &cobra.Command{
		Use:   "mappings",
		Short: "Review the matches and new items imports proposed",
		Long: `With --on-fuzzy review or --on-new review, an import rejects a line it
would have matched fuzzily, or created an item for, and proposes the match or
the item instead. List the proposals with "mappings pending", then accept or
decline them; then import the rejects again. An accepted match maps the line's
description (and SKU) to the item; an accepted new item is created and mapped.
A declined match is not proposed again for that description; a declined new
item is not created, and its lines stay rejected until they are mapped.`,
		Example: `  batchimport import --on-fuzzy review --on-new review may.csv
  batchimport mappings pending
  batchimport mappings accept 3 4
  batchimport mappings decline 5
  batchimport import may.rejects.csv`,
	}
	c.PersistentFlags().StringVar(&account, "account", "default", "account (tenant) of the proposals")
	c.PersistentFlags().StringVar(&output, "output", "text", "text or json")
	checkOutput := func() error {
		if output != "text" && output != "json" {
			return usagef("--output %q: want text or json", output)
		}
		return nil
	}
	pending := &cobra.Command{
		Use:   "pending",
		Short: "List the proposals waiting for a decision",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkOutput(); err != nil {
				return err
			}
			return runProposals(c.Context(), g, account, output)
		},
	}
	decide := func(accept bool) *cobra.Command {
		verb := "decline"
		if accept {
			verb = "accept"
		}
		var f correctionFlags
		d := &cobra.Command{
			Use:   verb + " ID...",
			Short: verb + " proposals, all at once or none",
			Args:  minArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				f.account, f.output = account, output
				if err := f.check(); err != nil {
					return err
				}
				ids := make([]int64, len(args))
				for i, a := range args {
					id, err := strconv.ParseInt(a, 10, 64)
					if err != nil || id <= 0 {
						return usagef("proposal %q: want a proposal id (a positive number)", a)
					}
					ids[i] = id
				}
				return runDecide(c.Context(), g, &f, f.correction(c, args), ids, accept)
			},
		}
		f.add(d, false, false)
		return d
	}
	c.AddCommand(pending, decide(true), decide(false))
	c.AddCommand(mappingFixCmds(g, &account, &output)...)
	return c
}

// proposalJSON is a proposal as `mappings --output json` prints it.
type proposalJSON struct {
	ID          int64    `json:"id"`
	Status      string   `json:"status"`
	Vendor      string   `json:"vendor"`
	VendorSKU   string   `json:"vendor_sku,omitempty"`
	Description string   `json:"description"`
	Key         string   `json:"key"`
	ItemID      *int64   `json:"item_id"`
	ItemName    string   `json:"item_name,omitempty"`
	Score       *float64 `json:"score,omitempty"`
	NewItem     string   `json:"new_item,omitempty"`
	NewUnit     string   `json:"new_item_unit,omitempty"`
	RunID       int64    `json:"run_id,omitempty"`
}

func toProposalJSON(p store.Proposal) proposalJSON {
	j := proposalJSON{ID: p.ID, Status: p.Status, Vendor: p.VendorName, VendorSKU: p.VendorSKU, Description: p.Desc, Key: p.Key,
		ItemID: p.ItemID, ItemName: p.ItemName, NewItem: p.NewName, NewUnit: p.NewUnit, RunID: p.RunID}
	if p.NewName == "" {
		j.Score = &p.Score
	}
	return j
}

// what says what a proposal proposes, for people.
func what(p store.Proposal) string {
	if p.NewName != "" {
		return fmt.Sprintf("new item %q (%s)", p.NewName, p.NewUnit)
	}
	return fmt.Sprintf("item %d %q (%.2f)", *p.ItemID, p.ItemName, p.Score)
}

func runProposals(ctx context.Context, g *globalOptions, account, output string) error {
	db, err := openChecked(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	ps, err := db.Proposals(ctx, account, "pending")
	if err != nil {
		return err
	}
	if output == "json" {
		enc := json.NewEncoder(g.io.Out)
		for _, p := range ps {
			if err := enc.Encode(toProposalJSON(p)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVENDOR\tDESCRIPTION\tPROPOSED\tRUN")
	for _, p := range ps {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\n", p.ID, printable(p.VendorName), printable(p.Desc), printable(what(p)), p.RunID)
	}
	return tw.Flush()
}

func runDecide(ctx context.Context, g *globalOptions, f *correctionFlags, corr store.Correction, ids []int64, accept bool) error {
	db, err := openChecked(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	done, cid, err := db.Decide(ctx, corr, f.account, ids, accept)
	if err != nil {
		return err
	}
	js := make([]proposalJSON, len(done))
	var lines []string
	for i, p := range done {
		js[i] = toProposalJSON(p)
		if accept {
			lines = append(lines, fmt.Sprintf("accepted %d: %q from %s maps to item %d", p.ID, printable(p.Desc), printable(p.VendorName), *p.ItemID))
		} else {
			lines = append(lines, fmt.Sprintf("declined %d: %q from %s", p.ID, printable(p.Desc), printable(p.VendorName)))
		}
	}
	return f.report(g, cid, js, lines...)
}

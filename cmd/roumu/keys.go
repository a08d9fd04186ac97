package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// keysCommand manages the data-encryption keyring (security.keyring_file). A rotation adds a key that every
// new write uses (running instances pick it up when the file changes); reseal then brings the existing data
// under it, after which the old key could be retired.
func keysCommand() *cobra.Command {
	keys := &cobra.Command{Use: "keys", Short: "the data-encryption keyring"}
	keys.AddCommand(&cobra.Command{
		Use:   "rotate",
		Short: "add a new data-encryption key; new writes use it, old keys still open what they sealed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, false, func(a *app) error {
				k, err := a.keys.Rotate()
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "key %d added at %s; run `roumu keys reseal` to re-seal existing data\n",
					k.ID, k.CreatedAt.UTC().Format(time.RFC3339))
				return err
			})
		},
	}, &cobra.Command{
		Use:   "reseal",
		Short: "re-seal every employee's sensitive values under the newest key (resumable; prints progress)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, true, func(a *app) error {
				out := cmd.OutOrStdout()
				n, err := a.employees.Reseal(cmd.Context(), func(done int) {
					if done%1000 == 0 {
						fmt.Fprintf(out, "%d employees re-sealed\n", done)
					}
				})
				if err != nil {
					return fmt.Errorf("after %d employees: %w", n, err)
				}
				keys := a.keys.Keys() // the last one seals
				_, err = fmt.Fprintf(out, "done: %d employees re-sealed under key %d\n", n, keys[len(keys)-1].ID)
				return err
			})
		},
	})
	return keys
}

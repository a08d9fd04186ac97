package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/roumu/roumu/domain/audit"
)

func auditCommand() *cobra.Command {
	root := &cobra.Command{Use: "audit", Short: "the provider's audit log"}
	root.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "verify the audit log's hash chain against its signed checkpoints; exits non-zero naming the first broken entry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, false, func(a *app) error {
				n, err := audit.Verify(cmd.Context(), a.store, a.checkpoints)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "audit log intact: %d entries verified\n", n)
				return err
			})
		},
	})
	return root
}

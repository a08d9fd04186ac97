package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/roumu/roumu/ports"
)

// keysCommand shows the data-encryption keyring (security.keyring_file) and runs key rotation jobs. A
// rotation itself is a privileged operation under the two-person rule: requested and approved in the
// operator console (/ops/keys), never from here. docs/keys.md describes the keyring file.
func keysCommand() *cobra.Command {
	keys := &cobra.Command{Use: "keys", Short: "the data-encryption keyring and its rotation jobs"}
	keys.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "list the keys (the last one seals) and the key rotation jobs with their progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, false, func(a *app) error { return printKeys(cmd, a) })
		},
	}, &cobra.Command{
		Use:   "reseal",
		Short: "run the key rotation jobs that are running to their end here (the service normally does)",
		Long: `Works every running key rotation job to its end in this process: the service runs them in the
background, so this is for when it is stopped. A job a running service is working on is left to it. The
job resumes where its last batch ended, re-seals every value still under an older key, and retires the
older keys when none is left.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, true, func(a *app) error {
				n, err := a.keyRotation.RunJobs(cmd.Context())
				if err != nil {
					return fmt.Errorf("after re-sealing %d values: %w", n, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d values re-sealed\n", n)
				return printKeys(cmd, a)
			})
		},
	})
	return keys
}

// printKeys prints the keys and the newest jobs, as an operator sees them in the console.
func printKeys(cmd *cobra.Command, a *app) error {
	ctx, out := cmd.Context(), cmd.OutOrStdout()
	list, err := a.keys.Keys(ctx)
	if err != nil {
		return err
	}
	for i, k := range list {
		state := "opens what it sealed"
		switch {
		case !k.RetiredAt.IsZero():
			state = "retired " + k.RetiredAt.UTC().Format(time.RFC3339)
		case i == len(list)-1:
			state = "current: seals"
		}
		fmt.Fprintf(out, "key %d  created %s  %s\n", k.ID, k.CreatedAt.UTC().Format(time.RFC3339), state)
	}
	jobs, err := a.store.ListResealJobs(ctx, ports.ResealJobFilter{Limit: 5})
	if err != nil {
		return err
	}
	for _, j := range jobs {
		printJob(out, j)
	}
	return nil
}

func printJob(out io.Writer, j ports.ResealJob) {
	fmt.Fprintf(out, "job %s  key %d  %s  %d/%d re-sealed, %d failed, %d remaining", j.ID, j.KeyID, j.Status,
		j.Done, j.Total, j.Failed, j.Remaining())
	if len(j.RetiredKeys) > 0 {
		fmt.Fprintf(out, ", retired keys %v", j.RetiredKeys)
	}
	if j.Error != "" {
		fmt.Fprintf(out, ": %s", j.Error)
	}
	fmt.Fprintln(out)
}

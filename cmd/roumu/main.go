// Command roumu runs the Roumu service and its operator commands (see ../shared/CONTRACT.md).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand(os.Stdin, os.Stdout).ExecuteContext(ctx)
	stop()
	if err != nil {
		// One line, as the contract promises: a reason a script can log.
		fmt.Fprintln(os.Stderr, "roumu: "+strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(1)
	}
}

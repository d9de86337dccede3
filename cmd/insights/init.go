package main

import (
	"context"
	"fmt"
	"io"
)

// zoneUsage describes -zone, for init and import.
const zoneUsage = "the store's IANA time zone, fixed when the store is created (UTC if not given):\n" +
	"its calendar dates are the days of every metric; an existing store must be given its own"

// runInit creates a store with its zone, or checks an existing one's.
func runInit(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("init")
	dir := fs.String("store", "", "the store's directory, created if missing")
	var zone zoneValue
	fs.Var(&zone, "zone", zoneUsage)
	if done, err := parse(fs, args, stdout, "-store DIR [-zone ZONE]"); done || err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := required(fs, "store"); err != nil {
		return err
	}
	return withEngine(ctx, *dir, string(zone), readWrite, func(eng *engine) error {
		_, err := fmt.Fprintf(stdout, "store %s: zone %s\n", *dir, eng.Zone())
		return err
	})
}

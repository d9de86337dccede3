// Package importers reads identity logs into insights events.
package importers

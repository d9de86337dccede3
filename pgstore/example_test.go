package pgstore_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/pgstore"
)

// A host opens one engine per tenant, each on its tenant's schema. (The
// example is compiled, not run: it needs a server.)
func Example() {
	addr := os.Getenv("INSIGHTS_TEST_POSTGRES")
	if addr == "" {
		return
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, addr) // the host's pool, shared by its tenants
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()

	const schema = "insights_example_tenant"
	if err := pgstore.Migrate(ctx, pool, schema); err != nil { // idempotent: at every start
		fmt.Println(err)
		return
	}
	defer pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")

	eng, err := insights.Open(ctx, pgstore.New(pool, schema), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	err = eng.Add(ctx, insights.Event{ // acknowledged once PostgreSQL has committed it
		Time: time.Now(), Kind: insights.KindSignIn, UserKey: "alice@example.com", AppName: "Payroll",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	today := insights.DateOf(time.Now(), time.UTC)
	res, err := eng.Query(ctx, insights.Query{Metric: insights.ActiveUsers, From: today, To: today.AddDays(1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("active users today:", res.Rows[0].Value)
}

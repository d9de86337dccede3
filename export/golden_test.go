package export_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// TestGolden writes each format from a real engine's answers (and, for
// the sign-in log, entries as the engine lists them) and compares the
// bytes with testdata; go test -update rewrites the files.
func TestGolden(t *testing.T) {
	eng := newEngine(t)
	dims := func(ds ...insights.Dimension) []insights.Dimension { return ds }
	activeByApp := query(t, eng, insights.Query{Metric: insights.ActiveUsers, From: march3, To: march6,
		GroupBy: dims(insights.DimAppName, insights.DimOS)})
	auths := query(t, eng, insights.Query{Metric: insights.Authentications, From: march3, To: march6,
		GroupBy: dims(insights.DimAppID)})
	usersQuery := insights.Query{Metric: insights.ActiveUsers, From: march3, To: march6,
		GroupBy: dims(insights.DimAppName)}
	users := func() export.UserSource {
		c, err := eng.Users(context.Background(), usersQuery)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	monthly := func(m insights.Metric, groupBy ...insights.Dimension) *insights.Result {
		return query(t, eng, insights.Query{Metric: m, From: feb1, To: april1, Granularity: insights.Month, GroupBy: groupBy})
	}
	daily := func(m insights.Metric, days int, groupBy ...insights.Dimension) *insights.Result {
		return query(t, eng, insights.Query{Metric: m, From: march3, To: march6, Days: days, GroupBy: groupBy})
	}

	cases := []struct {
		file  string
		write func(w io.Writer) error
	}{
		{"result_active_by_app_os.csv", func(w io.Writer) error { return export.ResultCSV(w, activeByApp, nil) }},
		{"result_active_by_app_os_excel.csv", func(w io.Writer) error {
			return export.ResultCSV(w, activeByApp, &export.CSVOptions{Excel: true})
		}},
		{"result_authentications.csv", func(w io.Writer) error { return export.ResultCSV(w, auths, nil) }},
		{"result_authentications.json", func(w io.Writer) error { return export.ResultJSON(w, auths) }},
		{"log.csv", func(w io.Writer) error { return export.LogCSV(w, &entries{list: logEntries()}, nil) }},
		{"log_excel.csv", func(w io.Writer) error {
			return export.LogCSV(w, &entries{list: logEntries()}, &export.CSVOptions{Excel: true})
		}},
		{"log.jsonl", func(w io.Writer) error { return export.LogJSON(w, &entries{list: logEntries()}, nil) }},
		{"log_array.json", func(w io.Writer) error {
			return export.LogJSON(w, &entries{list: logEntries()}, &export.JSONOptions{Array: true})
		}},
		{"events.jsonl", func(w io.Writer) error {
			return export.EventsJSON(w, export.LogEvents(&entries{list: logEntries()}))
		}},
		{"users.csv", func(w io.Writer) error { return export.UsersCSV(w, users(), usersQuery.GroupBy, nil) }},
		{"users.jsonl", func(w io.Writer) error { return export.UsersJSON(w, users(), nil) }},
		{"users_array.json", func(w io.Writer) error {
			return export.UsersJSON(w, users(), &export.JSONOptions{Array: true})
		}},
		{"graph_daily_activeUsers.json", func(w io.Writer) error {
			return export.Graph(w, "daily/activeUsers", daily(insights.ActiveUsers, 0, insights.DimAppID, insights.DimOSFamily))
		}},
		{"graph_monthly_activeUsers.json", func(w io.Writer) error {
			return export.Graph(w, "monthly/activeUsers", monthly(insights.ActiveUsers))
		}},
		{"graph_daily_authentications.json", func(w io.Writer) error {
			return export.Graph(w, "daily/authentications", auths)
		}},
		{"graph_monthly_authentications.json", func(w io.Writer) error {
			return export.Graph(w, "monthly/authentications", monthly(insights.Authentications, insights.DimAppID, insights.DimCountry))
		}},
		{"graph_daily_mfaCompletions.json", func(w io.Writer) error {
			return export.Graph(w, "daily/mfaCompletions", daily(insights.MFAChallenges, 0, insights.DimMFAMethod))
		}},
		{"graph_daily_signUps.json", func(w io.Writer) error {
			return export.Graph(w, "daily/signUps", daily(insights.SignUps, 0, insights.DimLanguage))
		}},
		{"graph_daily_summary.json", func(w io.Writer) error {
			return export.Graph(w, "daily/summary", daily(insights.Summary, 0))
		}},
		{"graph_daily_inactiveUsers.json", func(w io.Writer) error {
			return export.Graph(w, "daily/inactiveUsers", daily(insights.InactiveUsers, 1), daily(insights.InactiveUsers, 30))
		}},
		{"graph_monthly_inactiveUsersByApplication.json", func(w io.Writer) error {
			return export.Graph(w, "monthly/inactiveUsersByApplication",
				query(t, eng, insights.Query{Metric: insights.InactiveUsers, From: feb1, To: april1,
					Granularity: insights.Month, GroupBy: dims(insights.DimAppID)}),
				query(t, eng, insights.Query{Metric: insights.InactiveUsers, From: feb1, To: april1,
					Granularity: insights.Month, Days: 30, GroupBy: dims(insights.DimAppID)}))
		}},
		{"graph_daily_userCount.json", func(w io.Writer) error {
			return export.Graph(w, "daily/userCount", daily(insights.TotalUsers, 0))
		}},
		{"graph_monthly_requests.json", func(w io.Writer) error {
			return export.Graph(w, "monthly/requests", monthly(insights.Requests))
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := c.write(&buf); err != nil {
				t.Fatal(err)
			}
			golden(t, c.file, buf.Bytes())
		})
	}
}

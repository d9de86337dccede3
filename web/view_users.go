package web

// usersView is Entra's Users insights: active, inactive and new users.
var usersView = view{slug: "users", title: "Users", perm: ViewAggregates, panels: []panel{
	{title: "Daily active users", kind: lines, params: map[string]string{"metric": "activeUsers"},
		note: "Users with a successful sign-in or sign-up each day."},
	{title: "Daily inactive users (30 days)", kind: lines, params: map[string]string{"metric": "inactiveUsers", "days": "30"},
		note: "Users active before who have not been active in the 30 days ending on each day."},
	{title: "Monthly active users", kind: columns, span: lastMonths,
		params: map[string]string{"metric": "activeUsers", "granularity": "month"},
		note:   "Users active in each calendar month, over 12 months."},
	{title: "Monthly active users by application", kind: columns, span: lastMonths,
		params: map[string]string{"metric": "activeUsers", "granularity": "month", "by": "appName", "top": "8", "other": "true"},
		note:   "Users active in each calendar month by application, the 8 with the most, over 12 months; a user of two applications counts in both."},
	{title: "New users", kind: columns, params: map[string]string{"metric": "newUsers"},
		note: "Active users whose first activity ever is on that day."},
	{title: "New users by OS", kind: bars, params: map[string]string{"metric": "newUsers", "granularity": "total", "by": "osFamily"},
		note: "New users of the range, by the OS family of their sign-ins."},
}}

// Package web serves an insights Engine over HTTP: a JSON API, Graph's
// reports/userInsights routes, and a dashboard with Microsoft Entra's
// user-insights views, closed until the host opens it and read-only but
// for one route: an administrator's decision on a user's risk.
//
//	h := web.Handler(eng, &web.Options{
//		Authorize: func(r *http.Request) (web.Permissions, error) {
//			u, err := myapp.Session(r) // the host's own authentication
//			if err != nil {
//				return 0, err
//			}
//			if u.IsSecurityAdmin {
//				return web.ViewAggregates | web.ViewSignIns | web.ManageRisk, nil
//			}
//			if u.IsAdmin {
//				return web.ViewAggregates | web.ViewSignIns, nil
//			}
//			return web.ViewAggregates, nil
//		},
//	})
//	mux.Handle("/insights/", http.StripPrefix("/insights", h))
//
// # Routes
//
// Every route answers GET and HEAD, but /api/riskstate, which answers
// POST only; anything else is 405.
//
//	/users, /authentications, /mfa,    dashboard views (ViewAggregates)
//	/methods
//	/signins                           the sign-in log with a details panel (ViewSignIns)
//	/registrations                     the registration details and the registration and
//	                                   reset events (ViewSignIns)
//	/api/query                         a Result as JSON, or CSV with format=csv (ViewAggregates)
//	/api/signins                       a page of the sign-in log as JSON, or all of it as CSV (ViewSignIns)
//	/api/methods                       insights.MethodsSummary as JSON: the methods view's tiles (ViewAggregates)
//	/api/registrations                 a page of the registration details list as JSON, or CSV (ViewSignIns)
//	/api/methodactivity                a page of the registration and reset events as JSON, or CSV (ViewSignIns)
//	/risk                              risk detections over time, the detections, a detection's
//	                                   evidence and the risky users (ViewSignIns)
//	/api/detections                    a page of risk detections as JSON, or all of them as CSV (ViewSignIns)
//	/api/riskyusers                    a page of risky users as JSON, or CSV (ViewSignIns)
//	/api/evidence                      log entries by id: a detection's evidence (ViewSignIns)
//	POST /api/riskstate                dismiss a risky user or confirm them compromised
//	                                   (ViewSignIns and ManageRisk)
//	/reports/userInsights/{daily|monthly}/{collection}
//	                                   Graph's OData collections (ViewAggregates)
//	/static/app.css, /static/app.js    the dashboard's assets (any permission)
//	/                                  redirects to the first view allowed
//
// /api/query takes the parameters of the command line's query: metric
// (required; ParseMetric's names), from and to (YYYY-MM-DD, half-open
// [from, to), in the store's zone; by default the DefaultDays days ending
// today), granularity (day, week, month, total), filter (ParseFilter's
// language), by (dimensions, comma-separated), top, other, days, approx;
// and format (json, csv), excel (CSV for Excel). /api/signins takes from,
// to, filter, user (insights.LogQuery.UserSearch: the start of a user key
// or display name, case ignored), limit (1 to insights.MaxPageSize,
// default 100), cursor (the next of a previous page), format and excel;
// so does
// /api/methodactivity (Engine.MethodActivity: registration and reset
// events, imported snapshots excluded; search users with user prefix "x").
// /api/registrations takes user (the start of a user key or display
// name, case ignored: insights.RegistrationQuery.UserSearch, as the
// sign-in log's user), method (users who registered it), flag (mfaRegistered, mfaEnabled, mfaCapable, the same
// for sspr, passwordlessRegistered, passwordlessCapable, or any of them
// with Not before the state: mfaNotCapable), limit (default 100) and after
// (the next of a previous page: the last user key listed), format and
// excel, and answers {"total": rows matching, "users": [...], "next": ...}
// by user key, each user with its displayName (Engine.DisplayNames, ""
// when none is known); its CSV is export.RegistrationsCSV of every
// matching row from after on, display names included. /api/methods takes no parameter.
//
// /api/detections (insights.DetectionQuery; newest first) takes from and
// to (days of the detection time, half-open; unbounded when absent), type
// and level (comma-separated: passwordSpray,bruteForce; low,medium,high),
// user (an exact user key), limit, cursor, format and excel; its CSV is
// export.DetectionsCSV of every match from the cursor on. /api/riskyusers
// (insights.RiskyUserQuery; highest level first) takes level (none too),
// state (atRisk, remediated, dismissed, confirmedCompromised), user (the
// start of a key or display name, case ignored), limit, cursor, format and
// excel. /api/evidence takes ids, log entry ids comma-separated (a
// detection's evidence; at most MaxEvidenceIDs, MaxIDsBytes long), and
// answers {"entries": [...]} in that order, without the erased or retired
// ones. POST /api/riskstate takes the JSON body {"userKey": "...",
// "state": "dismissed" or "confirmedCompromised"} with the content type
// application/json, and answers it back once recorded; 409 when the
// engine is read-only. An unknown or repeated
// parameter is an error, and so is one longer than MaxParamBytes
// (MaxFilterBytes for filter and $filter).
//
// The sign-in log page takes cols, the columns of its table besides the
// date (comma-separated, or repeated as its column picker's checkboxes
// send them; by default user, app, status, ip, location, os, clientApp,
// requirement, ca), which links to it with another range keep.
//
// The dashboard's pages take from and to as the first and the last day
// of their range, both included (people count days so; the API's to
// stays exclusive), written YYYY-MM-DD as everywhere else, by default the
// DefaultDays days ending today; at most MaxBuckets days.
//
// The registration flags and the methods view's tiles are those of
// Options.MethodPolicy (insights.DefaultMethodPolicy when nil), over the
// registration state now: the range changes the charts and the events,
// not the tiles nor the registration details. Registration and reset
// events carry no application, OS or country: /methods and /registrations
// do not take the filter bar's dimensions.
//
// The Graph routes serve every collection export.GraphCollections lists,
// filled as export.Graph documents, and two read from the event log
// (below), answered as Microsoft Graph does:
//
//	{"@odata.context": ".../$metadata#reports/userInsights/daily/authentications",
//	 "value": [{"id": "…", "factDate": "2026-03-01", "appid": "portal", "country": "FR",
//	            "os": "Windows", "attemptsCount": 12, "successCount": 11}, …],
//	 "@odata.nextLink": ".../reports/userInsights/daily/authentications?$skiptoken=1000"}
//
// Each object has the properties of its documented resource type
// (activeUsersMetric: count; authenticationsMetric: appid, country, os;
// mfaCompletionMetric: appId, mfaMethod, os; userSignUpMetric: os;
// insightSummary: appId, os; inactiveUsersByApplication: appId; the
// others are totals), os being the OS family (Windows, iOS, ...) as in
// Graph, and an id: a digest of the collection, the date and the values
// it counts by, the same in every answer. An object whose period
// contains the present (today, this month) carries the instance
// annotation "@insights.incomplete": true, which clients that do not
// know it ignore. The context and next links are absolute, built from the
// request's host, the mount's path and its scheme (https under TLS or when
// X-Forwarded-Proto says so). Errors are OData's: {"error": {"code": "BadRequest", "message": "..."}}.
//
// The routes take $top (1 to 1000, the default; the page size), $select
// (properties, comma-separated), $skiptoken (from @odata.nextLink) and
// $filter, in a subset of OData: comparisons joined by "and", parentheses
// allowed:
//
//	factDate ge 2026-03-01 and factDate lt 2026-04-01 and appId eq 'portal'
//
// factDate takes eq, ge, gt, le and lt against a date; appId, appName,
// os (a value stands for its family: 'Windows' and 'Windows 10' both
// count Windows), browser (raw values, as reported), country, language,
// identityProvider, authFlow and mfaMethod take eq against a quoted
// string. Property names and keywords match in any case. or, not,
// functions and other properties are errors. Without factDate bounds a
// daily collection covers the DefaultDays days ending today and a monthly
// one the 12 calendar months ending with this one; monthly collections
// hold the months whose first day is in the bounds.
//
// daily/mfaTelecomFraud (mfaTelecomFraudMetric) has one object a day.
// Its telecomBlockedUserCount counts the users with a sign-in or MFA
// event whose MFA method goes by telephone (insights.TelecomMFAMethods:
// text message or call) that failed with a telecom error, 50086 to 50088
// (SPEC §10): the nearest the engine has to Entra's users blocked by
// telecom-fraud protection. The engine records no CAPTCHA, so
// captchaShownUserCount, captchaNotTriggeredUserCount,
// captchaSuccessCount and captchaFailureCount are always 0. The
// collection takes the dimension equalities of $filter as the others.
//
// monthly/mfaRegisteredUsers (mfaUserCountMetric: factDate, mfaType,
// count) counts, for each month and each of Graph's mfaType values, the
// users registered for MFA at the month's end (this month: now) with a
// registered method of that type that Options.MethodPolicy allows for
// MFA; a user with methods of two types counts under both, and a type no
// user has is left out. The state at each month's end is rebuilt from
// the successful registration events of the log up to it (imported
// snapshots included), the latest by time deciding for each user and
// method, as the engine's own state does; so it is exact as long as the
// log holds those events: a store under retention has dropped the
// events of old days, and users registered only by them are not counted.
// Methods map to mfaType as Entra names them: text message → oneWaySms,
// a voice or phone call → twoWayVoiceMobile (office phone →
// twoWayVoiceOffice, alternate phone → twoWayVoiceOtherMobile),
// Microsoft Authenticator → phoneAppNotification, OATH codes →
// phoneAppOtp, FIDO2 keys and passkeys → fido, certificates →
// certificate, email → eotp, others (Windows Hello for Business) →
// other. Its $filter takes factDate only. Cost: every successful
// registration event of the log before the range's end is read, and held
// in memory at once.
//
// Today is the date of the engine's clock (insights.Options.Now, read
// through Engine.Now) in the store's zone: the handler has no clock of
// its own, so its default ranges and the engine's incomplete buckets agree.
//
// # Permissions
//
// Options.Authorize is called first on every request. Without it, or when
// it fails or grants nothing, the answer is 401. ViewAggregates opens the
// counts (views, /api/query, /api/methods, Graph); ViewSignIns opens what
// names people: the sign-in log, the registration details (who registered
// which method, who cannot do MFA) and the registration and reset events,
// their CSV, and metric filters on log fields (user, ip, city, ...), which
// would let a viewer of counts single out a person. The registration lists
// use ViewSignIns rather than a permission of their own: like the sign-in
// log they are people-level audit records, for the same administrators,
// and hosts that already grant it need no change.
// The risk routes and view need ViewSignIns: detections and risky users
// name people and addresses. Setting a user's risk state also needs
// ManageRisk, the one permission that writes (an event in the engine's
// log); a cross-site request cannot use it: the body must be
// application/json, which an HTML form cannot send, and a request the
// browser marks Sec-Fetch-Site: cross-site is refused. The dashboard
// shows the states and does not set them.
// A route whose permission is missing answers 403: a JSON error for the
// API, and for the dashboard's views a page that says which permission
// is missing and links to the views allowed.
//
// # Safety
//
// The handler sets no cookie and keeps no state between requests, and
// writes nothing but what POST /api/riskstate records. Its
// pages are html/template output: every value from events (an app named
// <script>) is escaped, in HTML and in the inline SVG charts alike. The
// Content-Security-Policy allows the handler's own script and style sheet
// only (no inline script or style), no framing, and the answers say
// nosniff, no-referrer and no-store. Requests are bounded (MaxBuckets,
// MaxRangeDays, MaxTop, MaxRows, insights.MaxPageSize) and bad ones
// answered 400 with {"error": "what is wrong"}; pages show the message in
// place of their content, under a filter bar that can correct it. Errors that are not the client's are answered
// 500 "internal error" and handed to Options.OnError.
//
// # Concurrency
//
// The Handler is safe for concurrent use: it holds no mutable state, and
// each request reads the engine through its concurrency-safe methods.
// A page runs its queries one after the other (a view about ten, the
// filter bar's value lists included), each under the engine's read lock.
//
// # Caveats
//
//   - Counts can still describe one person when a filter narrows them to
//     one (an app, a country and a day): ViewAggregates is for people who
//     may see usage, not for the public.
//   - The filter bar offers the 50 most frequent values of each dimension
//     in the range; other values are reached through the URL.
//   - The sign-in CSV streams every matching entry: once the first bytes
//     are sent, an error can only end the download short (OnError hears it).
//   - Each page of the registration details (and each CSV) evaluates the
//     whole list (Engine.RegistrationDetails): a pass over the users with
//     registration state, then the page is cut from it. A search looks up
//     the display name of every user its key does not match, and the CSV
//     the display name of every row it writes: each a read of the user's
//     last day of activity (Engine.DisplayNames), so a search or a CSV
//     over many users costs many such reads.
//   - Pages link with relative URLs: mount the handler at a path ending in
//     a slash.
package web

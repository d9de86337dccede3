// Package export writes what the insights engine answers in formats other
// tools read: CSV (with an Excel option), plain JSON and JSON lines, and
// JSON in the shape of Microsoft Graph's user insights reports (SPEC §11).
//
// Every writer streams: it writes each row as it reads it, through a
// small buffer, so memory does not grow with the number of rows. Lists are
// read from small cursor interfaces (EntrySource, EventSource, UserSource)
// in the style of sql.Rows: *insights.UserCursor is a UserSource, and the
// engine's log iterator is an EntrySource. The risk lists are paged by the
// engine: DetectionPages and RiskyUserPages follow their cursors, one page
// in memory at a time, with the query's filters on every page.
//
// # Formats
//
//   - ResultCSV: one line per Row of a Result, header
//     start,end,series,offset,<group-by dimension names...>,value,partial,incomplete.
//   - LogCSV: one line per sign-in log entry, header LogColumns().
//   - UsersCSV: one line per user of Engine.Users, header
//     start,end,series,offset,<group-by dimension names...>,userKey.
//   - RegistrationsCSV: one line per row of Engine.RegistrationDetails,
//     header userKey,displayName,methods and the registered, enabled and
//     capable flags of MFA, SSPR and passwordless.
//   - DetectionsCSV: one line per risk detection (Engine.Detections),
//     header id,type,level,time,windowStart,windowEnd,userKey,source,rule,evidence.
//   - RiskyUsersCSV: one line per risky user (Engine.RiskyUsers), header
//     userKey,displayName,level,state,updated,detections.
//   - ResultJSON: a Result as one JSON object (its own JSON form).
//   - LogJSON, UsersJSON, DetectionsJSON, RiskyUsersJSON: JSON lines (one object per line) or, with
//     JSONOptions.Array, one JSON array.
//   - EventsJSON: the event format, below.
//   - Graph: {"value":[...]} as Graph's reports/userInsights collections
//     (GraphCollections lists them; Graph's doc says which Query fills each).
//
// # The event format
//
// The library's own interchange format for events, written by EventsJSON
// and read by the importers, is JSON lines: UTF-8, one insights.Event JSON
// object per line, each line ending in "\n". The field names are the json
// tags of insights.Event (events.go): time (RFC 3339 with its offset), kind
// (signIn, signUp, userCreated, userDeleted, mfa, registration, reset,
// riskDecision), userKey, principalId, signInType, status, errorCode, reason, the
// indexed dimensions (appId, appName, resource, os, browser, country,
// language, identityProvider, authFlow, clientApp, mfaMethod, mfaResult,
// authRequirement, primaryMethod, conditionalAccess, riskLevel, riskState,
// crossTenant, method, action) and the log fields (requestId,
// correlationId, sessionId, deviceId, ip, city, state, userAgent,
// userDisplayName, authDetails [{time, method, succeeded, resultDetail,
// requirement}], mfaPolicies [names], caPolicies [{name, result}]). Empty
// fields are left out. A line is one event as Engine.Add takes it, so
// importing an export gives the same events; request ids make importing a
// file twice change nothing.
//
// # CSV
//
// CSV follows RFC 4180 through encoding/csv: UTF-8, fields quoted when they
// hold a comma, a quote, a line break or leading space, lines ending in
// "\n". With CSVOptions.Excel the output starts with a UTF-8 byte order
// mark and lines end in "\r\n", which Excel needs to read UTF-8. Headers
// are stable: columns are only ever added, at the end of a group.
//
// Formula injection is neutralized: a text cell starting with =, +, -, @,
// a tab or a carriage return gets a leading ' (apostrophe), which
// spreadsheets show as text and do not run; the cell's value then differs
// from the source by that one leading character. Text cells are every
// cell holding a string from events (dimension values, user keys, log
// fields, JSON cells) and series names. Cells that the package formats
// itself from numbers, dates, times and booleans are left as they are, so
// that negative numbers stay numbers: they can never hold a formula.
//
// # Concurrency
//
// The functions keep no state between calls and may run concurrently, each
// on its own writer and source; a source is read from one goroutine only.
//
// # Caveats
//
// A writer stops at the first error, of the source or of the io.Writer, and
// returns it; what it wrote until then stays written and may end mid-line.
// CSV of a Result leaves out its metadata (zone, warnings, approximation):
// ResultJSON keeps it. Graph's shape has no partial or incomplete flags
// and its counts are integers: Graph rounds values to the nearest integer
// and keeps only the series Graph has a property for.
package export

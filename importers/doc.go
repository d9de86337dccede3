// Package importers reads identity logs into insights events (SPEC §11):
// the library's own JSON-lines format, Entra sign-in downloads (CSV, JSON,
// diagnostic-settings records), Entra sign-ins exported from Log Analytics
// or Microsoft Sentinel, the Okta System Log, Auth0 logs, Keycloak events,
// and registration snapshots. Each reader maps what it can, skips what it
// cannot use, and reports the rows skipped and why.
//
//	rep, err := importers.Read(ctx, f, importers.EntraCSV, &importers.Options{Now: clock},
//		func(batch []insights.Event) error { return eng.Add(ctx, batch...) })
//
// # Importing twice changes nothing
//
// Every event gets a deterministic RequestID, the engine's idempotency key:
// the source's own id — Entra's request id (Graph "id", the CSV's "Request
// ID", Log Analytics' "Id") as is, so a CSV, a JSON download and a Log
// Analytics export of one sign-in agree; Okta's uuid as "okta:<uuid>";
// Auth0's log_id (or _id) as "auth0:<log_id>"; Keycloak's event id as
// "keycloak:<id>"; a JSON-lines event's own requestId as is. A record
// without an id gets "<format>:h:" ("entra:h:" for the Entra formats) and
// 32 hex digits of
// the SHA-256 of the record's bytes (of a CSV row, its fields joined by
// U+001F); an id that would be over insights.MaxValueLength is replaced
// the same way by a hash of itself.
//
// # Text
//
// A record holding text that is not valid UTF-8 — an invalid byte, or in
// JSON an escaped lone surrogate such as \ud800 — is skipped, the reason
// naming the field ("User ID: not valid UTF-8", "actor.id: not valid
// UTF-8") and the line. Replacing such text with U+FFFD, as encoding/json
// and package export do, would make "u-\xff" and "u-\xfe" one user, and
// an export would not import back as what was exported; skipping keeps
// distinct users distinct, and export then import is an exact round trip.
// Every field of the record counts, those the reader ignores too.
//
// # What reaches fn
//
// Before an event is queued it passes the checks of Engine.Add that need
// no engine state (check.go): a time from 2000-01-01 to a day past
// Options.Now, a user key (a principal id on service-principal and
// managed-identity sign-ins, which never carry a user key; none needed on
// a failed sign-in, whose account may not exist), a user key or
// principal id within insights.MaxKeyLength, kinds, statuses, sign-in
// types, reasons, MFA results, requirements and actions from their sets.
// Other over-long strings are cut to their limit on a UTF-8 boundary,
// AuthDetails and policy lists to their first insights.MaxAuthSteps and
// insights.MaxPolicies entries, and an IP that does not parse is dropped.
// A batch can therefore go to Add whole; Add can still reject one if the
// engine's clock is earlier than Options.Now.
//
// # Status and reason
//
// Where the source has an error code (Entra), the event carries ErrorCode
// and no Status: the engine derives status and reason from SPEC §10, so
// 50074 is interrupted, 50126 a failure "denied", and a CSV and a JSON
// download agree (Graph JSON has no status text). Where the source has no
// code (Okta, Auth0, an Entra CSV row without "Sign-in error code") the
// reader sets Status, and Reason from the tables below.
//
// # Log shippers
//
// Options.Envelope names the field under which a log shipper (Fluent Bit,
// Logstash, Vector: "message"; Filebeat: "json") wrapped each record of a
// JSON format, one per line: {"@timestamp": ..., "message": "{...}"}. The
// field may hold the record as a string of JSON or as an object; a line
// without it is skipped ("no \"message\" field"), and skip reasons name
// the fields inside it as "message.actor.id".
//
// # jsonl
//
// One insights.Event per line, with the JSON names of its tags (events.go).
// Blank lines are ignored; a line that is not one Event object, names a
// field Event does not have, or has a value outside its set is skipped.
//
// # entra-csv
//
// The sign-in log download of the Entra admin center. Header names are
// matched without case, a byte-order mark or surrounding spaces; a name
// given twice (the portal repeats "Incoming token type") takes the first
// non-empty of its columns; CRLF or LF. Columns used (others are ignored):
//
//	Date (UTC) | Date        Time: ISO 8601 ("2023-09-20T16:15:06Z"), or zone-less as UTC,
//	                         including the US style "9/20/2023, 4:15:06 PM"
//	Request ID               RequestID
//	User ID, else Username   UserKey (object id; the UPN only when there is no id)
//	User                     UserDisplayName
//	Service principal ID     PrincipalID (else Application ID) on principal rows
//	Application, Application ID, Resource   AppName, AppID, Resource
//	IP address, User agent, Device ID, Session ID, Correlation ID   log fields
//	Location                 "City, State, Country" → City, State, Country
//	                         ("FR" alone is a country; "Berlin, DE" city and country)
//	Sign-in error code       ErrorCode; when empty, Status from Status
//	                         (Success, Failure, Interrupted; else the row is skipped)
//	Client app, Browser, Operating System   ClientApp, Browser, OS
//	Multifactor authentication auth method   MFAMethod, unless MFA was
//	                         satisfied earlier ("Previously satisfied", by claim)
//	Multifactor authentication result   MFAResult mfaDenied on a failed row
//	                         whose result says denied, declined or fraud
//	Authentication requirement   AuthRequirement (single- or multi-factor)
//	Conditional Access, Cross tenant access type, Risk level (during
//	sign-in), Risk state, Authentication Protocol   ConditionalAccess,
//	                         CrossTenant, RiskLevel, RiskState, AuthFlow, in
//	                         Graph's camelCase ("Not Applied" → "notApplied")
//
// Sign-in type: Options.SignInType when set (the portal downloads each tab
// as its own file and the rows do not say which); else managed identity
// when the row has no user and a "Managed identity type" other than none,
// service principal when it has no user and a "Service principal ID",
// non-interactive when an "Is interactive" column says false, else
// interactive.
//
// # entra-json
//
// Graph signIn objects — the portal's JSON download (an array), a Graph
// page ({"value":[...]}) or one per line — and diagnostic-settings records
// (one per line, or {"records":[...]}) whose properties hold the same
// object, mixed freely; a record with "properties" is a diagnostic one.
//
//	id                        RequestID
//	createdDateTime           Time (diagnostic records: else "time")
//	userId, else userPrincipalName   UserKey; userDisplayName → UserDisplayName
//	servicePrincipalId, else appId   PrincipalID on principal sign-ins
//	appId, appDisplayName, resourceDisplayName   AppID, AppName, Resource
//	status.errorCode          ErrorCode (diagnostic records: else resultType);
//	                          without one the record is skipped
//	ipAddress, userAgent, correlationId, sessionId, deviceDetail.deviceId   log fields
//	deviceDetail.operatingSystem, .browser   OS, Browser
//	location.city, .state, .countryOrRegion   City, State, Country
//	clientAppUsed             ClientApp
//	authenticationRequirement AuthRequirement
//	authenticationDetails[]   AuthDetails: authenticationStepDateTime, authenticationMethod,
//	                          succeeded, authenticationStepResultDetail, and
//	                          authenticationStepRequirement as single- or multi-factor;
//	                          the engine derives MFA method, result and primary method
//	mfaDetail.authMethod      MFAMethod when no step is a multi-factor one
//	authenticationRequirementPolicies[]   MFAPolicies (detail, else requirementProvider)
//	appliedConditionalAccessPolicies[]    CAPolicies (displayName, result)
//	conditionalAccessStatus, riskLevelDuringSignIn, riskState,
//	crossTenantAccessType, authenticationProtocol   as in entra-csv
//
// Sign-in type: a diagnostic record's category (SignInLogs interactive,
// NonInteractiveUserSignInLogs non-interactive, ServicePrincipalSignInLogs,
// ManagedIdentitySignInLogs; any other category is skipped); else
// signInEventTypes; else a principal when there is no user and a
// servicePrincipalId (managed identity when managedIdentityType is not
// none); else non-interactive when isInteractive is false; else interactive.
//
// # entra-loganalytics
//
// Entra sign-ins exported from Log Analytics or Microsoft Sentinel, in the
// columns of the SigninLogs, AADNonInteractiveUserSignInLogs,
// AADServicePrincipalSignInLogs and AADManagedIdentitySignInLogs tables:
// CSV with a header row (cells may span lines), or JSON (an array of
// objects keyed by column name, {"value":[...]}, or one per line). Column
// names are matched without case, a byte-order mark or a " [UTC]" suffix;
// an empty cell is read from its "_dynamic" twin. A JSON-valued cell may
// be a string holding JSON or, in JSON, the value itself. Each record is
// read as the Graph signIn it describes, then mapped as entra-json maps
// one:
//
//	Id, UserId, UserPrincipalName, UserDisplayName, AppId, AppDisplayName,
//	ResourceDisplayName, IPAddress, ClientAppUsed, UserAgent, CorrelationId,
//	SessionId, ConditionalAccessStatus, IsInteractive, RiskLevelDuringSignIn,
//	RiskState, CrossTenantAccessType, AuthenticationProtocol,
//	AuthenticationRequirement, ServicePrincipalId, ManagedIdentityType
//	                          their Graph namesakes (id, userId, ...)
//	Status, DeviceDetail, MfaDetail, AuthenticationDetails   (JSON) status,
//	                          deviceDetail, mfaDetail, authenticationDetails
//	LocationDetails           (JSON) location, geoCoordinates → Latitude, Longitude
//	ConditionalAccessPolicies (JSON) appliedConditionalAccessPolicies
//	AuthenticationRequirementPolicies   (JSON) authenticationRequirementPolicies
//	ResultType                ErrorCode when Status has no errorCode ("0" is success)
//	Location                  Country when LocationDetails has none
//	CreatedDateTime, else TimeGenerated, else the first step's
//	                          authenticationStepDateTime   Time ("4/28/2021, 2:08:45.221 PM"
//	                          or ISO 8601)
//	Category, else Type       sign-in type: SignInLogs or SigninLogs interactive,
//	                          [AAD]NonInteractiveUserSignInLogs, [AAD]ServicePrincipalSignInLogs,
//	                          [AAD]ManagedIdentitySignInLogs; another value skips the
//	                          record; without either, as entra-json decides
//
// A JSON-valued cell that is not a JSON object or array skips the record,
// naming the column. The entra-csv reader, given such an export, fails
// naming this format.
//
// # okta
//
// Okta System Log LogEvents: an array (the /api/v1/logs response) or one
// per line. published → Time; client.ipAddress, .userAgent.rawUserAgent,
// .userAgent.os, .userAgent.browser, .geographicalContext.{city, state,
// country} → IP, UserAgent, OS, Browser, City, State, Country;
// .geographicalContext.geolocation.{lat, lon} → Latitude, Longitude;
// transaction.id → CorrelationID; authenticationContext.externalSessionId
// → SessionID; the first AppInstance target → AppID, AppName. The user is
// the actor (id, else alternateId; displayName → UserDisplayName), or for
// events done to a user, its first User target.
//
//	eventType                                  event
//	user.session.start, user.authentication.sso   sign-in, interactive
//	app.oauth2.*token.grant* with grant refresh_token   sign-in, non-interactive
//	app.oauth2.*token.grant* with grant client_credentials   sign-in, service
//	                                              principal (PrincipalID = actor.id)
//	  (the grant is debugData.grantType, else the event type's last part;
//	  other grants are skipped: they belong to a sign-in logged on its own)
//	user.authentication.auth_via_mfa           MFA; MFAMethod = the authenticator target's
//	                                           name, else debugData.factor
//	user.authentication.verify                 the verification of one authenticator:
//	                                           a password's is a sign-in, interactive,
//	                                           with one single-factor step (Succeeded from
//	                                           the outcome); any other's is an MFA, as
//	                                           auth_via_mfa
//	app.generic.unauth_app_access_attempt      sign-in, interactive, failure configError
//	                                           (failures only)
//	app.oauth2.as.evaluate.claim               sign-in, non-interactive (service principal
//	                                           when the actor is not a User), failure
//	                                           configError (failures only; a success is
//	                                           part of a token grant)
//	user.mfa.okta_verify.deny_push             MFA, failure mfaDenied
//	user.mfa.factor.activate / .deactivate     registration registered / removed, same method
//	user.lifecycle.create                      user created (target user)
//	user.lifecycle.delete.completed, user.lifecycle.delete   user deleted (target user)
//	user.account.reset_password / .unlock      reset passwordReset / accountUnlock (target user)
//	anything else (system.sms.send_factor_verify_message, ...)   skipped
//
//	outcome.result       Status
//	SUCCESS, ALLOW       success
//	FAILURE, DENY        failure
//	CHALLENGE            interrupted
//	SKIPPED, UNKNOWN     the event is skipped
//
// Failure reasons from outcome.reason: sign-ins denied for DENY or a reason
// naming INVALID (credentials), VERIFICATION_ERROR, LOCKED_OUT or DENIED,
// userError for PASSWORD_EXPIRED, configError for NOT_ASSIGNED, else
// other; MFA mfaDenied for REJECT or DENIED, mfaIncomplete for TIMEOUT or
// EXPIRED, else other; other kinds keep outcome.reason as given.
//
// # auth0
//
// Auth0 log events: an array (the Management API's /api/v2/logs, or
// {"logs":[...]}) or one per line; a log stream's {"log_id", "data": {...}}
// envelope is unwrapped. date → Time; user_id, else user_name → UserKey
// (a failed login with neither, an unknown user's, is kept as a failure of
// no user); client_id, else details.qs.client_id, and client_name → AppID,
// AppName; connection → IdentityProvider;
// ip, user_agent → IP, UserAgent, and Auth0's "Chrome 118.0.0 / Mac OS X
// 10.15.7" form of user_agent → Browser, OS; location_info.country_code,
// .city_name, .latitude, .longitude → Country, City, Latitude, Longitude.
//
//	type                  event                                  status, reason
//	s, scoa, sepft        sign-in, interactive                   success
//	f, fc, fepft          sign-in, interactive                   failure, other (denied when the
//	                                                             description says wrong, invalid,
//	                                                             incorrect, blocked or locked)
//	fp, fu, fcoa          sign-in, interactive                   failure, denied
//	fco                   sign-in, interactive                   failure, configError
//	mfar                  sign-in, interactive, multi-factor     interrupted
//	ssa, sertft           sign-in, non-interactive               success
//	fsa, fertft           sign-in, non-interactive               failure, other
//	seccft / feccft       sign-in, service principal (client_id) success / failure, other
//	ss / fs               sign-up                                success / failure, other
//	gd_auth_succeed       MFA                                    success
//	gd_auth_failed        MFA                                    failure, other
//	gd_auth_rejected      MFA                                    failure, mfaDenied
//	gd_enrollment_complete / gd_unenroll   registration registered / removed   success
//	scp / fcp             reset, passwordReset                   success / failure, other
//	du, sdu               user deleted                           success
//	slo, flo              skipped (logout)
//	sapi*, fapi*, mgmt_api*   skipped (Management API)
//	anything else         skipped
//
// # keycloak
//
// Keycloak events (EventRepresentation) and admin events
// (AdminEventRepresentation), as its admin REST API returns them (an
// array) or event listeners write them (one per line); a record with an
// operationType is an admin event. time (Unix milliseconds) → Time; id →
// RequestID; clientId → AppID; ipAddress, sessionId → IP, SessionID;
// userId, else details.username → UserKey; details.username →
// UserDisplayName; details.auth_method, .identity_provider → AuthFlow,
// IdentityProvider. A type ending in _ERROR, or an error, is a failure.
//
//	type                                 event
//	LOGIN[_ERROR]                        sign-in, interactive
//	REFRESH_TOKEN[_ERROR]                sign-in, non-interactive
//	CLIENT_LOGIN[_ERROR]                 sign-in, service principal (clientId)
//	REGISTER[_ERROR]                     sign-up
//	UPDATE_PASSWORD[_ERROR]              reset passwordReset, method password
//	UPDATE_TOTP / REMOVE_TOTP            registration registered / removed, method otp
//	UPDATE_CREDENTIAL / REMOVE_CREDENTIAL   the same, method details.credential_type
//	                                     (a password's is a reset, as UPDATE_PASSWORD)
//	CODE_TO_TOKEN, SEND_RESET_PASSWORD, RESET_PASSWORD   skipped: steps of a LOGIN
//	                                     or an UPDATE_PASSWORD logged on their own
//	LOGOUT, anything else                skipped
//	admin CREATE / DELETE of a USER      user created / deleted; the user is the
//	                                     id of resourcePath "users/<id>"; authDetails'
//	                                     clientId, ipAddress → AppID, IP
//
// Failure reasons of sign-ins and sign-ups from error: denied for
// invalid_user_credentials, invalid_client_credentials, user_not_found,
// user_disabled, user_temporarily_disabled, invalid_authentication,
// access_denied; configError for client_not_found, client_disabled,
// invalid_redirect_uri, not_allowed, invalid_client; incomplete for
// expired_code, session_expired; else other. Other kinds keep the error as
// given.
//
// # Registration snapshots
//
// ReadSnapshot reads a CSV of users and their registered methods; see its
// doc.
//
// # Concurrency
//
// Read and ReadSnapshot keep no state between calls and may run
// concurrently on distinct inputs; one call reads its input from one
// goroutine and calls fn from it, in order.
//
// # Caveats
//
//   - Okta Identity Engine logs a password's verification and then, for
//     the same sign-in, user.session.start: both are sign-in attempts,
//     so authentications count such a sign-in twice (the two share the
//     transaction id, CorrelationID). Active users are not affected.
//   - Log Analytics exports in local time ("TimeGenerated [Local Time]")
//     are read as UTC: the export does not say its zone.
//   - Keycloak's realmId is not kept: import one realm's events per
//     engine, or tell realms apart by clientId.
//   - Okta reports country names ("United States"), kept as given; the
//     engine's country dimension expects ISO codes.
//   - Entra failures for a user name that does not exist carry no user id:
//     their user key is the name typed (Entra CSV: Username), as Auth0's
//     invalid-username failures are keyed by user_name.
//   - Entra's free-text failure reason, and Okta and Auth0 descriptions,
//     are not kept: the event keeps the error code and a normalized reason.
//   - Auth0 MFA and enrollment events carry no method: Auth0's logs do not
//     name the factor in a documented field.
//   - Options.Now is read once, when Read starts.
//   - A JSON input that is not JSON lines (an array, a pretty-printed
//     document) stops at its first syntax error, with ErrMalformed naming
//     the line; JSON lines skip the bad line and go on.
package importers

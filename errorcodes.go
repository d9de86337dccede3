package insights

// Failure reasons of sign-ins (SPEC §2), normalized to Entra's codes.
const (
	ReasonIncomplete    = "incomplete"    // the user abandoned a required step
	ReasonDenied        = "denied"        // credentials or policy refused
	ReasonBadRequest    = "badRequest"    // malformed request
	ReasonSystemFailure = "systemFailure" // a service or telecom error
	ReasonUserError     = "userError"     // the account needs the user's action
	ReasonConfigError   = "configError"   // the tenant or device is misconfigured
	ReasonOther         = "other"         // anything else
)

// MFA results (the MFAResult dimension): success, or one MFA failure reason.
const (
	MFASuccess    = "success"
	MFAIncomplete = "mfaIncomplete" // the challenge was not answered
	MFADenied     = "mfaDenied"     // the user or the method refused it
)

// ErrorCode describes one entry of the error-code table of SPEC §10.
type ErrorCode struct {
	Code        int
	Status      Status
	Reason      string // failure reason; for interrupts, the reason used if a host reports it as a failure
	Description string
}

// errorCodes is the table of SPEC §10. Codes not listed are failures with
// reason "other".
var errorCodes = map[int]ErrorCode{
	0:      {0, StatusSuccess, "", "success"},
	50074:  {50074, StatusInterrupted, ReasonIncomplete, "MFA required"},
	50076:  {50076, StatusInterrupted, ReasonIncomplete, "MFA required"},
	50072:  {50072, StatusInterrupted, ReasonIncomplete, "MFA registration required"},
	50079:  {50079, StatusInterrupted, ReasonIncomplete, "MFA registration required"},
	50158:  {50158, StatusInterrupted, ReasonIncomplete, "external challenge not yet satisfied"},
	50140:  {50140, StatusInterrupted, ReasonOther, "keep-me-signed-in prompt"},
	50125:  {50125, StatusInterrupted, ReasonOther, "password-reset registration required"},
	50078:  {50078, StatusFailure, ReasonIncomplete, "presented MFA expired"},
	500121: {500121, StatusFailure, ReasonDenied, "strong authentication failed"},
	50126:  {50126, StatusFailure, ReasonDenied, "wrong user name or password"},
	50053:  {50053, StatusFailure, ReasonDenied, "account locked or malicious IP"},
	50055:  {50055, StatusFailure, ReasonUserError, "password expired"},
	50144:  {50144, StatusFailure, ReasonUserError, "password expired"},
	50057:  {50057, StatusFailure, ReasonUserError, "account disabled"},
	50097:  {50097, StatusFailure, ReasonConfigError, "device authentication required"},
	50155:  {50155, StatusFailure, ReasonConfigError, "device authentication failed"},
	53003:  {53003, StatusFailure, ReasonDenied, "blocked by conditional access"},
	530035: {530035, StatusFailure, ReasonDenied, "blocked by security defaults"},
	53004:  {53004, StatusFailure, ReasonDenied, "MFA registration blocked by risk"},
	50086:  {50086, StatusFailure, ReasonSystemFailure, "MFA service or telecom error"},
	50087:  {50087, StatusFailure, ReasonSystemFailure, "MFA service or telecom error"},
	50088:  {50088, StatusFailure, ReasonSystemFailure, "MFA service or telecom error"},
}

// LookupErrorCode returns the table entry for code. Unknown non-zero codes
// give a failure with reason "other" and ok == false; they are never an error.
func LookupErrorCode(code int) (ec ErrorCode, ok bool) {
	ec, ok = errorCodes[code]
	if !ok {
		ec = ErrorCode{Code: code, Status: StatusFailure, Reason: ReasonOther, Description: "unknown error code"}
	}
	return ec, ok
}

var signInReasons = []string{ReasonIncomplete, ReasonDenied, ReasonBadRequest, ReasonSystemFailure, ReasonUserError, ReasonConfigError, ReasonOther}

var mfaResults = []string{MFASuccess, MFAIncomplete, MFADenied, ReasonBadRequest, ReasonSystemFailure, ReasonOther}

// mfaFailure returns the MFA failure reason for an error code and the
// result detail of the failed step (SPEC §10: 500121 is mfaDenied or
// mfaIncomplete by result detail).
func mfaFailure(code int, detail string) string {
	switch {
	case code == 500121 || code == 50078 || code == 50074 || code == 50076:
		if containsFold(detail, "denied") || containsFold(detail, "declined") || containsFold(detail, "fraud") {
			return MFADenied
		}
		return MFAIncomplete
	case code == 50086 || code == 50087 || code == 50088:
		return ReasonSystemFailure
	case containsFold(detail, "denied") || containsFold(detail, "declined"):
		return MFADenied
	case containsFold(detail, "timed out") || containsFold(detail, "not responded") || containsFold(detail, "incomplete"):
		return MFAIncomplete
	}
	return ReasonOther
}

func oneOf(s string, set []string) bool {
	for _, v := range set {
		if v == s {
			return true
		}
	}
	return false
}

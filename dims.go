package insights

import "fmt"

// Dimension names a field of events usable in filters: the indexed
// dimensions (SPEC §2), which also group, and the log fields DimIP..DimState,
// which filters may name but group-by may not. A metric whose filter names
// a log field is answered from the event log instead of the bitmap index
// (slower; the result warns). DimIP takes Eq and In on exact addresses and
// CIDR prefixes, not string prefixes.
type Dimension uint8

// The indexed dimensions. Values are free-text strings except where noted.
const (
	DimKind              Dimension = iota + 1 // Kind.String()
	DimAppID                                  // application id
	DimAppName                                // application display name
	DimResource                               // resource (API) signed in to
	DimOS                                     // raw operating system as reported
	DimOSFamily                               // derived: Windows, macOS, iOS, Android, Linux, ChromeOS, other
	DimBrowser                                // raw browser as reported
	DimBrowserFamily                          // derived: Chrome, Edge, Firefox, Safari, Opera, Internet Explorer, other
	DimCountry                                // ISO 3166-1 alpha-2, upper-cased at ingest
	DimLanguage                               // user's language
	DimIdentityProvider                       // identity provider
	DimAuthFlow                               // authentication flow (device code, ROPC, ...)
	DimClientApp                              // Browser, Mobile apps and desktop clients, or a legacy protocol
	DimSignInType                             // SignInType.String(); empty on non-sign-in events
	DimStatus                                 // Status.String()
	DimErrorCode                              // decimal error code, "0" on success
	DimReason                                 // normalized failure reason; empty unless failed
	DimMFAMethod                              // method of the MFA challenge the event performed
	DimMFAResult                              // "success" or an MFA failure reason; empty when no challenge
	DimAuthRequirement                        // singleFactorAuthentication or multiFactorAuthentication
	DimPrimaryMethod                          // first-factor method: Password, FIDO2 security key, ...
	DimConditionalAccess                      // success, failure or notApplied
	DimRiskLevel                              // none, low, medium, high, hidden
	DimRiskState                              // none, atRisk, confirmedCompromised, remediated, dismissed, ...
	DimCrossTenant                            // cross-tenant access type
	DimMethod                                 // registration and reset method
	DimAction                                 // registration: registered, removed, snapshot; reset: passwordReset, accountUnlock
	DimIP                                     // log field: client IP address
	DimUser                                   // log field: user key
	DimPrincipal                              // log field: service principal or managed identity id
	DimRequestID                              // log field: request id
	DimCorrelationID                          // log field: correlation id
	DimCity                                   // log field: city
	DimState                                  // log field: state or region
)

// lastDimension is the last Dimension a filter may name.
const lastDimension = DimState

// numIndexed is the number of indexed dimensions (DimKind..DimAction).
const numIndexed = int(DimAction)

var dimNames = []string{"", "kind", "appId", "appName", "resource", "os", "osFamily", "browser",
	"browserFamily", "country", "language", "identityProvider", "authFlow", "clientApp",
	"signInType", "status", "errorCode", "reason", "mfaMethod", "mfaResult", "authRequirement",
	"primaryMethod", "conditionalAccess", "riskLevel", "riskState", "crossTenant", "method",
	"action", "ip", "user", "principalId", "requestId", "correlationId", "city", "state"}

func (d Dimension) String() string { return enumName(dimNames, int(d)) }

// Indexed reports whether d is one of the bitmap-indexed dimensions, which
// group-by takes; the others are log fields, which only filters name.
func (d Dimension) Indexed() bool { return d >= DimKind && int(d) <= numIndexed }

// ParseDimension returns the Dimension whose String is s.
func ParseDimension(s string) (Dimension, error) {
	for i, n := range dimNames {
		if i > 0 && n == s {
			return Dimension(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown dimension %q", ErrInvalidQuery, s)
}

// MarshalText implements encoding.TextMarshaler.
func (d Dimension) MarshalText() ([]byte, error) {
	if d < DimKind || d > lastDimension {
		return nil, fmt.Errorf("%w: dimension %d is outside its set", ErrInvalidQuery, d)
	}
	return []byte(dimNames[d]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Dimension) UnmarshalText(b []byte) error {
	v, err := ParseDimension(string(b))
	*d = v
	return err
}

// Dimensions returns every dimension a filter may name, in order.
func Dimensions() []Dimension {
	ds := make([]Dimension, 0, int(lastDimension))
	for d := DimKind; d <= lastDimension; d++ {
		ds = append(ds, d)
	}
	return ds
}

package insights

import (
	"fmt"
	"strings"
)

// Kind is what an event records. The zero value is invalid.
type Kind uint8

// The event kinds of SPEC §2.
const (
	KindSignIn       Kind = iota + 1 // one authentication attempt
	KindSignUp                       // an account created through a self-service user flow
	KindUserCreated                  // an account created another way (admin, sync, import)
	KindUserDeleted                  // the account was deleted
	KindMFA                          // one second-factor challenge reported apart from a sign-in
	KindRegistration                 // an authentication method registered or removed
	KindReset                        // a self-service password reset or account unlock
	KindRiskDecision                 // an administrator's decision on a user's risk (Engine.SetUserRiskState), in RiskState
)

var kindNames = []string{"", "signIn", "signUp", "userCreated", "userDeleted", "mfa", "registration", "reset", "riskDecision"}

func (k Kind) String() string { return enumName(kindNames, int(k)) }

// ParseKind returns the Kind whose String is s.
func ParseKind(s string) (Kind, error) {
	v, err := parseEnum("kind", kindNames, s)
	return Kind(v), err
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return marshalEnum("kind", kindNames, int(k)) }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	*k = v
	return err
}

// Status is the outcome of an event. The zero value, StatusUnset, lets
// ingest derive the status from the error code (SPEC §10): code 0 is a
// success.
type Status uint8

// The statuses of SPEC §2.
const (
	StatusUnset       Status = iota // derive from the error code
	StatusSuccess                   // the attempt succeeded
	StatusFailure                   // the attempt failed; Reason says why
	StatusInterrupted               // stopped for an expected prompt; neither success nor failure
)

var statusNames = []string{"", "success", "failure", "interrupted"}

func (s Status) String() string { return enumName(statusNames, int(s)) }

// ParseStatus returns the Status whose String is s ("" is StatusUnset).
func ParseStatus(s string) (Status, error) {
	if s == "" {
		return StatusUnset, nil
	}
	v, err := parseEnum("status", statusNames, s)
	return Status(v), err
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) {
	if s == StatusUnset {
		return nil, nil
	}
	return marshalEnum("status", statusNames, int(s))
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	*s = v
	return err
}

// SignInType says who signed in and how. The zero value, SignInUnset, is
// taken as SignInInteractiveUser on sign-in events.
type SignInType uint8

// The sign-in types of SPEC §2. Only the two user types count as users.
const (
	SignInUnset              SignInType = iota // interactive user on sign-ins
	SignInInteractiveUser                      // a person typed or tapped something
	SignInNonInteractiveUser                   // a client signed in on a user's behalf (token refresh)
	SignInServicePrincipal                     // an application signed in as itself
	SignInManagedIdentity                      // an Azure-style managed identity
)

var signInTypeNames = []string{"", "interactiveUser", "nonInteractiveUser", "servicePrincipal", "managedIdentity"}

func (t SignInType) String() string { return enumName(signInTypeNames, int(t)) }

// ParseSignInType returns the SignInType whose String is s ("" is SignInUnset).
func ParseSignInType(s string) (SignInType, error) {
	if s == "" {
		return SignInUnset, nil
	}
	v, err := parseEnum("sign-in type", signInTypeNames, s)
	return SignInType(v), err
}

// MarshalText implements encoding.TextMarshaler.
func (t SignInType) MarshalText() ([]byte, error) {
	if t == SignInUnset {
		return nil, nil
	}
	return marshalEnum("sign-in type", signInTypeNames, int(t))
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *SignInType) UnmarshalText(b []byte) error {
	v, err := ParseSignInType(string(b))
	*t = v
	return err
}

// isPrincipal reports whether t is a service principal or managed identity.
func (t SignInType) isPrincipal() bool {
	return t == SignInServicePrincipal || t == SignInManagedIdentity
}

func enumName(names []string, v int) string {
	if v <= 0 || v >= len(names) {
		return fmt.Sprintf("invalid(%d)", v)
	}
	return names[v]
}

func parseEnum(what string, names []string, s string) (int, error) {
	for i, n := range names {
		if i > 0 && n == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown %s %q; want one of %s", ErrInvalidEvent, what, s, strings.Join(names[1:], ", "))
}

func marshalEnum(what string, names []string, v int) ([]byte, error) {
	if v <= 0 || v >= len(names) {
		return nil, fmt.Errorf("%w: %s %d is outside its set", ErrInvalidEvent, what, v)
	}
	return []byte(names[v]), nil
}
